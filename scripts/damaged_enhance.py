"""Damaged files through the whole job, as a user runs it: ``spectral-enhance enhance`` with the
bundled model over a folder of damaged copies of files other tools made.

The intact files (20 s, 44.1 kHz stereo, ``tests/audio_tools.source``): Debian ``lame`` at
64 kbps CBR and at ``-V 6``, ``ffmpeg``'s libmp3lame at 48 kbps without an Info tag, lameenc at
32 kbps without our tag, and a FLAC. Each copy gets one to four random mutations
(``tests/audio_tools.random_mutations``: flipped bytes, lost or inserted stretches, junk, a cut).

Prints how many copies were enhanced or refused, how many lossy ones had their low-pass found
against their intact file's (``lowpass_of_file``, what ``enhance`` measures), the outputs that
are not finite, and the highest output peaks.

Usage: python scripts/damaged_enhance.py [--cases 160] [--seed 11] [--keep FOLDER]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from audio_tools import lameenc_mp3, mutate, random_mutations, run, source, write_wav
from spectral_enhance.cli import main as cli
from spectral_enhance.dsp.lowpass import lowpass_of_file


def intact_files(folder: Path) -> dict[str, bytes]:
    """The intact files, by name."""
    x = source(20.0, 44100, 2, seed=7)
    wav = write_wav(folder / "seed.wav", x, 44100)
    run("lame", "--quiet", "-b", "64", wav, folder / "cbr64.mp3")
    run("lame", "--quiet", "-V", "6", wav, folder / "vbr.mp3")
    libmp3lame = ["-c:a", "libmp3lame", "-b:a", "48k", "-write_xing", "0"]
    run("ffmpeg", "-v", "error", "-y", "-i", wav, *libmp3lame, folder / "ffmpeg48.mp3")
    run("ffmpeg", "-v", "error", "-y", "-i", wav, folder / "seed.flac")
    (folder / "lameenc32.mp3").write_bytes(lameenc_mp3(x, 44100, 32))
    names = ("cbr64.mp3", "vbr.mp3", "ffmpeg48.mp3", "lameenc32.mp3", "seed.flac")
    return {name: (folder / name).read_bytes() for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=160)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="a folder to keep the copies and outputs in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        work = args.keep or Path(temp)
        inputs, outputs = work / "in", work / "out"
        inputs.mkdir(parents=True)
        intact = intact_files(work)
        cuts = {name: lowpass_of_file(work / name) for name in intact}
        rng = random.Random(args.seed)
        for case in range(args.cases):
            name = rng.choice(sorted(intact))
            data = mutate(intact[name], random_mutations(rng))
            (inputs / f"{case:03d}-{name}").write_bytes(data)
        status = cli(["enhance", str(inputs), "--out", str(outputs), "-q"])
        lossy = [path for path in sorted(inputs.iterdir()) if path.suffix == ".mp3"]
        found = near = 0
        for path in lossy:
            cut, intact_cut = lowpass_of_file(path), cuts[path.name.split("-", 1)[1]]
            found += cut is not None
            near += cut is not None and abs(cut - intact_cut) <= 300
        written = sorted(outputs.glob("*.wav"))
        peaks, not_finite = [], []
        for path in written:
            y, _ = sf.read(path, dtype="float32")
            if not np.isfinite(y).all():
                not_finite.append(path.name)
            peaks.append((float(np.nan_to_num(np.abs(y)).max()), path.name))
    print(
        f"{args.cases} damaged copies (seed {args.seed}): {len(written)} enhanced, "
        f"{args.cases - len(written)} refused (exit status {status})"
    )
    print("intact low-passes: " + ", ".join(f"{n} {c or 0:.0f} Hz" for n, c in cuts.items()))
    print(
        f"lossy copies with a low-pass found: {found} of {len(lossy)} "
        f"({near} within 300 Hz of their intact file's)"
    )
    print(f"outputs not finite: {len(not_finite)} {not_finite}")
    print("highest output peaks: " + ", ".join(f"{p:.2f} ({n})" for p, n in sorted(peaks)[-3:]))


if __name__ == "__main__":
    main()
