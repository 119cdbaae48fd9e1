"""Build paired low/high clips from a folder of music by the paper's recipe (section 2.1).

Layout of a dataset folder::

    manifest.csv                 one row per clip
    recipe.json                  the DegradationRecipe and clip settings used
    train/<clip>.low.wav         32 kbps decoded, 22,050 Hz mono 16-bit
    train/<clip>.high.wav        128 kbps decoded, aligned to the sample
    val/... test/...
    .tracks/<track>.csv          per-track rows; a track with one is done and skipped on rerun
    .tracks/<track>.json         its file's size and modification time, and its split

Tracks, not clips, are split 85/8/7, so no track feeds two splits. A track whose file changed
since its clips were made (another size or modification time) is converted again, its old clips
removed first, and keeps its split. A track made before and not among the sources now is left
out of the manifest, by name, its clips kept. A run that makes no clip writes nothing to a new
folder.

Issue 12's recipes (several bitrates, stereo, LAME's own rate; ``DegradationRecipe.is_paper``
false) make one low clip per bitrate of each window of a track, ``<track>-<n>-<kbps>k.low.wav``,
all paired with one reference ``<track>-<n>.high.wav``, and add manifest columns:
``channels``, ``cutoff_hz`` (LAME's low-pass for the clip's bitrate), ``reference_band_hz``
(:func:`reference_band_hz` of the track's reference) and ``reference`` (the reference's name).
A clip whose reference has no content up to its cutoff plus ``BAND_MARGIN_HZ`` is dropped and
counted: there is nothing above the cutoff to learn from, and a model must never be taught that
the band above a cutoff is empty where real music has content. The paper's recipe keeps its
manifest and clips as they were.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import multiprocessing
import random
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage, signal
from tqdm import tqdm

from ..atomic import atomic_path, atomic_write_text, output_folder
from ..audio import AudioError, decode, find_audio, write_audio
from .manifest import SPLITS, read_rows
from .recipe import DegradationRecipe, degrade_bitrates, recipe_change

__all__ = [
    "MANIFEST_FIELDS",
    "BuildReport",
    "DatasetConfig",
    "build_dataset",
    "judges_band",
    "reference_band_hz",
]

MANIFEST_FIELDS = (
    "clip",
    "split",
    "track",
    "start",
    "samples",
    "sample_rate",
    "low_bitrate",
    "high_bitrate",
)
# Issue 12's recipes add these (the paper's manifest keeps the columns above only).
FULL_BAND_FIELDS = (*MANIFEST_FIELDS, "channels", "cutoff_hz", "reference_band_hz", "reference")

BAND_FLOOR_DB = 40.0
"""A reference's usable band ends where its long-term level falls this far below its 1-4 kHz."""
BAND_MARGIN_HZ = 1000.0
"""A clip is kept only if its reference's band reaches this far above the clip's cutoff."""


@dataclass(frozen=True)
class DatasetConfig:
    """Clip settings; defaults are the paper's (100,000-sample clips, 85/8/7 split).

    ``clips_per_track``: at most this many windows of each track, spread evenly over it (0: all),
    so a multi-bitrate 44.1 kHz stereo corpus fits a laptop's disk and memory.
    """

    clip_samples: int = 100_000
    split: tuple[float, float, float] = (0.85, 0.08, 0.07)
    silence_dbfs: float = -50.0
    seed: int = 0
    clips_per_track: int = 0
    recipe: DegradationRecipe = field(default_factory=DegradationRecipe)


@dataclass
class BuildReport:
    """What a build did, for the summary line."""

    tracks_done: int = 0
    tracks_skipped: int = 0
    failed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    clips: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    narrow: int = 0  # clips dropped because their reference lacks the band above the cutoff
    empty: list[Path] = field(default_factory=list)  # tracks that gave no clip

    def warn(self, text: str) -> None:
        """Keep ``text`` among the warnings and print it, above the progress bar."""
        self.warnings.append(text)
        tqdm.write(f"warning: {text}")


