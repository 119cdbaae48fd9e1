"""Measure LAME's low-pass and output rate per bitrate: the values of `recipe.LAME_CUTOFF_HZ`.

White noise (independent per channel) goes through `recipe.transcode`, forcing the rate or
letting LAME choose it; the cutoff is the highest frequency where the decode's level (8,192-point
Hann spectra, hop 1,024, channels averaged) stays within 6 dB of its median at 0.5 to 3 kHz,
rounded to 10 Hz. Usage: python scripts/lame_cutoffs.py [--rates 44100] [--bitrates 32 48 ...]
"""

from __future__ import annotations

import argparse

import numpy as np

from spectral_enhance.audio.mp3 import encode_mp3, mp3_sample_rate
from spectral_enhance.recipe import transcode


def level_db(samples: np.ndarray, rate: int, n: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and mean power (channels averaged) relative to the 0.5 to 3 kHz median, dB."""
    x = samples.reshape(len(samples), -1)
    power = 0.0
    for c in range(x.shape[1]):
        frames = np.lib.stride_tricks.sliding_window_view(x[:, c], n)[::1024] * np.hanning(n)
        power = power + (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(0)
    bins = np.fft.rfftfreq(n, 1 / rate)
    ref = np.median(power[(bins > 500) & (bins < 3000)])
    return bins, 10 * np.log10(power / ref + 1e-30)


def cutoff_hz(samples: np.ndarray, rate: int) -> float:
    """The highest 10 Hz step at which the level is still above -6 dB."""
    bins, level = level_db(samples, rate)
    grid = np.arange(0, rate / 2, 10.0)
    above = np.nonzero(np.interp(grid, bins, level) > -6.0)[0]
    return float(grid[above[-1]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[44100])
    parser.add_argument("--bitrates", type=int, nargs="+", default=[32, 48, 64, 96, 128])
    parser.add_argument("--channels", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print("rate, channels, LAME rate?, kbps: MP3 rate, cutoff (Hz)")
    for rate in args.rates:
        rng = np.random.default_rng(0)
        for channels in args.channels:
            noise = 0.2 * rng.standard_normal((4 * rate, channels)).astype(np.float32)
            noise = noise[:, 0] if channels == 1 else noise
            for own in (False, True):
                for bitrate in args.bitrates:
                    mp3_rate = mp3_sample_rate(encode_mp3(noise, rate, bitrate, lame_rate=own))
                    cut = cutoff_hz(transcode(noise, rate, bitrate, own), rate)
                    print(f"{rate}, {channels}, {own}, {bitrate}: {mp3_rate}, {cut:.0f}")


if __name__ == "__main__":
    main()
