"""What every model says about how it runs, in one set of class attributes with their defaults.

The enhancer, export and training read these and nothing else to know what kind of model they
hold: ``domain`` (``spectrum`` or ``waveform``), ``reach`` (frames or samples on each side one
output depends on), ``length_multiple``, ``takes_lowpass`` (the input's low-pass is its second
input), ``noise_band_bins`` (a told model returns its band's amplitude per band of so many bins,
which the enhancer lays over noise; 0: it returns the spectrum), ``prior_frames`` and
``prior_band_bins`` (its graph takes the tilt rule's envelope, `dsp.tilt.band_prior`, over so
many frames and in bands of so many bins, as its last input; 0: none), ``calm`` and
``calm_frames`` (the enhancer keeps this share of the rebuilt band's swing about its course
over so many frames, `dsp.band_level.calm_band`; 1: all of it), ``holes_frames`` (the enhancer
fills the codec's holes under the low-pass, each band judged over so many frames,
`dsp.holes.hole_scale`; 0: it leaves them), ``joint_channels`` (a file's channels must go
through it together, as one batch; such a model has ``link_channels`` too, which training turns
off, its batches holding different clips) and ``stft`` (its `StftConfig`, None for waveforms).
The inference side reads them from a model's card as a
`spectral_enhance.inference.card.BlockRule`, under the same names but ``reach`` (its
``context``); the defaults are that rule's, written there alone.
"""

from __future__ import annotations

from torch import nn

from ..dsp.stft import StftConfig
from ..inference.card import BlockRule

__all__ = ["EnhancementModel"]


class EnhancementModel(nn.Module):
    """A model of the package: the defaults are a spectrum-to-spectrum model that is told
    nothing and changes the whole band; each architecture overrides what differs, and gives
    ``reach``."""

    # `BlockRule`'s defaults (a dataclass keeps each field's default as its class attribute)
    domain: str = BlockRule.domain
    length_multiple: int = BlockRule.length_multiple
    takes_lowpass: bool = BlockRule.takes_lowpass
    noise_band_bins: int = BlockRule.noise_band_bins
    prior_frames: int = BlockRule.prior_frames
    prior_band_bins: int = BlockRule.prior_band_bins
    calm: float = BlockRule.calm
    calm_frames: int = BlockRule.calm_frames
    holes_frames: int = BlockRule.holes_frames
    joint_channels: bool = BlockRule.joint_channels
    stft: StftConfig | None = None

    @property
    def reach(self) -> int:
        """Frames (spectrum) or samples (waveform) on each side that one output depends on."""
        raise NotImplementedError
