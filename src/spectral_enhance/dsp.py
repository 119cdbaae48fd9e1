"""A classic, unlearned bandwidth extension: spectral band replication (SBR).

The octave-wide band just below the codec's cutoff is copied, frame by frame, into the empty band
above it, attenuated so the copy continues the spectrum's slope across the cutoff. It is what a
user could pick instead of a learned model, and so the floor a learned model must clear.
"""

from __future__ import annotations

import numpy as np

from .stft import StftConfig, istft, stft

__all__ = ["band_replication", "brick_wall_split"]


def band_replication(
    samples: np.ndarray,
    sample_rate: int,
    cutoff_hz: float,
    slope_db_per_octave: float = -12.0,
    config: StftConfig = StftConfig(),
) -> np.ndarray:
    """Fill the band above ``cutoff_hz`` of ``[samples]`` with a shaped copy of the band below.

    Each frame's copy is scaled so its level continues the source band's level with a slope of
    ``slope_db_per_octave``; the band below the cutoff is returned unchanged.
    """
    spec = stft(samples, config).astype(np.float64)  # [2, frames, bins]
    bins = spec.shape[-1]
    cut = int(np.ceil(cutoff_hz * config.fft_length / sample_rate))
    width = bins - cut
    if width <= 0 or cut - width < 1:
        return np.asarray(samples, dtype=np.float32)
    source = spec[:, :, cut - width : cut]
    frequencies = np.arange(cut, bins) * sample_rate / config.fft_length
    octaves = np.log2(frequencies / (cut * sample_rate / config.fft_length))
    gain = 10 ** ((slope_db_per_octave * (0.5 + octaves)) / 20)
    level = np.sqrt(np.mean(source**2, axis=(0, 2), keepdims=True))
    edge = np.sqrt(np.mean(spec[:, :, cut - 8 : cut] ** 2, axis=(0, 2), keepdims=True))
    spec[:, :, cut:] = source * gain * (edge / np.maximum(level, 1e-12))
    return istft(spec, len(samples), config)


def brick_wall_split(
    samples: np.ndarray, sample_rate: int, cutoff_hz: float
) -> tuple[np.ndarray, np.ndarray]:
    """The parts of ``samples`` below and above ``cutoff_hz``, by one FFT over the whole signal.

    Bins at or below the cutoff go to the first part, the rest to the second, so the two sum to
    the input (to float precision). Issue 12's oracles are built from it. ``samples``:
    ``[samples]`` or ``[samples, channels]``; both parts have its shape, float32.
    """
    x = np.asarray(samples, dtype=np.float64)
    spectrum = np.fft.rfft(x, axis=0)
    above = np.fft.rfftfreq(len(x), 1 / sample_rate) > cutoff_hz
    low, high = spectrum.copy(), spectrum
    low[above] = 0
    high[~above] = 0
    return (
        np.fft.irfft(low, len(x), axis=0).astype(np.float32),
        np.fft.irfft(high, len(x), axis=0).astype(np.float32),
    )
