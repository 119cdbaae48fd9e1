"""The paper's STFT (section 2.2) with an exact inverse.

Analysis follows the authors' code: a periodic Hann window of 1,024 samples, hop 248, and a
1,023-point real FFT that crops each windowed frame to its first 1,023 samples, giving 512 bins.
Real and imaginary parts are stacked on a leading axis: ``[2, frames, 512]``.

The inverse is the least-squares overlap-add (each frame weighted by the analysis window, the sum
divided by the overlapped squared windows), so ``istft(stft(x, pad=True), len(x))`` returns ``x``.
Padding by ``frame - hop`` zeros on each side gives every sample of the signal the same window
coverage as the middle, so the edges come back exactly too.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["StftConfig", "istft", "num_frames", "power", "spectrum", "stacked", "stft"]


@dataclass(frozen=True)
class StftConfig:
    """STFT geometry; defaults are the paper's (section 2.2 and REFERENCE-NOTES.md)."""

    window_length: int = 1024
    hop_length: int = 248
    fft_length: int = 1023

    @property
    def bins(self) -> int:
        """Number of frequency bins of the real FFT (512 for the paper's 1,023 points)."""
        return self.fft_length // 2 + 1

    @property
    def pad(self) -> int:
        """Zeros added on each side before analysis so the edges are covered like the middle."""
        return self.fft_length - self.hop_length

    def window(self) -> np.ndarray:
        """Periodic Hann window of ``window_length``, cropped to the ``fft_length`` samples used."""
        n = np.arange(self.window_length)
        hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / self.window_length)
        return hann[: self.fft_length].astype(np.float64)

    def to_dict(self) -> dict:
        """Plain dict for checkpoints and model cards."""
        return asdict(self)


def num_frames(num_samples: int, config: StftConfig = StftConfig(), pad: bool = True) -> int:
    """Frames the STFT gives for ``num_samples`` (100,000 samples unpadded -> 400 frames)."""
    if pad:
        return _padded_length(num_samples, config)[1]
    if num_samples < config.window_length:
        return 0
    return 1 + (num_samples - config.window_length) // config.hop_length


