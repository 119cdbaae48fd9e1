"""What soxr's "HQ" saves over its "VHQ" carrying an MP3 to 44.1 kHz, and what it changes.

``enhance`` resamples a lossy input to the model's and the output's rate at "HQ" (SoX's own
default, 20-bit precision) and a lossless one at "VHQ" (28-bit):
`spectral_enhance.inference.mixing.input_quality`. For each rate LAME chooses under 44.1 kHz
(16, 22.05, 24 and 32 kHz, for 32 to 96 kbps), a 3-minute stereo music-like signal at that
rate goes through ``soxr.ResampleStream`` in ``enhance``'s blocks (2^20 samples at 44.1 kHz,
as long in seconds at the input's rate), at each quality, the two taking turns: the median of
``--repeats`` (one thread). Then what differs: the two outputs of the signal low-passed at 0.9
of its Nyquist frequency (an MP3's band ends under it), their difference's RMS and peak in dB
under full scale, and a sine's level near the Nyquist frequency, where the two filters'
transitions part.

Reproduce (from the repository root, on an otherwise idle machine):

    python benchmarks/resampler_quality.py
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np
import soxr
from harness import machine, music_like, print_machine, table, time_in_turns

from spectral_enhance.audio.read import BLOCK_SECONDS  # enhance's blocks, as it streams them

SECONDS = 180
OUTPUT_RATE = 44100
RATES = (16000, 22050, 24000, 32000)  # LAME's at 32, 48, 64 and 96 kbps


def streamed(x: np.ndarray, rate: int, quality: str) -> np.ndarray:
    """``x`` at ``rate`` resampled to 44.1 kHz block by block, as ``enhance`` streams it."""
    stream = soxr.ResampleStream(rate, OUTPUT_RATE, x.shape[1], "float32", quality)
    block = round(BLOCK_SECONDS * rate)
    parts = [stream.resample_chunk(x[at : at + block]) for at in range(0, len(x), block)]
    parts.append(stream.resample_chunk(x[:0], last=True))
    return np.concatenate(parts)


def low_passed(x: np.ndarray, share: float) -> np.ndarray:
    """``x`` with nothing above ``share`` of its Nyquist frequency (a brick wall), as an MP3's
    band ends under it (LAME's cut lies at 0.69 to 0.94 of its own rate's Nyquist)."""
    spectrum = np.fft.rfft(x, axis=0)
    spectrum[int(share * len(spectrum)) :] = 0
    return np.fft.irfft(spectrum, len(x), axis=0).astype(np.float32)


def level_db(rate: int, share: float, quality: str) -> float:
    """The level in dB a sine at ``share`` of ``rate``'s Nyquist frequency comes out at."""
    t = np.arange(2 * rate) / rate
    x = np.sin(np.pi * share * rate * t).astype(np.float32)[:, None]
    y = soxr.resample(x, rate, OUTPUT_RATE, quality=quality)[5000:-5000]
    return float(10 * np.log10(2 * np.mean(y**2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per case (7)")
    args = parser.parse_args()
    print_machine(machine())
    rows = []
    for rate in RATES:
        x = (0.5 * music_like(SECONDS * rate, rate)).astype(np.float32)
        calls = {q: partial(streamed, x, rate, q) for q in ("VHQ", "HQ")}
        times = time_in_turns(calls, args.repeats)
        x = low_passed(x, 0.9)
        difference = streamed(x, rate, "HQ") - streamed(x, rate, "VHQ")
        levels = [
            "/".join(f"{level_db(rate, share, q):+.2f}" for q in ("VHQ", "HQ"))
            for share in (0.9, 0.93, 0.95)
        ]
        rows.append(
            [
                f"{rate / 1000:g} kHz",
                f"{times['VHQ'] * 1000:.0f}",
                f"{times['HQ'] * 1000:.0f}",
                f"{times['HQ'] / times['VHQ']:.2f}",
                f"{20 * np.log10(np.sqrt(np.mean(difference**2))):.1f}",
                f"{20 * np.log10(np.abs(difference).max()):.1f}",
                *levels,
            ]
        )
    print(
        f"\n{SECONDS // 60}-minute stereo music-like signal to 44.1 kHz, soxr, one thread, the "
        f"two qualities taking turns, median of {args.repeats}; HQ - VHQ on it low-passed at 0.9 "
        "of its Nyquist frequency; a sine's level (dB) at 0.90, 0.93 and 0.95 of it, VHQ/HQ"
    )
    headers = ["input rate", "VHQ ms", "HQ ms", "HQ / VHQ", "HQ - VHQ: RMS dBFS", "peak dBFS"]
    print(table([*headers, "0.90", "0.93", "0.95"], rows))


if __name__ == "__main__":
    main()
