"""The MP3 format's gapless facts: LAME encoding with a tag, and where a decode's signal lies.

An MP3 decodes later and longer than what was encoded: LAME delays the signal by 576 samples
and every decoder by 529 more, and the last frame is padded. Gapless players read the delay and
the padding from the LAME tag of the first ("Info"/"Xing") frame, or from an iTunes
``iTunSMPB`` comment. ``lameenc`` writes no tag, so :func:`encode_mp3` adds one; the rule for
reading them back is :func:`gapless_span`, which :mod:`spectral_enhance.audio.read` applies
to every MP3 it decodes (see its module doc for the whole rule).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import lameenc
import numpy as np

from .arrays import to_integers
from .rates import resampled_length

__all__ = [
    "DECODER_DELAY",
    "ENCODER_DELAY",
    "LAME_CBR_FILTER",
    "LAME_CUTOFF_HZ",
    "LAME_FILTER_HZ",
    "SHINE_DELAY",
    "GaplessInfo",
    "encode_mp3",
    "encoder_lowpass",
    "first_frame_offset",
    "free_format",
    "gapless_span",
    "id3v2_end",
    "lame_cut_hz",
    "lame_rate",
    "mp3_sample_rate",
    "parse_itunsmpb",
    "read_gapless_info",
    "tag_kind",
]

ENCODER_DELAY = 576  # LAME's delay for input at its output rate (lame_get_encoder_delay)
SHINE_DELAY = 528
"""libshine's delay (FFmpeg's ``-c:a libshine``), which FFmpeg's tag leaves at 0: its decodes
lie 48 samples later than LAME's against the source (at 32, 44.1 and 48 kHz, 128 kbps:
``tests/test_decode_matrix.py``)."""
DECODER_DELAY = 529  # the MP3 synthesis filterbank's delay, added by every decoder
HEAD_SCAN = 65536  # bytes after the ID3v2 tags searched for the first frame

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
    """Where the encoded signal lies in a decode: skip ``delay`` + 529 samples, keep ``length``.

    ``source`` says which tag told (``LAME tag``, ``iTunSMPB``, or FFmpeg's libshine tag:
    ``libshine's delay``).
    """

    delay: int
    length: int
    source: str

    @property
    def start(self) -> int:
        """Decoded samples before the signal: the encoder's delay and the decoder's."""
        return self.delay + DECODER_DELAY


def _parse_header(data: bytes, offset: int) -> _Frame | None:
    if offset < 0 or offset + 4 > len(data):
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


def id3v2_end(head: bytes) -> int:
    """Bytes taken by the ID3v2 tags at the start of ``head``: any number, any size.

    The end may lie beyond ``head``: the caller reads on from there.
    """
    offset = 0
    while head[offset : offset + 3] == b"ID3" and len(head) >= offset + 10:
        size_bytes = head[offset + 6 : offset + 10]
        if any(b & 0x80 for b in size_bytes):  # not a sync-safe size: not a tag
            break
        size = 0
        for b in size_bytes:
            size = size << 7 | b
        offset += 10 + size + (10 if head[offset + 5] & 0x10 else 0)
    return offset


def _first_frame(data: bytes) -> _Frame | None:
    """The first layer III frame in ``data`` that another frame follows (or that ends it).

    Junk before the audio is skipped as a decoder resynchronises; a false sync inside the junk
    is rejected because no frame header follows it.
    """
    offset = data.find(b"\xff")
    while 0 <= offset < len(data) - 4:
        frame = _parse_header(data, offset)
        if frame is not None:
            after = offset + frame.size
            if after + 4 > len(data) or _parse_header(data, after) is not None:
                return frame
        offset = data.find(b"\xff", offset + 1)
    return None


def free_format(head: bytes) -> bool:
    """Whether ``head`` (bytes from after the ID3v2 tags) starts a free-format stream: a layer
    III header whose bitrate index is 0 (the frames' length set by the encoder, not the
    header), and no frame of a listed bitrate after it. ``lame --freeformat`` writes them;
    FFmpeg cannot decode them."""
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    version_bits, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    free = version_bits != 1 and layer == 1 and head[2] >> 4 == 0 and (head[2] >> 2) & 3 != 3
    return free and first_frame_offset(head) is None


def first_frame_offset(head: bytes) -> int | None:
    """Where the first real frame of ``head`` (bytes after the ID3v2 tags) starts, if any."""
    first = _first_frame(head)
    return None if first is None else first.offset


def _frames(data: bytes) -> list[_Frame]:
    """The frames of an MP3 stream (after any ID3v2 tags and junk) up to the first break."""
    start = id3v2_end(data)
    first = _first_frame(data[start : start + HEAD_SCAN])
    frames: list[_Frame] = []
    offset = start + first.offset if first else len(data)
    while (frame := _parse_header(data, offset)) is not None:
        frames.append(frame)
        offset += frame.size
    return frames


@dataclass(frozen=True)
class _LameTag:
    """A first frame's Xing/Info tag: the frame, whether it names the stream CBR (``Info``, not
    ``Xing``), its frame count, and the 36 bytes of the LAME tag after it (encoder name
    first)."""

    first: _Frame
    cbr: bool
    frames: int
    lame: bytes


def _xing_header(head: bytes) -> tuple[_Frame, int, bytes] | None:
    """The first frame of ``head`` (bytes from after the ID3v2 tags), where its Xing header
    starts, and its name (``Xing`` or ``Info``); None where the first frame holds none."""
    first = _first_frame(head)
    if first is None:
        return None
    pos = first.offset + 4 + first.side_info
    name = head[pos : pos + 4]
    return (first, pos, name) if name in (b"Xing", b"Info") else None


def _lame_tag(head: bytes) -> _LameTag | None:
    """The LAME tag of the first frame of ``head`` (bytes from after the ID3v2 tags), or None."""
    found = _xing_header(head)
    if found is None:
        return None
    first, pos, name = found
    if len(head) < pos + 8:
        return None
    (flags,) = struct.unpack(">I", head[pos + 4 : pos + 8])
    pos += 8
    if not flags & 1:
        return None
    (frames,) = struct.unpack(">I", head[pos : pos + 4])
    pos += 4 + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    lame = head[pos : pos + 36]
    if len(lame) < 24 or not lame[:4].isalpha():
        return None
    return _LameTag(first, name == b"Info", frames, lame)


def _delay_padding(lame: bytes) -> tuple[int, int]:
    """The encoder's delay and padding in samples, 12 bits each, as a LAME tag records them."""
    return lame[21] << 4 | lame[22] >> 4, (lame[22] & 15) << 8 | lame[23]


