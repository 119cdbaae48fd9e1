"""The copy rule (which bin is copied from where) and power per band, shared by every rebuilder."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["PATCH_MULTIPLE", "band_copy", "copy_map", "copy_start"]


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
