"""Table 1 for any set of systems: SNR, PESQ, LSD, LSD above the cutoff and STOI (section 4.2).

Every system enhances the decoded low-bitrate clips of one split of a dataset made by
``spectral-enhance dataset``; each is scored against the clip's 128 kbps reference. Per-clip rows
go to ``results.csv`` as they are made (so a stopped run resumes where it was), and the means with
95 % confidence intervals, the model time per 100,000-sample clip and the model sizes go to
``results.json`` and ``report.md``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .atomic import atomic_write_text
from .card import ModelCard
from .dataset import read_clip, read_manifest, read_recipe, split_counts
from .dsp import band_replication
from .inference import Enhancer, find_model
from .metrics import score
from .recipe import DegradationRecipe

__all__ = ["PAPER_TABLE_1", "System", "evaluate", "load_system", "machine_name", "read_results"]

RESULTS = "results.json"

METRICS = ("snr", "pesq", "lsd", "lsd_high", "stoi")
LABELS = {"snr": "SNR (dB)", "pesq": "PESQ", "lsd": "LSD", "lsd_high": "LSD above cutoff"}
LABELS["stoi"] = "STOI"
DIGITS = {"snr": 3, "pesq": 4, "lsd": 4, "lsd_high": 4, "stoi": 5}
# The paper's Table 1, with its inference times (ms); its LSD definition differs from ours.
PAPER_TABLE_1 = {
    "Audio-SR-Net": {"ms": 27.7, "snr": 16.7353, "pesq": 2.6296, "lsd": 2.3340, "stoi": 0.9996},
    "FFmpeg": {"ms": None, "snr": 18.0077, "pesq": 4.3039, "lsd": 2.6845, "stoi": 0.9913},
    "TFiLM": {"ms": 75.9, "snr": 9.9723, "pesq": 3.6352, "lsd": 2.6497, "stoi": 0.9635},
    "WaveNet": {"ms": 86.9, "snr": 13.6910, "pesq": 4.1743, "lsd": 3.1490, "stoi": 0.9881},
    "N = 1": {"ms": 7.74, "snr": 21.2532, "pesq": 4.3599, "lsd": 1.5909, "stoi": 0.9910},
    "N = 5": {"ms": 20.8, "snr": 20.8868, "pesq": 4.1197, "lsd": 1.8152, "stoi": 0.9894},
}


@dataclass
class System:
    """A named way of turning the low-bitrate clip into an estimate of the reference."""

    name: str
    process: Callable[[np.ndarray], np.ndarray]
    model_ms: float | None = None
    size_bytes: int | None = None


def _time_model(enhancer: Enhancer, repeats: int = 20) -> float:
    """Median model-only time (ms) of one 100,000-sample clip, as the model takes it."""
    example = enhancer.model_input(100_000)
    enhancer.model(example)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        enhancer.model(example)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def load_system(spec: str, recipe: DegradationRecipe = DegradationRecipe()) -> System:
    """``mp3``, ``dsp``, or a model: ``NAME_OR_PATH[@fp32|fp16|int8]`` (a .pt uses PyTorch)."""
    if spec == "mp3":
        return System("mp3", lambda low: low)
    if spec == "dsp":
        return System(
            "dsp", lambda low: band_replication(low, recipe.sample_rate, recipe.cutoff_hz)
        )
    target, _, precision = spec.partition("@")
    path = find_model(target)
    if path.suffix == ".pt":
        enhancer = Enhancer.load(path, backend="torch")
        size = path.stat().st_size
    else:
        enhancer = Enhancer.load(path, precision=precision or "int8")
        file = ModelCard.read(path).file(precision or "int8") if path.is_dir() else path
        size = file.stat().st_size
    name = spec if "@" in spec or path.suffix == ".pt" else f"{spec}@int8"

    def process(low: np.ndarray) -> np.ndarray:
        return enhancer.process(low[:, None])[:, 0]

    return System(name, process, _time_model(enhancer), size)


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


def _summary(rows: list[dict], systems: Sequence[System]) -> dict:
    out = {}
    for system in systems:
        mine = [r for r in rows if r["system"] == system.name]
        metrics = {}
        for name in METRICS:
            values = np.array([float(r[name]) for r in mine], dtype=np.float64)
            values = values[~np.isnan(values)]
            n = len(values)
            with np.errstate(invalid="ignore"):  # a perfect system's SNR is inf: its spread NaN
                std = float(values.std(ddof=1)) if n > 1 else math.nan
            mean = float(values.mean()) if n else math.nan
            metrics[name] = {"mean": mean, "ci95": 1.96 * std / math.sqrt(n) if n > 1 else math.nan}
            metrics[name]["n"] = n
        out[system.name] = {
            "metrics": metrics,
            "model_ms": system.model_ms,
            "bytes": system.size_bytes,
            "clips": len(mine),
        }
    return out


def _report(summary: dict, dataset: Path, split: str, machine: str) -> str:
    names = list(summary)
    head = "| metric | " + " | ".join(names) + " |"
    lines = [
        f"# Evaluation: {dataset} ({split} split)",
        "",
        f"Machine: {machine}. Mean over clips, ± the 95 % confidence interval.",
        "",
        head,
        "|" + "---|" * (len(names) + 1),
    ]
    for metric in METRICS:
        cells = []
        for name in names:
            m = summary[name]["metrics"][metric]
            digits = DIGITS[metric]
            cells.append(f"{m['mean']:.{digits}f} ± {m['ci95']:.{digits}f}")
        lines.append(f"| {LABELS[metric]} | " + " | ".join(cells) + " |")
    ms = [f"{summary[n]['model_ms']:.2f}" if summary[n]["model_ms"] else "–" for n in names]
    lines.append("| model time per 100,000-sample clip (ms) | " + " | ".join(ms) + " |")
    kib = [f"{summary[n]['bytes'] / 1024:.0f}" if summary[n]["bytes"] else "–" for n in names]
    lines.append("| model size (KiB) | " + " | ".join(kib) + " |")
    clips = [str(summary[n]["clips"]) for n in names]
    lines.append("| clips | " + " | ".join(clips) + " |")
    paper = list(PAPER_TABLE_1)
    lines += [
        "",
        "PESQ is left out of a mean where it finds nothing to score in the reference (n below "
        "the clip count). LSD: log10 power, Hann 2,048, hop 512, mean over frames of the RMS "
        "over bins (see `spectral_enhance.metrics`); the paper's LSD is not computed the same "
        "way, so compare LSD only within one table.",
        "",
        "The paper's Table 1 (GTZAN, its own code and machine), for comparison:",
        "",
        "| metric | " + " | ".join(paper) + " |",
        "|" + "---|" * (len(paper) + 1),
    ]
    for metric in ("snr", "pesq", "lsd", "stoi"):
        row = " | ".join(f"{PAPER_TABLE_1[p][metric]:.4f}" for p in paper)
        lines.append(f"| {LABELS[metric]} | {row} |")
    ms = " | ".join(str(PAPER_TABLE_1[p]["ms"] or "–") for p in paper)
    lines.append(f"| inference time (ms) | {ms} |")
    return "\n".join(lines) + "\n"


def evaluate(
    dataset: str | os.PathLike,
    systems: Sequence[str | System],
    out_dir: str | os.PathLike,
    split: str = "test",
    limit: int = 0,
    progress: bool = True,
) -> dict:
    """Score ``systems`` on the clips of ``split``; write results.csv, results.json, report.md.

    ``systems`` are names for :func:`load_system` or ready :class:`System` objects.
    """
    dataset, out_dir = Path(dataset), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = read_manifest(dataset, split)
    if not rows:
        raise ValueError(f"{dataset}: 0 clips in the {split!r} split ({split_counts(dataset)})")
    if limit:
        rows = rows[:limit]
    recipe = read_recipe(dataset)
    loaded = [s if isinstance(s, System) else load_system(s, recipe) for s in systems]
    results_path = out_dir / "results.csv"
    fields = ["clip", "system", *METRICS]
    done: list[dict] = []
    if results_path.exists():
        with open(results_path, newline="") as handle:
            done = list(csv.DictReader(handle))
    seen = {(r["clip"], r["system"]) for r in done}
    clips = {row["clip"] for row in rows}
    with open(results_path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        if not done:
            writer.writeheader()
        for row in tqdm(rows, unit="clip", disable=not progress, desc="evaluate"):
            todo = [s for s in loaded if (row["clip"], s.name) not in seen]
            if not todo:
                continue
            low, high = read_clip(row, "low"), read_clip(row, "high")
            rate = int(row["sample_rate"])
            for system in todo:
                scores = score(high, system.process(low), rate, recipe.cutoff_hz)
                result = {"clip": row["clip"], "system": system.name} | scores
                writer.writerow(
                    {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in result.items()}
                )
                done.append(result)
            handle.flush()
    done = [r for r in done if r["clip"] in clips]
    machine = machine_name()
    summary = _summary(done, loaded)
    meta = {"dataset": str(dataset), "split": split, "machine": machine, "clips": len(rows)}
    atomic_write_text(out_dir / RESULTS, json.dumps(meta | {"systems": summary}, indent=2) + "\n")
    atomic_write_text(out_dir / "report.md", _report(summary, dataset, split, machine))
    return summary


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
