"""The output writer: WAV or FLAC, whole or streamed, under a temporary name, never clipped unsaid.

The default keeps the headroom an enhanced signal needs: WAV is written as 32-bit float (values
beyond [-1, 1] survive), FLAC as 24-bit. Integer outputs clamp what lies beyond [-1, 1] and the
writer counts it, so the caller can name the file and the number; ``clip="rescale"`` instead
scales a whole signal down to fit (for whole-array writes, where the peak is known).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..atomic import OutputError, atomic_path
from .arrays import to_integers
from .formats import BIT_DEPTHS, DEFAULT_DEPTH, FORMATS
from .speakers import MASK_SPEAKERS, channel_mask
from .tags import Tags, write_tags

__all__ = ["BIT_DEPTHS", "FORMATS", "AudioSink", "audio_writer", "output_suffix", "write_audio"]

CLIP_MODES = ("clamp", "rescale")


def output_suffix(fmt: str) -> str:
    """The file suffix of an output format (``.wav``)."""
    return FORMATS[fmt][1]


def _subtype(target: Path, fmt: str, depth: str | None) -> str:
    if fmt not in FORMATS:
        raise OutputError(target, f"unknown output format {fmt!r} (known: {', '.join(FORMATS)})")
    depths = FORMATS[fmt][2]
    depth = depth or DEFAULT_DEPTH[fmt]
    if depth not in depths:
        raise OutputError(target, f"{fmt} cannot hold {depth}-bit samples ({', '.join(depths)})")
    return depths[depth]


def _failure(target: Path, error: Exception) -> OutputError:
    """libsndfile reports a full disk as a bare "System error": look at the disk to say so."""
    try:
        full = shutil.disk_usage(target.parent).free < 1 << 16
    except OSError:
        full = False
    return OutputError(target, "the disk is full" if full else f"cannot write ({error})")


_SFC_SET_ADD_PEAK_CHUNK = 0x1050  # sndfile.h
_SFC_RF64_AUTO_DOWNGRADE = 0x1210
# A WAV's sizes are 32-bit: past 4 GiB libsndfile writes them as 0xFFFFFFFF, and a reader that
# trusts them (libsndfile itself) stops after 3 h 22 min of 44.1 kHz float stereo. A WAV
# expected to pass half of that is written as RF64 (`scripts/long_wav_check.py`); one that was
# not expected to, and does, is stopped with an error rather than written so.
WAV_LIMIT = (1 << 32) - (1 << 16)  # bytes of samples: room for the header and its chunks
SAMPLE_BYTES = {"PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4}


def _sf_command(handle: sf.SoundFile, command: int, on: bool) -> None:
    """Switch libsndfile's ``command`` on or off for ``handle`` (soundfile has no API for it),
    before any sample is written, as libsndfile requires."""
    snd, ffi = getattr(sf, "_snd", None), getattr(sf, "_ffi", None)
    if snd is not None and ffi is not None:
        snd.sf_command(handle._file, command, ffi.NULL, int(on))


_SFC_SET_CHANNEL_MAP_INFO = 0x1101
_SPEAKER_IDS = dict(MASK_SPEAKERS)  # FFmpeg's name: libsndfile's id


def _flac_speakers(path: Path, speakers: tuple[str, ...]) -> None:
    """Have a FLAC of more than two channels say its speakers where FLAC's order by count would
    not (5.1 with back speakers, 2.1, a hexagon): a ``WAVEFORMATEXTENSIBLE_CHANNEL_MASK``
    comment, as FFmpeg and libFLAC's ``flac`` write it and read it."""
    mask = channel_mask(speakers)
    if mask is not None:
        from mutagen.flac import FLAC

        flac = FLAC(path)
        flac["WAVEFORMATEXTENSIBLE_CHANNEL_MASK"] = f"0x{mask:X}"
        flac.save()


def _speaker_map(handle: sf.SoundFile, speakers: tuple[str, ...]) -> None:
    """Have a WAV of more than two channels say which speaker each feeds (its channel mask), as
    the input said; libsndfile writes a mask of 0, "none", unless told. Left so where a mask
    cannot say them (`channel_mask`; libsndfile writes 0 then too)."""
    snd, ffi = getattr(sf, "_snd", None), getattr(sf, "_ffi", None)
    if snd is None or ffi is None or channel_mask(speakers) is None:
        return
    ids = ffi.new("int[]", [_SPEAKER_IDS[name] for name in speakers])
    snd.sf_command(handle._file, _SFC_SET_CHANNEL_MAP_INFO, ids, ffi.sizeof(ids))


