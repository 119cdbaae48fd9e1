"""A signal given as an array, as the API takes it: ``[samples]`` or ``[samples, channels]``
of floats (full scale 1.0) or of the integers WAV files hold. One rule for what such an array
is, so `Enhancer.enhance` and `find_lowpass` read it alike."""

from __future__ import annotations

import numpy as np

__all__ = ["CHANNELS_AT_MOST", "INTEGER_SCALES", "MAX_CHANNELS", "float_frames"]

# Integer sample types: (offset, full scale), as WAV files store them.
INTEGER_SCALES = {("i", 2): (0, 2**15), ("i", 4): (0, 2**31), ("u", 1): (128, 128)}
MAX_CHANNELS = 8
"""Columns over this, of an array of at most this many rows, are samples: ``[channels,
samples]`` given, which is refused."""
CHANNELS_AT_MOST = 64
"""The most channels a signal may have (7th-order ambisonics): more are samples."""


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
    finite = np.isfinite(x)
    if not finite.all():
        first = int(np.argwhere(~finite)[0][0])
        raise ValueError(
            f"samples hold NaN, infinite or out-of-range values (the first at sample {first})"
        )
    return (x[:, None] if x.ndim == 1 else x), x.ndim == 1
