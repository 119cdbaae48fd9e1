"""Excerpts from places spread over a file, decoded after a seek to each: a file measured without
decoding it whole (:func:`spectral_enhance.dsp.lowpass.lowpass_of_file`)."""

from __future__ import annotations

import io
import os
from typing import NamedTuple

import numpy as np

from .packets import PacketSizes, _over_full_scale, _to_float
from .probe import is_lossless, settle_layout

__all__ = ["Excerpts", "read_excerpts"]


class Excerpts(NamedTuple):
    """A file's excerpts (float32 ``[n, channels]`` each), its rate, FFmpeg's decoder and the
    sizes of the packets read for them."""

    parts: list[np.ndarray]
    rate: int
    codec: str
    sizes: PacketSizes


def read_excerpts(source: str | os.PathLike | bytes, count: int, length: int) -> Excerpts | None:
    """``count`` excerpts of ``length`` samples from places spread evenly over a file (a path
    or its bytes), decoded after a seek to each, its rate and decoder; None where seeking cannot
    give them (the duration unknown, a seek refused, the file too short for excerpts to save
    anything over a whole decode), so the caller decodes the file whole.

    Each excerpt is float32 ``[n, channels]`` at the file's rate, ``n`` up to ``length`` (less
    where the file ends first); the first frame decoded after a seek is dropped, since a decoder
    starting mid-stream lacks what came before (MP3's bit reservoir, the MDCT's overlap).
    Excerpts are for measuring, not listening: nothing is trimmed or aligned as in
    :meth:`~.read.AudioReader.blocks`. Damage ends an excerpt: a packet the decoder rejects,
    or a lossy frame over `~.packets.OVER_FULL_SCALE` (an excerpt joined over either would click,
    and one click, or the burst, lifts the band above a low-pass enough to hide it).
    """
    import av

    try:
        container = av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    except (av.FFmpegError, ValueError, OSError):
        return None
    with container:
        streams = container.streams.audio
        context = streams[0].codec_context if streams else None
        rate, channels = (context.sample_rate, settle_layout(context)[0]) if context else (0, 0)
        seconds = (container.duration or 0) / av.time_base
        if not rate or not channels or seconds * rate < 2 * count * length:
            return None
        stream, excerpts, sizes = streams[0], [], PacketSizes()
        lossy = not is_lossless(context.name)
        try:
            for place in range(count):
                at = (place + 0.5) / count * seconds
                if stream.time_base:  # in the audio stream's own time, not cover art's
                    container.seek(round(at / stream.time_base), stream=stream)
                else:
                    container.seek(round(at * av.time_base))
                excerpts.append(_excerpt(container, stream, rate, channels, length, lossy, sizes))
        except (av.FFmpegError, OSError):
            return None
    return Excerpts(excerpts, rate, context.name, sizes)


def _excerpt(
    container, stream, rate: int, channels: int, length: int, lossy: bool, sizes: PacketSizes
) -> np.ndarray:
    """Up to ``length`` samples decoded from where ``container`` was sought to, without the
    first frame; for a ``lossy`` codec, up to a frame over `~.packets.OVER_FULL_SCALE` (see
    :func:`read_excerpts`). Each packet read is counted in ``sizes``."""
    import av

    parts, got, first = [], 0, True
    for packet in container.demux(stream):
        sizes.see(packet.size)
        try:
            frames = packet.decode()
        except av.error.EOFError:
            break
        except (av.FFmpegError, ValueError):
            if first:  # still the frame dropped after the seek
                continue
            break  # damage ends the excerpt (see read_excerpts)
        for frame in frames:
            if not first and frame.sample_rate == rate:
                parts.append(_to_float(frame, channels))
                got += frame.samples
            first = False
        if got >= length:
            break
    data = np.concatenate(parts)[:length] if parts else np.zeros((0, channels), np.float32)
    over = _over_full_scale(data) if lossy else []
    if len(over):  # the excerpt ends at the frame of the first
        starts = np.cumsum([0] + [len(part) for part in parts])
        data = data[: starts[np.searchsorted(starts, over[0], side="right") - 1]]
    return np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
