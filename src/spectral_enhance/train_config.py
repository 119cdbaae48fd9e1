"""Training settings (section 3.3), kept free of PyTorch so the command line starts fast."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["TrainConfig", "lr_at"]


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; defaults are the paper's (section 3.3) where it gives them."""

    arch: str = "spectral"
    n_blocks: int = 1
    residual: bool = True
    loss: str = "pixel+0.5*ssim"
    ssim_k1: float = 0.01  # section 3.2: between 0.005 and 0.01
    ssim_k2: float = 0.03  # section 3.2: between 0.01 and 0.03
    ssim_max_val: float = 1.0  # L, on the unit-variance scaled magnitudes
    lr: float = 1e-3
    lr_floor: float = 1e-4  # the cycle's low end
    lr_decay: float = 5e-4  # per-step decay of the cycle's amplitude (section 3.3)
    lr_cycle_steps: int = 500  # steps from low to high
    batch_size: int = 32
    epochs: int = 200
    crop_frames: int = 128  # 0 trains on whole clips
    val_clips: int = 48
    seed: int = 0
    max_minutes: float = 0.0  # 0: no time budget


def lr_at(step: int, config: TrainConfig) -> float:
    """Triangular cycle between ``lr_floor`` and ``lr`` whose amplitude decays by ``lr_decay``."""
    cycle = step / (2 * config.lr_cycle_steps)
    position = 1.0 - abs(2.0 * (cycle - math.floor(cycle)) - 1.0)
    amplitude = (config.lr - config.lr_floor) * (1.0 - config.lr_decay) ** step
    return config.lr_floor + amplitude * position
