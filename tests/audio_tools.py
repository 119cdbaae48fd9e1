"""Test files made by independent tools (Debian ffmpeg, lame, sox, lameenc), alignment lags,
and the damaged copies the fuzz tests decode (:mod:`test_fuzz`, ``scripts/fuzz_decode.py``)."""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import lameenc
import numpy as np
import soundfile as sf

from conftest import music
from spectral_enhance.audio import AudioError, decode, mp3, open_audio


def source(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Music plus white noise (so cross-correlation has one peak), float32 ``[n, channels]``,
    on the 16-bit grid so a PCM WAV of it holds exactly these values."""
    x = music(seconds, rate, channels, seed).reshape(-1, channels)
    x = 0.7 * x + 0.05 * np.random.default_rng(seed + 99).standard_normal(x.shape)
    return (np.round(x * 32768) / 32768).astype(np.float32)


def write_wav(path: Path, x: np.ndarray, rate: int) -> Path:
    """``x`` as a 16-bit PCM WAV file (exact: ``x`` is on the 16-bit grid)."""
    sf.write(path, x, rate, subtype="PCM_16")
    return path


def run(*command: str | Path) -> bytes:
    """Run a Debian tool; skip the test if it is not installed, fail with its stderr if it fails."""
    if shutil.which(str(command[0])) is None:
        import pytest

        pytest.skip(f"{command[0]} is not installed")
    done = subprocess.run(list(map(str, command)), capture_output=True)
    if done.returncode:
        raise RuntimeError(f"{command} failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return done.stdout


def ffmpeg_decode(path: Path, channels: int) -> np.ndarray:
    """FFmpeg's own decode of ``path`` as float32 ``[n, channels]`` (its gapless rules, not ours:
    a LAME tag trims, a file without one is decoded whole)."""
    out = run("ffmpeg", "-v", "error", "-i", path, "-f", "f32le", "-")
    return np.frombuffer(out, "<f4").reshape(-1, channels)


def lame_decode(path: Path) -> np.ndarray:
    """LAME's own decoder (mpglib) on ``path``: float32 ``[n, channels]`` on the 16-bit grid,
    trimmed by a LAME tag; without one, the decoder's 529 samples removed."""
    wav = path.with_suffix(".lame.wav")
    run("lame", "--quiet", "--decode", path, wav)
    return sf.read(wav, dtype="float32", always_2d=True)[0]


