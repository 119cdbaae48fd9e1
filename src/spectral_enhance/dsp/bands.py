"""A classic, unlearned bandwidth extension: spectral band replication (SBR).

The band just below the codec's cutoff is copied, frame by frame, into the empty band above it,
patch after patch up to the top of the band, attenuated so the copy continues the spectrum's
level across the cutoff and falls above it. It is what a user could pick instead of a learned
model, and so the floor a learned model must clear. The copy rule (`copy_map`) is the full-band
model's too: the model learns the level that this sets by a fixed rule.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d

from ..audio.arrays import CHANNELS_AT_MOST
from .lowpass import CANCELLED
from .stft import StftConfig, istft, power, spectrum, stft

__all__ = [
    "EPS",
    "LEAD_BINS",
    "LEAD_FRAMES",
    "LOW_CUT_CALM",
    "LOW_CUT_HZ",
    "PATCH_MULTIPLE",
    "REPLICATION_RULES",
    "TILT",
    "TiltRule",
    "band_copy",
    "band_prior",
    "band_replication",
    "brick_wall_split",
    "calm_band",
    "calm_change",
    "calm_share",
    "channel_coherence",
    "channels_mixing",
    "copy_inputs",
    "copy_map",
    "copy_start",
    "envelope_oracle",
    "fill_dips",
    "lay_over_noise",
    "lead_cap",
    "likeness_of",
    "noise_frames",
    "noise_inputs",
    "tilt_envelope",
    "told_inputs",
]


PATCH_MULTIPLE = 4
"""Bins a copy moves by are a multiple of this: with a hop of a quarter (or half) of the FFT a
copied partial then advances its phase by whole turns more per frame, staying consistent."""


def copy_map(cutoff_bin: float, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each bin's copy comes from, and whether it is above the cutoff: ``[bins]`` int64
    source bins and ``[bins]`` float32 0/1.

    The patch is the ``width`` bins just under the cutoff, ``width`` half the cutoff rounded
    down to a multiple of `PATCH_MULTIPLE`, repeated upward to the top of the band; bins below
    the cutoff are their own source. The full-band model and `band_replication` both copy by it.
    """
    start = max(2 * PATCH_MULTIPLE, int(np.ceil(cutoff_bin)))
    width = max(PATCH_MULTIPLE, start // (2 * PATCH_MULTIPLE) * PATCH_MULTIPLE)
    position = np.arange(bins)
    above = position >= start
    source = np.where(above, start - width + (position - start) % width, position)
    return source.astype(np.int64), above.astype(np.float32)


def copy_start(above: Any) -> int:
    """The first bin of the copied band, from `copy_map`'s ``above`` (a numpy array or a torch
    tensor); the number of bins when nothing is copied."""
    return int(above.argmax()) if above.any() else above.shape[-1]


def band_copy(spectrum: Any, source: Any, above: Any, first: int = 0) -> Any:
    """``spectrum``'s band under the low-pass copied above it, zero below (``spectrum[...,
    source] * above``), for a numpy array or a torch tensor ``[..., bins]`` and `copy_map`'s
    pair (as tensors for a tensor); its bins from ``first`` on (at most the copy's first). The
    patches are copied as slices, a tenth of the time of indexing every bin."""
    bins, start = above.shape[-1], copy_start(above)
    copy = spectrum[..., first:] * 0
    if start < bins:
        width = start - int(source[start])
        for patch in range(start, bins, width):
            last = min(patch + width, bins)
            under = spectrum[..., start - width : start - width + last - patch]
            copy[..., patch - first : last - first] = under
    return copy


def copy_inputs(spectrum: Any, cutoff_bin: float) -> tuple[Any, Any, Any]:
    """A model told the low-pass takes these for ``spectrum`` (``[..., bins]``, a numpy array or
    a torch tensor) with a low-pass at ``cutoff_bin``: the spectrum, its band copied above the
    low-pass (`band_copy`) and where that is (``[bins]`` 0/1, of the spectrum's kind)."""
    source, above = copy_map(cutoff_bin, spectrum.shape[-1])
    if not isinstance(spectrum, np.ndarray):  # a torch tensor: the map as one of its kind
        above = spectrum.new_tensor(above)
    return spectrum, band_copy(spectrum, source, above), above


def noise_inputs(
    spectrum: np.ndarray, cutoff_bin: float, band_bins: int, per_bin: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noise-filling model's graph takes these for ``spectrum`` (complex ``[batch, frames,
    bins]``, `spectrum`, or stacked ``[batch, 2, frames, bins]``) with a low-pass at
    ``cutoff_bin``: its power per bin ``[batch, frames, bins]``, its band
    copied above the low-pass (`copy_map`) as power per band of ``band_bins`` bins ``[batch,
    frames, bands]`` (a last band of fewer bins over ``band_bins`` too, as the model pools),
    and where the copy is (``[bins]`` 0/1): what the model's ``band_powers`` makes of
    `copy_inputs`, made from one squaring of the spectrum instead of two of full spectra
    (``per_bin``: that squaring, `power`, when the caller has made it)."""
    bins = spectrum.shape[-1]
    source, above = copy_map(cutoff_bin, bins)
    power_per_bin = power(spectrum) if per_bin is None else per_bin
    # only the bands the copy reaches are summed: the ones below hold nothing of it
    bands = -(-bins // band_bins)
    first = copy_start(above) // band_bins * band_bins  # the band of the copy's first bin
    pooled = np.zeros((*power_per_bin.shape[:-1], bands), np.float32)
    copied = band_copy(power_per_bin, source, above, first)
    edges = np.arange(0, bins - first, band_bins)
    if len(edges):
        pooled[..., first // band_bins :] = np.add.reduceat(copied, edges, axis=-1)
    return power_per_bin, pooled / np.float32(band_bins), above


def told_inputs(
    spectrum: np.ndarray, cutoff_bin: float, rule: Any, per_bin: np.ndarray | None = None
) -> tuple:
    """The inputs of a model told the low-pass, for ``spectrum`` (``[batch, 2, frames, bins]``,
    or complex ``[batch, frames, bins]`` for a noise-filling graph) with one at ``cutoff_bin``:
    `copy_inputs`, or `noise_inputs` for a noise-filling graph (``rule.noise_band_bins``), and
    last `band_prior` for a graph that takes the tilt prior (``rule.prior_frames``). ``rule``
    is the model's `BlockRule`, or the model itself, whose attributes say the same. A
    noise-filling graph of linked channels (``rule.joint_channels``) is given their summed
    power per bin, ``[1, frames, bins]``: all it makes of theirs (`BandExtender.gain`).
    ``per_bin``: the spectrum's power per bin (`power`), when the caller has it."""
    if rule.noise_band_bins:
        inputs = noise_inputs(spectrum, cutoff_bin, rule.noise_band_bins, per_bin)
        linked = inputs[0].sum(axis=0, keepdims=True) if rule.joint_channels else inputs[0]
        inputs = (linked, *inputs[1:])
    else:
        inputs = copy_inputs(spectrum, cutoff_bin)
        linked = power(spectrum) if rule.prior_frames else None
        if rule.prior_frames and rule.joint_channels:
            linked = linked.sum(axis=0, keepdims=True)
    if not rule.prior_frames:
        return inputs
    return (*inputs, band_prior(linked, inputs[2], rule.prior_frames, rule.prior_band_bins))


