"""Self-describing checkpoints: weights plus everything needed to rebuild the model and its STFT.

A checkpoint is a plain dict saved with ``torch.save`` and loaded with ``weights_only=True`` (no
pickled code), holding ``arch``, ``model_config``, ``stft``, ``recipe``, ``state_dict`` and,
for training runs, ``training`` (optimizer, scheduler, RNG and loop state) and ``metrics``.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..atomic import atomic_path
from . import build_model

__all__ = ["load_checkpoint", "load_model", "make_checkpoint", "save_checkpoint"]


def make_checkpoint(
    arch: str,
    model: nn.Module,
    stft: dict[str, Any],
    recipe: dict[str, Any],
    metrics: dict[str, float] | None = None,
    training: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The checkpoint dict of ``model``: the one place its layout is decided.

    ``model_config`` is the model's complete config, so later changes of defaults cannot change
    what a saved checkpoint means; ``training`` (a run's loop state) is left out when None.
    """
    checkpoint = {
        "arch": arch,
        "model_config": model.config.to_dict(),
        "stft": dict(stft),
        "recipe": dict(recipe),
        "state_dict": model.state_dict(),
        "metrics": dict(metrics or {}),
    }
    if training is not None:
        checkpoint["training"] = training
    return checkpoint


def save_checkpoint(path: str | os.PathLike, checkpoint: dict[str, Any]) -> Path:
    """Write ``checkpoint`` atomically (temporary name, then rename)."""
    path = Path(path)
    with atomic_path(path) as temp:
        torch.save(checkpoint, temp)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint dict without executing pickled code."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    if path.is_dir():
        raise ValueError(f"{path}: a folder, not a checkpoint (a run's best.pt or last.pt)")
    if not zipfile.is_zipfile(path):  # what torch.save has written since 1.6
        raise ValueError(f"{path}: not a checkpoint (not the zip archive torch.save writes)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a file that is not a checkpoint
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{path}: not a spectral-enhance checkpoint ({first})") from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ValueError(f"{path}: not a spectral-enhance checkpoint (no state_dict)")
    return checkpoint


def load_model(
    path: str | os.PathLike, options: dict[str, Any] | None = None
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model of a checkpoint in eval mode; returns it and the checkpoint dict.

    ``options`` override fields of the stored model config (the returned dict carries them);
    one that changes a weight's shape fails here, as the weights no longer fit.
    """
    checkpoint = load_checkpoint(path)
    if options:
        checkpoint["model_config"] = {**checkpoint["model_config"], **options}
    try:
        model = build_model(checkpoint["arch"], checkpoint["model_config"])
    except ValueError as error:  # an option the config refuses: say whose
        raise ValueError(f"{path}: {error}") from None
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as error:
        raise ValueError(f"{path}: the weights do not fit the model config ({error})") from error
    return model.eval(), checkpoint
