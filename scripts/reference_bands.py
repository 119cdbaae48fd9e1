"""What a reference clip holds above a codec's cut: its level, its own band as the dataset
measured it (the manifest's ``reference_band_hz``), and its power per band in dBFS.

Used to tell why a clip's rebuilt band loses: a master whose own band ends under the cut (the
model rebuilds a band it never had), or a quiet passage whose band above the cut is only its
noise floor (the model rebuilds it at a level the band under the cut suggests for music).

Usage: python scripts/reference_bands.py DATASET CLIP [CLIP ...]
"""

from __future__ import annotations

import argparse
import csv
from itertools import pairwise
from pathlib import Path

import numpy as np
import soundfile as sf

EDGES_HZ = (0, 5_000, 7_500, 9_000, 11_000, 14_000, 22_050)


def band_levels(samples: np.ndarray, rate: int) -> list[float]:
    """Power per band of `EDGES_HZ` (the channels' mean, Hann-windowed), dBFS: a full-scale
    sine holding the whole band reads 0, as its power is half the full scale's square."""
    mono = samples.reshape(len(samples), -1).mean(axis=1)
    window = np.hanning(len(mono))
    power = np.abs(np.fft.rfft(mono * window)) ** 2 / (np.sum(window**2) * len(mono) / 2)
    freqs = np.fft.rfftfreq(len(mono), 1 / rate)
    return [
        10 * np.log10(power[(freqs >= low) & (freqs < high)].sum() + 1e-20)
        for low, high in pairwise(EDGES_HZ)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("clips", nargs="+", help="reference names, as in the manifest")
    args = parser.parse_args()
    with open(args.dataset / "manifest.csv", newline="") as handle:
        rows = {row["reference"]: row for row in csv.DictReader(handle)}
    names = [f"{low / 1000:g}-{high / 1000:g}k" for low, high in pairwise(EDGES_HZ)]
    print(f"{'reference':34} {'RMS':>6} {'own band':>9}  " + " ".join(f"{n:>8}" for n in names))
    for clip in args.clips:
        row = rows[clip]
        samples, rate = sf.read(args.dataset / row["split"] / f"{clip}.high.wav", dtype="float32")
        rms = 10 * np.log10(np.mean(samples.astype(np.float64) ** 2) + 1e-20)
        band = float(row["reference_band_hz"]) / 1000
        levels = " ".join(f"{level:8.1f}" for level in band_levels(samples, rate))
        print(f"{clip:34} {rms:6.1f} {band:7.2f}k  {levels}")


if __name__ == "__main__":
    main()
