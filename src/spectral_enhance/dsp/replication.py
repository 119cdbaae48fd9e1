"""A classic, unlearned bandwidth extension, spectral band replication (SBR), and the oracles.

The band just below the codec's cutoff is copied, frame by frame, into the empty band above it,
patch after patch up to the top of the band, attenuated so the copy continues the spectrum's
level across the cutoff and falls above it. It is what a user could pick instead of a learned
model, and so the floor a learned model must clear. The copy rule (`copy_map`) is the full-band
model's too: the model learns the level that this sets by a fixed rule. Apart from the copy rule
(:mod:`.copy_rule`) and the tilt rule (:mod:`.tilt`), which the model shares: only evaluation's
systems (``dsp``, ``dsp-edge``, the oracles) and the scripts run what is here.
"""

from __future__ import annotations

import numpy as np

from .copy_rule import _band_gain, _band_sums, band_copy, copy_map, copy_start
from .stft import StftConfig, istft, stft
from .tilt import TILT, TiltRule, tilt_envelope

__all__ = ["REPLICATION_RULES", "band_replication", "brick_wall_split", "envelope_oracle"]


REPLICATION_RULES = ("tilt", "edge", "naive")
"""How `band_replication` sets the copy's level: ``tilt`` (``dsp`` since issue 12) continues the
spectrum's own slope under the cutoff; ``edge`` (``dsp-edge``, the paper-setting tables) starts
at the level just under the cutoff and falls 12 dB an octave; ``naive`` (issue 12's floor) keeps
the copy's own level and falls 6 dB an octave."""


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
