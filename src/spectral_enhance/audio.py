"""Reading, writing, resampling and finding audio files.

Every reader returns float32 ``[samples, channels]`` and the file's sample rate. MP3 goes through
:func:`spectral_enhance.codec.decode_mp3` so it is sample-aligned with its source; everything else
through libsndfile. Writes go to a temporary name in the target folder and are renamed when
complete, so an interrupted run never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .codec import decode_mp3, gapless_span, quiet_decoder, read_gapless_info

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioError",
    "find_audio",
    "read_audio",
    "read_blocks",
    "resample",
    "resampled_length",
    "temporary_path",
    "to_mono",
    "write_audio",
]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff")
CLIP_MODES = ("clamp", "rescale")
BLOCK = 1 << 20  # samples read at a time by read_blocks
# libsndfile's MP3 reader returns damaged samples for a while after each read starts, at low
# bitrates (the bit reservoir is not restored). Each block is therefore read from this many
# samples earlier and the lead-in dropped: 32 MPEG-1 frames, past any reservoir reach.
MP3_LEAD_IN = 32 * 1152


class AudioError(Exception):
    """A file that cannot be read or written; ``str()`` is a one-line message naming it."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def _existing_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path if it names a non-empty file; AudioError saying what it is otherwise."""
    path = Path(path)
    if not path.exists():
        raise AudioError(path, "no such file or folder")
    if path.is_dir():
        raise AudioError(path, "is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(path, "file is empty")
    return path


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read any supported file as float32 ``[samples, channels]`` and its sample rate."""
    path = _existing_file(path)
    try:
        if path.suffix.lower() == ".mp3":
            with quiet_decoder():
                samples, rate = decode_mp3(path)
        else:
            samples, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError, EOFError, OSError) as error:
        raise AudioError(path, f"not readable as audio ({_one_line(error)})") from error
    if samples.size == 0:
        raise AudioError(path, "contains no audio samples")
    if not np.all(np.isfinite(samples)):
        raise AudioError(path, "contains NaN or infinite samples")
    return samples, rate


def read_blocks(
    path: str | os.PathLike, block: int = BLOCK
) -> tuple[int, int, int, Iterator[np.ndarray]]:
    """Open ``path`` for reading in blocks: (sample rate, channels, samples, blocks).

    Blocks are float32 ``[n, channels]``, at most ``block`` long, so memory stays bounded for any
    length. MP3 is aligned as :func:`spectral_enhance.codec.decode_mp3` aligns it.
    """
    path = _existing_file(path)
    mp3 = path.suffix.lower() == ".mp3"
    try:
        with quiet_decoder(mp3):
            handle = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise AudioError(path, f"not readable as audio ({_one_line(error)})") from error
    skip, length = 0, handle.frames
    if mp3:
        with open(path, "rb") as raw:
            skip, length = gapless_span(read_gapless_info(raw.read(1 << 16)), handle.frames)
    if length <= 0:
        handle.close()
        raise AudioError(path, "contains no audio samples")

    def read(position: int, count: int) -> np.ndarray:
        start = max(0, position - MP3_LEAD_IN) if mp3 else position
        if mp3 or position == skip:
            handle.seek(start)
        with quiet_decoder(mp3):
            data = handle.read(position - start + count, dtype="float32", always_2d=True)
        return data[position - start :]

    def blocks() -> Iterator[np.ndarray]:
        with handle:
            try:
                position, end = skip, skip + length
                while position < end:
                    data = read(position, min(block, end - position))
                    if len(data) == 0:
                        raise AudioError(
                            path,
                            f"truncated or damaged: decoded {position - skip} of {length} samples",
                        )
                    if not np.all(np.isfinite(data)):
                        raise AudioError(path, "contains NaN or infinite samples")
                    position += len(data)
                    yield data
            except (sf.LibsndfileError, RuntimeError) as error:
                raise AudioError(path, f"decoding failed ({_one_line(error)})") from error

    return handle.samplerate, handle.channels, length, blocks()


def _one_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[-1] if text else type(error).__name__


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels: ``[samples, channels]`` -> ``[samples]`` (as the authors' code)."""
    return samples.mean(axis=1) if samples.ndim == 2 else samples


def resampled_length(length: int, rate_in: int, rate_out: int) -> int:
    """Samples a signal of ``length`` has at ``rate_out`` (rounded to the nearest)."""
    return (length * rate_out + rate_in // 2) // rate_in


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample along the first axis with soxr (very high quality); a no-op at equal rates.

    The result has exactly :func:`resampled_length` samples, so durations match to the sample.
    """
    if rate_in == rate_out:
        return samples
    out = soxr.resample(samples, rate_in, rate_out, quality="VHQ").astype(np.float32)
    length = resampled_length(len(samples), rate_in, rate_out)
    if len(out) >= length:
        return out[:length]
    return np.pad(out, [(0, length - len(out))] + [(0, 0)] * (out.ndim - 1))


def _clip(samples: np.ndarray, mode: str) -> np.ndarray:
    if mode not in CLIP_MODES:
        raise ValueError(f"clip mode must be one of {CLIP_MODES}, not {mode!r}")
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if mode == "rescale" and peak > 1.0:
        return samples / peak
    return np.clip(samples, -1.0, 1.0)


def temporary_path(target: Path) -> str:
    """A new empty file beside ``target`` to write into and then rename over it.

    It gets the permissions a plainly created file would (``mkstemp`` makes it private).
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
        os.close(handle)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
    except OSError as error:
        raise AudioError(target, f"cannot write here ({error.strerror or error})") from error
    return temp


def write_audio(
    path: str | os.PathLike,
    samples: np.ndarray,
    sample_rate: int,
    clip: str = "clamp",
    subtype: str = "PCM_16",
) -> Path:
    """Write WAV or FLAC (by extension) atomically, clipping as ``clip`` says (clamp|rescale).

    ``samples``: ``[samples]`` or ``[samples, channels]`` floats in [-1, 1].
    """
    path = Path(path)
    fmt = {".wav": "WAV", ".flac": "FLAC"}.get(path.suffix.lower())
    if fmt is None:
        raise AudioError(path, "output must end in .wav or .flac")
    data = _clip(np.asarray(samples, dtype=np.float32), clip)
    temp = temporary_path(path)
    try:
        sf.write(temp, data, sample_rate, format=fmt, subtype=subtype)
        os.replace(temp, path)
    except BaseException as error:
        Path(temp).unlink(missing_ok=True)
        if isinstance(error, (OSError, sf.LibsndfileError)):
            raise AudioError(path, f"cannot write ({_one_line(error)})") from error
        raise
    return path


def find_audio(sources: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Yield audio files named directly, and those found recursively in folders, sorted.

    A named path that does not exist is yielded as it is, so the caller reports it.
    """
    for source in map(Path, sources):
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                if path.suffix.lower() in AUDIO_EXTENSIONS and path.is_file():
                    yield path
        else:
            yield source
