"""The paper's degradation recipe (section 2.1): paired 128 kbps / 32 kbps MP3 audio.

A track is made mono at 22,050 Hz, encoded with LAME at 128 kbps (decoded, the target "high"),
and that 128 kbps audio is encoded again at 32 kbps (decoded, the input "low"). Both decodes are
gapless, so the pair is aligned to the sample.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .audio import decode, resample, to_mono
from .audio.mp3 import encode_mp3

__all__ = ["DegradationRecipe", "degrade"]


@dataclass(frozen=True)
class DegradationRecipe:
    """Settings of the recipe; defaults are the paper's.

    ``cutoff_hz`` is where LAME's 32 kbps low-pass sits for 22,050 Hz mono (REFERENCE-NOTES.md):
    the band above it is what a model must rebuild, and what ``lsd_high`` scores.
    """

    sample_rate: int = 22050
    high_bitrate: int = 128
    low_bitrate: int = 32
    cutoff_hz: float = 8270.0

    def to_dict(self) -> dict:
        """Plain dict for manifests, checkpoints and model cards."""
        return asdict(self)


def transcode(samples: np.ndarray, sample_rate: int, bitrate: int) -> np.ndarray:
    """Encode to MP3 at ``bitrate`` kbps and decode again, aligned and of the same length."""
    decoded = decode(encode_mp3(samples, sample_rate, bitrate)).samples
    return decoded[:, 0] if samples.ndim == 1 else decoded


def degrade(
    samples: np.ndarray, sample_rate: int, recipe: DegradationRecipe = DegradationRecipe()
) -> tuple[np.ndarray, np.ndarray]:
    """Make the (low, high) pair of a track: mono float32 ``[samples]`` at ``recipe.sample_rate``.

    ``samples``: ``[samples]`` or ``[samples, channels]`` at ``sample_rate``.
    """
    mono = resample(to_mono(np.asarray(samples, dtype=np.float32)), sample_rate, recipe.sample_rate)
    mono = np.clip(mono, -1.0, 1.0)
    high = transcode(mono, recipe.sample_rate, recipe.high_bitrate)
    low = transcode(high, recipe.sample_rate, recipe.low_bitrate)
    return low, high
