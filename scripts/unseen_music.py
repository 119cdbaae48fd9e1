"""Zimtohrli per bitrate on music the models never saw, from an `evaluate` results.csv, and
the clips the model takes more than 0.1 from, with how far each one's reference reaches.

For each bitrate: the decoded MP3, ``dsp``, the model and ``oracle-high`` (mean), the model
with the codec's holes left unfilled (``--bundled`` run again), the share of the gap to
``oracle-high`` the model closes, how many clips it takes more than 0.1 from, and its
worst clip. Then those clips: the model's change, its change without holes, ``dsp``'s, the
low-pass, where the reference's own band ends (``reference_band_hz`` in the dataset's
manifest: a master that ends close above the MP3's low-pass has little for a rebuilt band to
match), and how far the model's band lies over the reference's.

Usage: python scripts/unseen_music.py DATASET RESULTS_CSV [--model full-band@int8]
           [--bundled full-band]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from spectral_enhance.dataset.manifest import read_manifest

SYSTEMS = ("mp3", "dsp", "oracle-high")
HOLELESS = "without holes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("results")
    parser.add_argument("--model", default="full-band@int8", help="its name in the results")
    parser.add_argument("--bundled", default="full-band", help="the model, to run without holes")
    args = parser.parse_args()
    rows = {row["clip"]: row for split in ("train", "val", "test") for row in _rows(args, split)}
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    with open(args.results, newline="") as handle:
        for row in csv.DictReader(handle):
            scores[row["clip"]][row["system"]] = float(row["zimtohrli"])
    groups: dict[int, list[str]] = defaultdict(list)
    for clip, score in scores.items():
        if clip in rows and all(name in score for name in (*SYSTEMS, args.model)):
            groups[int(rows[clip]["low_bitrate"])].append(clip)  # lossless inputs are not rows
    holeless = _without_holes(args.bundled)
    for clips in groups.values():
        for clip in clips:
            scores[clip][HOLELESS] = holeless(rows[clip])
    names = [*SYSTEMS[:2], args.model, SYSTEMS[2], HOLELESS]
    print(f"| kbps | clips | {' | '.join(names)} | gap closed | lose > 0.1 | worst |")
    print("|---|---|" + "---|" * (len(names) + 3))
    losers = []
    for kbps, clips in sorted(groups.items()):
        means = [sum(scores[c][n] for c in clips) / len(clips) for n in names]
        gap = means[3] - means[0]
        share = f"{100 * (means[2] - means[0]) / gap:.0f} %" if gap > 0.01 else "–"
        changes = sorted((scores[c][args.model] - scores[c]["mp3"], c) for c in clips)
        losers += [(change, clip) for change, clip in changes if change < -0.1]
        lose = sum(change < -0.1 for change, _ in changes)
        cells = " | ".join(f"{m:.3f}" for m in means)
        worst, clip = changes[0]
        print(f"| {kbps} | {len(clips)} | {cells} | {share} | {lose} | {worst:+.2f} ({clip}) |")
    print(
        "\n| clip | change | without holes | dsp's | low-pass | the reference's band ends | "
        "the model's band over the reference's, to 1.5x the low-pass, and above |"
    )
    print("|---|---|---|---|---|---|---|")
    over = _band_over(args.bundled)
    for change, clip in sorted(losers):
        row, dsp = rows[clip], scores[clip]["dsp"] - scores[clip]["mp3"]
        low, band = float(row["cutoff_hz"]) / 1000, float(row["reference_band_hz"]) / 1000
        alone = scores[clip][HOLELESS] - scores[clip]["mp3"]
        near, far = (f"{db:+.0f} dB" if np.isfinite(db) else "–" for db in over(row))
        print(
            f"| {clip} | {change:+.2f} | {alone:+.2f} | {dsp:+.2f} | {low:.1f} kHz | "
            f"{band:.1f} kHz | {near}, {far} |"
        )


def _band_over(model: str) -> Callable[[dict], tuple[float, float]]:
    """How far the bundled ``model``'s band lies over the reference's in power (dB, both
    channels' long-term spectra summed) for a manifest row's clip: from its low-pass to 1.5
    times it, and from there to 20 kHz (NaN where that holds no bin)."""
    from spectral_enhance.dataset.manifest import read_clip
    from spectral_enhance.dsp.lowpass import average_spectrum
    from spectral_enhance.inference.enhancer import Enhancer

    enhancer = Enhancer.load(model)

    def over(row: dict) -> tuple[float, float]:
        rate, cut = int(row["sample_rate"]), float(row["cutoff_hz"])
        estimate, _ = enhancer.enhance(read_clip(row, "low"), rate)
        freqs, reference = average_spectrum(read_clip(row, "high"), rate)
        model_power = average_spectrum(estimate, rate)[1]
        spans = [(cut, 1.5 * cut), (1.5 * cut, max(20_000.0, 1.5 * cut + 1.0))]
        return tuple(  # type: ignore[return-value]
            10 * np.log10(model_power[inside].sum() / max(reference[inside].sum(), 1e-30))
            if (inside := (freqs >= a) & (freqs < b)).any()
            else float("nan")
            for a, b in spans
        )

    return over


def _without_holes(model: str) -> Callable[[dict], float]:
    """Zimtohrli of a manifest row's clip enhanced by the bundled ``model`` with its codec holes
    left unfilled (`dsp.holes`), its band above the low-pass as bundled."""
    from spectral_enhance.dataset.manifest import read_clip
    from spectral_enhance.evaluation.metrics import zimtohrli_mos
    from spectral_enhance.inference.enhancer import Enhancer

    enhancer = Enhancer.load(model)
    enhancer.rule, enhancer.hole_net = dataclasses.replace(enhancer.rule, holes_frames=0), None

    def score(row: dict) -> float:
        rate = int(row["sample_rate"])
        estimate, _ = enhancer.enhance(read_clip(row, "low"), rate)
        return zimtohrli_mos(read_clip(row, "high"), estimate, rate)

    return score


def _rows(args: argparse.Namespace, split: str) -> list[dict]:
    """The dataset's manifest rows of ``split`` (none if it has no such split)."""
    try:
        return read_manifest(Path(args.dataset), split)
    except (FileNotFoundError, ValueError):
        return []


if __name__ == "__main__":
    main()
