"""Sample-exact MP3 encoding (LAME through ``lameenc``) and gapless decoding (libsndfile).

An MP3 decodes later and longer than what was encoded: LAME delays the signal by 576 samples
and the decoder by 529 more, and the last frame is padded. Gapless players read the delay and the
padding from the LAME tag of the first ("Info") frame. ``lameenc`` writes no such frame, so
:func:`encode_mp3` adds one; :func:`decode_mp3` reads it back and trims the decoded samples,
whether or not the decoder underneath already did. Files without a LAME tag are trimmed by the
usual LAME encoder delay plus the decoder delay (1,105 samples) and keep their padded tail.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lameenc
import numpy as np
import soundfile as sf

__all__ = [
    "DECODER_DELAY",
    "ENCODER_DELAY",
    "GaplessInfo",
    "decode_mp3",
    "encode_mp3",
    "gapless_span",
    "quiet_decoder",
    "read_gapless_info",
]

ENCODER_DELAY = 576  # LAME's delay for input at its output rate (lame_get_encoder_delay)
DECODER_DELAY = 529  # the MP3 synthesis filterbank's delay, added by every decoder

# Bitrates (kbps) by header index, for MPEG-1 and MPEG-2/2.5 layer III.
_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class _Frame:
    """One layer III frame header."""

    offset: int
    version_bits: int  # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
    sample_rate: int
    bitrate: int  # kbps
    mono: bool
    padding: int
    size: int

    @property
    def samples(self) -> int:
        return 1152 if self.version_bits == 3 else 576

    @property
    def side_info(self) -> int:
        if self.version_bits == 3:
            return 17 if self.mono else 32
        return 9 if self.mono else 17


@dataclass(frozen=True)
class GaplessInfo:
    """Encoder delay and padding from a LAME tag, and the audio frames it counts."""

    delay: int
    padding: int
    frames: int
    samples_per_frame: int

    @property
    def length(self) -> int:
        """Samples of the original signal."""
        return self.frames * self.samples_per_frame - self.delay - self.padding


def _parse_header(data: bytes, offset: int) -> _Frame | None:
    if offset + 4 > len(data):
        return None
    b1, b2, b3 = data[offset + 1], data[offset + 2], data[offset + 3]
    if data[offset] != 0xFF or (b1 & 0xE0) != 0xE0:
        return None
    version_bits, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if version_bits == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _BITRATES[1 if version_bits == 3 else 2][bitrate_index]
    sample_rate = _SAMPLE_RATES[version_bits][rate_index]
    padding = (b2 >> 1) & 1
    coefficient = 144 if version_bits == 3 else 72
    size = coefficient * bitrate * 1000 // sample_rate + padding
    return _Frame(offset, version_bits, sample_rate, bitrate, (b3 >> 6) == 3, padding, size)


def _skip_id3(data: bytes) -> int:
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] & 127) << 21 | (data[7] & 127) << 14 | (data[8] & 127) << 7 | data[9] & 127
        return 10 + size + (10 if data[5] & 0x10 else 0)
    return 0


def _frames(data: bytes) -> list[_Frame]:
    """Walk the frames of an MP3 stream (after any ID3v2 tag) until the first break."""
    offset = _skip_id3(data)
    frames = []
    while (frame := _parse_header(data, offset)) is not None and frame.size > 0:
        frames.append(frame)
        offset += frame.size
    return frames


@contextlib.contextmanager
def quiet_decoder(active: bool = True) -> Iterator[None]:
    """Silence what libmpg123 prints on the C standard error while decoding.

    It reports recoverable stream problems (a bit reservoir a decoder cannot reach, a resync)
    there directly, which would garble a command's own output; real failures still raise.
    """
    if not active:
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def read_gapless_info(data: bytes) -> GaplessInfo | None:
    """LAME tag of an MP3 stream's first frame, or None if the stream has no Xing/Info tag."""
    frames = _frames(data[:65536])
    if not frames:
        return None
    first = frames[0]
    pos = first.offset + 4 + first.side_info
    tag = data[pos : pos + 4]
    if tag not in (b"Xing", b"Info"):
        return None
    (flags,) = struct.unpack(">I", data[pos + 4 : pos + 8])
    count = None
    pos += 8
    if flags & 1:
        (count,) = struct.unpack(">I", data[pos : pos + 4])
        pos += 4
    pos += 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    lame = data[pos : pos + 36]
    if count is None or len(lame) < 24:
        return None
    delay = lame[21] << 4 | lame[22] >> 4
    padding = (lame[22] & 15) << 8 | lame[23]
    return GaplessInfo(delay, padding, count, first.samples)


