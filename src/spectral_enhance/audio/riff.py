"""What a RIFF WAVE or Sony Wave64 file's header says of its samples, where FFmpeg does not keep it.

FFmpeg's WAV and W64 demuxers shrink a stream's duration to what the file holds, so a file cut
short (a copy broken off, a recorder that stopped) looks complete. Its ``data`` chunk's size
still says how long it was meant to be. (RF64's, in its ``ds64`` chunk, FFmpeg keeps.) The
other way, bytes past the data chunk that no chunk header names are left unread by every reader,
so they are counted here to be named.
"""

from __future__ import annotations

from typing import BinaryIO

__all__ = ["data_chunk"]

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # what writers that stream, or pass 4 GiB, leave there
_MOST_CHUNKS = 64  # a header walked further than this is not a WAV's
# Wave64 names its chunks by GUIDs: the RIFF ones' four letters, then these twelve bytes.
_W64_TAIL = bytes.fromhex("f3acd3118cd100c04f8edb8a")
_W64_RIFF = b"riff" + bytes.fromhex("2e91cf11a5d628db04c10000")


def data_chunk(handle: BinaryIO) -> tuple[int | None, int]:
    """What a PCM or float RIFF WAVE or Wave64 file's ``data`` chunk says, in one walk of its
    header: the frames its size says it holds (its size over the frame's bytes; None for any
    other file, a compressed WAV (MP3, GSM: sizes of bytes, not frames), or a size left
    unknown), and the bytes past it that begin no chunk: audio its header does not count (a
    size that wrapped past 4 GiB, a writer stopped before it updated it) or junk, which every
    reader (FFmpeg, libsndfile, SoX) leaves unread; 0 where the chunks after its data (a
    ``LIST``, ``id3 ``) reach its end. Reads from the start of ``handle``."""
    found = _data_chunk(handle)
    if found is None:
        return None, 0
    frames, position, (name_bytes, size_bytes, header_in_size, align) = found
    end = handle.seek(0, 2)

    def chunk_size(at: int) -> int | None:
        """The size of a chunk whose header is at ``at``, or None if none is."""
        handle.seek(at)
        header = handle.read(name_bytes + size_bytes)
        size = int.from_bytes(header[name_bytes:], "little") - len(header) * header_in_size
        named = name_bytes == 16 or all(32 <= letter < 127 for letter in header[:4])
        return size if named and 0 <= size <= end - at - len(header) else None

    for _ in range(_MOST_CHUNKS):
        if end - position < name_bytes + size_bytes:
            return frames, 0  # the end, or a pad byte or two
        # a writer that leaves out an odd chunk's pad byte puts the next one a byte early
        for at in (position, position - 1) if align == 2 else (position,):
            if (size := chunk_size(at)) is not None:
                position = at + name_bytes + size_bytes + size + -size % align
                break
        else:
            return frames, end - position
    return frames, 0


def _data_chunk(handle: BinaryIO) -> tuple[int, int, tuple[int, int, bool, int]] | None:
    """A PCM or float WAV's or Wave64's ``data`` chunk: its frames, where the bytes after it
    start, and the file's chunk layout (name and size bytes, whether a size counts its own
    header, the padding); None as for :func:`data_chunk`'s frames."""
    handle.seek(0)
    head = handle.read(40)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        # chunks: 4 letters, a 32-bit size of what follows, padded to 2 bytes
        layout, position = (4, 4, False, 2), 12
    elif head[:16] == _W64_RIFF and head[24:40] == b"wave" + _W64_TAIL:
        # chunks: a GUID, a 64-bit size that counts its own 24-byte header, padded to 8 bytes
        layout, position = (16, 8, True, 8), 40
    else:
        return None
    name_bytes, size_bytes, header_in_size, align = layout
    frame_bytes = None
    for _ in range(_MOST_CHUNKS):
        handle.seek(position)
        header = handle.read(name_bytes + size_bytes)
        if len(header) < name_bytes + size_bytes:
            return None
        chunk, size = header[:4], int.from_bytes(header[name_bytes:], "little")
        if name_bytes == 16 and header[4:16] != _W64_TAIL:
            chunk = b""  # a Wave64 chunk of its own kind
        if header_in_size:
            if size < len(header):
                return None
            size -= len(header)
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
            return size // frame_bytes, position + len(header) + size + -size % align, layout
        position += len(header) + size + -size % align
    return None
