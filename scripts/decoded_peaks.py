"""How far over full scale an encoder's own output decodes: the grounds of
`spectral_enhance.audio.packets.OVER_FULL_SCALE`, over which a lossy frame is taken for damage.

Signals at full scale with the highest crest after coding (a 50 Hz square, a 110 Hz sawtooth,
one-sample impulses, Gaussian noise clipped at full scale, a 1 kHz sine; left and right
opposed), each encoded by Debian's ``lame`` at 8 to 320 kbps and decoded by Debian's ``ffmpeg``
to float: the peak of each, highest first.

Usage: python scripts/decoded_peaks.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from audio_tools import ffmpeg_decode, run

RATE = 44100
BITRATES = ("8", "32", "64", "128", "320")


def signals(seconds: float = 4.0) -> dict[str, np.ndarray]:
    """The test signals, mono, at 0.999 of full scale."""
    t = np.arange(int(seconds * RATE)) / RATE
    n = np.arange(len(t))
    noise = np.random.default_rng(0).standard_normal(len(t))
    return {
        "50 Hz square": np.sign(np.sin(2 * np.pi * 50 * t)),
        "110 Hz sawtooth": 2 * ((t * 110) % 1) - 1,
        "impulses": (n % 4410 == 0).astype(float) - (n % 4410 == 1),
        "clipped noise": np.clip(4 * noise, -1, 1),
        "1 kHz sine": np.sin(2 * np.pi * 1000 * t),
    }


def peak(wav: Path, bitrate: str, folder: Path) -> float:
    """The peak of ``wav`` encoded by ``lame`` at ``bitrate`` and decoded by ``ffmpeg``."""
    mp3 = folder / "x.mp3"
    run("lame", "--quiet", "-b", bitrate, wav, mp3)
    return float(np.abs(ffmpeg_decode(mp3, 2)).max())


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "x.wav"
        for name, x in signals().items():
            sf.write(wav, 0.999 * np.stack([x, -x], axis=1), RATE, subtype="PCM_16")
            rows += [(peak(wav, bitrate, Path(folder)), name, bitrate) for bitrate in BITRATES]
    print("| signal | kbps | decoded peak |\n|---|---|---|")
    for value, name, bitrate in sorted(rows, reverse=True):
        print(f"| {name} | {bitrate} | {value:.3f} |")


if __name__ == "__main__":
    main()
