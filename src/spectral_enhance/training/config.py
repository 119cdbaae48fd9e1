"""Training settings (section 3.3), kept free of PyTorch so the command line starts fast."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["TrainConfig", "default_loss", "lr_at"]


WAVEFORM = ("audiounet", "tfilm", "wavenet")
"""The waveform baselines' architectures."""


def _setting(
    default: object, help: str, minimum: float | None = None, archs: tuple[str, ...] = ()
) -> object:
    """A field with its ``--help`` text, the least value the command line accepts and the
    architectures it is for (none: all), so a setting another takes no part of is refused."""
    return field(default=default, metadata={"help": help, "minimum": minimum, "archs": archs})


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; defaults are the paper's (section 3.3) where it gives them.

    Each field's ``help`` metadata is what ``spectral-enhance train --help`` shows.
    """

    arch: str = _setting(
        "spectral",
        "spectral (the paper's model), band (the full-band model, issue 12) or a waveform "
        "baseline: audiounet, tfilm, wavenet",
    )
    n_blocks: int = _setting(
        1, "N, separable blocks (section 3.1; spectral and band)", 1, ("spectral", "band")
    )
    residual: bool = _setting(True, "predict a correction added to the input", None, ("spectral",))
    loss: str = _setting(
        "",
        "weighted sum of pixel, ssim, mse, mae, kl, log_spectral; empty: the architecture's "
        "paper's loss (pixel+0.5*ssim; mse on the waveform for the baselines; band, the only "
        "one --arch band takes)",
    )
    ssim_k1: float = _setting(0.01, "SSIM k1; section 3.2: 0.005 to 0.01", 0)
    ssim_k2: float = _setting(0.03, "SSIM k2; section 3.2: 0.01 to 0.03", 0)
    ssim_max_val: float = _setting(1.0, "SSIM L, on the unit-variance scaled magnitudes", 1e-9)
    lr: float = _setting(1e-3, "Adam learning rate, the cycle's high end", 1e-12)
    lr_floor: float = _setting(1e-4, "the learning-rate cycle's low end", 0)
    lr_decay: float = _setting(5e-4, "per-step decay of the cycle's amplitude (section 3.3)", 0)
    lr_cycle_steps: int = _setting(500, "steps from the cycle's low end to its high end", 1)
    batch_size: int = _setting(32, "clips per step, over all processes", 1)
    epochs: int = _setting(200, "passes over the training clips", 1)
    overshoot: float = _setting(
        1.0,
        "band loss (the full-band model): weight of a rebuilt band louder than the reference, "
        "against 1 for a quieter one",
        0,
        ("band",),
    )
    fine_weight: float = _setting(
        1.0,
        "band loss (the full-band model): weight of the per-bin term against 1 for the "
        "per-band level",
        0,
        ("band",),
    )
    loudness: float = _setting(
        0.0,
        "band loss (the full-band model): compare bands' powers raised to this (about 0.15 to "
        "0.3, loudness) instead of their logs; 0 for logs",
        0,
        ("band",),
    )
    band_width: int = _setting(
        0,
        "band loss (the full-band model): bins per band it judges the level in; 0 for the "
        "model's own bands",
        0,
        ("band",),
    )
    crop_frames: int = _setting(
        128, "frames of the random time crops; 0 for whole clips", 0, ("spectral", "band")
    )
    crop_samples: int = _setting(
        8192, "samples of the waveform baselines' random crops", 1, WAVEFORM
    )
    val_clips: int = _setting(48, "validation clips scored after each epoch; 0 for all", 0)
    seed: int = _setting(0, "seed of the order, the crops and the initialisation", 0)
    max_minutes: float = _setting(0.0, "stop cleanly after this many minutes; 0 for no limit", 0)


PAPER_LOSSES = {"spectral": "pixel+0.5*ssim", "band": "band"}
"""Each architecture's loss in its paper; the waveform baselines (absent here) use ``mse``."""


def default_loss(arch: str) -> str:
    """The loss an architecture's paper trains it with."""
    return PAPER_LOSSES.get(arch, "mse")


def lr_at(step: int, config: TrainConfig) -> float:
    """Triangular cycle between ``lr_floor`` and ``lr`` whose amplitude decays by ``lr_decay``."""
    cycle = step / (2 * config.lr_cycle_steps)
    position = 1.0 - abs(2.0 * (cycle - math.floor(cycle)) - 1.0)
    amplitude = (config.lr - config.lr_floor) * (1.0 - config.lr_decay) ** step
    return config.lr_floor + amplitude * position
