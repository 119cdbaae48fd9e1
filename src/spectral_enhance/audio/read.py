"""The input module: opening, probing, decoding, gapless trimming and resampling of any file.

Every file goes through FFmpeg's demuxers and decoders (PyAV), which type it by its content
(its name is only a hint, where damage leaves the content unclear) and open what a music
library holds: MP3, AAC/M4A, FLAC, WAV, Ogg Vorbis, Opus, WMA, AIFF and more
(docs/decoding.md compares it with libsndfile). The rules, stated in the README's "What files
it reads":

- A file is decoded to its end, streaming; its length is what that gives. Nothing is allocated
  from what a header claims.
- MP3: the signal starts after the encoder delay a LAME/Xing/Info tag (found after ID3v2 tags of
  any size, and after junk) or an ``iTunSMPB`` comment gives, plus the decoder's 529 samples,
  and lasts as long as the tag says; unless over `JOINED_AFTER` samples more follow (files
  joined end to end), which are kept, untrimmed, with a warning. FFmpeg's libshine writes a
  tag of delay 0: its own 528 are taken (`mp3.SHINE_DELAY`). Without either, LAME's usual
  576 + 529 = 1,105 samples are removed from the start and nothing is cut or invented at the
  end. FFmpeg's own trimming is switched off so this one rule decides
  (:func:`spectral_enhance.audio.mp3.gapless_span`). A free-format MP3, which FFmpeg cannot
  decode, is refused.
- A file that ends before its tag or header said is decoded as far as it goes, with a warning
  saying how much is missing; it is never padded or refused for it.
- Damage in the middle is decoded through: a packet the decoder rejects becomes silence of its
  duration, an MP3's of the frames its bytes held (`_Rejected`, up to `GAP_SECONDS`), so what
  follows keeps its time, and a warning counts them; NaN or infinite samples become zeros,
  with a warning. So does a lossy codec's frame that decodes to over
  `OVER_FULL_SCALE` times full scale: damage the decoder let through (FFmpeg's float MP3
  decoder gives up to 80,000 from a corrupted frame, where no encoder's output reaches 4), and
  frames at another sample rate (a corrupted header), unless they run on for `JOINED_SECONDS`:
  then they are a second file joined on, resampled to the first's rate, with a warning.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .mp3 import (
    GaplessInfo,
    encoder_lowpass,
    first_frame_offset,
    free_format,
    gapless_span,
    id3v2_end,
    parse_itunsmpb,
    read_gapless_info,
)
from .rates import StreamResampler, resample, resampled_length
from .riff import data_frames
from .speakers import channel_mask

__all__ = [
    "AudioError",
    "AudioInfo",
    "AudioReader",
    "Decoded",
    "PacketSizes",
    "decode",
    "is_mp3",
    "open_audio",
    "read_audio",
]

BLOCK_SECONDS = (1 << 20) / 44_100
"""Audio per block, about 24 s: at 44.1 kHz 2^20 samples made `enhance` 10 % faster end to end
than 2^18; counted in samples, a 22.05 kHz MP3's first block took twice as long to come, and
halving it made its whole run 5 % faster (`benchmarks/compare_e2e.py --kbps 48`)."""
_HEAD = 1 << 16  # bytes read after the ID3v2 tags to find an MP3's first frame
_LOSSLESS = ("pcm_", "flac", "alac", "wavpack", "tta", "ape")  # codecs whose length is exact
_LOSSY_SLACK = 2048  # samples a lossy stream's header length may differ from its decode
GAP_SECONDS = 30.0
"""The longest silence a rejected MP3 packet becomes: the frames its bytes held, where damage
has run frames together; a longer run of bytes is not taken for lost audio. Another codec's
packet becomes its own duration, up to a second."""
ID3V1_SIZE = 128
RECENT_PACKETS = 8
"""How many packets decoded before damage tell an MP3 frame's size there: a VBR file's vary."""
JOINED_SECONDS = 1.0
"""Frames in a row at another sample rate lasting this long are more audio (files of two rates
joined end to end), resampled, as FFmpeg does; fewer are damage (a corrupted header), silence."""
JOINED_AFTER = 4 * 1152
"""Samples decoded past the length a LAME tag or ``iTunSMPB`` gives over which the rest is more
audio, kept, not the last frame's padding, dropped: MP3s joined end to end (``cat``, many
joiners) keep the first one's tag, and FFmpeg decodes them whole."""
_GATHER = 1 << 16  # samples converted from FFmpeg's frames at a time
OVER_FULL_SCALE = 8.0
"""A lossy codec's frame with a sample over this (+18 dBFS) is damage, made silence: LAME's
own output peaked at 3.1 (clipped noise at 64 kbps) over square, sawtooth, impulse and clipped
noise at 8 to 320 kbps, decoded by FFmpeg (``scripts/decoded_peaks.py``,
docs/runs/decoded-peaks.txt)."""