def lameenc_mp3(x: np.ndarray, rate: int, bitrate: int) -> bytes:
    """A tag-less CBR MP3 from lameenc, at the input's rate (LAME's delay: 576)."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(rate)
    encoder.set_channels(x.shape[1])
    encoder.set_quality(2)
    pcm = np.round(x * 32768).clip(-32768, 32767).astype("<i2")
    return bytes(encoder.encode(pcm.tobytes()) + encoder.flush())


OTHER_ENCODERS = {
    "libshine": "ffmpeg -c:a libshine",
    "lame": "lame --lowpass -1 --resample 44.1",
    "ffmpeg-lame": "ffmpeg -c:a libmp3lame, at the input's 44.1 kHz: LAME's filter, bits scarcer",
}


def other_encoder_mp3(wav: Path, mp3: Path, encoder: str, kbps: int) -> Path:
    """``wav`` as an MP3 at ``kbps`` from one of `OTHER_ENCODERS`: MP3s made otherwise than
    LAME at its own rate for the bitrate (what the dataset makes)."""
    if encoder == "lame":
        run("lame", "--quiet", "-b", kbps, "--lowpass", -1, "--resample", 44.1, wav, mp3)
    else:
        codec = {"libshine": "libshine", "ffmpeg-lame": "libmp3lame"}[encoder]
        run("ffmpeg", "-v", "error", "-y", "-i", wav, "-c:a", codec, "-b:a", f"{kbps}k", mp3)
    return mp3


def without_info_frame(stream: bytes) -> bytes:
    """An MP3 stream without its first frame (the Xing/Info frame holding the LAME tag)."""
    return stream[mp3._frames(stream)[0].size :]


def lag(decoded: np.ndarray, original: np.ndarray, search: int = 3000) -> int:
    """How many samples ``decoded`` lags ``original`` (1-D), by FFT cross-correlation over
    +-``search``: 0 = aligned. Needs a noise-like signal, as periodic ones have many peaks."""
    d = np.asarray(decoded, np.float64)
    o = np.asarray(original, np.float64)
    n = 1 << int(len(d) + len(o)).bit_length()
    corr = np.fft.irfft(np.fft.rfft(d, n) * np.conj(np.fft.rfft(o, n)), n)
    window = np.concatenate([corr[n - search :], corr[: search + 1]])
    return int(np.argmax(window)) - search


def similarity(decoded: np.ndarray, original: np.ndarray) -> float:
    """Normalised correlation at lag 0 of the common part: 1 = same signal, 0 = unrelated."""
    n = min(len(decoded), len(original))
    d, o = decoded[:n].astype(np.float64), original[:n].astype(np.float64)
    return float(np.dot(d, o) / np.sqrt(np.dot(d, d) * np.dot(o, o) + 1e-12))


# Damaged copies, for the fuzz tests: a mutation is (kind, where in [0, 1), size, seed).
MUTATIONS = ("flip", "overwrite", "delete", "insert", "truncate", "prepend", "append")


def mutate(data: bytes, mutations: list[tuple[str, float, int, int]]) -> bytes:
    """``data`` with each mutation applied in turn, deterministically."""
    out = bytearray(data)
    for kind, where, size, seed in mutations:
        rng = random.Random(seed)
        at = int(where * len(out))
        junk = rng.randbytes(size)
        if kind == "flip":  # ``size`` single bytes XORed with random non-zero masks
            for _ in range(min(size, 64)):
                if out:
                    out[rng.randrange(len(out))] ^= rng.randrange(1, 256)
        elif kind == "overwrite":
            out[at : at + size] = junk[: len(out) - at]
        elif kind == "delete":
            del out[at : at + size]
        elif kind == "insert":
            out[at:at] = junk
        elif kind == "truncate":
            del out[at:]
        elif kind == "prepend":
            out[:0] = junk
        elif kind == "append":
            out += junk
    return bytes(out)


def random_mutations(rng: random.Random) -> list[tuple[str, float, int, int]]:
    """One to four random mutations (what the Hypothesis test draws, for the long run); those
    that damage rather than cut fall more often near the start, where the headers are (a fifth
    in the first 0.2 % of the file)."""
    mutations = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(MUTATIONS)
        where = rng.random() if kind == "truncate" else rng.random() ** 4
        size = rng.choice([1, 4, 64, 417, 4096, 20000])
        mutations.append((kind, where, size, rng.getrandbits(32)))
    return mutations


def seed_files(folder: Path, seconds: float = 2.0) -> dict[str, bytes]:
    """The intact files the fuzz tests damage: our own tagged MP3 (mono, 22.05 kHz), a ``lame``
    CLI VBR MP3, a tag-less lameenc MP3, a 16-bit WAV and a FLAC (stereo, 44.1 kHz)."""
    x = source(seconds, 44100, 2, seed=5)
    wav = write_wav(folder / "seed.wav", x, 44100)
    run("lame", "--quiet", "-V", "4", wav, folder / "seed-lame.mp3")
    run("ffmpeg", "-v", "error", "-y", "-i", wav, folder / "seed.flac")
    y = source(seconds, 22050, 1, seed=6)
    return {
        "own.mp3": mp3.encode_mp3(y[:, 0], 22050, 64),
        "lame.mp3": (folder / "seed-lame.mp3").read_bytes(),
        "lameenc.mp3": lameenc_mp3(x, 44100, 128),
        "seed.wav": wav.read_bytes(),
        "seed.flac": (folder / "seed.flac").read_bytes(),
    }


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeoutError` in the main thread if the block runs over ``seconds``."""

    def expire(*_: object) -> None:
        raise TimeoutError(f"still decoding after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


Read = Callable[[], tuple[np.ndarray, int, list[str]]]  # samples, rate, warnings


def _outcome(read: Read, name: str) -> tuple[str, int, float]:
    """Run ``read``; check its result or its :class:`AudioError` by the fuzz rules."""
    try:
        samples, rate, warnings = read()
    except AudioError as error:
        message = str(error)
        assert message.startswith(f"{name}: ") and len(message.splitlines()) == 1, message
        return "error", 0, 0.0
    assert samples.dtype == np.float32 and samples.ndim == 2 and samples.shape[1] >= 1
    assert np.isfinite(samples).all()
    for warning in warnings:
        assert warning.startswith(f"{name}: ") and len(warning.splitlines()) == 1, warning
    return ("warned" if warnings else "decoded"), samples.size, len(samples) / rate


def decode_damaged(data: bytes, path: Path, limit: float = 10.0) -> tuple[str, int, float]:
    """Decode ``data`` with ``decode(bytes)`` (unnamed and resampled to 16 kHz, then named
    ``path``) and, written to ``path``, block by block with ``open_audio(path).blocks()``,
    within ``limit`` seconds.

    Each must give float32 ``[n, channels]`` finite samples whose warnings are single lines
    naming the source, or an :class:`AudioError` whose message is one line naming it; the
    named bytes and the file the same. Returns ``"decoded"``, ``"warned"`` or ``"error"`` for
    the file, the number of values it decoded and their duration in seconds.
    """
    path.write_bytes(data)

    def blocks() -> tuple[np.ndarray, int, list[str]]:
        with open_audio(path) as reader:
            samples = np.concatenate(list(reader.blocks(block=1 << 14)))
            return samples, reader.info.sample_rate, reader.warnings

    def whole(name: str | None, rate: int | None = None) -> Read:
        def read() -> tuple[np.ndarray, int, list[str]]:
            decoded = decode(data, rate, name)
            return decoded.samples, decoded.sample_rate, decoded.warnings

        return read

    with time_limit(limit):
        _outcome(whole(None, 16000), "<bytes>")  # no name: FFmpeg has only the content
        from_bytes = _outcome(whole(str(path)), str(path))
        from_file = _outcome(blocks, str(path))
    assert from_bytes == from_file, f"bytes gave {from_bytes}, the file {from_file}"
    return from_file


def with_loud_granule(data: bytes, index: int) -> bytes:
    """``data`` (an MPEG-1 stereo MP3) with its ``index``-th frame's first granule's global gain
    set to 255 in the first channel: damage a decoder lets through, that decodes the frame at
    thousands of times full scale."""
    frame = mp3._frames(data)[index]
    assert frame.version_bits == 3 and not frame.mono
    side = frame.offset + 4 + (0 if data[frame.offset + 1] & 1 else 2)  # after the CRC if any
    bits = int.from_bytes(data[side : side + 8], "big")
    shift = 64 - 41 - 8  # main_data_begin 9, private 3, scfsi 8, part2_3_length 12, big_values 9
    bits |= 0xFF << shift
    return data[:side] + bits.to_bytes(8, "big") + data[side + 8 :]