def read_gapless_info(head: bytes) -> GaplessInfo | None:
    """The LAME tag in the first frame of ``head`` (bytes from after the ID3v2 tags), or None.

    A Xing/Info frame without LAME's delay fields (or with a zero frame count) tells nothing;
    nor do delay and padding both zero, which no encoder writes (LAME's delay is at least 576)
    but FFmpeg's muxer does when it copies a tag-less MP3 (e.g. to add cover art; its tag
    names ``Lavf``). Written so by FFmpeg's encoder itself (``Lavc``), it is libshine's, which
    reports no delay: `SHINE_DELAY`, and the whole decode after it kept.
    """
    tag = _lame_tag(head)
    if tag is None or tag.frames == 0:
        return None
    delay, padding = _delay_padding(tag.lame)
    source = "LAME tag"
    if delay == 0 and padding == 0:
        if not tag.lame.startswith(b"Lavc"):
            return None
        # Its real padding unknown, everything decoded after the start is kept: the decode's
        # frames less the start (delay and the decoder's 529), as a "padding" of 529.
        delay, padding, source = SHINE_DELAY, DECODER_DELAY, "libshine's delay"
    length = tag.frames * tag.first.samples - delay - padding
    return GaplessInfo(delay, length, source) if length > 0 else None


# LAME's low-pass, keyed by (sample rate in Hz, channels, LAME's own output rate?), then
# bitrate (kbps; `_KBPS` for the rows built by `_by_kbps`): where white noise (independent per
# channel), encoded and decoded back to the sample rate, falls 20 dB below its median level at
# 0.5 to 3 kHz: the low-pass's edge (8,192-point spectra, channels averaged, median of 3 seeds,
# rounded to 10 Hz; lameenc 1.9.0, LAME 3.100; `scripts/lame_cutoffs.py` measures them again).
# At low bitrates LAME leaves stereo noise's upper passband 6 to 9 dB down, so a 6 dB point
# would wander by 1 kHz between noises; the edge, 60 dB down within 200 Hz, does not. The
# 22,050 Hz mono row was measured at 6 dB, within 10 to 20 Hz of the 20 dB edge there (kept:
# the shipped models record 8,270 Hz). With LAME's own rate the band also ends at half the rate
# it chose. LAME's low-pass follows the bitrate and channels, hardly the output rate.
_KBPS = (32, 48, 64, 96, 128, 160, 192, 256, 320)


