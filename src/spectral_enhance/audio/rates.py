"""Sample-rate conversion to exact lengths (soxr), whole or streamed, and channel averaging.

The one rule for lengths: a signal of ``n`` samples at ``rate_in`` has `resampled_length` samples
at ``rate_out``, whoever converts it (the input module, the MP3 encoder, the batch runner).
"""

from __future__ import annotations

import numpy as np
import soxr

__all__ = ["StreamResampler", "resample", "resampled_length", "to_mono"]


def resampled_length(length: int, rate_in: int, rate_out: int) -> int:
    """Samples a signal of ``length`` has at ``rate_out`` (rounded to the nearest)."""
    return (length * rate_out + rate_in // 2) // rate_in


def resample(samples: np.ndarray, rate_in: int, rate_out: int, quality: str = "VHQ") -> np.ndarray:
    """Resample along the first axis with soxr (very high quality unless ``quality`` says
    otherwise); a no-op at equal rates.

    The result has exactly :func:`resampled_length` samples, so durations match to the sample.
    """
    if rate_in == rate_out:
        return samples
    out = soxr.resample(samples, rate_in, rate_out, quality=quality).astype(np.float32)
    return _fit(out, resampled_length(len(samples), rate_in, rate_out))


def _fit(samples: np.ndarray, length: int) -> np.ndarray:
    if len(samples) >= length:
        return samples[:length]
    return np.pad(samples, [(0, length - len(samples))] + [(0, 0)] * (samples.ndim - 1))


class StreamResampler:
    """Streaming soxr resampling of ``[n, channels]`` chunks to exactly the rounded length
    (very high quality unless ``quality`` says otherwise, as :func:`resample`).

    The total length is known only at the end (``last=True``), when the output is cut or
    completed to :func:`resampled_length` of everything received.
    """

    def __init__(self, rate_in: int, rate_out: int, channels: int, quality: str = "VHQ") -> None:
        self.rate_in, self.rate_out = rate_in, rate_out
        self.received = self.sent = 0
        self.stream = None
        if rate_in != rate_out:
            self.stream = soxr.ResampleStream(rate_in, rate_out, channels, "float32", quality)

    def __call__(self, chunk: np.ndarray, last: bool = False) -> np.ndarray:
        self.received += len(chunk)
        out = chunk if self.stream is None else self.stream.resample_chunk(chunk, last=last)
        total = resampled_length(self.received, self.rate_in, self.rate_out)
        out = _fit(out, total - self.sent) if last else out[: max(0, total - self.sent)]
        self.sent += len(out)
        return out


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels: ``[samples, channels]`` -> ``[samples]`` (as the authors' code)."""
    return samples.mean(axis=1) if samples.ndim == 2 else samples
