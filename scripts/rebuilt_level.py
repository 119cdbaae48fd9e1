"""How loud the rebuilt band is against the reference's, per bitrate (issue 12's "within 3 dB").

For each clip of a split (the same whole windows `evaluate --limit` takes), the level in dB of
each system's output against the reference's over the band from the clip's low-pass to where
the reference's own band ends: the mean over clips, and the clips' 10th and 90th percentiles.
Twice: of the band's power over the whole clip, and frame by frame (the mean of each frame's
difference in dB, over the frames within `FRAMES_DB` of the reference's loudest), which a
band steadier than the reference's reads higher than the power: the power is its loud frames'.
And the model's band's power by its distance above the low-pass (`DISTANCES_KHZ`).

Usage: python scripts/rebuilt_level.py DATASET [--split test] [--limit 250] [--model full-band]
"""

from __future__ import annotations

import itertools

import numpy as np
from validation_check import check_parser, measured_clips

from spectral_enhance.dsp.lowpass import average_spectrum
from spectral_enhance.dsp.stft import StftConfig, power, spectrum
from spectral_enhance.evaluation.systems import UNLEARNED, Clip

DISTANCES_KHZ = (0, 0.5, 1, 2, 4, 8, 24)
"""The stretches above the low-pass, in kHz, whose power the last table compares."""
FRAMES_DB = 40.0
"""Frames of the reference's band more than this under its loudest are left out (silence)."""


def band_db(x: np.ndarray, rate: int, low: float, high: float) -> float:
    """The band's power in dB, each channel's averaged (the channels' mean signal would read a
    band that is one signal in both channels louder than a wide one of the same power)."""
    channels = x.reshape(len(x), -1).T
    freqs, power = average_spectrum(channels[0], rate)
    for channel in channels[1:]:
        power = power + average_spectrum(channel, rate)[1]
    return 10 * np.log10(power[(freqs >= low) & (freqs < high)].sum() / len(channels) + 1e-30)


def band_frames(x: np.ndarray, rate: int, low: float, high: float) -> np.ndarray:
    """The band's power per channel and frame, in dB (Hann 2,048, hop 512, as the LSDs):
    ``[channels, frames]``."""
    config = StftConfig(2048, 512, 2048)
    spec = power(spectrum(x.reshape(len(x), -1).T, config))  # [channels, frames, bins]
    freqs = np.arange(spec.shape[-1]) * rate / config.fft_length
    return 10 * np.log10(spec[..., (freqs >= low) & (freqs < high)].sum(-1) + 1e-30)


def frames_difference(out: np.ndarray, reference: np.ndarray) -> float:
    """Mean difference in dB of ``out``'s frames from ``reference``'s (`band_frames`), over the
    reference's frames within `FRAMES_DB` of its loudest."""
    kept = reference >= reference.max() - FRAMES_DB
    return float((out - reference)[kept].mean())


def table(title: str, levels: dict[tuple[int, str], list[float]], names: list[str]) -> None:
    """Print the mean and the 10th to 90th percentiles per bitrate and column."""
    print(title)
    print("| kbps | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for bitrate in sorted({b for b, _ in levels}):
        cells = []
        for name in names:
            if (bitrate, name) not in levels:  # no clip's band reaches that far
                cells.append("–")
                continue
            values = np.array(levels[bitrate, name])
            p10, p90 = np.percentile(values, [10, 90])
            cells.append(f"{values.mean():+.1f} ({p10:+.1f} to {p90:+.1f})")
        print(f"| {bitrate} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = check_parser(__doc__, 250, out=False, split="test")
    args = parser.parse_args()
    rows, recipe, enhancer = measured_clips(args)
    levels: dict[tuple[int, str], list[float]] = {}
    by_frame: dict[tuple[int, str], list[float]] = {}
    by_distance: dict[tuple[int, str], list[float]] = {}
    for row in rows:
        clip = Clip.of_row(row, recipe)
        low, high, rate, cut = clip.low, clip.high, clip.sample_rate, clip.cutoff_hz
        top = float(row.get("reference_band_hz") or rate / 2)
        outputs = {name: UNLEARNED[name].estimate(clip) for name in ("mp3", "naive", "dsp")}
        outputs[args.model] = enhancer.enhance(low, rate, output_rate=rate)[0]
        reference = band_db(high, rate, cut, top)
        reference_frames = band_frames(high, rate, cut, top)
        for near, far in itertools.pairwise(DISTANCES_KHZ):
            low_hz, high_hz = cut + 1000 * near, min(top, cut + 1000 * far)
            if high_hz - low_hz >= 100:  # at least a few bins of the reference's own band
                stretch = band_db(outputs[args.model], rate, low_hz, high_hz)
                key = (int(row["low_bitrate"]), f"+{near:g} kHz")
                by_distance.setdefault(key, []).append(
                    stretch - band_db(high, rate, low_hz, high_hz)
                )
        for name, out in outputs.items():
            key = (int(row["low_bitrate"]), name)
            levels.setdefault(key, []).append(band_db(out, rate, cut, top) - reference)
            difference = frames_difference(band_frames(out, rate, cut, top), reference_frames)
            by_frame.setdefault(key, []).append(difference)
    names = list(outputs)
    table(
        f"rebuilt band's level against the reference's, dB ({args.split}, {len(rows)} clips):",
        levels,
        names,
    )
    table(
        f"\nframe by frame, the mean difference in dB (frames within {FRAMES_DB:.0f} dB of the "
        "reference's loudest):",
        by_frame,
        names,
    )
    table(
        f"\n{args.model}'s band by its distance above the low-pass (its power against the "
        "reference's, dB):",
        by_distance,
        [f"+{near:g} kHz" for near in DISTANCES_KHZ[:-1]],
    )


if __name__ == "__main__":
    main()
