"""The enhancer's rules on the model's band level (calm, lead cap, dips), applied after the net."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d

from .copy_rule import copy_start

__all__ = [
    "HIGH_CUT_HZ",
    "HIGH_CUT_SHARE",
    "LEAD_BINS",
    "LEAD_FRAMES",
    "LOW_CUT_CALM",
    "LOW_CUT_HZ",
    "band_share",
    "calm_band",
    "calm_change",
    "calm_share",
    "fill_dips",
    "lead_cap",
]


CALM_BINS = 128
"""Bins (2.8 kHz at 44.1 kHz and 2,048 points) of each band `calm_band` takes the level of."""

LOW_CUT_HZ = 6_500.0
"""Between LAME's low-passes at 32 and 48 kbps (measured on the test clips: 4.6 to 5.6 kHz, and
7.4 to 7.7 kHz). Under it the band above is rebuilt from less, and its own settings apply:
`LOW_CUT_CALM` here, `dsp.holes.LOW_CUT_THRESHOLD_DB` for the holes."""
LOW_CUT_CALM = 0.5
"""The most of the band's swing `calm_band` keeps under a low-pass below `LOW_CUT_HZ`: there the
model's moments follow the reference's least (a correlation of 0.56 at 32 kbps, 0.70 at 48),
and 0.5 scored higher than the model's 0.75 on validation (docs/full-band.md)."""


HIGH_CUT_HZ = 15_600.0
"""Between the cuts `enhance` finds in `lame`'s files at 112 kbps (15.03 to 15.27 kHz) and at
128 kbps (15.97 to 16.58 kHz; `-V5` and `-V6` from 15.88 kHz) on the validation tracks
(`scripts/lame_file_cuts.py`, docs/runs/full-band/lame-file-cuts.txt). From it up the band
rebuilt lies where many masters end or hold little, and is laid at `HIGH_CUT_SHARE` of the
model's amplitude. (At 16 kHz, as until 2026-11-28, a 128 kbps file whose cut read 15.97 kHz
had its band laid at the model's level. Holes are filled up to a cut of `dsp.holes.TOP_HZ`,
16 kHz.)"""
HIGH_CUT_SHARE = 0.5
"""The amplitude, against the model's, of the band rebuilt above a low-pass of `HIGH_CUT_HZ` and
up (6 dB fainter). On `lame`'s 128 kbps files of the validation tracks it scored +0.003 over
the model's own level, no clip lost over 0.05 where 12 of 108 had, and the worst lost 0.04, not
0.09 (docs/full-band.md, "Above a 128 kbps cut")."""


def band_share(lowpass_hz: float) -> float:
    """The amplitude, against the model's, at which the band above a low-pass of ``lowpass_hz``
    is rebuilt: `HIGH_CUT_SHARE` from `HIGH_CUT_HZ` up, all of it under."""
    return HIGH_CUT_SHARE if lowpass_hz >= HIGH_CUT_HZ else 1.0


def calm_share(calm: float, lowpass_hz: float) -> float:
    """The share of the rebuilt band's swing `calm_band` keeps for a model's ``calm`` under a
    low-pass of ``lowpass_hz``: at most `LOW_CUT_CALM` under `LOW_CUT_HZ`. A model that keeps
    all of it (1, no course taken) keeps all of it there too."""
    if calm == 1.0 or lowpass_hz >= LOW_CUT_HZ:
        return calm
    return min(calm, LOW_CUT_CALM)