def assign_splits(tracks: Sequence[Path], fractions: Sequence[float], seed: int) -> dict[Path, str]:
    """Shuffle tracks with ``seed`` and give each split its share of them (at least one each)."""
    order = sorted(tracks, key=str)
    random.Random(seed).shuffle(order)
    n = len(order)
    n_val = max(1, round(fractions[1] * n)) if n >= 3 else 0
    n_test = max(1, round(fractions[2] * n)) if n >= 3 else 0
    n_train = n - n_val - n_test
    names = ["train"] * n_train + ["val"] * n_val + ["test"] * n_test
    return dict(zip(order, names, strict=True))


def track_id(path: Path) -> str:
    """A readable, unique, filesystem-safe name for a track."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", path.stem).strip("_")[:40] or "track"
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    return f"{stem}-{digest}"


def _clip_starts(high: np.ndarray, config: DatasetConfig) -> list[int]:
    """Starts of non-overlapping clips whose RMS is above the silence threshold."""
    starts = range(0, len(high) - config.clip_samples + 1, config.clip_samples)
    floor = 10 ** (config.silence_dbfs / 20)
    kept = [s for s in starts if np.sqrt(np.mean(high[s : s + config.clip_samples] ** 2)) > floor]
    if config.clips_per_track and len(kept) > config.clips_per_track:
        chosen = np.linspace(0, len(kept) - 1, config.clips_per_track).round().astype(int)
        kept = [kept[i] for i in chosen]
    return kept


def judges_band(band_hz: float, cutoff_hz: float) -> bool:
    """Whether a reference whose own band ends at ``band_hz`` (:func:`reference_band_hz`) can
    judge a band rebuilt from ``cutoff_hz`` up: it has content to ``BAND_MARGIN_HZ`` above it.
    A clip it cannot judge is dropped, and `evaluate` keeps such a reference, as a lossless
    input, apart from the full-band ones."""
    return band_hz >= cutoff_hz + BAND_MARGIN_HZ


def reference_band_hz(samples: np.ndarray, sample_rate: int) -> float:
    """The top of a reference's usable band (issue 12), in Hz, rounded to 10 Hz.

    Some corpus tracks are band-limited themselves (an MP3 source, an old master). This is the
    highest frequency at which the track's long-term spectrum (Welch: Hann 4,096, channels
    averaged, smoothed by a median over about 320 Hz so single tones and notches do not count)
    lies within ``BAND_FLOOR_DB`` (40 dB) of its median level at 1 to 4 kHz. A band-limited
    source falls far below that at its edge; a full-band one keeps going to near half the rate.
    A smooth roll-off more than 40 dB down also counts as the end: above it, a model has no
    content worth learning to rebuild. ``samples``: ``[samples]`` or ``[samples, channels]``.
    """
    x = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1).mean(axis=1)
    n = min(4096, len(x))
    freqs, power = signal.welch(x, sample_rate, window="hann", nperseg=n)
    power = ndimage.median_filter(power, size=max(3, round(320 * n / sample_rate)) | 1)
    reference = np.median(power[(freqs >= 1000) & (freqs <= 4000)])
    if reference <= 0:
        return 0.0
    within = np.nonzero(power >= reference * 10 ** (-BAND_FLOOR_DB / 10))[0]
    return round(float(freqs[within[-1]]), -1) if len(within) else 0.0


def _build_track(
    path: Path, split: str, out: Path, config: DatasetConfig, stamp: dict | None
) -> tuple[list[dict], list[str], int]:
    """Degrade one track and write its clips; returns its manifest rows, decoding warnings and
    how many clips were dropped for a reference band too narrow (module doc). ``stamp``: the
    file's `_source_stamp`, taken before it was read, kept beside its rows."""
    decoded = decode(path)
    recipe = config.recipe
    lows, high = degrade_bitrates(decoded.samples, decoded.sample_rate, recipe)
    name = track_id(path)
    rate_out = recipe.sample_rate
    band = 0.0 if recipe.is_paper else reference_band_hz(high, rate_out)
    rows, narrow = [], 0
    for index, start in enumerate(_clip_starts(high, config)):
        window = f"{name}-{index:04d}"
        end = start + config.clip_samples
        kept = []
        for bitrate, low in lows.items():
            row = {
                "clip": window,
                "split": split,
                "track": str(path),
                "start": start,
                "samples": config.clip_samples,
                "sample_rate": rate_out,
                "low_bitrate": bitrate,
                "high_bitrate": recipe.high_bitrate,
            }
            if not recipe.is_paper:
                cutoff = recipe.cutoff_for(bitrate)
                if not judges_band(band, cutoff):
                    narrow += 1
                    continue
                row |= {"clip": f"{window}-{bitrate}k", "channels": recipe.channels}
                row |= {"cutoff_hz": cutoff, "reference_band_hz": band, "reference": window}
            write_audio(out / split / f"{row['clip']}.low.wav", low[start:end], rate_out)
            kept.append(row)
        if kept:
            write_audio(out / split / f"{window}.high.wav", high[start:end], rate_out)
        rows += kept
    _write_rows(out / ".tracks" / f"{name}.csv", rows, _fields(recipe))
    atomic_write_text(
        out / ".tracks" / f"{name}.json", json.dumps({**(stamp or {}), "split": split})
    )
    return rows, decoded.warnings, narrow


