"""Time of the Zimtohrli metric (issue 12) on the clips `evaluate` scores.

One 100,000-sample clip at 22,050 Hz (the paper's clip) and 5 s at 44.1 kHz, each mono and
stereo: a music-like signal (``harness.music_like``) against itself low-passed at 8 kHz (FFT
brick wall), through :func:`spectral_enhance.evaluation.metrics.zimtohrli_mos` (resampling to 48 kHz
included). Median of ``--repeats`` after one warm-up call; seconds per clip and per second of
audio.

Reproduce (from the repository root, on an otherwise idle machine):

    python benchmarks/metric_speed.py --json metric_speed.json
"""

from __future__ import annotations

import argparse
import functools

from harness import machine, median, music_like, print_machine, table, time_calls, write_json

from spectral_enhance.dsp.replication import brick_wall_split
from spectral_enhance.evaluation.metrics import zimtohrli_mos

CASES = (("100,000 samples at 22,050 Hz", 100_000, 22050), ("5 s at 44,100 Hz", 220_500, 44100))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    info = machine()
    print_machine(info)
    rows, results = [], []
    for label, length, rate in CASES:
        for channels in (1, 2):
            x = music_like(length, rate, channels)
            y = brick_wall_split(x, rate, 8000.0)[0]
            x, y = (x[:, 0], y[:, 0]) if channels == 1 else (x, y)
            call = functools.partial(zimtohrli_mos, x, y, rate)
            seconds = median(time_calls(call, args.repeats, 1))
            audio = length / rate
            rows.append([label, channels, f"{seconds:.3f}", f"{seconds / audio:.3f}"])
            results.append(
                {
                    "clip": label,
                    "channels": channels,
                    "seconds": seconds,
                    "per_audio_s": seconds / audio,
                }
            )
    print(table(["clip", "channels", "s per clip", "s per s of audio"], rows))
    if args.json:
        write_json(args.json, {"machine": info, "zimtohrli": results})


if __name__ == "__main__":
    main()
