"""Per-clip differences between two systems of an `evaluate` results.csv.

Backs the README's account of the PESQ loss (one clip), and with ``--by-bitrate`` each
bitrate's mean change, worst clip and clips gaining (a clip id ends in its bitrate). Usage:
python scripts/per_clip.py RESULTS_CSV SYSTEM_A SYSTEM_B [--metric pesq] [--worst 5]
       [--by-bitrate]
"""

import argparse
import csv
import math


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("a", help="the reference system, e.g. mp3")
    parser.add_argument("b", help="the system compared with it")
    parser.add_argument("--metric", default="pesq")
    parser.add_argument("--worst", type=int, default=5)
    parser.add_argument("--by-bitrate", action="store_true")
    args = parser.parse_args()
    scores: dict[str, dict[str, float]] = {}
    with open(args.results, newline="") as handle:
        for row in csv.DictReader(handle):
            scores.setdefault(row["clip"], {})[row["system"]] = float(row[args.metric])
    pairs = [
        (s[args.b] - s[args.a], clip, s[args.a], s[args.b])
        for clip, s in scores.items()
        if args.a in s and args.b in s and math.isfinite(s[args.a]) and math.isfinite(s[args.b])
    ]
    pairs.sort()
    diffs = [d for d, *_ in pairs]
    mean = sum(diffs) / len(diffs)
    print(f"{args.metric}: {len(pairs)} clips scored by both; mean change {mean:+.4f}")
    rest = diffs[1:]
    print(
        f"without the worst clip: mean change {sum(rest) / len(rest):+.4f} over {len(rest)} clips"
    )
    print(f"worst {args.worst}:")
    for d, clip, a, b in pairs[: args.worst]:
        print(f"  {clip:40s} {a:.3f} -> {b:.3f} ({d:+.3f})")
    if args.by_bitrate:
        groups: dict[str, list[float]] = {}
        for d, clip, *_ in pairs:
            groups.setdefault(clip.rsplit("-", 1)[-1], []).append(d)
        for kind, changes in groups.items():
            gaining = sum(change > 0.001 for change in changes)
            print(
                f"{kind}: mean change {sum(changes) / len(changes):+.4f}, worst clip "
                f"{min(changes):+.3f}, {gaining} of {len(changes)} gaining"
            )


if __name__ == "__main__":
    main()
