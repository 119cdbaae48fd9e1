"""The input module: opening, probing, decoding, gapless trimming and resampling of any file.

Every file goes through FFmpeg's demuxers and decoders (PyAV), which type it by its content
(its name is only a hint, where damage leaves the content unclear) and open what a music
library holds: MP3, AAC/M4A, FLAC, WAV, Ogg Vorbis, Opus, WMA, AIFF and more
(docs/decoding.md compares it with libsndfile). The rules, stated in docs/enhance.md's "What
files it reads":

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
  duration, an MP3's of the frames its bytes held (`packets._Rejected`, up to
  `packets.GAP_SECONDS`), so what follows keeps its time, and a warning counts them; NaN or
  infinite samples become zeros, with a warning. So does a lossy codec's frame that decodes to
  over `packets.OVER_FULL_SCALE` times full scale: damage the decoder let through (FFmpeg's
  float MP3 decoder gives up to 80,000 from a corrupted frame, where no encoder's output
  reaches 4), and frames at another sample rate (a corrupted header), unless they run on for
  `packets.JOINED_SECONDS`: then they are a second file joined on, resampled to the first's
  rate, with a warning.

Opening and probing a file is :mod:`.probe`'s, the packet-level decode loop and its damage rules
:mod:`.packets`'; this module is the reader over them: blocks trimmed, resampled and measured.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .packets import _GATHER, PacketSizes, decode_chunks
from .probe import AudioError, AudioInfo, is_lossless, open_stream
from .rates import StreamResampler

__all__ = ["AudioReader", "Decoded", "decode", "open_audio", "read_audio"]

BLOCK_SECONDS = (1 << 20) / 44_100
"""Audio per block, about 24 s: at 44.1 kHz 2^20 samples made `enhance` 10 % faster end to end
than 2^18; counted in samples, a 22.05 kHz MP3's first block took twice as long to come, and
halving it made its whole run 5 % faster (`benchmarks/compare_e2e.py --kbps 48`)."""
_LOSSY_SLACK = 2048  # samples a lossy stream's header length may differ from its decode
JOINED_AFTER = 4 * 1152
"""Samples decoded past the length a LAME tag or ``iTunSMPB`` gives over which the rest is more
audio, kept, not the last frame's padding, dropped: MP3s joined end to end (``cat``, many
joiners) keep the first one's tag, and FFmpeg decodes them whole."""


@dataclass
class Decoded:
    """A whole decoded file: float32 ``[samples, channels]`` at ``sample_rate``, and warnings."""

    samples: np.ndarray
    sample_rate: int
    info: AudioInfo
    warnings: list[str] = field(default_factory=list)


class AudioReader:
    """An open audio file, decoded block by block; see the module doc for the rules.

    ``source`` is a path or the bytes of a file; ``name`` names it in messages and, as a file's
    name does, hints FFmpeg at the format where the content alone does not tell (a damaged
    header). Use as a context manager, or call :meth:`close`. ``warnings`` fills as the file
    is decoded.
    """

    def __init__(self, source: str | os.PathLike | bytes, name: str | None = None) -> None:
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
            opened = open_stream(self._file, self.name)
        except BaseException:
            self._file.close()
            raise
        self._container, self._stream, self.info = opened.container, opened.stream, opened.info
        self._skip, self._keep = opened.skip, opened.keep
        self.warnings.extend(opened.warnings)
        self.samples_read = 0  # samples yielded so far, at the file's rate
        self.packet_sizes = PacketSizes()  # of the packets decoded so far
        self.joined = False  # more audio followed the length a tag gave (`JOINED_AFTER`)

    def close(self) -> None:
        """Release the decoder and the file."""
        self._container.close()
        self._file.close()

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        chunks = decode_chunks(
            self._container,
            self._stream,
            info,
            self.packet_sizes,
            self.warnings,
            self.name,
            min(block, _GATHER),
        )
        for chunk in chunks:
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
            promised = self.info.expected
            raise AudioError(
                self.name,
                "contains no audio samples"
                + (
                    f" of the {promised / info.sample_rate:.2f} s it promises (cut off?)"
                    if promised
                    else ""
                ),
            )
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
