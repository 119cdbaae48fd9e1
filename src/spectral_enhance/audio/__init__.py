"""Audio in and out: the input module (:mod:`.read`, over opening and probing a file,
:mod:`.probe`, and the packet-level decode loop, :mod:`.packets`) and excerpts of a file
(:mod:`.excerpts`), the MP3 format's gapless facts (:mod:`.mp3`), the output writer
(:mod:`.write`) and finding files (:mod:`.files`).

Names are loaded from their module on first use (PEP 562), so that importing a light module
of this package (:mod:`.formats`, for the command line's help) loads no numpy.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "AudioError": "probe",
    "AudioInfo": "probe",
    "AudioReader": "read",
    "Decoded": "read",
    "PacketSizes": "packets",
    "StreamResampler": "rates",
    "decode": "read",
    "is_lossless": "probe",
    "is_mp3": "probe",
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
