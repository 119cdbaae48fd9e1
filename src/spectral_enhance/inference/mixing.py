"""The output: the input plus ``strength`` times the model's change; enhance and files share it."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from ..audio.probe import is_lossless

__all__ = [
    "CHANGE_QUALITY",
    "DEFAULT_OUTPUT_RATE",
    "checked_strength",
    "default_output_rate",
    "input_quality",
]

DEFAULT_OUTPUT_RATE = 44_100

# soxr's quality for the model's change on its way to the output rate: 20-bit precision, far
# under any output's noise floor, with the pass band of the input's "VHQ" and less work.
CHANGE_QUALITY = "HQ"


def input_quality(codec: str) -> str:
    """soxr's quality for the input on its way to the model's and the output's rate (FFmpeg's
    decoder ``codec``): "VHQ" for a lossless codec's samples; for a lossy one's "HQ", SoX's own
    default: the same pass band, 10 to 25 % less work from LAME's 16, 24 and 32 kHz (little
    and unsure from 22.05 kHz), and an output 137 dB or more under full scale from VHQ's, far
    under any codec's error (docs/speed.md)."""
    return "VHQ" if is_lossless(codec) else "HQ"


def default_output_rate(input_rate: int) -> int:
    """The output rate when none is asked for: 44.1 kHz, or the input's own rate above it."""
    return max(DEFAULT_OUTPUT_RATE, int(input_rate))


def checked_strength(strength: float) -> float:
    """``strength`` as a float from 0 to 1, or a ``ValueError`` saying what is wrong."""
    number = isinstance(strength, int | float | np.integer | np.floating)
    value = float(strength) if number else math.nan  # a string is a caller's slip, as for rates
    if isinstance(strength, bool) or not 0.0 <= value <= 1.0:
        raise ValueError(f"strength must be a number from 0 to 1, not {strength!r}")
    return value


class _Fifo:
    """``[n, channels]`` samples in arrival order, taken from the front."""

    def __init__(self) -> None:
        self.parts: deque[np.ndarray] = deque()
        self.size = 0

    def put(self, samples: np.ndarray) -> None:
        if len(samples):
            self.parts.append(samples)
            self.size += len(samples)

    def take(self, n: int) -> list[np.ndarray]:
        """The first ``n`` samples (all there are, if fewer), in pieces."""
        taken = []
        while n > 0 and self.parts:
            head = self.parts.popleft()
            if len(head) > n:
                head, rest = head[:n], head[n:]
                self.parts.appendleft(rest)
            taken.append(head)
            n -= len(head)
            self.size -= len(head)
        return taken


class _Mix:
    """The input at the output rate plus ``strength`` times the model's change at the output
    rate, added sample for sample. The change comes later than the input (the model returns
    whole segments), so the input waits here for it: a FIFO of a segment or so. The input's
    arrays become the mix's own: the change is added into them, sparing a copy of the output."""

    def __init__(self, strength: float) -> None:
        self.strength = np.float32(strength)
        self.dry, self.wet = _Fifo(), _Fifo()

    def __call__(
        self, dry: np.ndarray, wet: np.ndarray | None, last: bool = False
    ) -> list[np.ndarray]:
        """Take more of each (``wet`` None: no change at all); return, in pieces, the samples
        both parts now cover. At ``last``, all of the input: the change, whose two resamplings
        may round its length differently, is cut or padded with silence to it."""
        self.dry.put(dry)
        if wet is None:
            return self.dry.take(self.dry.size)
        self.wet.put(wet)
        n = self.dry.size if last else min(self.dry.size, self.wet.size)
        out = [piece if piece.flags.writeable else piece.copy() for piece in self.dry.take(n)]
        for piece in out:  # the change's pieces, cut by the FIFO to each piece of the input
            done = 0
            for part in self.wet.take(len(piece)):
                piece[done : done + len(part)] += (
                    part if self.strength == 1 else self.strength * part
                )
                done += len(part)
        return out