def _source_stamp(path: Path) -> dict | None:
    """A track file's size and modification time (None if it cannot be read): what tells a
    file replaced or edited since its clips were made. Not a hash of its content, which would
    read the whole corpus on every rerun; a copy that keeps both (``cp -p``) goes unseen."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _cached(path: Path, out: Path, stamp: dict | None) -> tuple[bool, str | None]:
    """Whether ``path``'s clips in ``out`` are done and still of its file, and the split they
    were made for (None if it has none yet). A track built before stamps were kept counts as
    done if its rows are newer than its file."""
    rows_path = out / ".tracks" / f"{track_id(path)}.csv"
    if not rows_path.exists():
        return False, None
    try:
        kept = json.loads(rows_path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    rows = read_rows(rows_path)
    split = kept.get("split") or (rows[0]["split"] if rows else None)
    if stamp is None:
        return False, split
    if "size" in kept:
        same = (kept["size"], kept.get("mtime_ns")) == (stamp["size"], stamp["mtime_ns"])
        return same, split
    return rows_path.stat().st_mtime_ns >= stamp["mtime_ns"], split


def _forget(path: Path, out: Path) -> None:
    """Remove a track's clips and its rows from ``out``, so a changed file is made afresh."""
    rows_path = out / ".tracks" / f"{track_id(path)}.csv"
    for row in read_rows(rows_path):
        (out / row["split"] / f"{row['clip']}.low.wav").unlink(missing_ok=True)
        (out / row["split"] / f"{row.get('reference') or row['clip']}.high.wav").unlink(
            missing_ok=True
        )
    rows_path.unlink(missing_ok=True)
    rows_path.with_suffix(".json").unlink(missing_ok=True)


def _fields(recipe: DegradationRecipe) -> tuple[str, ...]:
    return MANIFEST_FIELDS if recipe.is_paper else FULL_BAND_FIELDS


