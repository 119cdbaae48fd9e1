"""Speakers as FFmpeg names them, in the order a channel mask holds them
(WAVE_FORMAT_EXTENSIBLE's, and FFmpeg's native layouts'): one table for the reader, which keeps
a layout only where that order can say it, and for the writer, which writes the mask."""

from __future__ import annotations

__all__ = ["MASK_SPEAKERS", "channel_mask"]

# The speakers a channel mask has a bit for, in the bits' order: FFmpeg's name, and libsndfile's
# SF_CHANNEL_MAP_* (sndfile.h) for it.
MASK_SPEAKERS = (
    ("FL", 2), ("FR", 3), ("FC", 4), ("LFE", 11), ("BL", 9), ("BR", 10), ("FLC", 12),
    ("FRC", 13), ("BC", 8), ("SL", 14), ("SR", 15), ("TC", 16), ("TFL", 17), ("TFC", 19),
    ("TFR", 18), ("TBL", 20), ("TBC", 22), ("TBR", 21),
)  # fmt: skip
_MASK_BITS = tuple(name for name, _ in MASK_SPEAKERS)


def channel_mask(speakers: tuple[str, ...]) -> int | None:
    """The channel mask of ``speakers`` (FFmpeg's names, in the file's order), or None where a
    mask cannot say them: a speaker it has no bit for, or channels out of the bits' order."""
    bits = [_MASK_BITS.index(name) if name in _MASK_BITS else -1 for name in speakers]
    if not bits or min(bits) < 0 or bits != sorted(set(bits)):
        return None
    return sum(1 << bit for bit in bits)