def calm_band(
    scale: np.ndarray,
    above: np.ndarray,
    band_bins: int,
    calm: float,
    frames: int,
    given: np.ndarray,
) -> np.ndarray:
    """``scale`` (a noise-filling model's amplitudes, ``[channels, frames, bands]`` of
    ``band_bins`` bins) with the band it rebuilds swinging, about its course over ``frames``
    frames, ``calm`` times as far: per channel, frame and group of `CALM_BINS` bins from the
    band holding the copy's first bin (`copy_map`'s ``above``) up, the log power the band will
    have over `noise_frames`' noise (each band of it at a power of 1 per bin) becomes its course
    plus ``calm`` times its distance from it. The course is taken over the frames where the
    input has power (``given``, its power per bin, ``[channels or 1, frames, bins]``): a
    segment's silent margins, or a file's digital silence, would drag it down and the band next
    to them with it. The full-band model's level from frame to frame follows the reference's
    only roughly (a correlation of 0.56 to 0.71), and a calmer band scored higher on validation
    (`scripts/second_pass_check.py`). Set on the amplitudes, before the band is laid, it costs
    next to nothing. 1 returns ``scale`` as it is."""
    start, bins = copy_start(above), above.shape[-1]
    if calm == 1.0 or start >= bins:
        return scale
    first = start // band_bins  # the band holding the copy's first bin
    widths = np.full(scale.shape[-1] - first, float(band_bins))
    widths[0] = (first + 1) * band_bins - start  # its bins above the low-pass
    laid = np.square(scale[..., first:], dtype=np.float64) * widths  # each band's power
    edges = np.arange(0, len(widths), max(1, CALM_BINS // band_bins))
    level = np.log(np.add.reduceat(laid, edges, axis=-1) + 1e-20)  # [channels, frames, groups]
    change = calm_change(level, given, calm, frames)
    sizes = np.diff(np.append(edges, len(widths)))
    calmed = scale.copy()
    calmed[..., first:] *= np.repeat(np.exp(0.5 * change), sizes, axis=-1).astype(np.float32)
    return calmed


def _sounding(given: np.ndarray) -> np.ndarray:
    """1 for each frame where the input has power (``given``, its power per bin, ``[channels or
    1, frames, bins]``), 0 elsewhere (a segment's silent margin, digital silence): float64
    ``[channels or 1, frames]``, the frames `calm_change` and `lead_cap` weigh."""
    return (given.sum(axis=-1) > 1e-12).astype(np.float64)


def calm_change(level: np.ndarray, given: np.ndarray, calm: float, frames: int) -> np.ndarray:
    """`calm_band`'s rule on a band's natural-log power ``level`` (``[channels, frames,
    groups]``): the change of log power that leaves it ``calm`` times as far from its course
    over ``frames`` frames, the course taken over the frames where the input has power
    (``given``, its power per bin, ``[channels or 1, frames, bins]``); none elsewhere, and at
    most 12 either way."""
    held = _sounding(given)[..., None]  # [.., frames, 1]
    weight = uniform_filter1d(held, frames, axis=-2, mode="nearest")
    course = uniform_filter1d(level * held, frames, axis=-2, mode="nearest")
    course /= np.maximum(weight, 1e-9)
    return np.clip((calm - 1.0) * (level - course) * held, -12.0, 12.0)


LEAD_BINS = (70, 12)
"""The input's bins `lead_cap` compares the rebuilt band with: from the 70th to the 12th under
the copy's first (1.5 to 0.25 kHz under the low-pass at 44.1 kHz and 2,048 points, clear of
LAME's filter's slope), and as many of the band's own bins above it, to the nearest band."""
LEAD_FRAMES = 23
"""Frames (0.53 s at hop 1,024 and 44.1 kHz, as `calm`'s course) `lead_cap` weighs the two
over about each frame; the enhancer's margin holds half of them more."""


def lead_cap(scale: np.ndarray, above: np.ndarray, band_bins: int, given: np.ndarray) -> np.ndarray:
    """``scale`` (`calm_band`'s) lowered, frame by frame where need be, so that the band's first
    bins above the low-pass hold no more power per bin, over `LEAD_FRAMES` frames about each,
    than the input's bins just under it (`LEAD_BINS`); only frames where the input has power
    count (``given``, its power per bin, ``[channels or 1, frames, bins]``, channels summed if
    one row). The whole band of a frame is lowered by one factor, both channels alike.

    Music's band above a codec's cut rarely outdoes the band leading up to it; where the model
    would make it so, the input's band ends under the cut by itself: a dark master (SuperTux's
    `leveldone` jingle, nothing over 7.5 kHz, rebuilt 20 to 30 dB over its own band by the
    model) or a quiet passage whose treble is its noise floor. On validation it ties (Zimtohrli
    4.3336 to 4.3346, no worst clip moved; LSD above the low-pass 1.717 to 1.707), where the
    band held to each frame's lead lost 0.03 to 0.05 at 32 to 64 kbps
    (`scripts/continuity_cap_check.py`, docs/full-band.md)."""
    start, bins = copy_start(above), above.shape[-1]
    sounding = _sounding(given)
    if start >= bins or not sounding.any():
        return scale
    low, high = max(0, start - LEAD_BINS[0]), max(1, start - LEAD_BINS[1])
    share = scale.shape[0] // given.shape[0]  # channels summed into each row of ``given``
    lead = given[..., low:high].mean(axis=-1, dtype=np.float64) / share
    first = start // band_bins
    span = max(1, round((LEAD_BINS[0] - LEAD_BINS[1]) / band_bins))
    laid = np.square(scale[..., first : first + span], dtype=np.float64).mean(axis=-1)
    laid = laid.mean(axis=0, keepdims=True)  # the channels alike
    # (a running mean's rounding can leave a hair under 0 where all is 0)
    lead = np.maximum(uniform_filter1d(lead * sounding, LEAD_FRAMES, axis=-1, mode="nearest"), 0)
    laid = np.maximum(uniform_filter1d(laid * sounding, LEAD_FRAMES, axis=-1, mode="nearest"), 0)
    over = laid > lead
    if not over.any():
        return scale
    factor = np.ones_like(laid)
    factor[over] = np.sqrt(lead[over] / laid[over])
    held = scale.copy()
    held[..., first:] *= factor[..., None].astype(np.float32)
    return held


DIP_BANDS = 9
"""Bands (1.5 kHz at 8 bins, 44.1 kHz and 2,048 points) over which `fill_dips` closes the
rebuilt band's dips. Chosen on validation among 5, 7, 9 and 13, closing each channel
(``scripts/dip_fill_check.py``): 9 gave +0.029, +0.026 and +0.005 Zimtohrli at 32, 48 and
64 kbps; 13 reached over the band's own top and raised LSD there. Closing each channel moved a
panned source's image by 1.3 dB; the channels' joint level, as shipped, gives +0.026, +0.017 and
+0.002, no clip losing over 0.015, and LSD above the low-pass 0.023 and 0.009 lower at 32 and
48 kbps."""


def fill_dips(scale: np.ndarray, first: int, bands: int = DIP_BANDS) -> np.ndarray:
    """``scale`` (``[channels, frames, bands]``) with each dip along frequency narrower than
    ``bands``, from band ``first`` up, raised to the lower of its shoulders: a grey closing of
    the channels' joint amplitude (the root of their mean power), each channel raised by the
    same factor, so a panned source keeps its balance.

    A band's level is its copy's times the network's gain, and a copy patch's top bands come
    from just under the low-pass, where the encoder's filter and its holes leave the MP3
    weakest: the rebuilt band fell about 12 dB over each patch's top kilohertz and rose again
    at the next, dark spots a patch apart that no reference has."""
    if first >= scale.shape[-1]:
        return scale
    low = max(first - bands, 0)  # as far under as the closing reaches (its two halves)
    joint = np.sqrt(np.square(scale[..., low:], dtype=np.float32).mean(axis=0, keepdims=True))
    closed = minimum_filter1d(maximum_filter1d(joint, bands, axis=-1), bands, axis=-1)
    joint, closed = joint[..., first - low :], closed[..., first - low :]
    out = scale.copy()
    silent = joint <= 0  # no channel has any: each gets the shoulders' level
    factor = np.where(silent, 0.0, closed / np.where(silent, 1.0, joint)).astype(np.float32)
    out[..., first:] = np.where(silent, closed, scale[..., first:] * factor)
    return out
