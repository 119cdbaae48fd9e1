"""The tilt rule's envelope, apart since SBR's level and the model's prior both follow it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from .copy_rule import copy_start

__all__ = ["EPS", "TILT", "TiltRule", "band_prior", "tilt_envelope"]


EPS = 1e-10
"""Power added before a log: in the tilt rule and in the full-band model."""


@dataclass(frozen=True)
class TiltRule:
    """Settings of the ``tilt`` rule (`band_replication`; the full-band model's prior too),
    chosen on issue 12's validation split (`scripts/dsp_rule_check.py`).

    Attributes:
        smooth_seconds: the slope is measured over about this long (32 frames of hop 512).
        range_db: the slope per octave is held within this: no rise, none steeper.
        offset_db: under the straight continuation: -3 dB scored the same on average and took
            0.15 from the worst clip, where this takes 0.11.
        band_bins: bins per band of the level it sets (172 Hz at 44.1 kHz and 2,048 points).
        top_octaves: the octave just under the cutoff, whose level is continued, ends this far
            under it (1/4 scored lower: it leaves out the part nearest the band it continues).
    """

    smooth_seconds: float = 0.37
    range_db: tuple[float, float] = (-18.0, -3.0)
    offset_db: float = -4.5
    band_bins: int = 8
    top_octaves: float = 0.125


TILT = TiltRule()


def tilt_envelope(
    power: np.ndarray, start: int, frames: int, centres: np.ndarray, tilt: TiltRule = TILT
) -> np.ndarray:
    """The ``tilt`` rule's envelope: for each frame of ``power`` (``[..., frames, bins]``) with
    the band rebuilt from bin ``start`` up, the natural log of the power per bin at each of
    ``centres`` (bins, ``[bands]``): ``[..., frames, bands]``. The level of the octave just
    under the low-pass continues at the slope from the octave below it (smoothed over
    ``frames``, held within ``tilt.range_db``), ``tilt.offset_db`` lower. `band_replication`'s
    rule and the full-band model's prior (`band_prior`) are both this."""
    low, mid, top = start // 4, start // 2, int(start * 2**-tilt.top_octaves)
    under = power[..., mid:top].sum(axis=-1) / max(top - mid, 1)  # the frame's level there
    far = power[..., low:mid].sum(axis=-1) / max(mid - low, 1)
    # A running mean: after a burst far louder than the rest, its rounding can leave a power
    # a little under 0, whose log would be NaN
    near = np.maximum(uniform_filter1d(under, frames, axis=-1, mode="nearest"), 0.0)
    far = np.maximum(uniform_filter1d(far, frames, axis=-1, mode="nearest"), 0.0)
    centre_far = 0.5 * np.log2(max(low, 1) * max(mid, 1))
    centre_near = 0.5 * np.log2(max(mid, 1) * max(top, 1))
    db = 10.0 / np.log(10.0)
    slope = db * (np.log(near + EPS) - np.log(far + EPS)) / max(centre_near - centre_far, 0.5)
    slope = np.clip(slope, *tilt.range_db)[..., None] * (np.log2(centres) - centre_near)
    return np.log(under + EPS)[..., None] + (slope + tilt.offset_db) / db


def band_prior(power: np.ndarray, above: np.ndarray, frames: int, band_bins: int) -> np.ndarray:
    """The full-band model's tilt prior, its graph's last input: `tilt_envelope` of ``power``
    (``[batch, frames, bins]``; a file's channels summed, for a model that links them) at the
    centre of each of its bands of ``band_bins`` bins, from `copy_map`'s ``above``: float32
    ``[batch, frames, bands]``. Made outside the graph, so the rule is written once."""
    bands = -(-power.shape[-1] // band_bins)
    centres = np.arange(bands) * band_bins + band_bins / 2
    return tilt_envelope(power, copy_start(above), frames, centres).astype(np.float32)