def _no_peak_chunk(handle: sf.SoundFile) -> None:
    """Leave out the PEAK chunk libsndfile adds to float WAVs: it holds the time of writing, so
    without it the same input and options give the same bytes."""
    _sf_command(handle, _SFC_SET_ADD_PEAK_CHUNK, False)


def _wav_unless_too_long(handle: sf.SoundFile) -> None:
    """Have an RF64 output written as a WAV (a ``WAVE_FORMAT_EXTENSIBLE`` one, with a ``JUNK``
    chunk where RF64's sizes would go) unless it ends over 4 GiB."""
    _sf_command(handle, _SFC_RF64_AUTO_DOWNGRADE, True)


def _close_unsynced(handle: sf.SoundFile) -> None:
    """Close ``handle`` without the fsync soundfile's ``close`` starts with (its ``flush`` is
    libsndfile's ``sf_write_sync``, "not necessary under normal situations", libsndfile#120):
    30-40 ms of a 3-minute float WAV on a disk, 6 % of ``enhance``. The rename guards against an
    interrupted run, as FFmpeg's and SoX's outputs do, not against a power cut."""
    handle.flush = lambda: None  # an instance attribute: only this handle's close skips it
    handle.close()


@dataclass
class AudioSink:
    """An open output file: :meth:`write` blocks to it; ``clipped`` counts clamped samples and
    ``peak`` is the largest of them (0 if none)."""

    handle: sf.SoundFile
    floating: bool
    target: Path
    clipped: int = 0
    peak: float = 0.0
    untagged: str | None = None  # why the tags given were not written, once it is closed
    room: int | None = None  # bytes of samples the file can still take (a WAV's 4 GiB)
    dither: _Dither | None = None  # TPDF dither, for 16-bit samples

    def write(self, block: np.ndarray) -> None:
        """Append float ``[n, channels]`` samples, clamping (and counting) beyond [-1, 1]."""
        if not len(block):
            return
        if not self.floating and (block.min() < -1.0 or block.max() > 1.0):
            magnitude = np.abs(block)  # only then: its two looks cost a pass each, no array
            self.clipped += int(np.count_nonzero(magnitude > 1.0))
            self.peak = max(self.peak, float(magnitude.max()))
            block = np.clip(block, -1.0, 1.0)
        # Rounded here, not by libsndfile, whose WAV writer truncates (floor: half a step
        # under, on average); at 16 bits this and the dither took less than it did. Its FLAC
        # writer rounds, for less than this costs at 24 bits.
        if self.handle.subtype == "PCM_16":
            block = to_integers(block, 16, self.dither.add_to if self.dither else None)
        elif self.handle.subtype == "PCM_24" and self.handle.format != "FLAC":
            block = to_integers(block, 24)
        if self.room is not None:
            self.room -= block.size * SAMPLE_BYTES[self.handle.subtype]
            if self.room < 0:
                raise OutputError(
                    self.target,
                    "longer than the 4 GiB a WAV holds (its input is longer than its header "
                    "said); use --format flac",
                )
        try:
            self.handle.write(block)
        except (sf.LibsndfileError, OSError) as error:
            raise _failure(self.target, error) from error


DITHER_PERIOD = 1 << 20
"""Dither values (11.9 s of 44.1 kHz stereo) after which `_Dither`'s repeat."""


@functools.lru_cache(maxsize=1)
def _dither_table(seed: int = 0) -> np.ndarray:
    """`DITHER_PERIOD` values of triangular (TPDF) noise of one 16-bit step each side, from
    ``seed``, read-only."""
    rng = np.random.default_rng(seed)
    table = rng.random(DITHER_PERIOD, np.float32) - rng.random(DITHER_PERIOD, np.float32)
    table.flags.writeable = False
    return table


class _Dither:
    """TPDF dither of one 16-bit step each side, so the rounding to 16 bits leaves noise, not
    distortion that follows the signal (a fade's last bits, a quiet tail), as SoX does by
    default. Read in turn from one seeded table (`_dither_table`), so the same input gives
    the same bytes, and drawn once, not for each block (that was a tenth of a 3-minute
    file's work)."""

    def __init__(self) -> None:
        self.table, self.at = _dither_table(), 0

    def add_to(self, steps: np.ndarray) -> None:
        """Add the next ``steps.size`` values to C-ordered ``steps``, in place."""
        flat, done = steps.reshape(-1), 0
        while done < flat.size:
            take = min(flat.size - done, DITHER_PERIOD - self.at)
            flat[done : done + take] += self.table[self.at : self.at + take]
            done += take
            self.at = (self.at + take) % DITHER_PERIOD