class AudioError(Exception):
    """A file that cannot be read; ``str()`` is a one-line message naming it and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class AudioInfo:
    """What probing a file found; ``expected`` is a length the file itself promised, if any."""

    path: Path
    container: str
    codec: str
    sample_rate: int
    channels: int
    estimated_samples: int | None  # from the container, for progress bars only
    trim: str  # how the start was found: "LAME tag", "iTunSMPB", "libshine's delay",
    # "standard MP3 delay", "MP4 edit list" (its length too), "none"
    expected: int | None
    bit_rate: int | None = None  # bits per second of the audio stream as FFmpeg gives it (a
    # VBR MP3's mean, from its Xing tag), None where it gives none
    encoder_lowpass: float | None = None  # Hz: the filter an MP3's encoder set, as its LAME
    # tag records it or FFmpeg's libmp3lame used it (`mp3.encoder_lowpass`); None: unknown
    speakers: tuple[str, ...] = ()  # FFmpeg's name of each channel's speaker, in order ("FL",
    # "FR", "FC", "LFE", ...), where the file says; (): it does not


def settle_layout(context: Any) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    """A stream's channel count, its speakers where a channel mask can say them (else ()), and
    the speakers its layout names in an order no mask holds (else ()), read from its layout
    once; the layout is then replaced by one that holds the same, or only the count.

    PyAV (18) copies a layout each time it is read and frees the copy's speaker list with it:
    a layout of FFmpeg's "custom" order (an 8-channel AIFF's, its side speakers before its
    back ones) holds one, which the second read freed again, and every decoded frame with it:
    the process crashed. The layout put in its place holds none: FFmpeg's own order, or none.
    Call it before anything reads ``context.channels`` or ``context.layout``."""
    layout = context.layout
    count = layout.nb_channels
    if not count:
        return 0, (), ()
    names = tuple(channel.name for channel in layout.channels)
    kept = names if len(names) == count and channel_mask(names) is not None else ()
    # while ``layout`` still holds a custom layout's list: it is freed with it, once; an open
    # decoder's layout is its own, not to replace
    with contextlib.suppress(ValueError):
        context.layout = "+".join(kept) if kept else f"{count} channels"
    unnamed = () if kept or "NONE" in names else names
    del layout
    return count, kept, unnamed


@dataclass
class Decoded:
    """A whole decoded file: float32 ``[samples, channels]`` at ``sample_rate``, and warnings."""

    samples: np.ndarray
    sample_rate: int
    info: AudioInfo
    warnings: list[str] = field(default_factory=list)


CONSTANT_SHARE = 0.9
"""The share of a stream's packets of one size (give or take a byte) that makes its bitrate
constant: a damaged copy of a CBR MP3 keeps nearly all of its packets so (a few of junk, or cut
short: ``scripts/damaged_enhance.py``, ``tests/test_lowpass.py``), where VBR spreads a
passage's frames over many sizes (but for one it codes whole at the highest bitrate, or in
silence at the lowest: CBR in all but name)."""


class PacketSizes:
    """The sizes of a stream's packets seen, in bytes, and how many of each. An MP3 at a
    constant bitrate has frames of one size, give or take its padding byte; at a variable one
    (VBR, ABR) they vary: an encoder that chooses each frame's bits leaves a band empty where it
    lies under the masking threshold, not for want of bits (`dsp.lowpass`)."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}

    def see(self, size: int) -> None:
        """Count a packet of ``size`` bytes (an empty one, a flush, counts for nothing)."""
        if size:
            self.counts[size] = self.counts.get(size, 0) + 1

    @property
    def constant(self) -> bool:
        """Whether the packets seen were of one size, give or take a byte (or none was seen),
        but for a few (`CONSTANT_SHARE`): a file cut off mid-frame ends in a shorter one, and
        damage leaves some of other sizes."""
        counts = self.counts
        total = sum(counts.values())
        usual = max((n + counts.get(size + 1, 0) for size, n in counts.items()), default=0)
        return total - usual <= max(1, (1 - CONSTANT_SHARE) * total)


