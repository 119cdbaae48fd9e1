"""The seeded noise the rebuilt band is laid over, its tables analysed once and cached here."""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np

from ..audio.arrays import CHANNELS_AT_MOST
from .copy_rule import _band_gain, _band_sums, copy_start
from .stft import StftConfig, power, spectrum

__all__ = ["analyse_ahead", "lay_over_noise", "noise_frames"]


NOISE_PERIOD = 1 << 20
"""Samples (23.8 s at 44.1 kHz) after which `noise_frames`' noise repeats."""

_LOOKING_UP = threading.Lock()
"""Held while `noise_frames` takes a table from its cache: a file's first segments, on a core
each, ask for the same one at once, and each built it (a tenth of a second, the first file's)."""


@functools.lru_cache(maxsize=2)
def _noise_table(config: StftConfig, band_bins: int, seed: int) -> np.ndarray:
    """The STFT of one period of seeded white noise, taken as periodic, each band of
    ``band_bins`` bins and frame scaled to a mean power of 1 per bin (a last band of fewer bins
    as if padded with zeros): complex ``[frames, bins]``, a frame every hop of `NOISE_PERIOD`
    (which the hop must divide), the period twice over (`_twice`)."""
    if NOISE_PERIOD % config.hop_length or config.window_length != config.fft_length:
        raise ValueError(f"noise frames need a hop dividing {NOISE_PERIOD} samples: {config}")
    table = _period_spectrum(_white_noise(seed), config)
    sums, _, widths = _band_sums(power(table), band_bins)  # [frames, bands]
    mean = sums / band_bins  # as the model pools: a last, narrower band over band_bins too
    table *= _band_gain(np.ones_like(mean), mean, widths).astype(np.float32)
    return _twice(table)


def _white_noise(seed: int) -> np.ndarray:
    """One period (`NOISE_PERIOD` samples) of the seeded white noise `_noise_table` analyses."""
    return np.random.default_rng(seed).standard_normal(NOISE_PERIOD).astype(np.float32)