def _by_kbps(*cutoffs: float) -> dict[int, float]:
    return dict(zip(_KBPS, map(float, cutoffs), strict=True))


LAME_CUTOFF_HZ: dict[tuple[int, int, bool], dict[int, float]] = {
    (22050, 1, False): {8: 3070.0, 16: 5390.0, 24: 5860.0, 32: 8270.0, 40: 9980.0, 48: 9980.0}
    | dict.fromkeys((56, 64), 9990.0)
    | dict.fromkeys((80, 96, 112, 128, 144, 160), 10000.0),
    (44100, 1, False): _by_kbps(8290, 11150, 16620, 20120, 20130, 20150, 20140, 20150, 20140),
    (44100, 1, True): _by_kbps(8290, 11070, 16620, 20120, 20130, 20150, 20140, 20150, 20140),
    (44100, 2, False): _by_kbps(5510, 7590, 10990, 15170, 16620, 17340, 18720, 19440, 20140),
    (44100, 2, True): _by_kbps(5540, 7630, 10890, 15020, 16620, 17340, 18720, 19440, 20140),
    (48000, 1, False): _by_kbps(8270, 11290, 16580, 20390, 20420, 20430, 20420, 20430, 20430),
    (48000, 1, True): _by_kbps(8310, 11070, 16580, 20390, 20420, 20430, 20420, 20430, 20430),
    (48000, 2, False): _by_kbps(5880, 7480, 11120, 15000, 16580, 17360, 18880, 19650, 20420),
    (48000, 2, True): _by_kbps(5530, 7640, 10890, 15040, 16580, 17360, 18880, 19650, 20420),
}


def lame_cut_hz(kbps: float, channels: int) -> float:
    """Where LAME at its own output rate cuts a 44.1 kHz source of ``channels`` (1, else
    stereo) at ``kbps`` (an MP3's mean bitrate), between the bitrates `LAME_CUTOFF_HZ`
    measured, and at the nearest outside them."""
    row = LAME_CUTOFF_HZ[44100, 1 if channels == 1 else 2, True]
    return float(np.interp(kbps, list(row), list(row.values())))


_LAME_RATES = (
    (3_970, 8_000),
    (4_510, 11_025),
    (5_420, 12_000),
    (7_230, 16_000),
    (9_970, 22_050),
    (11_220, 24_000),
    (15_250, 32_000),
    (15_960, 44_100),
)  # LAME 3.100's ``optimum_samplefreq``: the rate for a low-pass filter up to each, in Hz


def lame_rate(filter_hz: float) -> int:
    """The rate LAME resamples a 44.1 or 48 kHz source to for a low-pass filter of
    ``filter_hz`` when left to choose (``optimum_samplefreq``: 24 kHz for 64 kbps' 11 kHz,
    32 kHz for 96 kbps' 15.1 kHz), the lowest whose top band the filter leaves empty; 48 kHz
    over 15.96 kHz (a 44.1 kHz source stays at 44.1)."""
    return next((rate for top, rate in _LAME_RATES if filter_hz <= top), 48_000)


LAME_FILTER_HZ = {
    8: 2_000.0,
    16: 3_700.0,
    24: 3_900.0,
    32: 5_500.0,
    40: 7_000.0,
    48: 7_500.0,
    56: 10_000.0,
    64: 11_000.0,
    80: 13_500.0,
    96: 15_100.0,
    112: 15_600.0,
    128: 17_000.0,
    160: 17_500.0,
    192: 18_600.0,
    224: 19_400.0,
    256: 19_700.0,
    320: 20_500.0,
}
"""The low-pass filter in Hz that LAME 3.100 chooses for stereo CBR by bitrate (kbps), its
``optimum_bandwidth`` table, as Debian's ``lame`` records it in its tag (``tests/test_mp3.py``)
or, where the frames are too short for one, names it with ``--verbose``. The filter's setting,
not where a decode's spectrum falls (`LAME_CUTOFF_HZ` measures that, under it)."""

LAME_CBR_FILTER = {kbps: hz for kbps, hz in LAME_FILTER_HZ.items() if kbps >= 128}
"""`LAME_FILTER_HZ` from 128 kbps: what FFmpeg's libmp3lame, whose tag records no filter, used
at its default settings for a stereo CBR stream at 44.1 or 48 kHz."""


