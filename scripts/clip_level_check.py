"""Can the MP3 say how bright its reference is above the low-pass? Each clip's level error
(`lsd_parts.py`: the mean over its frames of the rebuilt band's log level against the
reference's, most of what LSD above the low-pass misses) predicted from the MP3 and the model's
band as a whole, by a ridge regression fitted on the training split, scored on another.

Features per clip and channel: the MP3's long-term spectrum's slope under the low-pass (its
levels over 0.75 to 0.95 of the low-pass against 0.5 to 0.7, 0.9 to 0.98 against 0.5 to 0.98,
and the octave under against the one under that), the model's band against the MP3's octave
under the low-pass, and the low-pass in kHz. Prints the clips' level error's RMS before and
after, and LSD within the reference's band with each clip's predicted error taken away, per
bitrate (32 to 64 kbps).

``--mp3-only`` leaves out the model's band, the one feature the enhancer could not know before
it has run over the whole file.

Usage: python scripts/clip_level_check.py DATASET [--split val] [--limit 120] [--train 400]
           [--mp3-only]
"""

from __future__ import annotations

import numpy as np
from lsd_parts import differences
from validation_check import check_parser, measured_clips

from spectral_enhance.dataset.manifest import read_manifest
from spectral_enhance.dsp.lowpass import average_spectrum
from spectral_enhance.evaluation.evaluate import spread_sample
from spectral_enhance.evaluation.systems import Clip

BITRATES = (32, 48, 64)
RIDGE = 1.0


def clip_level(spectrum: tuple[np.ndarray, np.ndarray], low: float, high: float) -> float:
    """The power of a long-term ``spectrum`` (`average_spectrum`'s) over ``low`` to ``high``
    Hz, in dB."""
    freqs, power = spectrum
    return float(10 * np.log10(power[(freqs >= low) & (freqs < high)].mean() + 1e-20))


def features(
    under: np.ndarray, rebuilt: np.ndarray, rate: int, cut: float, top: float
) -> np.ndarray:
    """A clip channel's features (and a 1) from the MP3's channel ``under`` and the model's
    ``rebuilt``, with the low-pass at ``cut`` and the reference's band ending at ``top``."""
    spectrum = average_spectrum(under, rate)

    def level(a: float, b: float) -> float:
        return clip_level(spectrum, a * cut, b * cut)

    return np.array(
        [
            level(0.75, 0.95) - level(0.5, 0.7),
            level(0.9, 0.98) - level(0.5, 0.98),
            level(0.25, 0.5) - level(0.5, 1.0),
            clip_level(average_spectrum(rebuilt, rate), cut, top) - level(0.5, 0.98),
            cut / 1000,
            1.0,
        ]
    )


def measured(rows: list[dict], recipe, enhancer) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Per clip and channel: its bitrate, its `features`, its frames' level errors and their
    spreads (``[2, frames]``)."""
    found = []
    for row in rows:
        bitrate = int(row["low_bitrate"] or 0)
        if bitrate not in BITRATES:
            continue
        clip = Clip.of_row(row, recipe)
        rate, cut = clip.sample_rate, clip.cutoff_hz
        top = float(row.get("reference_band_hz") or rate / 2)
        out = enhancer.enhance(clip.low, rate, output_rate=rate)[0]
        low, rebuilt = (x.reshape(len(x), -1).T for x in (clip.low, out))
        for channel, d in enumerate(differences(clip, out, top)[0]):
            found.append(
                (
                    bitrate,
                    features(low[channel], rebuilt[channel], rate, cut, top),
                    np.stack([d.mean(1), d.std(1)]),
                )
            )
    return found


def main() -> None:
    parser = check_parser(__doc__, 120, out=False)
    parser.add_argument("--train", type=int, default=400, help="training clips to fit on")
    parser.add_argument("--mp3-only", action="store_true", help="leave out the model's band")
    args = parser.parse_args()
    kept = [0, 1, 2, 4, 5] if args.mp3_only else slice(None)
    rows, recipe, enhancer = measured_clips(args)
    train_rows = spread_sample(read_manifest(args.dataset, "train"), args.train)
    fit, scored = measured(train_rows, recipe, enhancer), measured(rows, recipe, enhancer)
    x = np.stack([f[kept] for _, f, _ in fit])
    y = np.array([parts[0].mean() for _, _, parts in fit])
    weights = np.linalg.solve(x.T @ x + RIDGE * np.eye(x.shape[1]), x.T @ y)
    errors = np.array([parts[0].mean() for _, _, parts in scored])
    predicted = np.stack([f[kept] for _, f, _ in scored]) @ weights
    print(
        f"each clip's level error (log10 power), fitted on {len(fit)} training clip channels, "
        f"scored on {len(scored)} of {args.split}: RMS {np.sqrt((errors**2).mean()):.3f} -> "
        f"{np.sqrt(((errors - predicted) ** 2).mean()):.3f}"
    )
    print("| kbps | LSD within the reference's band | each clip's predicted error taken away |")
    print("|---|---|---|")
    for bitrate in BITRATES:
        pick = [i for i, (b, _, _) in enumerate(scored) if b == bitrate]
        before = np.mean([np.hypot(*scored[i][2]).mean() for i in pick])
        after = np.mean(
            [np.hypot(scored[i][2][0] - predicted[i], scored[i][2][1]).mean() for i in pick]
        )
        print(f"| {bitrate} | {before:.3f} | {after:.3f} ({after / before - 1:+.1%}) |")


if __name__ == "__main__":
    main()
