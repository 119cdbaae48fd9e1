"""What every model's config shares: a plain dict for checkpoints, and back."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Self

__all__ = ["ModelConfig"]


class ModelConfig:
    """Mixin for the frozen config dataclasses of the models: ``to_dict`` and ``from_dict``."""

    def to_dict(self) -> dict:
        """Plain dict for checkpoints and model cards."""
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict) -> Self:
        """Inverse of `to_dict`; missing keys take their defaults, unknown keys raise ValueError."""
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} keys {unknown}; known: {sorted(known)}")
        return cls(**data)
