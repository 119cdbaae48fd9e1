"""The output formats the writer knows, as plain data: the command line reads them without
loading numpy or libsndfile."""

from __future__ import annotations

__all__ = ["BIT_DEPTHS", "DEFAULT_DEPTH", "FORMATS"]

# Output formats: libsndfile name, file suffix, sample formats by bit depth.
FORMATS = {
    "wav": ("WAV", ".wav", {"16": "PCM_16", "24": "PCM_24", "32": "PCM_32", "float": "FLOAT"}),
    "flac": ("FLAC", ".flac", {"16": "PCM_16", "24": "PCM_24"}),
}
DEFAULT_DEPTH = {"wav": "float", "flac": "24"}
BIT_DEPTHS = ("16", "24", "32", "float")
