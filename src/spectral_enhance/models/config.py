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
        """Inverse of `to_dict`; missing keys take their defaults; unknown keys, and values not
        of their default's kind (``latent=abc``, ``latent=2.5``), raise ValueError."""
        defaults = {f.name: f.default for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(defaults))
        if unknown:
            raise ValueError(f"unknown {cls.__name__} keys {unknown}; known: {sorted(defaults)}")
        for key, value in data.items():
            if (kind := _kind(defaults[key])) and not _is_kind(value, kind):
                raise ValueError(f"{cls.__name__} {key} must be {_NOUNS[kind]}, not {value!r}")
        return cls(**data)


_NOUNS = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}


def _kind(default: object) -> type | None:
    """The kind a field's values must be, by its default (None: any, as for a None default)."""
    return next((kind for kind in _NOUNS if type(default) is kind), None)


def _is_kind(value: object, kind: type) -> bool:
    if kind is float:  # a whole number is a number too
        return type(value) in (int, float)
    return type(value) is kind
