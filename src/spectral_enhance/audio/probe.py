"""Opening a file in FFmpeg and probing its stream (codec, speakers, gapless trim), undecoded."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .mp3 import (
    GaplessInfo,
    encoder_lowpass,
    first_frame_offset,
    free_format,
    gapless_span,
    id3v2_end,
    parse_itunsmpb,
    read_gapless_info,
    tag_kind,
)
from .riff import data_chunk
from .speakers import channel_mask

__all__ = [
    "AudioError",
    "AudioInfo",
    "Opened",
    "counted_length",
    "is_lossless",
    "is_mp3",
    "open_stream",
    "packet_length",
]

_HEAD = 1 << 16  # bytes read after the ID3v2 tags to find an MP3's first frame
_LOSSLESS = ("pcm_", "flac", "alac", "wavpack", "tta", "ape")  # codecs whose length is exact
# Raw streams with no header of their length (ADTS AAC, AC-3, E-AC-3, DTS, TrueHD): FFmpeg
# guesses one from their size and first bit rate, which nothing in the file promised
_GUESSED_LENGTH = ("aac", "ac3", "eac3", "dts", "truehd", "mlp")


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
    # VBR MP3's mean, from its Xing tag; an Opus file's mean), None where it gives none
    encoder_lowpass: float | None = None  # Hz: the filter an MP3's encoder set, as its LAME
    # tag records it or FFmpeg's libmp3lame used it (`mp3.encoder_lowpass`); None: unknown
    speakers: tuple[str, ...] = ()  # FFmpeg's name of each channel's speaker, in order ("FL",
    # "FR", "FC", "LFE", ...), where the file says; (): it does not
    mp3_tag: str | None = None  # an MP3's Xing header: "Info" (CBR), "Xing" (VBR, ABR), None:
    # none (`mp3.tag_kind`)


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


@dataclass
class Opened:
    """A file opened in FFmpeg (`open_stream`): its container and audio stream, read from where
    the audio starts, what probing found, the samples to drop from the start and to keep
    (`mp3.gapless_span`; None: all) and warnings."""

    container: Any
    stream: Any
    info: AudioInfo
    skip: int
    keep: int | None
    warnings: list[str]


def packet_length(path: str | os.PathLike, rate: int) -> int | None:
    """Samples at ``rate`` that the packets of ``path``'s first audio stream last, as FFmpeg's
    demuxer counts them, decoding none: the length of a file
    that states none, where FFmpeg's own is a guess from its first frames' bit rate. None if
    they give none."""
    import av

    try:
        with av.open(os.fspath(path)) as container:
            stream = container.streams.audio[0]
            ticks = sum(packet.duration or 0 for packet in container.demux(stream))
            seconds = ticks * stream.time_base if stream.time_base else 0
    except (av.FFmpegError, IndexError, OSError, ValueError):
        return None
    return round(seconds * rate) or None


def counted_length(path: str | os.PathLike, info: AudioInfo) -> int | None:
    """Samples ``path`` (probed as ``info``) lasts at its rate, for a progress bar's total or a
    length limit: the length it states, or where it states none (an MP3 with no LAME or Xing
    tag, a raw ADTS stream) its packets' (`packet_length`), not FFmpeg's guess from its first
    frames' bit rate, which a silent start made too long (an untagged 9 s VBR MP3 read as 22 s).
    None if neither gives one."""
    if info.expected is None:
        return packet_length(path, info.sample_rate) or info.estimated_samples
    return info.estimated_samples


def open_stream(handle: BinaryIO, name: str) -> Opened:
    """Open the file ``handle`` (``name`` in messages) in FFmpeg at its first audio stream and
    probe it: its facts, the samples to skip and keep (the rules of :mod:`.read`'s doc) and
    warnings. Raises :class:`AudioError` if it is not audio; ``handle`` stays open."""
    import av

    if handle.seek(0, os.SEEK_END) == 0:
        raise AudioError(name, "file is empty")
    start, head = _mp3_head(handle)  # FFmpeg may refuse a free-format MP3 at once
    if free_format(head):
        raise AudioError(
            name,
            "free-format MP3 (no bitrate in its frame headers), which FFmpeg, the decoder "
            "here, cannot read (mpg123 or lame --decode can convert it)",
        )
    handle.seek(0)
    try:
        container = av.open(handle, "r")
    except av.EOFError as error:  # a short text file, or a FLAC or Ogg file cut in its header
        raise AudioError(
            name, f"not an audio file, or one cut off before its audio ({_one_line(error)})"
        ) from error
    except (av.FFmpegError, ValueError, OSError) as error:
        raise AudioError(name, f"not an audio file ({_one_line(error)})") from error
    streams = container.streams.audio
    if not streams:
        container.close()
        raise AudioError(name, "has no audio stream")
    stream = streams[0]
    context = stream.codec_context
    if context is None:  # a codec FFmpeg does not know (e.g. a WAV's damaged format)
        found = container.format.name
        container.close()
        raise AudioError(name, f"not an audio file (read as {found}: unknown codec)")
    channels, speakers, unnamed = settle_layout(context)
    rate = context.sample_rate
    if not rate or not channels:
        found = container.format.name
        container.close()
        raise AudioError(name, f"not an audio file (read as {found}: no sample rate)")
    codec = context.name
    bit_rate = stream.bit_rate or None  # the first container's: it read any Xing tag
    if bit_rate is None and codec == "opus":  # Ogg and WebM give an Opus stream none: the
        bit_rate = container.bit_rate or None  # file's mean (its bits over its length) instead
    gapless: GaplessInfo | None = None
    trim, expected, filter_hz, held, uncounted = "none", None, None, None, 0
    mp3_tag = None
    if is_mp3(codec):
        tags = {**container.metadata, **stream.metadata}
        position = handle.tell()  # FFmpeg reads on from here: put it back after
        gapless = read_gapless_info(head)
        filter_hz, mp3_tag = encoder_lowpass(head), tag_kind(head)
        if gapless is None:
            gapless = parse_itunsmpb(tags.get("iTunSMPB", ""))
        # bytes before an MP3 stream's first frame; a WAV's MP3 is bounded by its chunk
        junk = first_frame_offset(head) if container.format.name == "mp3" else 0
        window = _from_first_frame(handle, start + junk) if junk else None
        if window is not None:  # bytes between the tags and the first frame: start after
            container.close()
            container, stream = window, window.streams.audio[0]
            context = stream.codec_context
            rate, channels = context.sample_rate or rate, settle_layout(context)[0] or channels
        else:
            handle.seek(position)
        # The reader trims MP3 by one rule (:mod:`.read`'s doc), not FFmpeg's own.
        context.options = {"flags2": "+skip_manual"}
        trim = gapless.source if gapless else "standard MP3 delay"
        expected = gapless.length if gapless else None
        skip, keep = gapless_span(gapless)
    else:
        skip, keep = 0, None
        guessed = container.format.name in _GUESSED_LENGTH
        if stream.duration and stream.time_base and not guessed:
            expected = round(stream.duration * stream.time_base * rate)
        held = expected  # what the file's bytes hold, as FFmpeg counts them
        if container.format.name.startswith("mov,") and expected:
            # FFmpeg starts an M4A's AAC after its edit list's priming but decodes its last
            # frame whole: the padding after the length the edit list gives is cut here
            trim, keep = "MP4 edit list", None if is_lossless(codec) else expected
        # FFmpeg fits a cut WAV's, W64's or CAF's duration to what the file holds: the
        # header's length is its data chunk's size, or a CAF's frame count (0: not given)
        if container.format.name in ("wav", "w64"):
            position = handle.tell()
            frames, uncounted = data_chunk(handle)
            expected = frames or expected
            handle.seek(position)
        elif container.format.name == "caf":
            expected = stream.frames or None
    # The estimate (progress, a server's length limit) is what the file holds, not what a
    # header that lies promises (a 3 s WAV whose data chunk claims 4 GB is not 405 minutes)
    estimate = min(expected, held) if expected and held else expected
    if estimate is None and container.duration:
        estimate = int(container.duration * rate / 1_000_000)
    info = AudioInfo(
        Path(name),
        container.format.name,
        codec,
        rate,
        channels,
        estimate,
        trim,
        expected,
        bit_rate,
        filter_hz,
        speakers,
        mp3_tag,
    )
    warnings: list[str] = []
    if uncounted:
        warnings.append(
            f"{name}: {uncounted:,} bytes past its data chunk that its header does not count "
            "(a size wrapped past 4 GiB, or never updated): left unread, as other readers leave "
            "them"
        )
    if unnamed:
        warnings.append(
            f"{name}: its speakers ({' '.join(unnamed)}) are in an order no WAV or "
            "FLAC channel mask holds: kept in that order, their names not written"
        )
    if len(streams) > 1:  # a Matroska or MP4 file of several tracks (a commentary, a mix)
        others = len(streams) - 1
        warnings.append(
            f"{name}: holds {len(streams)} audio streams: the first is read, {others} "
            f"other{'s' if others > 1 else ''} left out"
        )
    return Opened(container, stream, info, skip, keep, warnings)


def _from_first_frame(handle: BinaryIO, offset: int) -> Any:
    """A container reading the MP3 from its first real frame at byte ``offset``, or None
    if FFmpeg cannot open it there (then the file is read whole, as FFmpeg reads it)."""
    import av

    try:
        container = av.open(_Window(handle, offset), "r", format="mp3")
    except (av.FFmpegError, ValueError, OSError):
        return None
    if not container.streams.audio:
        container.close()
        return None
    return container