def encoder_lowpass(head: bytes) -> float | None:
    """The low-pass filter in Hz that the encoder of ``head`` (bytes from after the ID3v2
    tags) set, or None where neither recorded nor known. Debian's ``lame`` records it in its
    LAME tag: 17 kHz at 128 kbps, 17.5 at 160, 18.5 at ``-V2``; a band ending well under it
    ended so in the master. FFmpeg's libmp3lame leaves it 0 (its ``Lavc`` tag with a delay:
    libshine's has none): of a stereo CBR stream (an ``Info`` tag) at 44.1 or 48 kHz it is
    LAME's own choice, `LAME_CBR_FILTER`. The tag :func:`encode_mp3` writes records none."""
    tag = _lame_tag(head)
    if tag is None:
        return None
    if tag.lame[10]:
        return float(tag.lame[10] * 100)
    delay = _delay_padding(tag.lame)[0]
    if not tag.lame.startswith(b"Lavc") or not delay or not tag.cbr:
        return None
    audio = _parse_header(head, tag.first.offset + tag.first.size)  # the tag's frame may differ
    if audio is None or audio.mono or audio.sample_rate not in (44_100, 48_000):
        return None
    return LAME_CBR_FILTER.get(audio.bitrate)


def tag_kind(head: bytes) -> str | None:
    """The name of the Xing header in the first frame of ``head`` (bytes from after the ID3v2
    tags): ``"Info"`` for a stream at a constant bitrate (LAME's CBR, and FFmpeg's muxer's for
    any CBR stream), ``"Xing"`` for VBR or ABR; None where it has none (LAME's MPEG-2 files at
    32 and 48 kbps, whose frames are too short for one)."""
    found = _xing_header(head)
    return None if found is None else found[2].decode()


def parse_itunsmpb(value: str) -> GaplessInfo | None:
    """iTunes' ``iTunSMPB`` comment: `` 00000000 DELAY PADDING LENGTH ...`` in hexadecimal.

    Its delay counts as a LAME tag's does (the decoder's 529 samples come on top, as FFmpeg
    reads it) and its length is the signal's, in samples; None if it does not parse.
    """
    try:
        fields = [int(part, 16) for part in value.split()[:4]]
    except ValueError:
        return None
    if len(fields) < 4 or fields[3] <= 0 or fields[1] > 576 * 64:
        return None
    return GaplessInfo(fields[1], fields[3], "iTunSMPB")


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


def encode_mp3(
    samples: np.ndarray,
    sample_rate: int,
    bitrate: int,
    quality: int = 2,
    lame_rate: bool = False,
) -> bytes:
    """Encode float samples in [-1, 1] as constant-bitrate MP3 with a gapless LAME tag.

    ``samples``: ``[samples]`` or ``[samples, channels]``. By default the output rate is the
    input rate (the paper's recipe). ``lame_rate`` lets LAME choose it as the ``lame`` command
    does when not told a rate (issue 12): it resamples low bitrates, e.g. 44.1 kHz stereo at
    32 kbps to 16 kHz, 48 to 22.05, 64 to 24, 96 to 32 kHz (:func:`mp3_sample_rate` reads the
    choice back; tested against Debian's ``lame``). Either way the encoder delay is 576 samples
    at the output rate and the tag's length is the input's length at that rate, rounded, as
    ``lame`` writes it, so a decode resampled back to ``sample_rate`` lines up to the sample.
    """

    samples = np.asarray(samples, dtype=np.float32)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    pcm = to_integers(samples, 16).astype("<i2", copy=False)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(sample_rate)
    if not lame_rate:
        encoder.set_out_sample_rate(sample_rate)
    encoder.set_channels(channels)
    encoder.set_quality(quality)
    audio = bytes(encoder.encode(pcm.tobytes()) + encoder.flush())
    frames = _frames(audio)
    if not frames:
        raise ValueError(f"LAME produced no MP3 frames for {len(samples)} samples")
    length = resampled_length(len(samples), sample_rate, frames[0].sample_rate)
    return _info_frame(audio, ENCODER_DELAY, length) + audio


def mp3_sample_rate(data: bytes) -> int:
    """The sample rate of an MP3 stream's first frame (after any ID3v2 tags and junk)."""
    frames = _frames(data)
    if not frames:
        raise ValueError("no MP3 frames found")
    return frames[0].sample_rate


def gapless_span(info: GaplessInfo | None) -> tuple[int, int | None]:
    """Where the encoded signal lies in a full decode of an MP3: (start, length or None).

    With a tag, its delay and length; without one, LAME's usual delay plus the decoder's
    (1,105 samples) is skipped and the rest kept, padded tail included (None: to the end).
    """
    if info is None:
        return ENCODER_DELAY + DECODER_DELAY, None
    return info.start, info.length