class _Rejected:
    """How many frames the MP3 packets FFmpeg's decoder rejects in a row held, from their
    bytes against the last packets decoded (`RECENT_PACKETS`): where damage has broken a
    frame's header, its parser hands the frame and the next ones over as one packet or a few,
    whose durations count one frame each. A tag between files joined is rejected too, and
    holds none."""

    def __init__(self) -> None:
        self.recent: deque[int] = deque(maxlen=RECENT_PACKETS)  # the sizes decoded last
        self.tag_left = 0  # bytes still to come of a tag in the stream
        self.bytes = self.given = 0  # of the rejected run: its bytes, the frames given for it

    def frames(self, packet: bytes) -> int:
        """How many more frames of silence the rejected ``packet`` stands for."""
        if packet[:3] == b"TAG":
            self.tag_left = max(self.tag_left, ID3V1_SIZE)
        self.tag_left = max(self.tag_left, id3v2_end(packet))
        in_tag = min(self.tag_left, len(packet))
        self.tag_left -= in_tag
        self.bytes += len(packet) - in_tag
        if not self.bytes:
            return 0
        usual = sum(self.recent) / len(self.recent) if self.recent else self.bytes
        due = max(1, round(self.bytes / usual))
        more, self.given = max(0, due - self.given), max(due, self.given)
        return more

    def decoded(self, size: int) -> None:
        """A packet of ``size`` bytes decoded: the run is over (a tag's bytes can pass for one)."""
        if self.tag_left:
            self.tag_left = max(0, self.tag_left - size)
        else:
            self.recent.append(size)
        self.bytes = self.given = 0


def is_lossless(codec: str) -> bool:
    """Whether FFmpeg's decoder ``codec`` loses nothing (`_LOSSLESS`): its length is exact, and
    a sample far over full scale is the file's own, not damage."""
    return codec.startswith(_LOSSLESS)


def is_mp3(codec: str) -> bool:
    """Whether FFmpeg's decoder ``codec`` (``mp3``, ``mp3float``, ...) reads MP3: its gapless
    facts are read, and its encoders' ways of leaving a band empty are known (`dsp.lowpass`)."""
    return codec.startswith("mp3")


def _one_line(error: BaseException) -> str:
    """An error's own words on one line (FFmpeg's without its errno and file name)."""
    text = getattr(error, "strerror", None) or str(error).strip()
    lines = str(text).splitlines()
    return lines[-1] if lines else type(error).__name__


_SCALE = {"u8": 1 / 128, "s16": 1 / 32768, "s32": 1 / 2**31, "s64": 1 / 2**63}


_DTYPES = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "s64": np.int64}
_DTYPES |= {"flt": np.float32, "dbl": np.float64}


