"""How much enhancing changes a file's loudness and peak: whether a ReplayGain value measured on
the MP3 still holds for its output.

Each track's first ``--seconds`` are encoded by Debian's ``lame`` at each bitrate and enhanced
by ``spectral-enhance enhance`` (the bundled model); FFmpeg's ``ebur128`` filter (ITU-R BS.1770,
what ReplayGain 2 uses) measures the integrated loudness and true peak of the MP3's decode and
of the output. Prints, per bitrate, the mean and largest change in LUFS and in true peak (dB).

Usage: python scripts/loudness_change.py MUSIC_FOLDER... [--tracks 12] [--seconds 60]
    [--bitrates 32 64 128]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from spectral_enhance.audio import find_audio


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of ``path``, by FFmpeg."""
    command = ["ffmpeg", "-nostats", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null"]
    out = subprocess.run([*command, "-"], capture_output=True, text=True).stderr
    summary = out[out.rindex("Summary:") :]
    loudness = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return loudness, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("music", nargs="+", type=Path)
    parser.add_argument("--tracks", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--bitrates", type=int, nargs="+", default=[32, 64, 128])
    args = parser.parse_args()
    tracks = find_audio(args.music).files
    tracks = [tracks[i] for i in np.linspace(0, len(tracks) - 1, args.tracks).astype(int)]
    changes: dict[int, list[tuple[float, float]]] = {kbps: [] for kbps in args.bitrates}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for n, track in enumerate(tracks):
            wav = root / f"{n}.wav"
            cut = ["ffmpeg", "-v", "error", "-i", str(track), "-t", str(args.seconds), str(wav)]
            subprocess.run(cut, check=True)
            for kbps in args.bitrates:
                mp3 = root / f"{n}-{kbps}.mp3"
                subprocess.run(["lame", "--quiet", "-b", str(kbps), str(wav), str(mp3)], check=True)
                enhance = [sys.executable, "-m", "spectral_enhance", "enhance", str(mp3), "-q"]
                subprocess.run(enhance, check=True, capture_output=True)
                before = ebur128(mp3)
                after = ebur128(mp3.with_name(f"{mp3.stem}.enhanced.wav"))
                changes[kbps].append((after[0] - before[0], after[1] - before[1]))
                print(
                    f"{track.name} {kbps} kbps: {before[0]:.2f} -> {after[0]:.2f} LUFS, "
                    f"peak {before[1]:.2f} -> {after[1]:.2f} dBTP",
                    flush=True,
                )
    print(f"\n{len(tracks)} tracks, first {args.seconds:g} s; change from the MP3 to its output")
    print("kbps  loudness mean (largest) LU  true peak mean (largest) dB")
    for kbps, values in changes.items():
        loud, peak = np.array(values).T
        print(
            f"{kbps:4d}  {loud.mean():+.2f} ({loud[np.argmax(np.abs(loud))]:+.2f})"
            f"                 {peak.mean():+.2f} ({peak[np.argmax(np.abs(peak))]:+.2f})"
        )


if __name__ == "__main__":
    main()
