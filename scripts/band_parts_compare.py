"""Two runs of `band_parts_check.py` on the same references, their outputs side by side.

Reads the clip lines both runs printed (``CLIP MODE: input output ...``) and prints per mode,
over the clips both scored: the input's mean Zimtohrli, each run's output, the second's change
against the first with its standard error over clips, each run's worst clip against the input
and how many clips lose over 0.05, then the change track by track (tracks are what the clips
of a split share, so a change carried by one track shows there).

Usage: python scripts/band_parts_compare.py BEFORE.txt AFTER.txt
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict

import numpy as np

LINE = re.compile(r"^(\S+) (\S+:\S+): ([-\d. ]+)$")


def clip_scores(path: str) -> dict[tuple[str, str], tuple[float, float]]:
    """Each (clip, mode)'s input and output Zimtohrli as a `band_parts_check.py` run printed."""
    scores = {}
    with open(path, encoding="utf-8") as file:
        for line in file:
            if match := LINE.match(line.strip()):
                values = [float(v) for v in match.group(3).split()]
                scores[match.group(1), match.group(2)] = (values[0], values[1])
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    args = parser.parse_args()
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
