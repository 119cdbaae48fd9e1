"""Which decoder to build the input module on: libsndfile (soundfile) or FFmpeg (PyAV).

Makes files with independent tools (Debian ffmpeg, lame, sox) from 10 s of stereo pink noise,
decodes each with libsndfile as it is, with FFmpeg through PyAV as it is, and with this
package's input module (FFmpeg plus its one gapless rule), and prints for each the decoded
length against the source and the offset of the source inside the decode (cross-correlation).
Then times a 3-minute 44.1 kHz stereo 128 kbps MP3 with each (median of 5).

    python scripts/compare_decoders.py
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from spectral_enhance.audio import resample
from spectral_enhance.audio.mp3 import encode_mp3

RATE = 44100


def pink_noise(path: Path, seconds: int) -> None:
    """Stereo 16-bit pink noise at -10 dBFS from sox."""
    command = ["sox", "-n", "-r", str(RATE), "-c", "2", "-b", "16", str(path)]
    subprocess.run([*command, "synth", str(seconds), "pinknoise", "vol", "0.3"], check=True)


def offset(decoded: np.ndarray, source: np.ndarray, search: int = 3000) -> int:
    """Where ``source`` starts inside ``decoded`` (positive: late), by cross-correlation."""
    a, b = decoded[:, 0], source[:, 0]
    segment = b[20000:28000]
    window = a[20000 - search : 28000 + search]
    if len(window) < len(segment) + 2 * search:
        return 0
    return int(np.argmax(np.correlate(window, segment, "valid"))) - search


def make_files(folder: Path, source: Path) -> dict[str, Path]:
    """The test files, each made by an independent tool."""

    def ffmpeg(name: str, *args: str) -> Path:
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", source, *args, folder / name], check=True
        )
        return folder / name

    files = {
        "lame CBR 128 (LAME tag)": folder / "lame.mp3",
        "ffmpeg CBR 128, no Xing": ffmpeg("cbr-noxing.mp3", "-b:a", "128k", "-write_xing", "0"),
        "ffmpeg VBR q4, no Xing": ffmpeg("vbr-noxing.mp3", "-q:a", "4", "-write_xing", "0"),
        "ffmpeg VBR q4 (Xing)": ffmpeg("vbr.mp3", "-q:a", "4"),
        "lame 32 kbps (16 kHz)": folder / "lame32.mp3",
        "AAC in M4A": ffmpeg("aac.m4a", "-c:a", "aac", "-b:a", "128k"),
        "Opus": ffmpeg("opus.opus", "-c:a", "libopus"),
        "WMA": ffmpeg("wma.wma", "-c:a", "wmav2"),
    }
    subprocess.run(["lame", "--quiet", "-b", "128", source, files["lame CBR 128 (LAME tag)"]])
    subprocess.run(["lame", "--quiet", "-b", "32", source, files["lame 32 kbps (16 kHz)"]])
    tagged = files["lame CBR 128 (LAME tag)"].read_bytes()
    size = 3_000_000 - 10
    syncsafe = bytes([(size >> 21) & 127, (size >> 14) & 127, (size >> 7) & 127, size & 127])
    (folder / "id3.mp3").write_bytes(b"ID3\x03\x00\x00" + syncsafe + bytes(size) + tagged)
    files["lame CBR 128 after a 3 MB ID3v2 tag"] = folder / "id3.mp3"
    (folder / "half.mp3").write_bytes(tagged[: len(tagged) // 2])
    files["lame CBR 128 cut at half its bytes"] = folder / "half.mp3"
    shutil.copy(source, folder / "wav-named.mp3")
    files["a WAV named .mp3"] = folder / "wav-named.mp3"
    return files


def libsndfile(path: Path) -> tuple[np.ndarray, int]:
    return sf.read(path, dtype="float32", always_2d=True)


def pyav(path: Path) -> tuple[np.ndarray, int]:
    import av

    parts = []
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            data = frame.to_ndarray()
            channels = len(frame.layout.channels)
            parts.append(data.T if frame.format.is_planar else data.reshape(-1, channels))
        rate = stream.codec_context.sample_rate
    return np.concatenate(parts).astype(np.float32), rate


def ours(path: Path) -> tuple[np.ndarray, int]:
    from spectral_enhance.audio import decode

    decoded = decode(path)
    return decoded.samples, decoded.sample_rate


def ours_bytes(stream: bytes) -> np.ndarray:
    from spectral_enhance.audio import decode

    return decode(stream).samples


DECODERS = {"libsndfile": libsndfile, "FFmpeg (PyAV)": pyav, "spectral-enhance": ours}


def describe(decode, path: Path, source: np.ndarray) -> str:
    try:
        decoded, rate = decode(path)
    except Exception as error:  # a comparison: every failure is a result to print
        return f"error: {str(error).splitlines()[0][:40]}"
    if rate != RATE or len(decoded) < 30000:
        return f"{len(decoded)} samples at {rate} Hz"
    return f"{len(decoded) - len(source):+d} samples, offset {offset(decoded, source):+d}"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "source.wav"
        pink_noise(source, 10)
        original = libsndfile(source)[0]
        print(f"source: 10 s stereo pink noise, {len(original)} samples at {RATE} Hz")
        print("length against the source, and the source's offset in the decode (0 = aligned)\n")
        print(f"| file | {' | '.join(DECODERS)} |")
        print("|---" * (len(DECODERS) + 1) + "|")
        for name, path in make_files(folder, source).items():
            cells = [describe(decode, path, original) for decode in DECODERS.values()]
            print(f"| {name} | {' | '.join(cells)} |")

        print(
            "\nthe recipe's own tagged MP3s (22,050 Hz mono), libsndfile against the input module:"
        )
        mono = libsndfile(source)[0].mean(axis=1)
        for kbps in (32, 128):
            stream = encode_mp3(resample(mono, RATE, 22050), 22050, kbps)
            theirs = sf.read(io.BytesIO(stream), dtype="float32")[0]
            difference = ours_bytes(stream)[:, 0] - theirs
            snr = 10 * np.log10(np.sum(theirs**2) / np.sum(difference**2))
            largest = np.abs(difference).max()
            print(f"  {kbps} kbps: SNR {snr:.0f} dB, largest difference {largest:.1e}")

        pink_noise(folder / "long.wav", 180)
        subprocess.run(["lame", "--quiet", "-b", "128", folder / "long.wav", folder / "long.mp3"])
        print("\n3-minute 44.1 kHz stereo 128 kbps MP3, whole decode, median of 5:")
        for label, decode in DECODERS.items():
            times = []
            for _ in range(5):
                start = time.perf_counter()
                decode(folder / "long.mp3")
                times.append(time.perf_counter() - start)
            print(f"  {label:18s} {sorted(times)[2] * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