def _padded_length(num_samples: int, config: StftConfig) -> tuple[int, int]:
    """Total padded length and frame count when padding for an exact round trip."""
    body = num_samples + 2 * config.pad
    frames = 1 + max(0, -(-(body - config.fft_length) // config.hop_length))
    return (frames - 1) * config.hop_length + config.fft_length, frames


def spectrum(
    x: np.ndarray, config: StftConfig = StftConfig(), pad: bool = True, workers: int = -1
) -> np.ndarray:
    """Complex STFT of the last axis of ``x``: ``[..., samples]`` -> complex64 ``[..., frames,
    bins]``, what `stft` stacks. The enhancer's noise-filling path works on it as it is: it
    needs the power and the cross power of the channels, and gives `istft` a complex band."""
    x = np.asarray(x, dtype=np.float32)
    if pad:  # x is copied in once, into the zeros: a strided view is transposed on the way
        total, _ = _padded_length(x.shape[-1], config)
        padded = np.empty((*x.shape[:-1], total), np.float32)
        padded[..., : config.pad] = 0
        padded[..., config.pad + x.shape[-1] :] = 0
        padded[..., config.pad : config.pad + x.shape[-1]] = x
        x, length = padded, config.fft_length
    else:
        length = config.window_length
    if x.shape[-1] < length:
        raise ValueError(f"signal of {x.shape[-1]} samples is shorter than one STFT frame")
    frames = sliding_window_view(x, length, axis=-1)[..., :: config.hop_length, : config.fft_length]
    window = config.window().astype(np.float32)
    # scipy's FFT keeps float32 and uses every core: several times numpy's speed at 1,023 points.
    return scipy.fft.rfft(frames * window, axis=-1, workers=workers, overwrite_x=True)


def stacked(spec: np.ndarray) -> np.ndarray:
    """A complex ``[..., frames, bins]`` spectrum as the models take it: float32 ``[..., 2,
    frames, bins]``, real part first."""
    out = np.empty((*spec.shape[:-2], 2, *spec.shape[-2:]), dtype=np.float32)
    out[..., 0, :, :] = spec.real
    out[..., 1, :, :] = spec.imag
    return out


def power(spec: np.ndarray) -> np.ndarray:
    """Power per bin of a complex ``[..., frames, bins]`` spectrum (`spectrum`) or a stacked
    ``[..., 2, frames, bins]`` one (`stft`): float32 ``[..., frames, bins]``."""
    real, imag = (
        (spec.real, spec.imag)
        if np.iscomplexobj(spec)
        else (spec[..., 0, :, :], spec[..., 1, :, :])
    )
    out = np.square(real, dtype=np.float32)
    out += np.square(imag, dtype=np.float32)
    return out


def stft(
    x: np.ndarray, config: StftConfig = StftConfig(), pad: bool = True, workers: int = -1
) -> np.ndarray:
    """Stacked real/imaginary STFT of the last axis of ``x``.

    Shape: ``[..., samples]`` -> ``[..., 2, frames, bins]`` as float32. With ``pad=False`` the
    framing is the authors' (no padding, frames of ``window_length``); with ``pad=True`` (the
    default, used for training and inference) the signal is padded so ``istft`` inverts it exactly.
    ``workers``: threads of the FFT (-1: all cores).
    """
    return stacked(spectrum(x, config, pad, workers))


def _overlap_add(frames: np.ndarray, hop: int) -> np.ndarray:
    """Sum ``[..., n_frames, length]`` frames placed ``hop`` apart: ``[..., total]``."""
    n_frames, length = frames.shape[-2:]
    parts = -(-length // hop)
    out = np.empty((*frames.shape[:-2], n_frames + parts - 1, hop), dtype=frames.dtype)
    for j in range(parts):  # piece j of frame k lands in block k + j
        width = min(hop, length - j * hop)
        piece = frames[..., j * hop : j * hop + width]
        if j == 0:  # the first piece is written, not added: no zeros to fill first
            out[..., :n_frames, :width] = piece
            out[..., :n_frames, width:] = 0
            out[..., n_frames:, :] = 0
        else:
            out[..., j : j + n_frames, :width] += piece
    total = (n_frames - 1) * hop + length
    return out.reshape(*frames.shape[:-2], -1)[..., :total]


@functools.lru_cache(maxsize=8)
def _synthesis_window(config: StftConfig) -> np.ndarray:
    """The window over the sum of the squared windows that overlap each of its samples.

    Where every frame around a sample is there (all the samples `istft` keeps, behind the
    analysis padding), that sum repeats every hop; dividing each frame by it before the
    overlap-add gives the least-squares inverse without dividing the whole signal after it."""
    window, hop = config.window(), config.hop_length
    overlapped = np.zeros(hop)
    for start in range(0, len(window), hop):
        piece = window[start : start + hop] ** 2
        overlapped[: len(piece)] += piece
    phase = np.arange(len(window)) % hop
    synthesis = (window / np.maximum(overlapped[phase], 1e-8)).astype(np.float32)
    synthesis.flags.writeable = False
    return synthesis


def istft(
    spec: np.ndarray, num_samples: int, config: StftConfig = StftConfig(), workers: int = -1
) -> np.ndarray:
    """Exact inverse of ``stft(x, pad=True)``: ``[..., 2, frames, bins]`` (or `spectrum`'s
    complex ``[..., frames, bins]``) -> ``[..., num_samples]``.

    Least-squares overlap-add: frames are windowed again and the sum is divided by the sum of
    squared windows, then the analysis padding is trimmed. ``workers``: threads of the FFT (-1: all
    cores).
    """
    if np.iscomplexobj(spec):
        complex_spec, scratch = np.asarray(spec, dtype=np.complex64), False
    else:
        spec = np.asarray(spec, dtype=np.float32)
        complex_spec, scratch = np.empty(spec[..., 0, :, :].shape, dtype=np.complex64), True
        complex_spec.real = spec[..., 0, :, :]
        complex_spec.imag = spec[..., 1, :, :]
    frames = scipy.fft.irfft(
        complex_spec, n=config.fft_length, axis=-1, workers=workers, overwrite_x=scratch
    )
    n_frames = frames.shape[-2]
    end = config.pad + num_samples
    if end > n_frames * config.hop_length:  # past it, a sample lacks frames around it
        raise ValueError(f"{n_frames} frames cannot hold {num_samples} samples")
    frames *= _synthesis_window(config)
    return _overlap_add(frames, config.hop_length)[..., config.pad : end]
