"""The means, confidence intervals and report.md tables of scored rows, apart from scoring."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .systems import INPUT, System

__all__ = [
    "PAPER_TABLE_1",
    "by_bitrate",
    "report",
    "summary",
    "worst_change",
]

METRICS = ("snr", "pesq", "lsd", "lsd_high", "stoi", "zimtohrli")
LABELS = {"snr": "SNR (dB)", "pesq": "PESQ", "lsd": "LSD", "lsd_high": "LSD above cutoff"}
LABELS |= {"stoi": "STOI", "zimtohrli": "Zimtohrli (MOS)"}
DIGITS = {"snr": 3, "pesq": 4, "lsd": 4, "lsd_high": 4, "stoi": 5, "zimtohrli": 4}
LOWER_IS_BETTER = {"lsd", "lsd_high"}
LOSSLESS_INPUT = "lossless"  # the per-bitrate group whose input is the reference itself
# ... where the reference's own band ends too low to judge a band rebuilt over the top bitrate's
# low-pass (a lossy source's decode): what is rebuilt above it has nothing to be judged against
LIMITED_INPUT = "lossless, band-limited"
# The paper's Table 1, with its inference times (ms); its LSD definition differs from ours.
PAPER_TABLE_1 = {
    "Audio-SR-Net": {"ms": 27.7, "snr": 16.7353, "pesq": 2.6296, "lsd": 2.3340, "stoi": 0.9996},
    "FFmpeg": {"ms": None, "snr": 18.0077, "pesq": 4.3039, "lsd": 2.6845, "stoi": 0.9913},
    "TFiLM": {"ms": 75.9, "snr": 9.9723, "pesq": 3.6352, "lsd": 2.6497, "stoi": 0.9635},
    "WaveNet": {"ms": 86.9, "snr": 13.6910, "pesq": 4.1743, "lsd": 3.1490, "stoi": 0.9881},
    "N = 1": {"ms": 7.74, "snr": 21.2532, "pesq": 4.3599, "lsd": 1.5909, "stoi": 0.9910},
    "N = 5": {"ms": 20.8, "snr": 20.8868, "pesq": 4.1197, "lsd": 1.8152, "stoi": 0.9894},
}


def _mean_ci(rows: list[dict], metric: str) -> dict:
    """Mean, 95 % confidence interval and count of ``metric`` over ``rows``, NaNs left out."""
    values = np.array([float(r[metric]) for r in rows], dtype=np.float64)
    values = values[~np.isnan(values)]
    n = len(values)
    with np.errstate(invalid="ignore"):  # a perfect system's SNR is inf: its spread NaN
        std = float(values.std(ddof=1)) if n > 1 else math.nan
    mean = float(values.mean()) if n else math.nan
    return {"mean": mean, "ci95": 1.96 * std / math.sqrt(n) if n > 1 else math.nan, "n": n}


def _mean_cell(m: dict, digits: int) -> str:
    """A table's ``mean ± ci95``; one clip has no interval: ``± –``."""
    spread = "–" if math.isnan(m["ci95"]) and m["n"] < 2 else f"{m['ci95']:.{digits}f}"
    return f"{m['mean']:.{digits}f} ± {spread}"


def summary(rows: list[dict], systems: Sequence[System]) -> dict:
    """Per system: each metric's mean and CI over its rows, its model time, size and clips."""
    out = {}
    for system in systems:
        mine = [r for r in rows if r["system"] == system.name]
        out[system.name] = {
            "metrics": {name: _mean_ci(mine, name) for name in METRICS},
            "model_ms": system.model_ms,
            "bytes": system.size_bytes,
            "clips": len(mine),
        }
    return out


def worst_change(
    input_rows: Sequence[dict], system_rows: Sequence[dict], metric: str
) -> dict | None:
    """The clip a system harms most against the input on ``metric``: ``{"clip", "change"}``,
    change = system minus input (so negative is worse, except for the LSDs, where positive is).

    Rows are result rows (``clip`` and metric keys); clips either side lacks, or where either
    score is NaN or infinite, are left out; None if no clip is left.
    """
    before = {r["clip"]: float(r[metric]) for r in input_rows}
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    changes = []
    for row in system_rows:
        if row["clip"] not in before:
            continue
        change = float(row[metric]) - before[row["clip"]]
        if math.isfinite(change):
            changes.append((sign * change, row["clip"], change))
    if not changes:
        return None
    _, clip, change = min(changes)
    return {"clip": clip, "change": change}


