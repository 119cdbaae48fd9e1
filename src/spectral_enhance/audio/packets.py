"""The packet-level decode loop and its damage rules, apart from opening and trimming a file."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np

from .mp3 import id3v2_end
from .probe import AudioInfo, _one_line, is_lossless, is_mp3
from .rates import resample, resampled_length

__all__ = ["OVER_FULL_SCALE", "PacketSizes", "decode_chunks"]

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
_GATHER = 1 << 16  # samples converted from FFmpeg's frames at a time
OVER_FULL_SCALE = 8.0
"""A lossy codec's frame with a sample over this (+18 dBFS) is damage, made silence: LAME's
own output peaked at 3.1 (clipped noise at 64 kbps) over square, sawtooth, impulse and clipped
noise at 8 to 320 kbps, decoded by FFmpeg (``scripts/decoded_peaks.py``,
docs/runs/decoded-peaks.txt)."""


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


def decode_chunks(
    container: Any,
    stream: Any,
    info: AudioInfo,
    sizes: PacketSizes,
    warnings: list[str],
    name: str,
    gather: int = _GATHER,
) -> Iterator[np.ndarray]:
    """Decoded float32 ``[n, channels]`` chunks of the whole ``stream`` of ``container`` (its
    facts ``info``) at its rate, damage reported in ``warnings`` (naming the file ``name``) and
    frames at another rate resampled or silenced (:mod:`.read`'s doc); each packet's size
    counted in ``sizes``.

    Frames are gathered in FFmpeg's own FIFO and converted ``gather`` samples at a time:
    an MP3 frame holds 1,152 samples, and converting each alone cost a third of the decode.
    """
    import av

    damaged: list[float] = []
    loud: list[float] = []  # where frames over `OVER_FULL_SCALE` were silenced, seconds
    other_rate = non_finite = 0
    position = drained = 0  # samples decoded; samples of them converted
    fifo, fifo_kind = av.AudioFifo(), None
    lossy, mp3 = not is_lossless(info.codec), is_mp3(info.codec)
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
                loud.extend(_silence_over_full_scale(out, drained, frame_size, info.sample_rate))
        else:
            other_rate += len(run)
            out = np.zeros((length, info.channels), np.float32)
        position, drained, run, run_rate = position + length, drained + length, [], 0
        return out

    try:
        for packet in container.demux(stream):
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
        warnings.append(
            f"{name}: decoding stopped at {position / info.sample_rate:.2f} s "
            f"({_one_line(error)}); the rest is missing"
        )
    if owed:  # nothing followed them to keep in time: a partial packet at the end (sox's
        # GSM), or damage there; left out, as FFmpeg leaves them
        warnings.append(
            f"{name}: ends in {last} damaged or partial packet(s) (at "
            f"{damaged[-1]:.2f} s), left out"
        )
        del damaged[-last:]
    if damaged:
        warnings.append(
            f"{name}: {len(damaged)} damaged packet(s) skipped, replaced by silence "
            f"(at {_times(damaged)} s)"
        )
    if loud:
        warnings.append(
            f"{name}: {len(loud)} frame(s) decoded to over {OVER_FULL_SCALE:g} times "
            f"full scale (damage?) replaced by silence (at {_times(loud)} s)"
        )
    if joined:
        where = ", ".join(f"{t:.2f} s, {n:.2f} s at {r} Hz" for t, n, r in joined[:3])
        more = ", ..." if len(joined) > 3 else ""
        warnings.append(
            f"{name}: {len(joined)} stretch(es) at another sample rate (files joined?) "
            f"resampled to {info.sample_rate} Hz (from {where}{more})"
        )
    if other_rate:
        warnings.append(
            f"{name}: {other_rate} frame(s) at another sample rate (damage?) replaced by silence"
        )
    if non_finite:
        warnings.append(f"{name}: NaN or infinite samples (set to 0) in {non_finite} stretch(es)")
