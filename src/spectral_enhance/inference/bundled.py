"""Where models are found: the ones shipped inside the package, and paths the user names.

Kept free of numpy and ONNX Runtime, so that ``spectral-enhance --help`` can list the bundled
models without loading either.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CARD_NAME", "DEFAULT_MODEL", "PRECISIONS", "PRETRAINED", "bundled_models", "find_model"]

PRETRAINED = Path(__file__).parents[1] / "pretrained"  # beside the stages, as package data
DEFAULT_MODEL = "full-band"
CARD_NAME = "card.json"  # the model card in each export folder
PRECISIONS = ("fp32", "fp16", "int8")  # the ONNX files an export folder may hold


def bundled_models() -> list[str]:
    """Names of the models shipped inside the package."""
    if not PRETRAINED.is_dir():
        return []
    return sorted(p.name for p in PRETRAINED.iterdir() if (p / CARD_NAME).exists())


def find_model(model: str | os.PathLike) -> Path:
    """Resolve a bundled model name, an export folder, or a checkpoint/ONNX file to a path."""
    if str(model) in bundled_models():
        return PRETRAINED / str(model)
    path = Path(model)
    if path.is_dir() or (path.is_file() and path.suffix.lower() in (".onnx", ".pt")):
        return path
    if path.exists():
        raise ValueError(
            f"{model}: not a model (a bundled name, an export folder, an .onnx file beside its "
            "card.json, or a .pt checkpoint)"
        )
    known = ", ".join(bundled_models()) or "none"
    name, _, precision = str(model).rpartition("@")
    if name and (name in bundled_models() or Path(name).exists()):  # evaluate's NAME@PRECISION
        raise FileNotFoundError(
            f"{model}: no such model file or folder (its precision is an option here: "
            f"--model {name} --precision {precision})"
        )
    raise FileNotFoundError(f"{model}: no such model file or folder (bundled models: {known})")