@contextlib.contextmanager
def audio_writer(
    target: str | os.PathLike,
    sample_rate: int,
    channels: int,
    fmt: str = "wav",
    depth: str | None = None,
    tags: Tags | None = None,
    frames: int | None = None,
    dither: bool = False,
    speakers: tuple[str, ...] = (),
) -> Iterator[AudioSink]:
    """Open ``target`` for writing in blocks; it appears under its name only when complete,
    with ``tags`` (an input's title, artist, cover art...) where given.

    ``frames``: how many the caller expects to write (None: not known). A WAV expected to pass
    half of `WAV_LIMIT` is written as RF64 (as a WAV if it ends under 4 GiB after all; its
    float ``PEAK`` chunk then holds the time of writing, which libsndfile keeps in RF64); any
    other WAV raises :class:`OutputError` at the block that would pass the limit.

    ``dither``: 16-bit samples get TPDF dither (`_Dither`), from a fixed seed, so the same
    input gives the same bytes; a block already on the 16-bit grid is written as it is.

    ``speakers``: each channel's speaker, as FFmpeg names them (`AudioInfo.speakers`); a WAV or
    FLAC of more than two channels carries them (its header's channel mask; a FLAC's comment).
    """
    target = Path(target)
    subtype = _subtype(target, fmt, depth)
    container = FORMATS[fmt][0]
    long_wav = container == "WAV" and (frames or 0) * channels * SAMPLE_BYTES[subtype] > (
        WAV_LIMIT // 2
    )
    # Over two channels a WAV is WAVE_FORMAT_EXTENSIBLE, as Microsoft asks and FFmpeg writes:
    # the form with a channel mask.
    extensible = container == "WAV" and channels > 2
    layout = "RF64" if long_wav else "WAVEX" if extensible else container
    with atomic_path(target) as temp:
        try:
            handle = sf.SoundFile(temp, "w", sample_rate, channels, subtype, format=layout)
        except sf.LibsndfileError as error:
            raise _failure(target, error) from error
        if subtype == "FLOAT":
            _no_peak_chunk(handle)
        if long_wav:
            _wav_unless_too_long(handle)
        if extensible and len(speakers) == channels:
            _speaker_map(handle, speakers)
        sink = AudioSink(handle, subtype == "FLOAT", target)
        if container == "WAV" and not long_wav:
            sink.room = WAV_LIMIT
        if dither and subtype == "PCM_16":
            sink.dither = _Dither()
        try:
            yield sink
        finally:
            try:
                _close_unsynced(handle)
            except (sf.LibsndfileError, OSError) as error:
                raise _failure(target, error) from error
        flac_speakers = container == "FLAC" and channels > 2 and len(speakers) == channels
        tagged = bool(tags)
        if tagged and long_wav and _is_rf64(temp):  # mutagen writes tags to RIFF WAVs only
            sink.untagged = "its tags were not written: it is an RF64 file (over 4 GiB)"
            tagged = False
        if flac_speakers or tagged:  # only then: a mutagen import costs each start 30 ms
            from mutagen import MutagenError

            try:
                if flac_speakers:
                    _flac_speakers(temp, speakers)
                if tagged:
                    write_tags(temp, fmt, tags)
            except (MutagenError, OSError) as error:
                raise _failure(target, error) from error


def _is_rf64(path: Path) -> bool:
    with open(path, "rb") as written:
        return written.read(4) == b"RF64"


def write_audio(
    path: str | os.PathLike,
    samples: np.ndarray,
    sample_rate: int,
    clip: str = "clamp",
    depth: str = "16",
) -> Path:
    """Write a whole signal as WAV or FLAC (by the path's suffix), clamping or rescaling it.

    ``samples``: ``[samples]`` or ``[samples, channels]`` floats. Returns the path.
    """
    path = Path(path)
    fmt = next((f for f, (_, suffix, _) in FORMATS.items() if suffix == path.suffix.lower()), None)
    if fmt is None:
        raise OutputError(path, "output must end in .wav or .flac")
    if clip not in CLIP_MODES:
        raise ValueError(f"clip mode must be one of {CLIP_MODES}, not {clip!r}")
    data = np.asarray(samples, dtype=np.float32)
    data = data[:, None] if data.ndim == 1 else data
    peak = float(np.max(np.abs(data))) if data.size else 0.0
    if clip == "rescale" and peak > 1.0:
        data = data / peak
    elif clip == "clamp":
        data = np.clip(data, -1.0, 1.0)
    with audio_writer(path, sample_rate, data.shape[1], fmt, depth, frames=len(data)) as sink:
        sink.write(data)
    return path
