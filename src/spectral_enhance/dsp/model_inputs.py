"""A told model's inputs, made in numpy apart from its graph: for training, export, inference."""

from __future__ import annotations

from typing import Any

import numpy as np

from .copy_rule import band_copy, copy_map, copy_start
from .stft import power
from .tilt import band_prior

__all__ = ["copy_inputs", "noise_inputs", "told_inputs"]


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
