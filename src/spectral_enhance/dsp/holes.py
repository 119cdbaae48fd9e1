"""The codec's holes under the low-pass: found by their neighbours, filled with noise.

At low bitrates an MP3 encoder leaves bands under its low-pass empty for a granule or more (it
had no bits for them). On issue 12's validation clips, noise in those holes at the reference's
own level is worth +0.16 to +0.19 on Zimtohrli at 32 to 64 kbps (`scripts/hole_fill_check.py`,
docs/full-band.md). Without the reference, a hole is a band more than `DEPTH_DB` + `UNDER_DB`
under its neighbours: the softer of its own loudest over `SECONDS` around and the loudest of
`SPREAD` bands either side in the same frame (a codec's hole leaves its neighbours loud; a
natural decay takes them down with it). It is filled with noise up to `UNDER_DB` under the
mean of the two, in dB (the softer alone fills too little, the louder alone too much).

Only in the octave under the low-pass, where the holes are: lower down, the gaps between a
note's partials look the same, and a rule over the whole band gained nothing. And only under a
low-pass below `TOP_HZ`: LAME's at 96 kbps, not at 128 kbps and up, where the rule gained
nothing on validation (-0.001 at 128 kbps), took a little from lossless input (whose own
roll-off looks like a low-pass), and cost a tenth of the time end to end.
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
"""How far a band must lie under its softer neighbour, less `UNDER_DB`, to be a hole."""
UNDER_DB = 6.0
"""How far under its neighbours' mean (in dB) a hole is filled."""
SECONDS = 0.5
"""The span of frames a band's own loudest is taken over."""
SPREAD = 3
"""Bands either side whose loudest a band is compared with."""
TOP_HZ = 16_000.0
"""The highest low-pass whose octave is mended (LAME's at 96 kbps is 15.1 kHz, at 128, 16.6)."""


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
    (``[channels, frames, bins]``, `dsp.stft.power`) with a low-pass at ``cutoff_bin``: each
    band's amplitude over noise of a power of 1 per bin (`dsp.bands.noise_frames`),
    ``[channels, frames, bands]``, 0 where a band is no hole, for the bands of ``band_bins``
    bins from the first in the octave under the low-pass to the last wholly under it; and the
    first's index."""
    last = int(cutoff_bin) // band_bins
    first = min(-(-int(cutoff_bin) // 2 // band_bins), last)
    low = max(first - SPREAD, 0)  # the first band a band of the octave is compared with
    bins = power[..., low * band_bins : last * band_bins]
    sums = bins.reshape(*bins.shape[:-1], last - low, band_bins).sum(-1)
    level = 10.0 * np.log10(sums + np.float32(1e-12))
    own = maximum_filter1d(level, frames, axis=-2, mode="nearest")[..., first - low :]
    near = maximum_filter1d(level, 2 * SPREAD + 1, axis=-1, mode="nearest")[..., first - low :]
    level, sums = level[..., first - low :], sums[..., first - low :]
    hole = np.minimum(own, near) - level > DEPTH_DB + UNDER_DB
    wanted = 10.0 ** (((own + near) / 2 - np.float32(UNDER_DB)) / np.float32(10.0))
    fill = np.where(hole, wanted - sums, np.float32(0.0))
    return np.sqrt(fill / np.float32(band_bins)), first