def _crc16(data: bytes) -> int:
    """CRC-16 (polynomial 0x8005, reflected) as LAME computes its tag checksum."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _info_frame(audio: bytes, delay: int, num_samples: int) -> bytes:
    """A silent first frame holding an Info tag and a LAME tag with the delay and padding."""
    frames = _frames(audio)
    first = frames[0]
    padding = len(frames) * first.samples - delay - num_samples
    needed = 4 + first.side_info + 4 + 4 + 4 + 4 + 100 + 4 + 36
    table = _BITRATES[1 if first.version_bits == 3 else 2]
    coefficient = 144 if first.version_bits == 3 else 72
    index = next(
        i for i in range(1, 15) if coefficient * table[i] * 1000 // first.sample_rate >= needed
    )
    size = coefficient * table[index] * 1000 // first.sample_rate
    header = bytearray(audio[first.offset : first.offset + 4])
    header[1] |= 1  # no CRC
    header[2] = (index << 4) | (header[2] & 0x0C)  # new bitrate, same rate, no padding bit
    total_bytes = size + len(audio)
    toc = bytes(min(255, i * 256 // 100) for i in range(100))
    body = bytearray(header) + bytes(first.side_info)
    body += b"Info" + struct.pack(">III", 0x0F, len(frames), total_bytes) + toc
    body += struct.pack(">I", 0)  # quality
    lame = bytearray(b"LAME3.100" + bytes(27))
    lame[9] = 0x01  # tag revision 0, CBR
    lame[21:24] = bytes([delay >> 4, (delay & 15) << 4 | padding >> 8, padding & 255])
    body += lame
    struct.pack_into(">H", body, len(body) - 2, _crc16(bytes(body[:-2])))
    return bytes(body) + bytes(size - len(body))


def encode_mp3(samples: np.ndarray, sample_rate: int, bitrate: int, quality: int = 2) -> bytes:
    """Encode float samples in [-1, 1] as constant-bitrate MP3 with a gapless LAME tag.

    ``samples``: ``[samples]`` or ``[samples, channels]``. The output rate is the input rate
    (LAME would otherwise resample low bitrates), so the encoder delay is exactly 576.
    """
    samples = np.asarray(samples, dtype=np.float32)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    pcm = np.round(np.clip(samples, -1.0, 32767 / 32768) * 32768).astype("<i2")
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_out_sample_rate(sample_rate)
    encoder.set_channels(channels)
    encoder.set_quality(quality)
    audio = bytes(encoder.encode(pcm.tobytes()) + encoder.flush())
    if not _frames(audio):
        raise ValueError(f"LAME produced no MP3 frames for {len(samples)} samples")
    return _info_frame(audio, ENCODER_DELAY, len(samples)) + audio


def gapless_span(info: GaplessInfo | None, decoded: int) -> tuple[int, int]:
    """Where the encoded signal lies in a decode of ``decoded`` samples: (start, length).

    With a tag the decoder may already have trimmed (then the decode is exactly the original
    length); without one, the standard LAME + decoder delay is skipped and the tail kept.
    """
    if info is None:
        start = ENCODER_DELAY + DECODER_DELAY
        return start, max(0, decoded - start)
    if decoded == info.length:
        return 0, decoded
    return info.delay + DECODER_DELAY, info.length


def decode_mp3(source: str | os.PathLike | bytes) -> tuple[np.ndarray, int]:
    """Decode an MP3 to float32 ``[samples, channels]`` aligned with what was encoded.

    With a LAME tag, the result is the original length and lag; without one, the standard
    1,105-sample LAME + decoder delay is removed and the padded tail kept.
    """
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    samples, sample_rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    start, length = gapless_span(read_gapless_info(data), len(samples))
    trimmed = samples[start : start + length]
    if len(trimmed) < length:
        trimmed = np.pad(trimmed, ((0, length - len(trimmed)), (0, 0)))
    return trimmed, sample_rate
