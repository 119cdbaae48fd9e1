"""The serve page's one door into the code ``spectral-enhance enhance`` runs: no second pipeline.

Every call the server makes into the input side (probing, enhancing, reading, writing audio) is
here, so a change of decoder or of ``enhance_file``'s result touches this module only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import AudioError, open_audio, read_audio, write_audio
from ..audio.probe import counted_length
from ..inference.enhancer import Enhancer
from ..inference.one_file import enhance_file
from ..inference.report import FileResult

__all__ = ["MAX_RATE", "STRENGTH", "AudioError", "Probe", "enhance", "probe", "read", "write_pcm"]

# The page's strength slider: what ``enhance --strength`` takes (0: the input as it is).
STRENGTH = {"min": 0.0, "max": 1.0, "step": 0.05, "value": 1.0}
MAX_RATE = 192_000  # Hz: the highest output rate asked for, and the highest band's end given


@dataclass(frozen=True)
class Probe:
    """What the header of an uploaded file says, before it is decoded."""

    rate: int
    channels: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def probe(path: Path) -> Probe:
    """Rate, channels and length of ``path``, decoding nothing: the length it states, or its
    packets counted where it states none (`audio.probe.counted_length`), not FFmpeg's guess
    from its first bit rate, which a silent start made three times too long (an 8 s VBR MP3
    read as 24 s).

    AudioError if it is not audio. ``frames`` is 0 when neither gives a length.
    """
    with open_audio(path) as reader:
        info = reader.info
    return Probe(info.sample_rate, info.channels, counted_length(path, info) or 0)


def enhance(
    enhancer: Enhancer,
    source: Path,
    target: Path,
    fmt: str,
    output_rate: int | None,
    progress: Callable[[int], None],
    strength: float = 1.0,
    lowpass_hz: float | None = None,
) -> FileResult:
    """Enhance ``source`` into ``target`` exactly as ``enhance`` does (``lowpass_hz``: as
    ``enhance --lowpass``; None, measured); returns what it found.

    ``progress(n)`` gets the model-rate samples done since its last call.
    """
    done = 0

    def advanced(seconds: float, expected: float | None) -> None:
        nonlocal done
        now = round(seconds * enhancer.sample_rate)
        progress(now - done)
        done = now

    return enhance_file(
        enhancer,
        source,
        target,
        fmt,
        output_rate,
        advanced,
        strength=strength,
        lowpass_hz=lowpass_hz,
    )


def read(path: Path) -> tuple[np.ndarray, int]:
    """Decode ``path`` as the enhancer does: float32 ``[samples, channels]`` and its rate."""
    return read_audio(path)


def write_pcm(path: Path, samples: np.ndarray, rate: int) -> None:
    """Write 16-bit WAV (the page's copy of the decoded input, for listening)."""
    write_audio(path, samples, rate)
