"""The codec's holes under the low-pass: found by their neighbours, filled with noise.

At low bitrates an MP3 encoder leaves bands under its low-pass empty for a granule or more (it
had no bits for them). On issue 12's validation clips, noise in those holes at the reference's
own level is worth +0.11 to +0.16 on Zimtohrli at 32 to 64 kbps (`scripts/hole_fill_check.py`,
docs/full-band.md). Without the reference, a hole is a band more than `DEPTH_DB` +
`UNDER_DB` under its neighbours: the softer of its own loudest over `SECONDS` around and the
loudest of `SPREAD` bands either side in the same frame (a codec's hole leaves its neighbours
loud; a natural decay takes them down with it). It is filled with noise up to `UNDER_DB` under
them. Only in the octave under the low-pass, where the holes are: lower down, the gaps between
a note's partials look the same, and the rule fired on the references as often as on the MP3s.
And only under a low-pass below `TOP_HZ`: above it is a full-band recording's own roll-off (or
an MP3 at 192 kbps or more), where on validation the rule took a little from lossless input.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d

__all__ = [
    "DEPTH_DB",
    "SECONDS",
    "SPREAD",
    "TOP_HZ",
    "UNDER_DB",
    "hole_frames",
    "hole_scale",
    "mended_band",
]

DEPTH_DB = 20.0
"""How far under its fill level a band must be to be a hole."""
UNDER_DB = 6.0
"""How far under its neighbours a hole is filled."""
SECONDS = 0.5
"""The span of frames a band's own loudest is taken over."""
SPREAD = 3
"""Bands either side whose loudest a band is compared with."""
TOP_HZ = 18_000.0
"""The highest low-pass whose octave is mended (LAME's at 128 kbps is 16.6 kHz, at 192, 18.6)."""


def mended_band(lowpass_hz: float) -> tuple[float, float] | None:
    """The band whose holes are filled under a low-pass at ``lowpass_hz``, in Hz: its octave
    under it; None above `TOP_HZ`."""
    return (lowpass_hz / 2, lowpass_hz) if lowpass_hz < TOP_HZ else None


def hole_frames(sample_rate: int, hop_length: int) -> int:
    """Frames (odd) of about `SECONDS` at this rate and hop."""
    return 2 * round(SECONDS * sample_rate / hop_length / 2) + 1


def hole_scale(
    power: np.ndarray, cutoff_bin: float, band_bins: int, frames: int
) -> tuple[np.ndarray, int]:
    """The noise that fills the holes of a spectrum whose power per bin is ``power``
    (``[channels, frames, bins]``) with a low-pass at ``cutoff_bin``: each band's amplitude
    over noise of a power of 1 per bin (`dsp.bands.noise_frames`), ``[channels, frames,
    bands]``, 0 where a band is no hole, for the bands of ``band_bins`` bins from the first in
    the octave under the low-pass to the last wholly under it; and the first's index."""
    last = int(cutoff_bin) // band_bins
    first = min(-(-int(cutoff_bin) // 2 // band_bins), last)
    sums = power[..., : last * band_bins].reshape(*power.shape[:-1], last, band_bins).sum(-1)
    level = 10.0 * np.log10(sums + 1e-12, dtype=np.float64)
    around = np.minimum(
        maximum_filter1d(level, frames, axis=-2, mode="nearest"),
        maximum_filter1d(level, 2 * SPREAD + 1, axis=-1, mode="nearest"),
    )[..., first:]
    level, sums = level[..., first:], sums[..., first:]
    wanted = 10.0 ** ((around - UNDER_DB) / 10.0)
    fill = np.where(around - UNDER_DB - level > DEPTH_DB, wanted - sums, 0.0)
    return np.sqrt(fill / band_bins).astype(np.float32), first
