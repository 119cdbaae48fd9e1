"""How alike channels are under the low-pass: the stereo rule the noise laid above follows."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from .copy_rule import copy_start
from .lowpass import CANCELLED

__all__ = ["channel_coherence", "channels_mixing", "likeness_of"]


OPPOSED = 2.0 * CANCELLED - 1.0
"""The likeness under which two channels cancel in their mean (it keeps ``(1 + likeness) / 2``
of their power), and `channel_coherence` follows it below 0."""


def channel_coherence(
    spectrum: np.ndarray, power: np.ndarray, above: np.ndarray, frames: int
) -> np.ndarray:
    """How alike two channels are just under their low-pass, frame by frame, ``[frames]`` from
    -1 (one signal, its polarity inverted in one channel) through 0 (unrelated) to 1 (one
    signal): twice their cross power over the sum of their powers in the octave under the
    low-pass, each summed over ``frames`` frames around each.
    Of ``spectrum`` (complex ``[2, frames, bins]``, `spectrum`), its power per bin ``power``
    (``[2, frames, bins]``, or the two summed, ``[1, frames, bins]``) and `copy_map`'s
    ``above``. A recording's band above its low-pass is
    about as wide as the one under it (on issue 12's validation clips the two correlations go
    together at 0.82: `scripts/stereo_width.py`), so `lay_over_noise` gives the rebuilt band
    this. But not where they are opposed only in part: 11 to 17 % of the validation clips'
    frames are so under the low-pass (-0.11 to -0.17), and alike above it in the reference
    (+0.03 to +0.27; `scripts/opposed_check.py`). So a likeness under 0 counts as none, but
    for channels that cancel in their mean (`dsp.lowpass.CANCELLED`, a likeness under -0.8),
    which count from 0 there to -1."""
    start = copy_start(above)
    under = slice(start // 2, start)
    # real times real plus imaginary times imaginary: the float pairs of the two, dotted
    pairs = [spectrum[c, :, under].view(np.float32) for c in (0, 1)]
    cross = np.einsum("fk,fk->f", *pairs)
    return _followed(likeness_of(cross, np.einsum("cfb->f", power[..., under]), frames))


def _followed(likeness: np.ndarray) -> np.ndarray:
    """The likeness above the low-pass that one under it (`likeness_of`) gives: as it is from 0
    up, none under 0, and from `OPPOSED` (channels that cancel in their mean) on down to -1
    (`channel_coherence`'s rule, for two channels or any pair of more)."""
    return np.where(likeness < OPPOSED, (likeness - OPPOSED) / (1.0 + OPPOSED), likeness.clip(0.0))


def likeness_of(cross: np.ndarray, both: np.ndarray, frames: int) -> np.ndarray:
    """How alike two channels are, from -1 to 1: twice their cross power ``cross`` over the
    sum of their powers ``both``, each summed over ``frames`` frames around each (frames on
    the first axis). `channel_coherence` and `channels_mixing` take it of the band under the
    low-pass."""
    cross = uniform_filter1d(cross, frames, axis=0, mode="nearest")
    both = uniform_filter1d(both, frames, axis=0, mode="nearest")
    return np.clip(2.0 * cross / np.maximum(both, 1e-20), -1.0, 1.0)


def channels_mixing(spectrum: np.ndarray, above: np.ndarray, frames: int) -> np.ndarray:
    """For more than two channels: how to mix as many noises (orthogonal to each other:
    `noise_frames`' ``apart``) so that each pair of channels is as alike above the low-pass
    as under it (`channel_coherence`'s rule on each pair: none for a pair opposed in part,
    opposed for one that cancels), frame by frame: ``[frames, channels, channels]``, lower
    triangular, each row of unit power. Of ``spectrum`` (complex ``[channels, frames, bins]``)
    and `copy_map`'s ``above``; the likenesses are taken to the nearest set that noises can
    have (no negative eigenvalue), then factored (Cholesky)."""
    start = copy_start(above)
    under = spectrum[:, :, start // 2 : start]
    cross = np.einsum("ifk,jfk->fij", under, under.conj()).real  # [frames, channels, channels]
    powers = np.diagonal(cross, axis1=1, axis2=2)
    likeness = _followed(likeness_of(cross, powers[:, :, None] + powers[:, None, :], frames))
    channels = np.arange(spectrum.shape[0])
    likeness[:, channels, channels] = 1.0  # a silent channel too
    values, vectors = np.linalg.eigh(likeness)
    nearest = (vectors * values.clip(1e-6)[:, None, :]) @ vectors.transpose(0, 2, 1)
    scale = 1.0 / np.sqrt(np.diagonal(nearest, axis1=1, axis2=2))
    nearest *= scale[:, :, None] * scale[:, None, :]
    return np.linalg.cholesky(nearest).astype(np.float32)
