"""Cost of measuring a file's low-pass before enhancing it (issue 12), against the whole decode.

A 3-minute music-like signal (``harness.music_like``, 44.1 kHz stereo) is written as a 16-bit
WAV and encoded by Debian's ``lame`` at 64 kbps (``--resample 44.1``, else LAME picks 24 kHz),
128 kbps and VBR ``-V 4``. Each file is measured by
:func:`spectral_enhance.dsp.lowpass.lowpass_of_file` (32 short excerpts spread over it) and, as
``enhance`` did before, on the whole decode (one 4,096-point frame every 16,384 samples, the
decode included). Median of ``--repeats`` after one warm-up call; the cutoff each finds.
Aim: under 30 ms per 3-minute MP3.

Reproduce (from the repository root, on an otherwise idle machine; needs ``lame``):

    python benchmarks/lowpass_speed.py --json lowpass_speed.json
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import tempfile
from pathlib import Path

import soundfile as sf
from harness import machine, median, music_like, print_machine, table, time_calls, write_json

from spectral_enhance.audio import open_audio
from spectral_enhance.dsp.lowpass import N_FFT, SpectrumMeter, lowpass_of_file, lowpass_of_spectrum

RATE = 44100
SECONDS = 180
ENCODINGS = (
    ("lame -b 64 --resample 44.1", ["-b", "64", "--resample", "44.1"]),
    ("lame -b 128", ["-b", "128"]),
    ("lame -V 4", ["-V", "4"]),
)


def whole_file(path: Path) -> float | None:
    """The low-pass as ``enhance`` measured it before: on the whole decode, one frame in
    eight of Welch's grid."""
    with open_audio(path) as reader:
        meter = SpectrumMeter(reader.info.sample_rate, hop=4 * N_FFT)
        for block in reader.blocks():
            meter.add(block)
    return lowpass_of_spectrum(*meter.spectrum(), meter.rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    info = machine()
    print_machine(info)
    rows, results = [], []
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "song.wav"
        sf.write(wav, music_like(SECONDS * RATE, RATE, 2), RATE, subtype="PCM_16")
        for label, options in ENCODINGS:
            mp3 = Path(folder) / "song.mp3"
            subprocess.run(["lame", "--quiet", *options, str(wav), str(mp3)], check=True)
            sampled = median(time_calls(functools.partial(lowpass_of_file, mp3), args.repeats, 1))
            whole = median(time_calls(functools.partial(whole_file, mp3), 3, 1))
            cut, cut_whole = lowpass_of_file(mp3), whole_file(mp3)
            rows.append(
                [
                    label,
                    f"{1000 * sampled:.1f}",
                    f"{1000 * whole:.0f}",
                    f"{whole / sampled:.0f}x",
                    f"{cut:.0f}",
                    f"{cut_whole:.0f}",
                ]
            )
            results.append(
                {
                    "file": f"{SECONDS} s, {RATE} Hz stereo, {label}",
                    "excerpts_seconds": sampled,
                    "whole_decode_seconds": whole,
                    "lowpass_hz": cut,
                    "whole_decode_lowpass_hz": cut_whole,
                }
            )
    headers = ["3-minute MP3", "excerpts ms", "whole decode ms", "ratio", "cut Hz", "whole cut Hz"]
    print(table(headers, rows))
    if args.json:
        write_json(args.json, {"machine": info, "lowpass": results})


if __name__ == "__main__":
    main()
