"""WAV outputs over 4 GiB, as ``enhance`` writes one for a long input (250 minutes of 44.1 kHz
float stereo: 5.3 GB), read back by libsndfile and by Debian's ffprobe.

A WAV's sizes are 32-bit: past 4 GiB libsndfile writes them as 0xFFFFFFFF, and a reader that
trusts them (libsndfile itself) stops after 3 h 22 min. Three writes of the same samples:
libsndfile's plain WAV (what ``enhance`` wrote before), ``audio.write.audio_writer`` told the
length (``enhance`` tells it the container's estimate: RF64), and not told it (a stream that
gives no length: stopped with an error at the limit). Needs 5.3 GB free in ``--folder``; each
file is removed once read.

Usage: python scripts/long_wav_check.py [--minutes 250] [--folder /tmp]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from spectral_enhance.atomic import OutputError
from spectral_enhance.audio.tags import Tags
from spectral_enhance.audio.write import audio_writer

RATE = 44100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=250)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    target = args.folder / "long-wav-check.wav"
    minute = np.zeros((RATE * 60, 2), np.float32)
    frames = RATE * 60 * args.minutes
    print(f"{args.minutes} min of {RATE} Hz float stereo ({frames * 8 / 1e9:.2f} GB of samples)")

    with sf.SoundFile(target, "w", RATE, 2, "FLOAT", format="WAV") as plain:
        for _ in range(args.minutes):
            plain.write(minute)
    report("libsndfile's WAV", target, None)

    with audio_writer(target, RATE, 2, "wav", tags=Tags({"title": "long"}), frames=frames) as sink:
        for _ in range(args.minutes):
            sink.write(minute)
    report("audio_writer, length told", target, sink.untagged or "written")

    try:
        with audio_writer(target, RATE, 2, "wav") as sink:
            for _ in range(args.minutes):
                sink.write(minute)
        report("audio_writer, length not told", target, sink.untagged or "written")
    except OutputError as error:
        print(f"audio_writer, length not told: {error}; left behind: {target.exists()}")


def report(name: str, target: Path, tags: str | None) -> None:
    """What the file's header and two readers say of its length; then remove it."""
    try:
        with open(target, "rb") as handle:
            head = handle.read(4)
        info = sf.info(target)
        command = ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"]
        probe = subprocess.run([*command, str(target)], capture_output=True, text=True)
        print(
            f"{name}: {target.stat().st_size / 1e9:.2f} GB, header {head.decode()}; libsndfile "
            f"reads {info.duration / 60:.1f} min, ffprobe {float(probe.stdout) / 60:.1f} min"
            + (f"; tags {tags}" if tags else "")
        )
    finally:
        target.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