def _to_float(frame, channels: int) -> np.ndarray:
    """An FFmpeg audio frame as float32 ``[samples, channels]`` in [-1, 1].

    Its planes are taken by index: PyAV's own count (``planes``, ``to_ndarray``) reads past the
    eight a frame holds in place, and crashed on 8-channel Vorbis, Opus and AAC."""
    from av.audio.plane import AudioPlane

    name = frame.format.name.rstrip("p")
    dtype, count, samples = _DTYPES[name], frame.layout.nb_channels, frame.samples
    if frame.format.is_planar:
        planes = [np.frombuffer(AudioPlane(frame, i), dtype, samples) for i in range(count)]
        data = np.stack(planes, axis=1)
    else:
        data = np.frombuffer(AudioPlane(frame, 0), dtype, samples * count).reshape(-1, count)
    if name in _SCALE:
        offset = 128 if name == "u8" else 0
        data = (data.astype(np.float32) - offset) * np.float32(_SCALE[name])
    data = np.asarray(data, dtype=np.float32)
    if data.shape[1] != channels:  # a stream that changes its layout: keep the first one's
        data = np.repeat(data[:, :1], channels, 1) if data.shape[1] == 1 else data[:, :channels]
    return data


def _over_full_scale(data: np.ndarray) -> np.ndarray:
    """The rows of ``data`` (``[n, channels]``) with a sample over `OVER_FULL_SCALE`, in order;
    where there is none, found by two reductions with no array made, what nearly every chunk
    of a file costs."""
    if data.max(initial=0.0) <= OVER_FULL_SCALE and data.min(initial=0.0) >= -OVER_FULL_SCALE:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.abs(data).max(axis=1) > OVER_FULL_SCALE)