def _period_spectrum(signal: np.ndarray, config: StftConfig) -> np.ndarray:
    """The STFT of one period of ``signal`` (`NOISE_PERIOD` samples), taken as periodic: a
    frame every hop of the period, complex ``[frames, bins]``."""
    periodic = np.concatenate([signal, signal[: config.fft_length]])
    return spectrum(periodic, config, pad=False)[: NOISE_PERIOD // config.hop_length]


def _twice(table: np.ndarray) -> np.ndarray:
    """One period's frames followed by the same again, read-only: any run of up to a period's
    frames is then a view (`noise_frames`), where one period alone made over half a segment's
    runs wrap around its end and be copied."""
    twice = np.concatenate([table, table])
    twice.flags.writeable = False
    return twice


# Each is built on every one before it: with fewer kept than a file's channels, a 12-channel
# file rebuilt them over and over, 11 s for a tenth of a second (the count doubling a channel).
@functools.lru_cache(maxsize=CHANNELS_AT_MOST)
def _apart_table(config: StftConfig, band_bins: int, seed: int, index: int = 1) -> np.ndarray:
    """The ``index``-th noise apart: `_noise_table` of another seed, made orthogonal, band by
    band and frame by frame, to ``seed``'s and to every one apart before it, at the same power:
    mixed with them, no term of any two adds to the power. One for a second channel; each
    channel past it has one more."""
    period = NOISE_PERIOD // config.hop_length
    table = _noise_table.__wrapped__(config, band_bins, seed + (index << 32))[:period]  # not kept
    before = [_noise_table(config, band_bins, seed)]
    before += [_apart_table(config, band_bins, seed, earlier) for earlier in range(1, index)]
    for earlier in before:  # each orthogonal to the others: taking one out keeps the rest out
        table = _orthogonal_to(earlier[:period], table, band_bins)
    return _twice(table)


def _orthogonal_to(shared: np.ndarray, other: np.ndarray, band_bins: int) -> np.ndarray:
    """``other`` (complex ``[frames, bins]``) less its projection on ``shared``, band by band and
    frame by frame, at ``shared``'s power: what `_apart_table` makes of a second noise."""
    dot, _, widths = _band_sums((shared.conj() * other).real, band_bins)
    norm = _band_sums(power(shared), band_bins)[0]
    # nothing to take out where ``shared`` is silent: a band of one real bin (Nyquist's) has
    # room for one noise only, and the second's is 0 there
    along = np.divide(dot, norm, out=np.zeros_like(dot), where=norm > 0)
    table = other - np.repeat(along, widths, axis=1).astype(np.float32) * shared
    table *= _band_gain(norm, _band_sums(power(table), band_bins)[0], widths).astype(np.float32)
    return table


def noise_frames(
    config: StftConfig,
    first: int,
    frames: int,
    band_bins: int,
    seed: int = 0,
    apart: int = 0,
    from_bin: int = 0,
    to_bin: int | None = None,
) -> np.ndarray:
    """Frames ``first`` to ``first + frames`` of the STFT of a seeded white noise, each band of
    ``band_bins`` bins at a mean power of 1 per bin: complex ``[1, frames, bins]``. Frame ``i``
    is the noise from sample ``i`` hops on, so any cut of a signal into segments gets the frames
    one pass over it would (``first`` may be negative). With ``apart`` (1 on), another noise,
    orthogonal band by band and frame by frame to that one and to those apart before it (what
    `lay_over_noise` mixes in for a second channel, and the enhancer for each one more). Only
    the bins from ``from_bin`` (up to ``to_bin``): what is copied where the frames wrap around
    the period's end.

    The noise is periodic (`NOISE_PERIOD`) and analysed once, so a segment's are a read-only
    view of the table (a copy where they wrap around its end), not an STFT; a signal analysed by
    the STFT, not drawn frame by frame, so its frames overlap-add to the level they have
    (independent frames would come out louder, and modulated at the hop).
    """
    with _LOOKING_UP:
        if apart:
            table = _apart_table(config, band_bins, seed, int(apart))
        else:
            table = _noise_table(config, band_bins, seed)
    table, period = table[:, from_bin:to_bin], NOISE_PERIOD // config.hop_length
    start = first % period
    if start + frames <= len(table):  # a view of the table: no copy for a segment
        return table[None, start : start + frames]
    return np.take(table, np.arange(start, start + frames) % period, axis=0)[None]


def analyse_ahead(config: StftConfig, band_bins: int, seed: int = 0) -> None:
    """Analyse the noise `noise_frames` gives a channel, and a second channel's apart from it,
    before a stream asks for them (`Enhancer.analysing_noise` does, on a core of its pool,
    while a file is opened)."""
    noise_frames(config, 0, 1, band_bins, seed)
    noise_frames(config, 0, 1, band_bins, seed, apart=1)


def lay_over_noise(
    noise: Any,
    scale: Any,
    above: Any,
    band_bins: int,
    coherence: np.ndarray | None = None,
    apart: np.ndarray | None = None,
) -> Any:
    """The band above the low-pass as noise at ``scale``: ``noise`` (complex ``[1, frames,
    bins]``, `noise_frames`, or only its bins from the copy's first on) times each band's
    ``scale`` (``[batch, frames, bands]``, an amplitude) on its bins where ``above``
    (`copy_map`), zero below: complex ``[batch, frames, bins]``, which `istft` takes as it is.
    For numpy arrays (the enhancer) or torch tensors (the model, in training's terms), only the
    bins above computed.

    With ``coherence`` (``[frames]``, `channel_coherence`) and ``apart`` (`noise_frames`'
    noise orthogonal to ``noise``), for two channels (numpy only): one gets ``a * noise + b *
    apart``, the other ``a * noise - b * apart``, with ``a^2 = (1 + coherence) / 2`` and ``a^2 +
    b^2 = 1``, so they correlate at ``coherence`` above the low-pass as under it, each band
    and frame at exactly the power of ``noise``."""
    bins, start = above.shape[-1], copy_start(above)
    shape = (scale.shape[0], scale.shape[1], bins)
    if isinstance(scale, np.ndarray):
        out = np.empty(shape, np.complex64)
        out[..., :start] = 0
        skip = start // band_bins * band_bins  # only the bands above are spread
        spread = np.repeat(scale[..., skip // band_bins :], band_bins, axis=-1)
        spread = spread[..., start - skip : bins - skip]
    else:
        out = noise.new_zeros(shape)
        spread = scale.repeat_interleave(band_bins, dim=-1)[..., start:bins]
    if noise.shape[-1] == bins:
        noise = noise[..., start:]
        apart = None if apart is None else apart[..., start:]
    if coherence is None:
        out[..., start:] = noise * spread
        return out
    shared = np.sqrt((1.0 + coherence) / 2.0, dtype=np.float32)[:, None]
    own = np.sqrt((1.0 - coherence) / 2.0, dtype=np.float32)[:, None]
    first, second = out[0, :, start:], out[1, :, start:]
    np.multiply(noise[0], shared, out=first)  # a * noise, then both channels' mixes
    own_part = np.multiply(apart[0], own)
    np.subtract(first, own_part, out=second)
    first += own_part
    first *= spread[0]
    second *= spread[1]
    return out
