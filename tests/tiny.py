"""A tiny untrained model, saved as a checkpoint and exported, for inference and CLI tests."""

from __future__ import annotations

from pathlib import Path

import torch

from spectral_enhance.dataset.recipe import DegradationRecipe
from spectral_enhance.dsp.stft import StftConfig
from spectral_enhance.models import build_model
from spectral_enhance.models.checkpoint import make_checkpoint, save_checkpoint


def tiny_checkpoint(path: Path, identity: bool = False, n_blocks: int = 1, seed: int = 0) -> Path:
    """A residual model with 8 latent channels; ``identity`` leaves it as built (output = input)."""
    torch.manual_seed(seed)
    config = {"n_blocks": n_blocks, "latent": 8, "residual": True, "scale": 0.1}
    model = build_model("spectral", config)
    if not identity:
        with torch.no_grad():
            model.last_layer.pointwise.weight.normal_(0.0, 0.05)
            for block in model.blocks:
                block.activation.weight.fill_(0.25)
    return save_checkpoint(path, _checkpoint("spectral", model))


TINY_WAVEFORM = {
    "audiounet": {"depth": 2, "base_filters": 4, "max_filters": 8, "first_kernel_size": 9},
    "tfilm": {
        "depth": 2,
        "base_filters": 4,
        "max_filters": 8,
        "first_kernel_size": 9,
        "block_size": 4,
    },
    "wavenet": {"residual_channels": 6, "skip_channels": 6, "layers": 4},
}


def tiny_waveform_checkpoint(path: Path, arch: str, seed: int = 0, identity: bool = False) -> Path:
    """An untrained waveform baseline with a few channels, its output layer made audible.

    ``identity`` zeroes the output layer instead, so the model returns its input exactly.
    """
    torch.manual_seed(seed)
    model = build_model(arch, TINY_WAVEFORM[arch])
    with torch.no_grad():
        if identity:
            model.last_layer.weight.zero_()
            model.last_layer.bias.zero_()
        else:
            model.last_layer.weight.normal_(0.0, 0.5)
    return save_checkpoint(path, _checkpoint(arch, model))


def tiny_band_checkpoint(
    path: Path, seed: int = 0, options: dict | None = None, untrained: bool = False
) -> Path:
    """A full-band model (8 latent channels, ``options`` on its config) whose band is audible:
    44.1 kHz stereo, five bitrates, as issue 12's datasets. ``untrained``: its blocks left
    adding nothing, as built."""
    torch.manual_seed(seed)
    model = build_model("band", {"latent": 8, **(options or {})})
    if not untrained:
        with torch.no_grad():
            for block in model.blocks:
                block.from_latent.pointwise.weight.normal_(0.0, 0.05)
    recipe = DegradationRecipe(44100, 0, bitrates=(32, 48, 64, 96, 128), channels=2, lame_rate=True)
    checkpoint = make_checkpoint("band", model, model.stft.to_dict(), recipe.to_dict())
    return save_checkpoint(path, checkpoint)


def _checkpoint(arch: str, model) -> dict:
    return make_checkpoint(arch, model, StftConfig().to_dict(), DegradationRecipe().to_dict())


def tiny_dataset(root: Path, tracks: int = 6, seconds: float = 2.0) -> Path:
    """A dataset of short clips (20,000 samples) from generated stereo tracks."""
    import soundfile as sf

    from conftest import music
    from spectral_enhance.dataset.build import DatasetConfig, build_dataset

    source = root / "music"
    source.mkdir(parents=True, exist_ok=True)
    for i in range(tracks):
        sf.write(source / f"track{i}.flac", music(seconds, 44100, channels=2, seed=i), 44100)
    build_dataset([source], root / "dataset", DatasetConfig(clip_samples=20_000), progress=False)
    return root / "dataset"


def tiny_full_band_dataset(
    root: Path, tracks: int = 3, bitrates: tuple[int, ...] = (32, 64)
) -> Path:
    """Issue 12's kind of dataset: 44.1 kHz stereo, LAME's own rate, one low clip per bitrate of
    each 20,000-sample window, the source as the reference; from 1 s generated stereo tracks."""
    import soundfile as sf

    from conftest import music
    from spectral_enhance.dataset.build import DatasetConfig, build_dataset

    source = root / "music"
    source.mkdir(parents=True, exist_ok=True)
    for i in range(tracks):
        sf.write(source / f"track{i}.flac", music(1.0, 44100, channels=2, seed=i), 44100)
    recipe = DegradationRecipe(44100, None, bitrates=bitrates, channels=2, lame_rate=True)
    config = DatasetConfig(clip_samples=20_000, recipe=recipe)
    build_dataset([source], root / "dataset", config, progress=False)
    return root / "dataset"


def overfit(model, x, target, steps: int = 100, lr: float = 2e-2) -> tuple[float, float]:
    """Train ``model`` on one example with Adam; the MSE before and after."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    with torch.no_grad():
        initial = (model(x) - target).pow(2).mean().item()
    for _ in range(steps):
        optimizer.zero_grad()
        (model(x) - target).pow(2).mean().backward()
        optimizer.step()
    with torch.no_grad():
        final = (model(x) - target).pow(2).mean().item()
    return initial, final
