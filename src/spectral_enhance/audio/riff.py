"""What a RIFF WAVE file's header says of its samples, read where FFmpeg does not keep it.

FFmpeg's WAV demuxer shrinks a stream's duration to what the file holds, so a WAV cut short (a
copy broken off, a recorder that stopped) looks complete. Its ``data`` chunk's size still says
how long it was meant to be.
"""

from __future__ import annotations

from typing import BinaryIO

__all__ = ["data_frames"]

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # what writers that stream, or pass 4 GiB, leave there
_MOST_CHUNKS = 64  # a header walked further than this is not a WAV's


def data_frames(handle: BinaryIO) -> int | None:
    """Frames the ``data`` chunk of a PCM or float RIFF WAVE file says it holds (its size over
    the frame's bytes); None for any other file, a compressed WAV (MP3, GSM: sizes of bytes,
    not frames), or a size left unknown. Reads from the start of ``handle``."""
    handle.seek(0)
    riff = handle.read(12)
    if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:] != b"WAVE":
        return None
    frame_bytes, position = None, 12
    for _ in range(_MOST_CHUNKS):
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            return None
        chunk, size = header[:4], int.from_bytes(header[4:], "little")
        if chunk == b"fmt ":
            fmt = handle.read(min(size, 26))
            tag = int.from_bytes(fmt[:2], "little")
            if tag == _EXTENSIBLE and len(fmt) >= 26:
                tag = int.from_bytes(fmt[24:26], "little")  # the sub-format's first two bytes
            if tag not in (_PCM, _FLOAT) or len(fmt) < 14:
                return None
            frame_bytes = int.from_bytes(fmt[12:14], "little")  # the block align
        elif chunk == b"data":
            if not frame_bytes or size in _UNKNOWN_SIZES:
                return None
            return size // frame_bytes
        position += 8 + size + (size & 1)
    return None
