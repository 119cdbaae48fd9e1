"""How far two models' changes to one file lie apart: is a retrained export the bundled model?

Enhances FILE (default: the 3-minute 44.1 kHz stereo 48 kbps MP3 `benchmarks/` times, made
here at LAME's 22.05 kHz) with the first model and with each other one, as `enhance` does
(int8, float output), and the file itself at strength 0. For each other model prints how far
its change (output less input) lies from the first model's, in dB under the first's change,
and its change's level against the first's: docs/full-band.md, "Retrained from a fresh build".

Usage: python scripts/model_difference.py full-band runs/export-e3 runs/export-seed1 [--file F]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from spectral_enhance.audio import read_audio
from spectral_enhance.audio.mp3 import encode_mp3
from spectral_enhance.inference.enhancer import Enhancer
from spectral_enhance.inference.one_file import enhance_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from harness import music_like


def _power(x: np.ndarray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="the first is the one the others are held to")
    parser.add_argument("--file", type=Path, help="the input (default: made as benchmarks/ does)")
    args = parser.parse_args()
    if len(args.models) < 2:
        raise SystemExit("name two models or more")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = args.file
        if source is None:
            source = folder / "music-48k.mp3"
            source.write_bytes(
                encode_mp3(music_like(180 * 44100, 44100), 44100, 48, lame_rate=True)
            )

        enhancers = {model: Enhancer.load(model, precision="int8") for model in args.models}

        def output(model: str, strength: float = 1.0) -> np.ndarray:
            target = folder / f"out-{len(list(folder.iterdir()))}.wav"
            enhance_file(enhancers[model], source, target, depth="float", strength=strength)
            return read_audio(target)[0]

        dry = output(args.models[0], strength=0.0)
        first = output(args.models[0]) - dry
        print(f"{source.name if args.file else 'a 3-minute 48 kbps MP3 (benchmarks/)'}, int8")
        print(
            f"{args.models[0]}: its change {-10 * np.log10(_power(first) / _power(dry)):.1f} dB "
            "under the input"
        )
        for model in args.models[1:]:
            change = output(model) - dry
            apart = 10 * np.log10(_power(change - first) / _power(first))
            level = 10 * np.log10(_power(change) / _power(first))
            print(
                f"{model}: its change is {args.models[0]}'s but for a difference {-apart:.1f} "
                f"dB under it, and {level:+.2f} dB in level"
            )


if __name__ == "__main__":
    main()
