"""How loud the rebuilt band is against the reference's, per bitrate (issue 12's "within 3 dB").

For each clip of a split (the same whole windows `evaluate --limit` takes), the level in dB of
each system's output against the reference's over the band from the clip's low-pass to where
the reference's own band ends: the mean over clips, and the clips' 10th and 90th percentiles.

Usage: python scripts/rebuilt_level.py DATASET [--split test] [--limit 250] [--model full-band]
"""

from __future__ import annotations

import numpy as np
from validation_check import check_parser, measured_clips

from spectral_enhance.dsp.lowpass import average_spectrum
from spectral_enhance.evaluation.evaluate import UNLEARNED, Clip


def band_db(x: np.ndarray, rate: int, low: float, high: float) -> float:
    """The band's power in dB, each channel's averaged (the channels' mean signal would read a
    band that is one signal in both channels louder than a wide one of the same power)."""
    channels = x.reshape(len(x), -1).T
    freqs, power = average_spectrum(channels[0], rate)
    for channel in channels[1:]:
        power = power + average_spectrum(channel, rate)[1]
    return 10 * np.log10(power[(freqs >= low) & (freqs < high)].sum() / len(channels) + 1e-30)


def main() -> None:
    parser = check_parser(__doc__, 250, out=False, split="test")
    args = parser.parse_args()
    rows, recipe, enhancer = measured_clips(args)
    levels: dict[tuple[int, str], list[float]] = {}
    for row in rows:
        clip = Clip.of_row(row, recipe)
        low, high, rate, cut = clip.low, clip.high, clip.sample_rate, clip.cutoff_hz
        top = float(row.get("reference_band_hz") or rate / 2)
        outputs = {name: UNLEARNED[name].estimate(clip) for name in ("mp3", "naive", "dsp")}
        outputs[args.model] = enhancer.enhance(low, rate, output_rate=rate)[0]
        reference = band_db(high, rate, cut, top)
        for name, out in outputs.items():
            key = (int(row["low_bitrate"]), name)
            levels.setdefault(key, []).append(band_db(out, rate, cut, top) - reference)
    names = list(outputs)
    print(f"rebuilt band's level against the reference's, dB ({args.split}, {len(rows)} clips):")
    print("| kbps | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for bitrate in sorted({b for b, _ in levels}):
        cells = []
        for name in names:
            values = np.array(levels[bitrate, name])
            p10, p90 = np.percentile(values, [10, 90])
            cells.append(f"{values.mean():+.1f} ({p10:+.1f} to {p90:+.1f})")
        print(f"| {bitrate} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
