"""Whether what follows damage in an MP3 keeps its time: the grounds of
`spectral_enhance.audio.packets._Rejected`.

A 10 s stereo source encoded by Debian's ``lame`` at 128 kbps CBR and at ``-V2``; copies with
the sync words of 1 to 3 frames in a row broken at six places, and with ten random stretches
of 10 to 3,000 bytes overwritten (seeded). Each copy is decoded by ``decode`` and its last 2 s
matched against the clean file's decode: the lag (0: on time, to the sample) of each copy, and
how many are on time.

Usage: python scripts/damage_timing.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from audio_tools import lag, run, source, write_wav
from spectral_enhance.audio import decode, mp3

RATE = 44100
PLACES = (5, 30, 60, 100, 200, 300)  # the first frame broken, counted from the first audio frame


def copies(data: bytes) -> list[tuple[str, bytes]]:
    """The damaged copies of ``data``, each named by its damage."""
    start = mp3.id3v2_end(data)
    frames = mp3._frames(data[start:])
    out = []
    for first in PLACES:
        for broken in (1, 2, 3):
            copy = bytearray(data)
            for frame in frames[first : first + broken]:
                copy[start + frame.offset : start + frame.offset + 2] = b"\0\0"
            out.append((f"frames {first}+{broken} headers", bytes(copy)))
    rng = np.random.default_rng(3)
    for _ in range(10):
        copy = bytearray(data)
        at, size = int(rng.integers(5000, len(data) - 5000)), int(rng.integers(10, 3000))
        copy[at : at + size] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        out.append((f"{size} bytes at {at}", bytes(copy)))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        wav = write_wav(Path(folder) / "source.wav", source(10.0, RATE, 2), RATE)
        for name, options in (("lame -b 128", ("-b", "128")), ("lame -V2", ("-V2",))):
            clean = Path(folder) / "clean.mp3"
            run("lame", "--quiet", *options, wav, clean)
            reference = decode(clean).samples[:, 0]
            tail = slice(len(reference) - 2 * RATE, len(reference))
            lags = []
            for what, data in copies(clean.read_bytes()):
                damaged = Path(folder) / "damaged.mp3"
                damaged.write_bytes(data)
                ours = decode(damaged).samples[:, 0]
                lags.append(lag(ours[-2 * RATE :], reference[tail], search=4000))
                print(f"{name}, {what}: {len(ours)} samples, lag {lags[-1]}")
            print(f"{name}: on time in {lags.count(0)} of {len(lags)}\n")


if __name__ == "__main__":
    main()
