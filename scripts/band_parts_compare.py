"""Runs of `band_parts_check.py` pooled over their splits; two on the same references side by side.

Reads the clip lines a run printed (``CLIP MODE: input output ...``). Given one run, prints per
mode and column (the output, the band at each gain, the band alone) the mean change against the
input over all its clips, the worst clip's and how many lose over 0.05. Given two, prints per
mode, over the clips both scored: the input's mean Zimtohrli, each run's output, the second's
change against the first with its standard error over clips, each run's worst clip against the
input and how many clips lose over 0.05, then the change track by track (tracks are what the
clips of a split share, so a change carried by one track shows there).

Usage: python scripts/band_parts_compare.py RUN.txt [AFTER.txt]
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict

import numpy as np

LINE = re.compile(r"^(\S+) (\S+:\S+): ([-\d. ]+)$")
GAINS = re.compile(r"band x (\S+)")


def clip_scores(path: str) -> dict[tuple[str, str], list[float]]:
    """Each (clip, mode)'s scores as a `band_parts_check.py` run printed: the input's, the
    output's, then the band's at each gain and the band's alone."""
    scores = {}
    with open(path, encoding="utf-8") as file:
        for line in file:
            if match := LINE.match(line.strip()):
                scores[match.group(1), match.group(2)] = [float(v) for v in match.group(3).split()]
    return scores


def pooled(path: str) -> None:
    """Print each mode's columns of one run pooled over its clips, against the input."""
    scores = clip_scores(path)
    with open(path, encoding="utf-8") as file:
        gains = next((GAINS.findall(line) for line in file if line.startswith("mode")), [])
    names = ["output", *(f"band x {g}" for g in gains), "band alone"]
    print(f"{path}: the change against the input (worst clip, clips losing over 0.05)")
    for mode in sorted({m for _, m in scores}):
        rows = np.array([v for (_, m), v in scores.items() if m == mode])
        change = rows[:, 1:] - rows[:, :1]
        parts = [
            f"{name} {c.mean():+.4f} ({c.min():+.3f}, {(c < -0.05).sum()})"
            for name, c in zip(names, change.T, strict=False)
        ]
        print(f"{mode}: {len(rows)} clips, input {rows[:, 0].mean():.4f}; " + "; ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before")
    parser.add_argument("after", nargs="?")
    args = parser.parse_args()
    if args.after is None:
        pooled(args.before)
        return
    before, after = clip_scores(args.before), clip_scores(args.after)
    common = sorted(set(before) & set(after))
    print(f"{args.before} -> {args.after}: {len(common)} clips scored by both")
    for mode in sorted({m for _, m in common}):
        keys = [k for k in common if k[1] == mode]
        inputs = np.array([after[k][0] for k in keys])
        if np.abs(inputs - np.array([before[k][0] for k in keys])).max() > 5e-4:
            raise SystemExit(f"{mode}: the two runs' inputs differ: not the same references")
        old, new = (np.array([run[k][1] for k in keys]) for run in (before, after))
        change = new - old
        error = change.std(ddof=1) / np.sqrt(len(keys)) if len(keys) > 1 else float("nan")
        print(
            f"{mode}: {len(keys)} clips, input {inputs.mean():.4f}, before {old.mean():.4f}, "
            f"after {new.mean():.4f}, change {change.mean():+.4f} (standard error {error:.4f}); "
            f"worst clip {(old - inputs).min():+.3f} before, {(new - inputs).min():+.3f} after; "
            f"clips losing over 0.05: {(old - inputs < -0.05).sum()} before, "
            f"{(new - inputs < -0.05).sum()} after"
        )
        tracks: dict[str, list[float]] = defaultdict(list)
        for (clip, _), value in zip(keys, change, strict=True):
            tracks[clip.split("-")[0]].append(value)
        print("  by track: " + ", ".join(f"{t} {np.mean(v):+.4f}" for t, v in tracks.items()))


if __name__ == "__main__":
    main()
