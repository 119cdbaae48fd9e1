"""Level of the decoded 32 kbps input against the 128 kbps target per band, and a model's gain.

Backs the statements in docs/training.md and the README that the 32 kbps decode runs about
0.4 dB quiet and that the shipped model's per-bin gain restores it in the bass.
Usage: python scripts/band_levels.py DATASET [--split val] [--clips 48] [--checkpoint RUN/best.pt]
"""

import argparse
from itertools import pairwise

import numpy as np

from spectral_enhance.dataset.manifest import read_manifest

BANDS = [0, 100, 500, 1000, 2000, 4000, 6000, 8000, 8300, 11025]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--split", default="val")
    parser.add_argument("--clips", type=int, default=48)
    parser.add_argument("--checkpoint", help="a .pt whose per-bin gain to print beside")
    args = parser.parse_args()
    import soundfile as sf

    rows = read_manifest(args.dataset, args.split)
    rows = [rows[i] for i in np.random.default_rng(0).permutation(len(rows))[: args.clips]]
    low_energy = np.zeros(len(BANDS) - 1)
    high_energy = np.zeros(len(BANDS) - 1)
    for row in rows:
        low, rate = sf.read(row["low"])
        high, _ = sf.read(row["high"])
        freqs = np.fft.rfftfreq(len(low), 1 / rate)
        for k, (a, b) in enumerate(pairwise(BANDS)):
            band = (freqs >= a) & (freqs < b)
            low_energy[k] += np.sum(np.abs(np.fft.rfft(low)[band]) ** 2)
            high_energy[k] += np.sum(np.abs(np.fft.rfft(high)[band]) ** 2)
    gain_db = None
    if args.checkpoint:
        from spectral_enhance.models.checkpoint import load_model

        model, _ = load_model(args.checkpoint)
        gain_db = 20 * np.log10(model.gain.detach().numpy())
        bin_freqs = np.arange(len(gain_db)) * rate / 1023
    print(f"{len(rows)} {args.split} clips of {args.dataset}")
    print(
        "band (Hz)      input vs target (dB)"
        + ("   model gain, mean (dB)" if gain_db is not None else "")
    )
    for k, (a, b) in enumerate(pairwise(BANDS)):
        line = f"{a:5d}-{b:5d}   {10 * np.log10(low_energy[k] / high_energy[k]):8.2f}"
        if gain_db is not None:
            line += f"   {gain_db[(bin_freqs >= a) & (bin_freqs < b)].mean():8.2f}"
        print(line)


if __name__ == "__main__":
    main()
