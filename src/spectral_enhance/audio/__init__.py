"""Audio in and out: the input module (:mod:`.read`) and excerpts of a file (:mod:`.excerpts`),
the MP3 format's gapless facts (:mod:`.mp3`), the output writer (:mod:`.write`) and finding files
(:mod:`.files`).

Names are loaded from their module on first use (PEP 562), so that importing a light module
of this package (:mod:`.formats`, for the command line's help) loads no numpy.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "AudioError": "read",
    "AudioInfo": "read",
    "AudioReader": "read",
    "Decoded": "read",
    "PacketSizes": "read",
    "StreamResampler": "rates",
    "decode": "read",
    "is_lossless": "read",
    "is_mp3": "read",
    "open_audio": "read",
    "read_audio": "read",
    "Excerpts": "excerpts",
    "read_excerpts": "excerpts",
    "resample": "rates",
    "resampled_length": "rates",
    "to_mono": "rates",
    "AUDIO_EXTENSIONS": "files",
    "find_audio": "files",
    "audio_writer": "write",
    "write_audio": "write",
    "float_frames": "arrays",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
