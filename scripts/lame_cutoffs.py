"""Measure LAME's low-pass and output rate per bitrate: the values of `audio.mp3.LAME_CUTOFF_HZ`.

White noise (independent per channel, seeds 0 to 2) goes through `recipe.transcode`, forcing
the rate or letting LAME choose it; the cutoff is the highest frequency where the decode's level
(8,192-point Hann spectra, hop 1,024, channels averaged) stays within 20 dB of its median at 0.5
to 3 kHz, the median over the seeds, rounded to 10 Hz. (20 dB, not 6: at low bitrates LAME
starves stereo noise's upper passband to -6 to -9 dB, so a 6 dB point wanders by 1 kHz between
seeds, while the low-pass's edge, a fall of 60 dB within 200 Hz, stays put to 100 Hz.)

Usage: python scripts/lame_cutoffs.py [--rates 44100] [--bitrates 32 48 ...]
"""

from __future__ import annotations

import argparse

import numpy as np

from spectral_enhance.audio.mp3 import encode_mp3, mp3_sample_rate
from spectral_enhance.dataset.recipe import transcode


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


def cutoff_hz(samples: np.ndarray, rate: int, floor_db: float = -20.0) -> float:
    """The highest 10 Hz step at which the level is still above ``floor_db``."""
    bins, level = level_db(samples, rate)
    grid = np.arange(0, rate / 2, 10.0)
    above = np.nonzero(np.interp(grid, bins, level) > floor_db)[0]
    return float(grid[above[-1]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[44100])
    parser.add_argument("--bitrates", type=int, nargs="+", default=[32, 48, 64, 96, 128])
    parser.add_argument("--channels", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print("rate, channels, LAME rate?, kbps: MP3 rate, cutoff (Hz)")
    for rate in args.rates:
        for channels in args.channels:
            noises = []
            for seed in range(3):
                noise = np.random.default_rng(seed).standard_normal((4 * rate, channels))
                noise = (0.2 * noise).astype(np.float32)
                noises.append(noise[:, 0] if channels == 1 else noise)
            for own in (False, True):
                for bitrate in args.bitrates:
                    encoded = encode_mp3(noises[0], rate, bitrate, lame_rate=own)
                    cuts = [cutoff_hz(transcode(x, rate, bitrate, own), rate) for x in noises]
                    cut = float(np.median(cuts))
                    where = f"{rate}, {channels}, {own}, {bitrate}"
                    print(f"{where}: {mp3_sample_rate(encoded)}, {cut:.0f}")


if __name__ == "__main__":
    main()
