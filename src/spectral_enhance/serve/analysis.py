"""What the page shows of a file: a small spectrogram to draw, and the file's facts.

The spectrogram is computed here and drawn by the browser on a canvas from one byte per cell
(about 150 KB for a whole song), so the ``[web]`` extra needs no plotting library and the page
can draw the low-pass line and the playback cursor over it. Its cost does not grow with the
file's length: each of a fixed number of columns averages a few frames taken across its span.
"""

from __future__ import annotations

import base64
import math

import numpy as np

__all__ = ["FLOOR_DB", "TOP_DB", "encode_cells", "spectrogram_cells"]

FLOOR_DB = -100.0  # byte 1
TOP_DB = -10.0  # byte 255; byte 0 marks rows above the file's own Nyquist
ROWS = 256
COLUMNS = 720
FRAMES_PER_COLUMN = 4


def spectrogram_cells(
    samples: np.ndarray, rate: int, top_hz: float, rows: int = ROWS, columns: int = COLUMNS
) -> np.ndarray:
    """Power spectrogram from 0 Hz to ``top_hz`` as bytes ``[rows, columns]``, row 0 lowest.

    ``samples``: ``[samples]`` or ``[samples, channels]`` (averaged). Power in dB re full scale
    (Hann window) maps ``FLOOR_DB``..``TOP_DB`` to 1..255; rows above ``rate / 2`` are 0, so two
    files at different rates share one frequency axis.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1)
    n_fft = max(256, 1 << max(0, math.ceil(math.log2(rows * rate / top_hz))))  # 5 Hz too
    x = np.pad(x, (n_fft // 2, n_fft // 2))
    columns = max(1, min(columns, (len(x) - n_fft) // 64 + 1))
    window = np.hanning(n_fft).astype(np.float32)
    # FRAMES_PER_COLUMN frame starts spread evenly across each column's span.
    span = (len(x) - n_fft) / columns
    offsets = (np.arange(FRAMES_PER_COLUMN) + 0.5) / FRAMES_PER_COLUMN
    starts = ((np.arange(columns)[:, None] + offsets) * span).astype(np.int64).ravel()
    frames = x[starts[:, None] + np.arange(n_fft)] * window
    power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2 / (window.sum() / 2) ** 2
    power = power.reshape(columns, FRAMES_PER_COLUMN, -1).mean(axis=1)  # [columns, bins]
    freqs = (np.arange(rows) + 0.5) * top_hz / rows
    bins = np.minimum(np.round(freqs * n_fft / rate).astype(np.int64), n_fft // 2)
    db = 10.0 * np.log10(power[:, bins].T + 1e-20)  # [rows, columns]
    cells = 1 + np.round((np.clip(db, FLOOR_DB, TOP_DB) - FLOOR_DB) * 254 / (TOP_DB - FLOOR_DB))
    cells[freqs > rate / 2] = 0
    return cells.astype(np.uint8)


def encode_cells(cells: np.ndarray) -> dict:
    """The page's form of a spectrogram: its shape and its bytes in base64, lowest row first."""
    rows, columns = cells.shape
    data = base64.b64encode(np.ascontiguousarray(cells).tobytes()).decode("ascii")
    return {"rows": rows, "columns": columns, "cells": data}