def by_bitrate(rows: list[dict], bitrates: dict[str, str], names: Sequence[str]) -> dict:
    """Per low bitrate: every system's mean and CI per metric, and its worst clip's change."""
    out: dict[str, dict] = {}
    last = {LOSSLESS_INPUT: 1, LIMITED_INPUT: 2}  # after the bitrates, in this order
    order = lambda b: (last[b], 0) if b in last else (0, int(b))  # noqa: E731
    for bitrate in sorted(set(bitrates.values()), key=order):
        mine = [r for r in rows if bitrates.get(r["clip"]) == bitrate]
        inputs = [r for r in mine if r["system"] == INPUT]
        table = {}
        for name in names:
            system_rows = [r for r in mine if r["system"] == name]
            table[name] = {
                metric: _mean_ci(system_rows, metric)
                | ({"worst": worst_change(inputs, system_rows, metric)} if name != INPUT else {})
                for metric in METRICS
            }
        out[bitrate] = {"clips": len(inputs), "systems": table}
    return out


TITLES = {
    LOSSLESS_INPUT: "lossless input",
    LIMITED_INPUT: "lossless input, band-limited reference (its own band ends under the top "
    "bitrate's low-pass: a band rebuilt above it has nothing to be judged against)",
}


def _bitrate_report(by_bitrate: dict) -> list[str]:
    lines = [
        "",
        "## Per bitrate",
        "",
        f"Each system against the decoded input (`{INPUT}`): mean ± the 95 % confidence "
        "interval, then the worst clip's change (system minus input; for the LSDs a rise is "
        "worse) and its clip.",
    ]
    for bitrate, part in by_bitrate.items():
        names = list(part["systems"])
        title = TITLES.get(bitrate, f"{bitrate} kbps")
        clips = f"{part['clips']} clip{'s' * (part['clips'] != 1)}"
        lines += ["", f"### {title} ({clips})", ""]
        lines += ["| metric | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
        for metric in METRICS:
            digits = DIGITS[metric]
            cells = []
            for name in names:
                cells.append(_mean_cell(part["systems"][name][metric], digits))
            lines.append(f"| {LABELS[metric]} | " + " | ".join(cells) + " |")
        others = [n for n in names if n != INPUT]
        if not others:  # the input alone: no change to show
            continue
        lines += ["", "| worst clip's change | " + " | ".join(others) + " |"]
        lines.append("|" + "---|" * (len(others) + 1))
        for metric in METRICS:
            cells = []
            for name in others:
                worst = part["systems"][name][metric]["worst"]
                digits = DIGITS[metric]
                cells.append(f"{worst['change']:+.{digits}f} ({worst['clip']})" if worst else "–")
            lines.append(f"| {LABELS[metric]} | " + " | ".join(cells) + " |")
    return lines


def report(
    summary: dict,
    dataset: Path,
    split: str,
    machine: str,
    by_bitrate: dict | None = None,
    paper: bool = True,
) -> str:
    """report.md: the means, then the paper's Table 1 where the clips are its recipe's
    (``paper``; 44.1 kHz stereo at several bitrates is no setting it measured), then the
    per-bitrate tables."""
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
            cells.append(_mean_cell(summary[name]["metrics"][metric], DIGITS[metric]))
        lines.append(f"| {LABELS[metric]} | " + " | ".join(cells) + " |")
    ms = [f"{summary[n]['model_ms']:.2f}" if summary[n]["model_ms"] else "–" for n in names]
    lines.append("| model time per 100,000-sample clip (ms) | " + " | ".join(ms) + " |")
    kib = [f"{summary[n]['bytes'] / 1024:.0f}" if summary[n]["bytes"] else "–" for n in names]
    lines.append("| model size (KiB) | " + " | ".join(kib) + " |")
    clips = [str(summary[n]["clips"]) for n in names]
    lines.append("| clips | " + " | ".join(clips) + " |")
    lines += [
        "",
        "PESQ is left out of a mean where it finds nothing to score in the reference (n below "
        "the clip count). LSD: log10 power, Hann 2,048, hop 512, mean over frames of the RMS "
        "over bins (see `spectral_enhance.evaluation.metrics`); the paper's LSD is not computed "
        "the same way, so compare LSD only within one table.",
    ]
    if paper:
        systems = list(PAPER_TABLE_1)
        lines += [
            "",
            "The paper's Table 1 (GTZAN, its own code and machine), for comparison:",
            "",
            "| metric | " + " | ".join(systems) + " |",
            "|" + "---|" * (len(systems) + 1),
        ]
        for metric in ("snr", "pesq", "lsd", "stoi"):
            row = " | ".join(f"{PAPER_TABLE_1[p][metric]:.4f}" for p in systems)
            lines.append(f"| {LABELS[metric]} | {row} |")
        ms = " | ".join(str(PAPER_TABLE_1[p]["ms"] or "–") for p in systems)
        lines.append(f"| inference time (ms) | {ms} |")
    if by_bitrate:
        lines += _bitrate_report(by_bitrate)
    return "\n".join(lines) + "\n"
