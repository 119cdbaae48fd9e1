"""Where a file's spectrum ends: the low-pass an encoder (or a filter) left in it.

A lossy encoder at a low bitrate removes everything above a cutoff (LAME: about 11 kHz at
64 kbps, 16 to 17 kHz at 128 kbps for 44.1 kHz input). The cutoff shows in the long-term average
power spectrum of the whole signal as a sharp drop of tens of dB after which nothing returns.
Averaging power over the whole signal lets the loud passages dominate, so a quiet intro or a
silent gap does not move the estimate; the level a drop is measured against is a median over a
kilohertz, which single tones do not move.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

__all__ = ["average_spectrum", "find_lowpass"]

N_FFT = 4096  # about 11 Hz per bin at 44.1 kHz
CHUNK_FRAMES = 256  # frames transformed at once, so memory stays bounded at any length


def average_spectrum(
    samples: np.ndarray, rate: int, n_fft: int = N_FFT
) -> tuple[np.ndarray, np.ndarray]:
    """Long-term average power spectrum (Welch, Hann, 50 % overlap) of the channels' mean.

    ``samples``: ``[samples]`` or ``[samples, channels]``. Returns (frequencies in Hz, mean power
    per bin), each ``[n_fft // 2 + 1]``. A signal shorter than ``n_fft`` is zero-padded.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if len(x) < n_fft:
        x = np.pad(x, (0, n_fft - len(x)))
    hop = n_fft // 2
    window = np.hanning(n_fft).astype(np.float32)
    starts = np.arange(0, len(x) - n_fft + 1, hop)
    total = np.zeros(n_fft // 2 + 1)
    for first in range(0, len(starts), CHUNK_FRAMES):
        index = starts[first : first + CHUNK_FRAMES, None] + np.arange(n_fft)
        spectrum = np.fft.rfft(x[index] * window, axis=-1)
        total += (np.abs(spectrum) ** 2).sum(axis=0)
    return np.fft.rfftfreq(n_fft, 1.0 / rate), total / len(starts)


def find_lowpass(
    samples: np.ndarray,
    rate: int,
    drop_db: float = 25.0,
    edge_db: float = 12.0,
    reference_hz: float = 1000.0,
    transition_hz: float = 1000.0,
    smooth_hz: float = 100.0,
) -> float | None:
    """The low-pass cutoff in Hz, or None if the content reaches Nyquist (or there is none).

    On the long-term spectrum (power averaged over ``smooth_hz``, in dB), the drop starts at the
    lowest frequency ``f`` where everything from ``f + transition_hz`` up to Nyquist lies at
    least ``drop_db`` below the median level of the ``reference_hz`` band just under ``f``. The
    cutoff reported is the highest frequency in ``[f, f + transition_hz]`` still within
    ``edge_db`` of that level: the edge of the band, before the drop.
    A cutoff in the top 5 % of the band is the anti-aliasing filter of the rate, not a
    low-pass: None.
    """
    freqs, power = average_spectrum(samples, rate)
    if not np.any(power > 0):
        return None
    step = freqs[1]
    # Power (not dB) is averaged, so a band of sparse harmonics keeps its level.
    smooth = uniform_filter1d(power, max(1, round(smooth_hz / step)), mode="nearest")
    smooth = 10.0 * np.log10(np.maximum(smooth, power.max() * 1e-16))
    band = max(1, round(reference_hz / step))
    gap = max(1, round(transition_hz / step))
    # Highest level anywhere from bin k up to Nyquist.
    above = np.maximum.accumulate(smooth[::-1])[::-1]
    for k in range(band, len(smooth) - gap):
        reference = float(np.median(smooth[k - band : k]))
        if reference - above[k + gap] < drop_db:
            continue
        within = np.nonzero(smooth[k : k + gap + 1] >= reference - edge_db)[0]
        cutoff = float(freqs[k + within[-1]]) if len(within) else float(freqs[k])
        return None if cutoff >= 0.95 * rate / 2 else cutoff
    return None
