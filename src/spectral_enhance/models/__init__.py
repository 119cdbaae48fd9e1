"""Model registry: architecture name -> (model class, config dataclass).

Every model says how it runs through the same class attributes: ``domain`` (``spectrum`` or
``waveform``), ``reach`` (frames or samples on each side one output depends on),
``length_multiple``, ``takes_lowpass`` (the input's low-pass is its second input),
``noise_band_bins`` (a told model returns its band's amplitude per band of so many bins, which
the enhancer lays over noise; 0: it returns the spectrum), ``prior_frames`` and
``prior_band_bins`` (its graph takes the tilt rule's envelope, `dsp.bands.band_prior`, over so
many frames and in bands of so many bins, as its last input; 0: none), ``calm`` and
``calm_frames`` (the enhancer keeps this share of the rebuilt band's swing about its course
over so many frames, `dsp.bands.calm_band`; 1: all of it), ``holes_frames`` (the enhancer
fills the codec's holes under the low-pass, each band judged over so many frames,
`dsp.holes.hole_scale`; 0: it leaves them),
``joint_channels`` (a file's channels must go through it together, as one batch; such a model
has ``link_channels`` too, which training turns off, its batches holding different clips) and
``stft`` (its `StftConfig`, None for waveforms). Nothing else asks what kind of model it holds.

A checkpoint stores the architecture name and ``config.to_dict()``; `build_model` rebuilds the
model from those two alone, so loading needs nothing remembered.
"""

from __future__ import annotations

from torch import nn

from spectral_enhance.models.bandwidth import BandConfig, BandExtender, BandScale
from spectral_enhance.models.spectral import (
    SeparableBlock,
    SeparableConv2d,
    SpectralAutoencoder,
    SpectralConfig,
    count_parameters,
    float32_bytes,
    unit_variance_scale,
)
from spectral_enhance.models.waveform import (
    UNBOUNDED,
    AudioUNet,
    AudioUNetConfig,
    TemporalFiLM,
    TFiLM,
    TFiLMConfig,
    WaveNet,
    WaveNetConfig,
    pixel_shuffle_1d,
)

__all__ = [
    "ARCHITECTURES",
    "UNBOUNDED",
    "AudioUNet",
    "AudioUNetConfig",
    "BandConfig",
    "BandExtender",
    "BandScale",
    "SeparableBlock",
    "SeparableConv2d",
    "SpectralAutoencoder",
    "SpectralConfig",
    "TFiLM",
    "TFiLMConfig",
    "TemporalFiLM",
    "WaveNet",
    "WaveNetConfig",
    "build_model",
    "count_parameters",
    "exported_graph",
    "float32_bytes",
    "pixel_shuffle_1d",
    "unit_variance_scale",
]

ARCHITECTURES: dict[str, tuple[type[nn.Module], type]] = {
    "spectral": (SpectralAutoencoder, SpectralConfig),
    "band": (BandExtender, BandConfig),
    "audiounet": (AudioUNet, AudioUNetConfig),
    "tfilm": (TFiLM, TFiLMConfig),
    "wavenet": (WaveNet, WaveNetConfig),
}


def build_model(arch: str, config: dict) -> nn.Module:
    """Build the architecture ``arch`` from a config dict (as written by ``Config.to_dict()``).

    The config class must offer ``from_dict``; the model keeps the config as ``model.config``.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {sorted(ARCHITECTURES)}")
    model_cls, config_cls = ARCHITECTURES[arch]
    return model_cls(config_cls.from_dict(config))


def exported_graph(model: nn.Module) -> nn.Module:
    """What the model's ONNX graph computes: the model itself, or a noise-filling model's band
    amplitudes (`BandScale`; ``noise_band_bins``), which the enhancer lays over noise. Export
    writes it, and the torch backend runs it in the graph's place."""
    return BandScale(model) if model.noise_band_bins else model
