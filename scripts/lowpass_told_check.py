"""Told the low-pass or left to find it (issue 12): what the model scores with each low-pass.

On a split's clips (the windows `evaluate --limit` takes), the bundled full-band model is run
with the low-pass it is told in use: ``measured`` (what `enhance` does: the meter over the whole
clip), ``true`` (LAME's own low-pass for the clip's bitrate, the dataset's ``cutoff_hz``) and
that one off by -10 % and +10 %. Zimtohrli per bitrate, mean and the worst clip's change against
``measured``. Beside it, how often the meter finds the low-pass within 5 % of LAME's from the
whole clip and from 0.2 s (what the model's reach of 4 frames each side sees): the view a
network finding the low-pass itself would have.

Usage: python scripts/lowpass_told_check.py DATASET [--split val] [--limit 60]
"""

from __future__ import annotations

import numpy as np
from validation_check import check_parser

from spectral_enhance.dataset.manifest import clip_cutoff_hz, read_clip, read_manifest, read_recipe
from spectral_enhance.dsp.lowpass import find_lowpass
from spectral_enhance.evaluation.evaluate import low_bitrate_rows
from spectral_enhance.evaluation.metrics import zimtohrli_mos
from spectral_enhance.inference.enhancer import Enhancer

LOCAL_SECONDS = 0.2  # the model's reach: 4 frames of 1,024 samples on each side at 44.1 kHz
WITHIN = 0.05


def found_within(samples: np.ndarray, rate: int, true_hz: float, seconds: float | None) -> float:
    """Share of pieces of ``seconds`` (None: the whole clip) whose meter finds ``true_hz``."""
    size = len(samples) if seconds is None else int(seconds * rate)
    pieces = [samples[i : i + size] for i in range(0, len(samples) - size + 1, size)]
    hits = []
    for piece in pieces:
        found = find_lowpass(piece.mean(axis=1), rate)
        hits.append(found is not None and abs(found / true_hz - 1) <= WITHIN)
    return float(np.mean(hits))


def main() -> None:
    parser = check_parser(__doc__, out=False)
    args = parser.parse_args()
    rows = low_bitrate_rows(read_manifest(args.dataset, args.split), args.limit)
    recipe = read_recipe(args.dataset)
    enhancer = Enhancer.load(args.model)
    variants = ("measured", "true", "true -10 %", "true +10 %")
    scores: dict[int, dict[str, list[float]]] = {}
    found: dict[int, dict[str, list[float]]] = {}
    for row in rows:
        low, high = read_clip(row, "low"), read_clip(row, "high")
        rate, true_hz = int(row["sample_rate"]), clip_cutoff_hz(row, recipe)
        told = {
            "measured": "measure",
            "true": true_hz,
            "true -10 %": 0.9 * true_hz,
            "true +10 %": 1.1 * true_hz,
        }
        bitrate = int(row["low_bitrate"])
        for name in variants:
            out = enhancer.enhance(low, rate, output_rate=rate, lowpass_hz=told[name])[0]
            scores.setdefault(bitrate, {}).setdefault(name, []).append(
                zimtohrli_mos(high, out, rate)
            )
        hits = found.setdefault(bitrate, {"whole clip": [], f"{LOCAL_SECONDS:g} s": []})
        hits["whole clip"].append(found_within(low, rate, true_hz, None))
        hits[f"{LOCAL_SECONDS:g} s"].append(found_within(low, rate, true_hz, LOCAL_SECONDS))
    print(f"Zimtohrli of {args.model} by the low-pass it is told ({args.split}, {len(rows)} clips)")
    print("kbps  clips  " + "  ".join(f"{v:>22}" for v in variants))
    for bitrate in sorted(scores):
        base = np.array(scores[bitrate]["measured"])
        cells = []
        for name in variants:
            values = np.array(scores[bitrate][name])
            worst = (values - base).min()
            cells.append(f"{values.mean():.3f} (worst {worst:+.3f})")
        print(f"{bitrate:>4}  {len(base):>5}  " + "  ".join(f"{c:>22}" for c in cells))
    print(f"\nthe meter finds LAME's low-pass within {WITHIN:.0%}, share of pieces:")
    for bitrate in sorted(found):
        line = ", ".join(f"{k} {np.mean(v):.0%}" for k, v in found[bitrate].items())
        print(f"{bitrate:>4} kbps: {line}")


if __name__ == "__main__":
    main()
