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
The inference side's copy of them, under the same names but ``reach`` (its ``context``), is
`spectral_enhance.inference.card.BlockRule`.
"""

from __future__ import annotations

from torch import nn

from ..dsp.stft import StftConfig

__all__ = ["EnhancementModel"]


class EnhancementModel(nn.Module):
    """A model of the package: the defaults are a spectrum-to-spectrum model that is told
    nothing and changes the whole band; each architecture overrides what differs, and gives
    ``reach``."""

    domain: str = "spectrum"
    length_multiple: int = 1
    takes_lowpass: bool = False
    noise_band_bins: int = 0
    prior_frames: int = 0
    prior_band_bins: int = 0
    calm: float = 1.0
    calm_frames: int = 1
    holes_frames: int = 0
    joint_channels: bool = False
    stft: StftConfig | None = None

    @property
    def reach(self) -> int:
        """Frames (spectrum) or samples (waveform) on each side that one output depends on."""
        raise NotImplementedError
