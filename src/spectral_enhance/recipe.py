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

__all__ = ["LAME_CUTOFF_HZ", "DegradationRecipe", "degrade", "lame_cutoff_hz"]

# LAME's low-pass on mono input, by sample rate (Hz) and bitrate (kbps): where white noise,
# encoded and decoded, falls 6 dB below its level at 0.5 to 3 kHz (8,192-point spectra, rounded
# to 10 Hz; lameenc 1.9.0). Above 32 kbps at 22,050 Hz it is LAME's fixed 10 kHz.
LAME_CUTOFF_HZ = {
    22050: {8: 3070.0, 16: 5390.0, 24: 5860.0, 32: 8270.0, 40: 9980.0, 48: 9980.0}
    | dict.fromkeys((56, 64), 9990.0)
    | dict.fromkeys((80, 96, 112, 128, 144, 160), 10000.0),
}


def lame_cutoff_hz(sample_rate: int, bitrate: int) -> float:
    """Where LAME's low-pass cuts mono audio at ``bitrate`` kbps and ``sample_rate`` Hz."""
    try:
        return LAME_CUTOFF_HZ[sample_rate][bitrate]
    except KeyError:
        known = "; ".join(
            f"{r:,} Hz: {', '.join(map(str, b))} kbps" for r, b in LAME_CUTOFF_HZ.items()
        )
        raise ValueError(
            f"no measured LAME cutoff for {bitrate} kbps at {sample_rate:,} Hz (known: {known}); "
            "give the cutoff in Hz"
        ) from None


@dataclass(frozen=True)
class DegradationRecipe:
    """Settings of the recipe; defaults are the paper's.

    ``cutoff_hz`` is where LAME's low-pass at ``low_bitrate`` sits (8,270 Hz at 32 kbps and
    22,050 Hz): the band above it is what a model must rebuild, and what ``lsd_high`` scores.
    Left at 0 it is taken from `LAME_CUTOFF_HZ`, so it follows the bitrate.
    """

    sample_rate: int = 22050
    high_bitrate: int = 128
    low_bitrate: int = 32
    cutoff_hz: float = 0.0

    def __post_init__(self) -> None:
        if not self.cutoff_hz:
            cutoff = lame_cutoff_hz(self.sample_rate, self.low_bitrate)
            object.__setattr__(self, "cutoff_hz", cutoff)  # frozen: set once, here

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