EPS = 1e-10
"""Power added before a log: in the tilt rule and in the full-band model."""

NOISE_PERIOD = 1 << 20
"""Samples (23.8 s at 44.1 kHz) after which `noise_frames`' noise repeats."""


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
    if apart:
        table = _apart_table(config, band_bins, seed, int(apart))
    else:
        table = _noise_table(config, band_bins, seed)
    table, period = table[:, from_bin:to_bin], NOISE_PERIOD // config.hop_length
    start = first % period
    if start + frames <= len(table):  # a view of the table: no copy for a segment
        return table[None, start : start + frames]
    return np.take(table, np.arange(start, start + frames) % period, axis=0)[None]


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


REPLICATION_RULES = ("tilt", "edge", "naive")
"""How `band_replication` sets the copy's level: ``tilt`` (``dsp`` since issue 12) continues the
spectrum's own slope under the cutoff; ``edge`` (``dsp-edge``, the paper-setting tables) starts
at the level just under the cutoff and falls 12 dB an octave; ``naive`` (issue 12's floor) keeps
the copy's own level and falls 6 dB an octave."""


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


def band_replication(
    samples: np.ndarray,
    sample_rate: int,
    cutoff_hz: float,
    rule: str = "tilt",
    config: StftConfig | None = None,
    tilt: TiltRule = TILT,
) -> np.ndarray:
    """Fill the band above ``cutoff_hz`` of ``[samples]`` with shaped copies of the band below.

    The band just under the cutoff is copied up patch after patch (`copy_map`) to the top of
    the band, and its level set by ``rule`` (`REPLICATION_RULES`). ``tilt``, chosen on issue
    12's validation split: the spectrum's slope from the octave two below the cutoff to the
    octave just under it (measured over ``tilt.smooth_seconds``, held within ``tilt.range_db``
    per octave) continues from that frame's level just under the cutoff, ``tilt.offset_db``
    lower, per band of ``tilt.band_bins`` bins (`TiltRule`). The band below the cutoff is
    returned unchanged.
    ``config``: the STFT (default: the paper's up to 24 kHz; above, 2,048 points with hop 512,
    the resolution the issue names, not the full-band model's hop of 1,024).
    """
    if rule not in REPLICATION_RULES:
        raise ValueError(f"rule must be one of {REPLICATION_RULES}, not {rule!r}")
    if config is None:
        config = StftConfig() if sample_rate <= 24_000 else StftConfig(2048, 512, 2048)
    spec = stft(samples, config).astype(np.float64)  # [2, frames, bins]
    bins = spec.shape[-1]
    cut_bin = cutoff_hz * config.fft_length / sample_rate
    source, above = copy_map(cut_bin, bins)
    start = copy_start(above)
    if start >= bins:
        return np.asarray(samples, dtype=np.float32)
    power = (spec**2).sum(axis=0)  # [frames, bins]
    copy = band_copy(spec, source, above)[:, :, start:]
    if rule == "tilt":
        frames = max(1, round(tilt.smooth_seconds * sample_rate / config.hop_length))
        gain = _tilt_gain(power, (copy**2).sum(axis=0), start, frames, tilt)
    else:
        gain = _slope_gain(power, source, start, bins, continue_edge=rule == "edge")
    spec[:, :, start:] = copy * gain
    return istft(spec, len(samples), config)


