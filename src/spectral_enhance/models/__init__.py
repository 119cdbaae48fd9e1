"""Model registry: architecture name -> (model class, config dataclass).

Every model says how it runs through the same class attributes, `EnhancementModel`'s
(:mod:`spectral_enhance.models.interface`); nothing else asks what kind of model it holds.

A checkpoint stores the architecture name and ``config.to_dict()``; `build_model` rebuilds the
model from those two alone, so loading needs nothing remembered.
"""

from __future__ import annotations

from torch import nn

from spectral_enhance.models.bandwidth import BandConfig, BandExtender, BandScale
from spectral_enhance.models.interface import EnhancementModel
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
    "EnhancementModel",
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

ARCHITECTURES: dict[str, tuple[type[EnhancementModel], type]] = {
    "spectral": (SpectralAutoencoder, SpectralConfig),
    "band": (BandExtender, BandConfig),
    "audiounet": (AudioUNet, AudioUNetConfig),
    "tfilm": (TFiLM, TFiLMConfig),
    "wavenet": (WaveNet, WaveNetConfig),
}


def build_model(arch: str, config: dict) -> EnhancementModel:
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
