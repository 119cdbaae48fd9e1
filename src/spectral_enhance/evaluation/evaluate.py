"""Table 1 for any set of systems: SNR, PESQ, LSD, LSD above the cutoff and STOI (section 4.2),
and Zimtohrli (issue 12), the one metric that hears the whole band.

Every system enhances the decoded low-bitrate clips of one split of a dataset made by
``spectral-enhance dataset``; each is scored against the clip's reference. Per-clip rows go to
``results.csv`` as they are made (so a stopped run resumes where it was), and the means with
95 % confidence intervals, the model time per 100,000-sample clip and the model sizes go to
``results.json`` and ``report.md``.

Two oracles (issue 12) say how far any model could go, split at the clip's cutoff by an FFT brick
wall (:func:`spectral_enhance.dsp.replication.brick_wall_split`): ``oracle-high`` is the decoded
input below the cutoff and the reference above it (a perfect high band), ``oracle-low`` the
reference below the cutoff and nothing above (perfect codec repair, no high band). A third,
``oracle-envelope``, is the best the full-band model's design can do: its copied band at the
reference's own level per band and frame (:func:`spectral_enhance.dsp.replication.envelope_oracle`).

A dataset with several low bitrates (issue 12) gets a table per bitrate: every system against
the input (``mp3``, scored whether asked for or not), mean and 95 % CI, and the worst clip's
change (system minus input); and one for lossless input, each reference given as the input (LSD
above the cutoff there: above the highest bitrate's), which says whether a system harms what the
codec left intact. A model is told the low-pass `enhance` would find in the reference's whole
file. A reference whose own band ends too low to judge the top bitrate's clips (a lossy source's
decode, :func:`~spectral_enhance.dataset.build.judges_band`) has a table of its own: a model
rightly rebuilds its missing band, which that reference cannot judge. A stereo clip is scored
channel by channel and the scores averaged.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import platform
import sys
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..atomic import atomic_path, atomic_write_text, output_folder
from ..dataset.build import judges_band
from ..dataset.manifest import clip_cutoff_hz, read_clip, read_manifest, read_recipe, split_counts
from ..dataset.recipe import DegradationRecipe
from ..dsp.lowpass import SpectrumMeter, codec_cut
from . import tables
from .metrics import score
from .systems import INPUT, UNLEARNED, Clip, System, load_system
from .tables import LIMITED_INPUT, LOSSLESS_INPUT, METRICS

__all__ = [
    "evaluate",
    "machine_name",
    "read_results",
]

RESULTS = "results.json"
SCORED = "dataset.json"  # beside results.csv: the dataset whose clips it scores

RESULT_FIELDS = ("clip", "system", *METRICS)  # results.csv's columns, a row per clip and system


def machine_name() -> str:
    """CPU model and core count, for reports."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def spread_sample(rows: list[dict], limit: int) -> list[dict]:
    """At most ``limit`` rows, taken as whole windows (every bitrate of a reference) evenly
    spread over the split, so a sample covers its tracks rather than the first of them."""
    windows: dict[str, list[dict]] = {}
    for row in rows:
        windows.setdefault(row.get("reference") or row["clip"], []).append(row)
    groups = list(windows.values())
    per_window = max(len(group) for group in groups)
    count = max(1, min(len(groups), limit // per_window))
    chosen = np.linspace(0, len(groups) - 1, count).round().astype(int)
    return [row for i in sorted(set(chosen.tolist())) for row in groups[i]][:limit]


def low_bitrate_rows(rows: list[dict], limit: int, top_kbps: int = 64) -> list[dict]:
    """The MP3 clips at ``top_kbps`` or less among `spread_sample`'s ``limit`` rows: the
    bitrates whose rebuilt band issue 12's aims judge (its validation checks compare on these)."""
    return [
        row
        for row in spread_sample(rows, limit)
        if int(row["high_bitrate"]) == 0 and int(row["low_bitrate"]) <= top_kbps
    ]


def reference_rows(rows: Iterable[dict]) -> list[dict]:
    """One of ``rows`` (manifest rows) for each reference clip, in order: each reference once,
    as `evaluate` scores it as lossless input."""
    return list({row["high"]: row for row in rows}.values())


def track_lowpass(references: Iterable[dict], soft: bool = True) -> dict[str, float | None]:
    """Each track's low-pass as ``enhance`` finds it in a whole lossless file
    (:func:`~spectral_enhance.dsp.lowpass.lowpass_of_file`'s meter over excerpts spread over
    it, as a codec's cut: `codec_cut`), here over all of the track's references among
    ``references`` (manifest rows); ``soft``: see `SpectrumMeter.lowpass`."""
    meters: dict[str, SpectrumMeter] = {}
    for row in references:
        high = read_clip(row, "high")
        meter = meters.setdefault(row["track"], SpectrumMeter(int(row["sample_rate"])))
        meter.add(high)
        meter.gap()
    return {track: codec_cut(meter.lowpass(soft), True) for track, meter in meters.items()}


def evaluate(
    dataset: str | os.PathLike,
    systems: Sequence[str | System],
    out_dir: str | os.PathLike,
    split: str = "test",
    limit: int = 0,
    progress: bool = True,
    bitrates: Collection[str] | None = None,
) -> dict:
    """Score ``systems`` on the clips of ``split``; write results.csv, results.json, report.md.

    ``systems`` are names for :func:`load_system` or ready :class:`System` objects. ``bitrates``
    (kbps as the manifest writes them, ``"128"``) keeps only those clips, before ``limit``
    spreads what is left.
    """
    dataset, out_dir = Path(dataset), Path(out_dir)
    rows = read_manifest(dataset, split)
    if bitrates is not None:
        rows = [row for row in rows if row["low_bitrate"] in bitrates]
    if not rows:
        at = "" if bitrates is None else f" at {', '.join(sorted(bitrates))} kbps"
        raise ValueError(f"{dataset}: 0 clips in the {split!r} split{at} ({split_counts(dataset)})")
    if limit:
        rows = spread_sample(rows, limit)
    recipe = read_recipe(dataset)
    loaded = [s if isinstance(s, System) else load_system(s) for s in systems]
    names = [s.name for s in loaded]
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise ValueError(f"systems given more than once: {', '.join(twice)}")
    output_folder(out_dir)  # once what it is to hold is known: a refused run makes none
    bitrates = {row["clip"]: row["low_bitrate"] for row in rows}
    several = len(set(bitrates.values())) > 1
    jobs = [(row["clip"], row, False) for row in rows]
    top_cutoff = max(clip_cutoff_hz(row, recipe) for row in rows)
    if several:
        if INPUT not in {s.name for s in loaded}:
            loaded.insert(0, UNLEARNED[INPUT])  # the per-bitrate tables compare against it
        # each reference once more as a lossless input: does a system harm what is intact?
        references = reference_rows(rows)
        told = track_lowpass(references)
        for row in references:
            name = f"{row['high'].name.removesuffix('.high.wav')}-{LOSSLESS_INPUT}"
            jobs.append((name, row, True))
            full = judges_band(float(row.get("reference_band_hz") or math.inf), top_cutoff)
            bitrates[name] = LOSSLESS_INPUT if full else LIMITED_INPUT
    results_path = out_dir / "results.csv"
    fields = list(RESULT_FIELDS)
    done: list[dict] = []
    if results_path.exists():
        with open(results_path, newline="") as handle:
            reader = csv.DictReader(handle)
            done = list(reader)
        if reader.fieldnames and list(reader.fieldnames) != fields:
            raise ValueError(
                f"{results_path}: columns {', '.join(reader.fieldnames)} are not this "
                f"version's ({', '.join(fields)}); evaluate into a new --out folder"
            )
    done = _claim(out_dir, dataset, recipe, results_path, loaded, done)
    seen = {(r["clip"], r["system"]) for r in done}
    clips = {row["clip"] for row in rows}
    with open(results_path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        if not done:
            writer.writeheader()
        for name, row, lossless in tqdm(
            jobs, unit="clip", disable=None if progress else True, desc="evaluate"
        ):
            todo = [s for s in loaded if (name, s.name) not in seen]
            if not todo:
                continue
            if lossless:
                high = read_clip(row, "high")
                clip = Clip(high, high, int(row["sample_rate"]), top_cutoff, told[row["track"]])
            else:
                clip = Clip.of_row(row, recipe)
            for system in todo:
                scores = _score(clip, system.estimate(clip))
                result = {"clip": name, "system": system.name} | scores
                writer.writerow(
                    {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in result.items()}
                )
                done.append(result)
            handle.flush()
    scored = [r for r in done if r["clip"] in bitrates]
    done = [r for r in done if r["clip"] in clips]
    machine = machine_name()
    summary = tables.summary(done, loaded)
    meta = {"dataset": str(dataset), "split": split, "machine": machine, "clips": len(rows)}
    results = meta | {"systems": summary}
    by_bitrate = tables.by_bitrate(scored, bitrates, [s.name for s in loaded]) if several else None
    if by_bitrate:
        results["by_bitrate"] = by_bitrate
    atomic_write_text(out_dir / RESULTS, json.dumps(results, indent=2) + "\n")
    report = tables.report(summary, dataset, split, machine, by_bitrate, recipe.is_paper)
    atomic_write_text(out_dir / "report.md", report)
    return summary


def _claim(
    out_dir: Path,
    dataset: Path,
    recipe: DegradationRecipe,
    results: Path,
    systems: Sequence[System],
    done: list[dict],
) -> list[dict]:
    """Tie ``results`` (the per-clip rows a stopped run resumes from) to the dataset whose clips
    it scores, and each model's rows to that model's fingerprint; return the rows kept. Clip
    names come from the source tracks, so two datasets made from the same music share them:
    a folder must not resume with another's scores. A model changed since it was scored here
    (exported again into its folder) is scored again, its old rows dropped, with a line."""
    mark = out_dir / SCORED
    own = {"dataset": str(dataset.resolve()), "recipe": json.loads(json.dumps(recipe.to_dict()))}
    record: dict = {}
    if results.exists():
        with contextlib.suppress(OSError, ValueError):  # missing or damaged: not this one's
            record = _scored_record(out_dir)
        if record.get("recipe") != own["recipe"]:
            raise ValueError(
                f"{results}: scores of another dataset's clips, or of one not named in {SCORED}; "
                "evaluate into a new --out folder"
            )
    models = dict(record.get("systems") or {})
    stale = set()
    for system in systems:
        if system.fingerprint is None:  # a rule, the same in every run
            continue
        if models.get(system.name) != system.fingerprint:
            if any(row["system"] == system.name for row in done):
                stale.add(system.name)
                why = "another model file or rule" if system.name in models else "not recorded"
                tqdm.write(
                    f"{out_dir}: {system.name} has changed since it was scored here ({why}): "
                    "its clips are scored again",
                    file=sys.stderr,
                )
            models[system.name] = system.fingerprint
    if stale:
        done = [row for row in done if row["system"] not in stale]
        with atomic_path(results) as temp, open(temp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, RESULT_FIELDS)
            writer.writeheader()
            writer.writerows(done)
    atomic_write_text(mark, json.dumps(own | {"systems": models}, indent=2) + "\n")
    return done


def _score(clip: Clip, estimate: np.ndarray) -> dict[str, float]:
    """Every metric of ``estimate`` against ``clip.high``; a stereo clip's channels averaged."""
    high = clip.high.reshape(len(clip.high), -1)
    estimate = estimate.reshape(high.shape)
    channels = [
        score(high[:, c], estimate[:, c], clip.sample_rate, clip.cutoff_hz, with_zimtohrli=True)
        for c in range(high.shape[1])
    ]
    return {name: float(np.mean([c[name] for c in channels])) for name in channels[0]}


def scored_recipe(folder: str | os.PathLike) -> dict:
    """The recipe (`DegradationRecipe.to_dict`) of the dataset whose clips an :func:`evaluate`
    run in ``folder`` scored, as it recorded it in `SCORED`."""
    return _scored_record(folder)["recipe"]


def scored_model(folder: str | os.PathLike, system: str) -> str | None:
    """The fingerprint (`inference.card.fingerprint`) of the model an :func:`evaluate` run in
    ``folder`` scored as ``system``; None for a rule (``mp3``, ``dsp``) or one not recorded."""
    return (_scored_record(folder).get("systems") or {}).get(system)


def _scored_record(folder: str | os.PathLike) -> dict:
    """`SCORED` in ``folder``: the dataset, its recipe and the models' fingerprints, checked."""
    path = Path(folder) / SCORED
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or not isinstance(record.get("recipe"), dict):
            raise ValueError("no recipe")
        return record
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path}: missing (an evaluation from before it was kept: evaluate again)"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not an evaluation's dataset record ({error})") from None


def read_results(folder: str | os.PathLike) -> dict:
    """The ``results.json`` an :func:`evaluate` run wrote into ``folder``, checked for its keys."""
    path = Path(folder) / RESULTS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (write it with `spectral-enhance evaluate`)")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    missing = [k for k in ("dataset", "split", "machine", "systems") if k not in results]
    if missing:
        raise ValueError(f"{path}: not an evaluation's results (no {', '.join(missing)})")
    return results