def _slope_gain(
    power: np.ndarray, source: np.ndarray, start: int, bins: int, continue_edge: bool
) -> np.ndarray:
    """``edge``: the copy at the level of the last 1/8 octave under the cutoff, falling 12 dB an
    octave; ``naive``: at its source's level, falling 6 dB an octave. ``[frames, bins above]``."""
    octaves = np.log2(np.arange(start, bins) / start)
    slope = 10 ** ((-12.0 if continue_edge else -6.0) * (octaves + 1 / 16) / 20)
    if not continue_edge:
        return slope
    low_edge = max(1, int(start / 2 ** (1 / 8)))
    edge = power[:, low_edge:start].mean(axis=1, keepdims=True)
    level = power[:, source[start] : start].mean(axis=1, keepdims=True)
    return np.sqrt(edge / np.maximum(level, 1e-20)) * slope


def _tilt_gain(
    power: np.ndarray, copy_power: np.ndarray, start: int, frames: int, tilt: TiltRule
) -> np.ndarray:
    """The ``tilt`` rule's gain on the copy, ``[frames, bins above]`` (see `band_replication`)."""
    have, edges, widths = _band_sums(copy_power, tilt.band_bins)
    wanted = np.exp(tilt_envelope(power, start, frames, start + edges + widths / 2, tilt))
    return _band_gain(wanted * widths, have, widths)


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


def _band_sums(power: np.ndarray, band_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``power`` ``[frames, bins]`` summed per band of ``band_bins`` bins (the last may hold
    fewer): the sums ``[frames, bands]``, each band's first bin and its width."""
    edges = np.arange(0, power.shape[1], band_bins)
    widths = np.diff(np.append(edges, power.shape[1]))
    return np.add.reduceat(power, edges, axis=1), edges, widths


def _band_gain(wanted: np.ndarray, have: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """The amplitude gain per bin ``[frames, bins]`` that takes each band's power from
    ``have`` to ``wanted`` (``[frames, bands]``); 0 where a band has no power to scale."""
    gain = np.sqrt(wanted / np.maximum(have, 1e-20)) * (have > 1e-20)
    return np.repeat(gain, widths, axis=1)


def envelope_oracle(
    samples: np.ndarray,
    reference: np.ndarray,
    sample_rate: int,
    cutoff_hz: float,
    band_bins: int = 8,
    config: StftConfig | None = None,
    noise_seed: int | None = None,
) -> np.ndarray:
    """``samples`` with the band above ``cutoff_hz`` replaced by its copy (`copy_map`) scaled,
    per band of ``band_bins`` bins and per frame, to ``reference``'s own power there.

    The best the full-band model's design can do: a perfect gain on the copied band, with the
    copy's fine structure. ``config``: the full-band model's STFT (2,048 points, hop 1,024).
    ``noise_seed``: fill the band with white noise from this seed instead of the copy, the
    other phase source there is (as a noise-filling codec does), at the same envelope.
    """
    config = config or StftConfig(2048, 1024, 2048)
    spec = stft(samples, config).astype(np.float64)  # [2, frames, bins]
    bins = spec.shape[-1]
    source, above = copy_map(cutoff_hz * config.fft_length / sample_rate, bins)
    start = copy_start(above)
    if start >= bins:
        return np.asarray(samples, dtype=np.float32)
    target = stft(reference, config).astype(np.float64)
    if noise_seed is None:
        copy = band_copy(spec, source, above)
    else:
        noise = np.random.default_rng(noise_seed).standard_normal(len(samples))
        copy = stft(noise, config).astype(np.float64) * above  # frames that overlap-add back

    wanted, _, widths = _band_sums((target[:, :, start:] ** 2).sum(axis=0), band_bins)
    have, _, _ = _band_sums((copy[:, :, start:] ** 2).sum(axis=0), band_bins)
    spec[:, :, start:] = copy[:, :, start:] * _band_gain(wanted, have, widths)
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