def _write_rows(path: Path, rows: list[dict], fields: Sequence[str]) -> None:
    with atomic_path(path) as temp, open(temp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(rows)


def _run(
    job: tuple[Path, str, Path, DatasetConfig, dict | None],
) -> tuple[list[dict] | str, list[str], int]:
    try:
        return _build_track(*job)
    except AudioError as error:
        return str(error), [], 0


def build_dataset(
    sources: Sequence[str | Path],
    out: str | Path,
    config: DatasetConfig = DatasetConfig(),
    jobs: int = 1,
    progress: bool = True,
) -> BuildReport:
    """Convert every track under ``sources`` into paired clips under ``out``; see the module doc.

    Rerunning with the same sources and config skips finished tracks whose files are unchanged.
    Unreadable files are reported and counted, not fatal. A run that makes no clip leaves a new
    ``out`` as it found it (no folder, no recipe), so it can be run again with other settings.
    """
    out = Path(out)
    if any(Path(source).resolve() == out.resolve() for source in sources):
        raise ValueError(f"{out}: is also a source folder; build the dataset in another one")
    output_folder(out, create=False)
    settings = out / "recipe.json"
    wanted = {**asdict(config), "split": list(config.split), "recipe": config.recipe.to_dict()}
    new = not settings.exists()
    if not new:
        _check_settings(settings, wanted)

    found = find_audio(sources, leave_out=out)  # its own clips, inside a source, are not music
    for note in found.notes + found.untried:
        tqdm.write(note)
    tracks = found.files
    report = BuildReport()
    if not tracks:
        return report
    created = not out.exists()
    output_folder(out)
    atomic_write_text(settings, json.dumps(wanted, indent=2) + "\n")
    splits = assign_splits(tracks, config.split, config.seed)
    todo = []
    for path in tracks:
        stamp = _source_stamp(path)
        done, split = _cached(path, out, stamp)
        if done:
            report.tracks_skipped += 1
            continue
        if split is not None:  # made before: its file changed (or is gone), its split does not
            if stamp is not None:
                tqdm.write(f"{path}: changed since its clips were made; converting it again")
            _forget(path, out)
        todo.append((path, split or splits[path], out, config, stamp))
    bar = tqdm(total=len(todo), unit="track", disable=None if progress else True, desc="dataset")
    # Spawned, not forked: forking a process that holds library threads can hang.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context) if jobs > 1 else None
    try:
        for result, warnings, narrow in pool.map(_run, todo) if pool else map(_run, todo):
            bar.update()
            report.narrow += narrow
            for warning in warnings:
                report.warn(warning)
            if isinstance(result, str):
                report.failed.append(result)
                tqdm.write(f"skipped {result}")
            else:
                report.tracks_done += 1
    finally:
        bar.close()
        if pool:
            pool.shutdown(cancel_futures=True)

    rows, made = [], set()
    for path in tracks:
        made.add(name := track_id(path))
        done = out / ".tracks" / f"{name}.csv"
        mine = read_rows(done)
        if done.exists() and not mine:
            report.empty.append(path)
            report.warn(
                f"{path}: no clip (shorter than {config.clip_samples} samples at "
                f"{config.recipe.sample_rate} Hz, quieter than {config.silence_dbfs:g} dBFS, or "
                "its reference's band too narrow); left out"
            )
        rows += mine
    if new and not rows:
        _unmake(out, tracks, created)
        return report
    if gone := sorted(p for p in (out / ".tracks").glob("*.csv") if p.stem not in made):
        names = [(read_rows(p) or [{}])[0].get("track") or p.stem for p in gone]
        report.warn(
            f"{out}: {len(gone)} track(s) converted before are not among the sources now "
            f"({', '.join(names)}): their clips are left out of manifest.csv, and taken back if "
            "they are given again"
        )
    _write_rows(out / "manifest.csv", rows, _fields(config.recipe))
    for row in rows:
        report.clips[row["split"]] += 1
    if rows and (empty := [split for split, n in report.clips.items() if not n]):
        report.warn(
            f"{out}: no clips in the {' and '.join(empty)} split(s): too few tracks gave clips "
            "(a split takes whole tracks)"
        )
    return report


def _check_settings(settings: Path, wanted: dict) -> None:
    """Refuse to extend a dataset made with other settings, naming those that differ."""
    try:
        built = json.loads(settings.read_text(encoding="utf-8"))
        flat = [{**s, **s["recipe"], "recipe": None} for s in (built, wanted)]
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, KeyError) as error:
        raise ValueError(f"{settings}: not a dataset's recipe ({error})") from None
    if built != wanted:
        change = recipe_change(*flat) or "other settings"
        raise ValueError(
            f"{settings.parent} was built with other settings ({change}; {settings}); "
            "use a new folder"
        )


def _unmake(out: Path, tracks: Sequence[Path], created: bool) -> None:
    """Remove what a run that made no clip wrote to a new dataset folder: its recipe, its
    tracks' rows, and the folder itself if the run made it."""
    (out / "recipe.json").unlink(missing_ok=True)
    for path in tracks:
        (out / ".tracks" / f"{track_id(path)}.csv").unlink(missing_ok=True)
        (out / ".tracks" / f"{track_id(path)}.json").unlink(missing_ok=True)
    for folder in [out / ".tracks", out] if created else [out / ".tracks"]:
        with contextlib.suppress(OSError):  # missing, or holding what this run did not write
            folder.rmdir()
