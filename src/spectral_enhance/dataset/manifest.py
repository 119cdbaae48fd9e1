"""Reading a built dataset: its manifest's rows, its recipe and its clips, checked against
what the manifest says; apart from the building, which needs the decoders and the encoder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .recipe import DegradationRecipe

__all__ = [
    "SPLITS",
    "clip_cutoff_hz",
    "load_clip",
    "read_clip",
    "read_manifest",
    "read_recipe",
    "read_rows",
    "split_counts",
]

SPLITS = ("train", "val", "test")


def read_rows(path: Path) -> list[dict]:
    """The rows of a CSV file (a manifest, a track's rows), or none if it is missing."""
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def read_manifest(root: str | Path, split: str | None = None) -> list[dict]:
    """Rows of a dataset's ``manifest.csv``, optionally of one split, with file paths added."""
    root = Path(root)
    manifest = root / "manifest.csv"
    if not manifest.exists():
        raise FileNotFoundError(
            f"{root}: no manifest.csv (build it with `spectral-enhance dataset`)"
        )
    rows = [r for r in read_rows(manifest) if split is None or r["split"] == split]
    for row in rows:
        row["low"] = root / row["split"] / f"{row['clip']}.low.wav"
        row["high"] = root / row["split"] / f"{row.get('reference') or row['clip']}.high.wav"
    return rows


def clip_cutoff_hz(row: dict, recipe: DegradationRecipe) -> float:
    """The low-pass (Hz) of a manifest row's low clip: its ``cutoff_hz`` column, or the recipe's
    for a dataset made before the column existed (the shipped models' one)."""
    return float(row.get("cutoff_hz") or recipe.cutoff_hz)


def split_counts(root: str | Path) -> str:
    """Clips per split of a dataset, e.g. ``train 28, val 3, test 2``, for error messages."""
    counts = dict.fromkeys(SPLITS, 0)
    for row in read_manifest(root):
        counts[row["split"]] = counts.get(row["split"], 0) + 1
    return ", ".join(f"{split} {n}" for split, n in counts.items())


def read_recipe(root: str | Path) -> DegradationRecipe:
    """The degradation recipe a dataset was built with, from its ``recipe.json``."""
    path = Path(root) / "recipe.json"
    try:
        settings = json.loads(path.read_text())
        return DegradationRecipe(**settings["recipe"])
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{path}: missing (build the dataset with `dataset`)") from error
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a dataset's recipe ({error})") from error


def read_clip(row: dict, which: str, dtype: str = "float32") -> np.ndarray:
    """The ``low`` or ``high`` samples of a manifest row, checked against its length.

    A missing, unreadable or truncated clip is a ``ValueError`` naming the file, so a damaged
    dataset fails in one line rather than deep inside a metric.
    """
    import soundfile as sf

    path = Path(row[which])
    if not path.is_file():
        raise FileNotFoundError(f"{path}: clip missing (listed in the dataset's manifest.csv)")
    try:
        samples, rate = sf.read(path, dtype=dtype)
    except (sf.SoundFileError, RuntimeError) as error:
        raise ValueError(f"{path}: not a readable clip ({error})") from error
    if rate != int(row["sample_rate"]):
        raise ValueError(f"{path}: {rate} Hz, the manifest says {row['sample_rate']} Hz")
    expected = int(row["samples"])
    channels = int(row.get("channels") or 1)
    wanted = (expected,) if channels == 1 else (expected, channels)
    if samples.shape != wanted:
        got = "" if samples.ndim == 1 else f" x {samples.shape[1]} channels"
        said = "" if channels == 1 else f" x {channels} channels"
        raise ValueError(
            f"{path}: {samples.shape[0]} samples{got}, the manifest says {expected}{said} "
            "(damaged clip?)"
        )
    return samples


def load_clip(root: str | Path, clip: str | None = None, split: str = "test") -> dict:
    """One clip's manifest row with its ``low`` and ``high`` float32 samples loaded.

    ``clip`` is a clip id; None takes the first clip of ``split``.
    """
    rows = read_manifest(root, None if clip else split)
    matches = [r for r in rows if clip is None or r["clip"] == clip]
    if not matches and clip is None:
        raise ValueError(f"{root}: 0 clips in the {split!r} split ({split_counts(root)})")
    if not matches:
        raise ValueError(f"{root}: no clip {clip!r} in its manifest.csv")
    row = dict(matches[0])
    row["low_samples"] = read_clip(row, "low")
    row["high_samples"] = read_clip(row, "high")
    return row
