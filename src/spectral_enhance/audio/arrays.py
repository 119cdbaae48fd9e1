"""A signal given as an array, as the API takes it: ``[samples]`` or ``[samples, channels]``
of floats (full scale 1.0) or of the integers WAV files hold, at a sample rate. One rule for
what such an array and rate are, so `Enhancer.enhance`, `find_lowpass` and a model card read
them alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "CHANNELS_AT_MOST",
    "INTEGER_SCALES",
    "MAX_CHANNELS",
    "RATES",
    "checked_rate",
    "first_non_finite",
    "float_frames",
    "rate_problem",
    "to_integers",
]

# Integer sample types: (offset, full scale), as WAV files store them.
INTEGER_SCALES = {("i", 2): (0, 2**15), ("i", 4): (0, 2**31), ("u", 1): (128, 128)}
MAX_CHANNELS = 8
"""Columns over this, of an array of at most this many rows, are samples: ``[channels,
samples]`` given, which is refused."""
CHANNELS_AT_MOST = 64
"""The most channels a signal may have (7th-order ambisonics): more are samples."""

RATES = (1_000, 768_000)  # sample rates a signal, a model card or the enhancer may have, in Hz


def rate_problem(rate: Any) -> str | None:
    """What is wrong with ``rate`` as a sample rate (a whole number of Hz in `RATES`), or None."""
    if isinstance(rate, bool) or not isinstance(rate, int | np.integer):
        return f"must be an integer, not {type(rate).__name__}"
    if not RATES[0] <= rate <= RATES[1]:
        return f"must be from {RATES[0]:,} to {RATES[1]:,} Hz, not {rate}"
    return None


def checked_rate(rate: Any, name: str) -> int:
    """``rate`` as an int, or a ``ValueError`` naming ``name`` and what is wrong with it."""
    problem = rate_problem(rate)
    if problem:
        raise ValueError(f"{name} {problem}")
    return int(rate)


def float_frames(samples: np.ndarray) -> tuple[np.ndarray, bool]:
    """``samples`` as float32 ``[samples, channels]``, and whether they were ``[samples]``; a
    ``ValueError`` saying what is wrong with an array that is not a signal."""
    x = np.asarray(samples)
    if x.ndim not in (1, 2):
        raise ValueError(
            f"samples must be [samples] or [samples, channels], not an array of shape {x.shape}"
        )
    rows, columns = x.shape if x.ndim == 2 else (len(x), 1)
    if columns > MAX_CHANNELS and (rows <= MAX_CHANNELS or columns > CHANNELS_AT_MOST):
        raise ValueError(
            f"samples of shape {x.shape} look like [channels, samples]; pass [samples, channels] "
            f"(samples.T), of at most {CHANNELS_AT_MOST} channels"
        )
    if x.ndim == 2 and x.shape[1] == 0:
        raise ValueError(f"samples of shape {x.shape} have no channel")
    scale = INTEGER_SCALES.get((x.dtype.kind, x.dtype.itemsize))
    if scale is not None:
        offset, full = scale
        x = (x.astype(np.float64) - offset) / full
    elif x.dtype.kind != "f":
        raise ValueError(
            f"samples of type {x.dtype} are not audio this takes: pass float (full scale 1.0), "
            "int16, int32 or uint8"
        )
    with np.errstate(over="ignore"):  # a float64 beyond float32's range is caught below
        x = x.astype(np.float32)
    if (first := first_non_finite(x)) is not None:
        raise ValueError(
            f"samples hold NaN, infinite or out-of-range values (the first at sample {first})"
        )
    return (x[:, None] if x.ndim == 1 else x), x.ndim == 1


def first_non_finite(x: np.ndarray) -> int | None:
    """The first sample (row) of ``x`` that holds NaN or an infinity, or None: one would
    spread over a whole segment of the model's output. The sum is the cheap first look."""
    with np.errstate(over="ignore"):
        if np.isfinite(x.sum()):
            return None
    bad = ~np.isfinite(x)
    return int(np.argwhere(bad)[0][0]) if bad.any() else None


def to_integers(
    block: np.ndarray, bits: int, dither: Callable[[np.ndarray], None] | None = None
) -> np.ndarray:
    """Float ``block`` as the ``bits``-bit (16 or 24) integers nearest ``block * 2**(bits -
    1)`` (FFmpeg and libsndfile read a step as that fraction of full scale, as
    `INTEGER_SCALES` does), full scale clamped: int16s, or for 24 bits the top 24 bits of
    int32s, as libsndfile takes them. ``dither`` adds its noise to the steps (C order, in
    place) before they are rounded, unless every one is whole already (a 16-bit input the
    model left as it was: rounding then loses nothing, and dither would only add noise)."""
    steps = np.float32(1 << (bits - 1))
    scaled = np.empty(block.shape, np.float32)  # in C order, as the dither is laid
    np.multiply(block, steps, out=scaled)
    if dither is not None and not _on_grid(scaled):
        dither(scaled)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -steps, steps - 1, out=scaled)
    if bits == 16:
        return scaled.astype(np.int16)
    return np.left_shift(scaled.astype(np.int32), 32 - bits)


def _on_grid(steps: np.ndarray, head: int = 256) -> bool:
    """Whether every value of ``steps`` is a whole number (to 1e-3); its first ``head`` values
    looked at first, which settles it for almost any block of a model's output."""

    def whole(part: np.ndarray) -> bool:
        return bool(np.abs(part - np.rint(part)).max(initial=0.0) < 1e-3)

    flat = steps.reshape(-1)
    return whole(flat[:head]) and whole(flat)