def _silence_over_full_scale(data: np.ndarray, start: int, frame: int, rate: int) -> list[float]:
    """Zero, in place, each codec frame of ``data`` (its first sample ``start`` samples into the
    stream, frames of ``frame`` samples from its start) holding a sample over
    `OVER_FULL_SCALE`; where each began, in seconds."""
    over = _over_full_scale(data)
    if not len(over):
        return []
    frames = np.unique((over + start) // frame)
    for index in frames:
        data[max(0, index * frame - start) : index * frame + frame - start] = 0.0
    return [float(index * frame / rate) for index in frames]


def _times(seconds: list[float]) -> str:
    """The first five of ``seconds`` for a warning, to a hundredth, "..." after if more."""
    return ", ".join(f"{t:.2f}" for t in seconds[:5]) + (", ..." if len(seconds) > 5 else "")


def _mp3_head(handle: BinaryIO) -> tuple[int, bytes]:
    """Where an MP3's ID3v2 tags (however large) end, and the bytes after them."""
    handle.seek(0)
    offset = 0
    while True:
        header = handle.read(10)
        end = id3v2_end(header)
        if end == 0:
            break
        offset += end
        handle.seek(offset)
    handle.seek(offset)
    return offset, handle.read(_HEAD)


class _Window(io.RawIOBase):
    """A read-only view of a file from ``start`` on, so FFmpeg begins at the first real frame."""

    def __init__(self, handle: BinaryIO, start: int) -> None:
        self.handle, self.start = handle, start
        self.handle.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            offset += self.start
        return self.handle.seek(offset, whence) - self.start

    def tell(self) -> int:
        return self.handle.tell() - self.start


class AudioReader:
    """An open audio file, decoded block by block; see the module doc for the rules.

    ``source`` is a path or the bytes of a file; ``name`` names it in messages and, as a file's
    name does, hints FFmpeg at the format where the content alone does not tell (a damaged
    header). Use as a context manager, or call :meth:`close`. ``warnings`` fills as the file
    is decoded.
    """

    def __init__(self, source: str | os.PathLike | bytes, name: str | None = None) -> None:
        import av

        self._av = av
        self.name = name or ("<bytes>" if isinstance(source, bytes) else str(source))
        self.warnings: list[str] = []
        if isinstance(source, bytes):
            self._file: BinaryIO = io.BytesIO(source)
            if name:  # FFmpeg reads a file object's name as a hint: the same as the file's
                self._file.name = name  # type: ignore[attr-defined]
        else:
            path = Path(source)
            if not path.exists():
                raise AudioError(path, "no such file or folder")
            if path.is_dir():
                raise AudioError(path, "is a folder, not an audio file")
            if not path.is_file():
                raise AudioError(
                    path,
                    "not a regular file but a device or a pipe (give '-' to read standard input)",
                )
            try:
                self._file = open(path, "rb")  # noqa: SIM115 (closed by close())
            except OSError as error:
                raise AudioError(path, f"cannot open ({error.strerror or error})") from error
        try:
            self._open()
        except BaseException:
            self._file.close()
            raise

    def _open(self) -> None:
        av = self._av
        if self._file.seek(0, os.SEEK_END) == 0:
            raise AudioError(self.name, "file is empty")
        start, head = _mp3_head(self._file)  # FFmpeg may refuse a free-format MP3 at once
        if free_format(head):
            raise AudioError(
                self.name,
                "free-format MP3 (no bitrate in its frame headers), which FFmpeg, the decoder "
                "here, cannot read (mpg123 or lame --decode can convert it)",
            )
        self._file.seek(0)
        try:
            self._container = av.open(self._file, "r")
        except (av.FFmpegError, ValueError, OSError) as error:
            raise AudioError(self.name, f"not an audio file ({_one_line(error)})") from error
        streams = self._container.streams.audio
        if not streams:
            self._container.close()
            raise AudioError(self.name, "has no audio stream")
        self._stream = stream = streams[0]
        context = stream.codec_context
        if context is None:  # a codec FFmpeg does not know (e.g. a WAV's damaged format)
            found = self._container.format.name
            self._container.close()
            raise AudioError(self.name, f"not an audio file (read as {found}: unknown codec)")
        channels, speakers, unnamed = settle_layout(context)
        rate = context.sample_rate
        if not rate or not channels:
            found = self._container.format.name
            self._container.close()
            raise AudioError(self.name, f"not an audio file (read as {found}: no sample rate)")
        codec = context.name
        bit_rate = stream.bit_rate or None  # the first container's: it read any Xing tag
        gapless: GaplessInfo | None = None
        trim, expected, filter_hz, held = "none", None, None, None
        if is_mp3(codec):
            tags = {**self._container.metadata, **stream.metadata}
            position = self._file.tell()  # FFmpeg reads on from here: put it back after
            gapless = read_gapless_info(head)
            filter_hz = encoder_lowpass(head)
            if gapless is None:
                gapless = parse_itunsmpb(tags.get("iTunSMPB", ""))
            # bytes before an MP3 stream's first frame; a WAV's MP3 is bounded by its chunk
            junk = first_frame_offset(head) if self._container.format.name == "mp3" else 0
            window = self._from_first_frame(start + junk) if junk else None
            if window is not None:  # bytes between the tags and the first frame: start after
                self._container.close()
                self._container, self._stream = window, window.streams.audio[0]
                stream, context = self._stream, self._stream.codec_context
                rate, channels = context.sample_rate or rate, settle_layout(context)[0] or channels
            else:
                self._file.seek(position)
            # This module trims MP3 by one rule (the module doc), not FFmpeg's own.
            context.options = {"flags2": "+skip_manual"}
            trim = gapless.source if gapless else "standard MP3 delay"
            expected = gapless.length if gapless else None
            self._skip, self._keep = gapless_span(gapless)
        else:
            self._skip, self._keep = 0, None
            if stream.duration and stream.time_base:
                expected = round(stream.duration * stream.time_base * rate)
            held = expected  # what the file's bytes hold, as FFmpeg counts them
            if self._container.format.name.startswith("mov,") and expected:
                # FFmpeg starts an M4A's AAC after its edit list's priming but decodes its last
                # frame whole: the padding after the length the edit list gives is cut here
                trim, self._keep = "MP4 edit list", None if is_lossless(codec) else expected
            # FFmpeg fits a cut WAV's, W64's or CAF's duration to what the file holds: the
            # header's length is its data chunk's size, or a CAF's frame count (0: not given)
            if self._container.format.name in ("wav", "w64"):
                position = self._file.tell()
                expected = data_frames(self._file) or expected
                self._file.seek(position)
            elif self._container.format.name == "caf":
                expected = stream.frames or None
        # The estimate (progress, a server's length limit) is what the file holds, not what a
        # header that lies promises (a 3 s WAV whose data chunk claims 4 GB is not 405 minutes)
        estimate = min(expected, held) if expected and held else expected
        if estimate is None and self._container.duration:
            estimate = int(self._container.duration * rate / 1_000_000)
        self.info = AudioInfo(
            Path(self.name),
            self._container.format.name,
            codec,
            rate,
            channels,
            estimate,
            trim,
            expected,
            bit_rate,
            filter_hz,
            speakers,
        )
        if unnamed:
            self.warnings.append(
                f"{self.name}: its speakers ({' '.join(unnamed)}) are in an order no WAV or "
                "FLAC channel mask holds: kept in that order, their names not written"
            )
        self.samples_read = 0  # samples yielded so far, at the file's rate
        self.packet_sizes = PacketSizes()  # of the packets decoded so far
        self.joined = False  # more audio followed the length a tag gave (`JOINED_AFTER`)

    def _from_first_frame(self, offset: int):
        """A container reading the MP3 from its first real frame at byte ``offset``, or None
        if FFmpeg cannot open it there (then the file is read whole, as FFmpeg reads it)."""
        av = self._av
        try:
            container = av.open(_Window(self._file, offset), "r", format="mp3")
        except (av.FFmpegError, ValueError, OSError):
            return None
        if not container.streams.audio:
            container.close()
            return None
        return container

    def close(self) -> None:
        """Release the decoder and the file."""
        self._container.close()
        self._file.close()

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _chunks(self, gather: int = _GATHER) -> Iterator[np.ndarray]:
        """Decoded float32 ``[n, channels]`` chunks of the whole stream at its rate, damage
        reported and frames at another rate resampled or silenced (the module doc).

        Frames are gathered in FFmpeg's own FIFO and converted ``gather`` samples at a time:
        an MP3 frame holds 1,152 samples, and converting each alone cost a third of the decode.
        """
        av, stream, info = self._av, self._stream, self.info
        damaged: list[float] = []
        loud: list[float] = []  # where frames over `OVER_FULL_SCALE` were silenced, seconds
        other_rate = non_finite = 0
        position = drained = 0  # samples decoded; samples of them converted
        fifo, fifo_kind = av.AudioFifo(), None
        lossy, mp3 = not is_lossless(info.codec), is_mp3(info.codec)
        sizes = self.packet_sizes
        rejected = _Rejected()  # an MP3's run of rejected packets: how long it was
        frame_size = stream.codec_context.frame_size or 1152
        run: list[np.ndarray] = []  # the frames in a row at another sample rate, decoded
        run_rate = 0
        joined: list[tuple[float, float, int]] = []  # runs kept: at (s), seconds, their rate
        owed = last = 0  # silence for the rejected packets since one decoded, and how many

        def finite(data: np.ndarray) -> np.ndarray:
            """``data`` with NaN and infinite samples made 0, each such stretch counted."""
            nonlocal non_finite
            if np.isfinite(data).all():
                return data
            non_finite += 1
            return np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)

        def drain(least: int = 1) -> np.ndarray | None:
            nonlocal drained
            if fifo.samples < least:
                return None
            data = finite(_to_float(fifo.read(), info.channels))
            if lossy:
                loud.extend(_silence_over_full_scale(data, drained, frame_size, info.sample_rate))
            drained += len(data)
            return data

        def end_run() -> np.ndarray:
            """The run of frames at another rate: resampled if it lasts `JOINED_SECONDS` (more
            audio, at another rate: files joined), else silence of its length (damage)."""
            nonlocal run, run_rate, other_rate, position, drained
            data = finite(np.concatenate(run))
            length = resampled_length(len(data), run_rate, info.sample_rate)
            if len(data) >= JOINED_SECONDS * run_rate:
                joined.append((drained / info.sample_rate, len(data) / run_rate, run_rate))
                out = resample(data, run_rate, info.sample_rate)
                if lossy:
                    loud.extend(
                        _silence_over_full_scale(out, drained, frame_size, info.sample_rate)
                    )
            else:
                other_rate += len(run)
                out = np.zeros((length, info.channels), np.float32)
            position, drained, run, run_rate = position + length, drained + length, [], 0
            return out

        try:
            for packet in self._container.demux(stream):
                sizes.see(packet.size)
                try:
                    frames = packet.decode()
                except (av.FFmpegError, ValueError) as error:
                    if isinstance(error, av.error.EOFError):
                        break
                    if run:
                        yield end_run()
                    damaged.append(position / info.sample_rate)
                    last += 1
                    gap = 0
                    if packet.duration and packet.time_base:
                        gap = int(packet.duration * packet.time_base * info.sample_rate)
                    if mp3:
                        gap *= rejected.frames(bytes(packet))
                    if 0 < gap <= (GAP_SECONDS if mp3 else 1.0) * info.sample_rate:
                        owed += gap
                    continue
                if packet.size:  # not the empty packet that flushes the decoder at the end
                    if owed:  # what follows the rejected packets keeps its time
                        if (data := drain()) is not None:
                            yield data
                        position, drained = position + owed, drained + owed
                        yield np.zeros((owed, info.channels), np.float32)
                        owed = 0
                    last = 0
                if mp3:
                    rejected.decoded(packet.size)
                for frame in frames:
                    if frame.sample_rate != info.sample_rate:
                        if run and frame.sample_rate != run_rate:
                            yield end_run()
                        if not run and (data := drain()) is not None:
                            yield data
                        run.append(_to_float(frame, info.channels))
                        run_rate = frame.sample_rate
                        continue
                    if run:
                        yield end_run()
                    position += frame.samples
                    kind = (frame.format.name, frame.layout.name)
                    if kind != fifo_kind and fifo_kind is not None:  # the FIFO takes one kind
                        if (data := drain()) is not None:
                            yield data
                        fifo = av.AudioFifo()
                    fifo_kind = kind
                    frame.pts = None  # damage leaves gaps in time stamps; the FIFO checks them
                    fifo.write(frame)
                    if (data := drain(gather)) is not None:
                        yield data
            if run:
                yield end_run()
            if (data := drain()) is not None:
                yield data
        except (av.FFmpegError, OSError) as error:
            self.warnings.append(
                f"{self.name}: decoding stopped at {position / info.sample_rate:.2f} s "
                f"({_one_line(error)}); the rest is missing"
            )
        if owed:  # nothing followed them to keep in time: a partial packet at the end (sox's
            # GSM), or damage there; left out, as FFmpeg leaves them
            self.warnings.append(
                f"{self.name}: ends in {last} damaged or partial packet(s) (at "
                f"{damaged[-1]:.2f} s), left out"
            )
            del damaged[-last:]
        if damaged:
            self.warnings.append(
                f"{self.name}: {len(damaged)} damaged packet(s) skipped, replaced by silence "
                f"(at {_times(damaged)} s)"
            )
        if loud:
            self.warnings.append(
                f"{self.name}: {len(loud)} frame(s) decoded to over {OVER_FULL_SCALE:g} times "
                f"full scale (damage?) replaced by silence (at {_times(loud)} s)"
            )
        if joined:
            where = ", ".join(f"{t:.2f} s, {n:.2f} s at {r} Hz" for t, n, r in joined[:3])
            more = ", ..." if len(joined) > 3 else ""
            self.warnings.append(
                f"{self.name}: {len(joined)} stretch(es) at another sample rate (files joined?) "
                f"resampled to {info.sample_rate} Hz (from {where}{more})"
            )
        if other_rate:
            self.warnings.append(
                f"{self.name}: {other_rate} frame(s) at another sample rate (damage?) "
                "replaced by silence"
            )
        if non_finite:
            self.warnings.append(
                f"{self.name}: NaN or infinite samples (set to 0) in {non_finite} stretch(es)"
            )

    def blocks(self, rate: int | None = None, block: int | None = None) -> Iterator[np.ndarray]:
        """Yield float32 ``[n, channels]`` blocks of about ``block`` samples (default
        `BLOCK_SECONDS` of audio), trimmed as the module doc says, resampled to ``rate`` if given
        (the last block completes the length).

        Raises :class:`AudioError` if the file holds no audio at all.
        """
        info = self.info
        block = block or round(BLOCK_SECONDS * info.sample_rate)
        skip, keep = self._skip, self._keep
        resampler = StreamResampler(info.sample_rate, rate or info.sample_rate, info.channels)
        pending: list[np.ndarray] = []
        size = 0
        after: list[np.ndarray] = []  # decoded past the tag's length: its padding, or more?
        for chunk in self._chunks(min(block, _GATHER)):
            if skip:
                dropped = min(skip, len(chunk))
                chunk, skip = chunk[dropped:], skip - dropped
            if keep is not None and len(chunk) > keep - self.samples_read:
                inside = max(0, keep - self.samples_read)
                after.append(chunk[inside:])
                chunk = chunk[:inside]
                if sum(map(len, after)) > JOINED_AFTER:  # more audio: files joined
                    chunk, after, keep = np.concatenate([chunk, *after]), [], None
                    self.joined = True
            if not len(chunk):
                continue
            self.samples_read += len(chunk)
            pending.append(chunk)
            size += len(chunk)
            if size >= block:  # whole blocks out, the rest kept for the next
                data = np.concatenate(pending)
                for start in range(0, len(data) - block + 1, block):
                    yield resampler(data[start : start + block])
                pending = [data[len(data) - len(data) % block :]]
                size = len(pending[0])
        if self.samples_read == 0:
            raise AudioError(self.name, "contains no audio samples")
        tail = np.concatenate(pending) if pending else np.zeros((0, info.channels), np.float32)
        yield resampler(tail, last=True)
        self._check_length()

    def _check_length(self) -> None:
        expected, got = self.info.expected, self.samples_read
        if expected is None:
            return
        if self.joined:
            rate, what = self.info.sample_rate, self.info.trim
            self.warnings.append(
                f"{self.name}: goes on {(got - expected) / rate:.2f} s past the "
                f"{expected / rate:.2f} s its {what} promises (files joined?): all of it kept, "
                "the rest untrimmed"
            )
            return
        lossless = is_lossless(self.info.codec) or self.info.trim != "none"
        slack = 0 if lossless else _LOSSY_SLACK
        if self.info.container == "caf":  # FFmpeg counts its packets whole, ALAC's short last
            slack = max(slack, self._stream.codec_context.frame_size or 0)
        if expected - got > slack:
            rate = self.info.sample_rate
            what = self.info.trim if self.info.trim != "none" else "its header"
            self.warnings.append(
                f"{self.name}: ends early: decoded {got / rate:.2f} s of the "
                f"{expected / rate:.2f} s {what} promises ({(expected - got) / rate:.2f} s, "
                f"{expected - got} samples missing)"
            )


def open_audio(source: str | os.PathLike | bytes, name: str | None = None) -> AudioReader:
    """Open a file (or a file's bytes) for decoding; :class:`AudioError` if it is not audio."""
    return AudioReader(source, name)


def decode(
    source: str | os.PathLike | bytes, rate: int | None = None, name: str | None = None
) -> Decoded:
    """Decode a whole file (at ``rate`` if given), with the warnings decoding raised."""
    with open_audio(source, name) as reader:
        parts = list(reader.blocks(rate))
        return Decoded(
            np.concatenate(parts),
            rate or reader.info.sample_rate,
            reader.info,
            reader.warnings,
        )


def read_audio(source: str | os.PathLike | bytes) -> tuple[np.ndarray, int]:
    """Decode a whole file as float32 ``[samples, channels]`` and its rate (warnings dropped:
    use :func:`decode` where they must be reported)."""
    decoded = decode(source)
    return decoded.samples, decoded.sample_rate
