"""How `dsp`'s tilt rule was chosen (issue 12): its settings compared on the validation split.

On the split's clips at 32, 48 and 64 kbps (the windows `evaluate --limit` takes), Zimtohrli of
the decoded MP3, the naive floor, the old rule (``dsp-edge``) and the tilt rule of
`spectral_enhance.dsp.replication.band_replication` with its chosen settings (`TILT`) and with one
setting changed at a time: mean per bitrate and the worst clip's change against the MP3.

Usage: python scripts/dsp_rule_check.py DATASET [--split val] [--limit 60]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from spectral_enhance.dataset.manifest import read_manifest, read_recipe
from spectral_enhance.dsp.replication import band_replication
from spectral_enhance.dsp.tilt import TILT
from spectral_enhance.evaluation.evaluate import low_bitrate_rows
from spectral_enhance.evaluation.metrics import zimtohrli_mos
from spectral_enhance.evaluation.systems import Clip, per_channel

VARIANTS = {
    "chosen": TILT,
    "offset -3 dB": replace(TILT, offset_db=-3.0),
    "offset -1.5 dB": replace(TILT, offset_db=-1.5),
    "offset -6 dB": replace(TILT, offset_db=-6.0),
    "slope over 0.09 s": replace(TILT, smooth_seconds=0.09),
    "slope over 0.74 s": replace(TILT, smooth_seconds=0.74),
    "slope may be flat": replace(TILT, range_db=(-18.0, 0.0)),
    "bands of 16 bins": replace(TILT, band_bins=16),
    "level to 1/4 octave under": replace(TILT, top_octaves=0.25),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--split", default="val")
    parser.add_argument("--limit", type=int, default=60)
    args = parser.parse_args()
    rows = low_bitrate_rows(read_manifest(args.dataset, args.split), args.limit)
    recipe = read_recipe(args.dataset)
    systems = {
        "mp3": lambda low, rate, cut: low,
        "naive": lambda low, rate, cut: band_replication(low, rate, cut, "naive"),
        "dsp-edge": lambda low, rate, cut: band_replication(low, rate, cut, "edge"),
    }
    for name, tilt in VARIANTS.items():
        systems[name] = lambda low, rate, cut, tilt=tilt: band_replication(
            low, rate, cut, tilt=tilt
        )
    scores: dict[int, dict[str, list[float]]] = {}
    for row in rows:
        clip = Clip.of_row(row, recipe)
        high, rate, cut = clip.high, clip.sample_rate, clip.cutoff_hz
        for name, system in systems.items():
            out = per_channel(clip, lambda x, _, f=system, r=rate, c=cut: f(x, r, c))
            mos = zimtohrli_mos(high, out, rate)  # channel by channel, averaged
            scores.setdefault(int(row["low_bitrate"]), {}).setdefault(name, []).append(mos)
    print(f"Zimtohrli by dsp rule ({args.split}; mean, and the worst clip's change against mp3)")
    print(f"{'system':<28}" + "".join(f"{f'{b} kbps':>20}" for b in sorted(scores)))
    for name in systems:
        cells = []
        for bitrate in sorted(scores):
            values, base = np.array(scores[bitrate][name]), np.array(scores[bitrate]["mp3"])
            cells.append(f"{values.mean():.3f} ({(values - base).min():+.2f})")
        print(f"{name:<28}" + "".join(f"{c:>20}" for c in cells))
    print(f"clips per bitrate: {', '.join(str(len(v['mp3'])) for v in scores.values())}")


if __name__ == "__main__":
    main()
