"""LSD above the low-pass, to the Nyquist frequency and within the reference's own band only.

Some references are band-limited themselves (their band ends at 15 to 19 kHz, measured into the
manifest's ``reference_band_hz``): above that they hold only their noise floor, and a band
rebuilt there counts against the model in LSD above the low-pass, which runs to the Nyquist
frequency. This prints, per bitrate, the MP3's and the model's LSD above the low-pass both ways
(each channel's, averaged), and the change.

Usage: python scripts/lsd_within_band.py DATASET [--split test] [--limit 250] [--model full-band]
"""

from __future__ import annotations

import numpy as np
from validation_check import check_parser, measured_clips

from spectral_enhance.evaluation.metrics import log_spectral_distance
from spectral_enhance.evaluation.systems import Clip


def lsd(reference: np.ndarray, estimate: np.ndarray, rate: int, low: float, high: float) -> float:
    """LSD over ``low`` to ``high`` Hz, each channel's, averaged."""
    channels = reference.reshape(len(reference), -1).T, estimate.reshape(len(estimate), -1).T
    pairs = zip(*channels, strict=True)
    return float(
        np.mean([log_spectral_distance(r, e, rate, min_hz=low, max_hz=high) for r, e in pairs])
    )


def main() -> None:
    parser = check_parser(__doc__, 250, out=False, split="test")
    args = parser.parse_args()
    rows, recipe, enhancer = measured_clips(args)
    scores: dict[int, list[tuple[float, ...]]] = {}
    for row in rows:
        if not int(row["low_bitrate"] or 0):
            continue
        clip = Clip.of_row(row, recipe)
        rate, cut = clip.sample_rate, clip.cutoff_hz
        out = enhancer.enhance(clip.low, rate, output_rate=rate)[0]
        top = float(row.get("reference_band_hz") or rate / 2)
        nyquist = rate / 2 + 1
        scores.setdefault(int(row["low_bitrate"]), []).append(
            tuple(
                lsd(clip.high, x, rate, cut, high)
                for high in (nyquist, top)
                for x in (clip.low, out)
            )
        )
    print(f"LSD above the low-pass ({args.split}, {len(rows)} clips), MP3 -> {args.model}:")
    print("| kbps | clips | to the Nyquist frequency | within the reference's band |")
    print("|---|---|---|---|")
    for bitrate, values in sorted(scores.items()):
        mp3, model, mp3_band, model_band = np.mean(values, axis=0)
        print(
            f"| {bitrate} | {len(values)} | {mp3:.2f} -> {model:.2f} ({model / mp3 - 1:+.0%}) "
            f"| {mp3_band:.2f} -> {model_band:.2f} ({model_band / mp3_band - 1:+.0%}) |"
        )


if __name__ == "__main__":
    main()
