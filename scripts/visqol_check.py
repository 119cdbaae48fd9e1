"""ViSQOL v3 (audio mode), issue 12's second opinion beside Zimtohrli, per bitrate.

For the clips of a split (the whole windows `evaluate --limit` takes) at the chosen bitrates,
each system's output and the reference are resampled to 48 kHz and scored by ViSQOL's audio mode
(`visqol-python`, a pure-Python port that matches Google's C++ scores), channel by channel, and
averaged. Prints the mean and the 95 % confidence interval per bitrate and system, and the worst
clip's change against the decoded input (`mp3`), naming the clip; ``--per-clip`` prints every
clip's change too.

Usage: python scripts/visqol_check.py DATASET [--split test] [--limit 100]
           [--bitrates 32 48 64] [--systems mp3 full-band oracle-high] [--per-clip]
"""

from __future__ import annotations

import argparse

import numpy as np

from spectral_enhance.audio import resample
from spectral_enhance.dataset.manifest import read_manifest, read_recipe
from spectral_enhance.evaluation.evaluate import machine_name, spread_sample
from spectral_enhance.evaluation.systems import Clip, load_system

RATE = 48_000  # ViSQOL's audio mode


def visqol_mos(api: object, reference: np.ndarray, estimate: np.ndarray, rate: int) -> float:
    """ViSQOL's MOS-LQO of ``estimate`` against ``reference``, channel by channel, averaged."""
    y = resample(reference.reshape(len(reference), -1), rate, RATE).astype(np.float64)
    y_hat = resample(estimate.reshape(len(estimate), -1), rate, RATE).astype(np.float64)
    scores = [api.measure_from_arrays(y[:, c], y_hat[:, c], RATE).moslqo for c in range(y.shape[1])]
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--bitrates", nargs="+", default=["32", "48", "64"])
    parser.add_argument("--systems", nargs="+", default=["mp3", "full-band", "oracle-high"])
    parser.add_argument("--per-clip", action="store_true", help="every clip's change too")
    args = parser.parse_args()
    from visqol import VisqolApi

    api = VisqolApi()
    api.create(mode="audio")
    rows = spread_sample(read_manifest(args.dataset, args.split), args.limit)
    rows = [row for row in rows if row["low_bitrate"] in args.bitrates]
    recipe = read_recipe(args.dataset)
    systems = [load_system(name) for name in args.systems]
    scores: dict[tuple[str, str], dict[str, float]] = {}
    for row in rows:
        clip = Clip.of_row(row, recipe)
        rate = clip.sample_rate
        for system in systems:
            key = (row["low_bitrate"], system.name)
            mos = visqol_mos(api, clip.high, system.estimate(clip), rate)
            scores.setdefault(key, {})[row["clip"]] = mos
    print(f"ViSQOL v3 audio mode (MOS-LQO), {args.split} split, {machine_name()}")
    print("| kbps | clips | " + " | ".join(s.name for s in systems) + " | worst clip's change |")
    print("|---" * (len(systems) + 3) + "|")
    for bitrate in args.bitrates:
        columns = [scores.get((bitrate, s.name), {}) for s in systems]
        if not columns[0]:
            continue
        cells = []
        for column in columns:
            values = np.array(list(column.values()))
            ci = 1.96 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
            cells.append(f"{values.mean():.3f} ± {ci:.3f}")
        changes, clips = [], []
        for s, column in zip(systems[1:], columns[1:], strict=True):
            worst = min(column, key=lambda k: column[k] - columns[0][k])
            changes.append(f"{s.name}: {column[worst] - columns[0][worst]:+.3f} ({worst})")
            clips += [f"  {k} {s.name}: {column[k] - columns[0][k]:+.3f}" for k in column]
        print(
            f"| {bitrate} | {len(columns[0])} | " + " | ".join(cells) + f" | {', '.join(changes)} |"
        )
        if args.per_clip:
            print("\n".join(clips))


if __name__ == "__main__":
    main()
