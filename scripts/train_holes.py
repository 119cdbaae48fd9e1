"""Fit the net that finds and levels the codec's holes under the low-pass (`dsp.holes`).

For the training split's MP3 clips whose measured low-pass (`dsp.lowpass.find_lowpass`, as the
enhancer measures it) is under `dsp.holes.TOP_HZ`, every band of the octave under the low-pass
and frame, at the bundled full-band model's STFT: `dsp.holes.hole_features` of the decoded MP3,
and the reference's level there over the band's anchor (cut to -40..+20 dB). A two-layer
perceptron (``--hidden`` units, ReLU) learns it by mean squared error. Prints, per bitrate on the
validation split, how well it finds and levels the bands the MP3 holds more than
`dsp.holes.THRESHOLD_DB` under the reference, then writes the net (``--out``), which
``spectral-enhance export --hole-net`` ships in a model's folder (the bundled full-band model's
is ``src/spectral_enhance/pretrained/full-band/holes.onnx``).

Usage: python scripts/train_holes.py DATASET --out runs/holes.onnx [--hidden 24] [--epochs 6]
           [--every 1]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from spectral_enhance.dataset.build import read_clip, read_manifest
from spectral_enhance.dsp.holes import (
    FLOOR,
    GEOMETRY,
    THRESHOLD_DB,
    TOP_HZ,
    HoleNet,
    band_sums,
    hole_features,
    hole_frames,
)
from spectral_enhance.dsp.lowpass import find_lowpass
from spectral_enhance.dsp.stft import StftConfig, power, spectrum
from spectral_enhance.inference.enhancer import Enhancer


def cells(
    dataset: str, split: str, config: StftConfig, band_bins: int, every: int, rate: int
) -> tuple[np.ndarray, ...]:
    """Features (``[cells, 11]``), the reference's level over the anchor and over the MP3's
    (dB), and the bitrate, of half the bands and frames (drawn with a fixed seed) of every
    ``every``-th clip of ``split``."""
    rng = np.random.default_rng(0)
    frames = hole_frames(rate, config.hop_length)
    rows = [r for r in read_manifest(dataset, split) if int(r["low_bitrate"] or 0)][::every]
    out: list[list[np.ndarray]] = [[], [], [], []]
    for row in rows:
        if int(row["sample_rate"]) != rate:
            raise SystemExit(f"{row['clip']}: {row['sample_rate']} Hz, the model's is {rate}")
        low, high = read_clip(row, "low"), read_clip(row, "high")
        lowpass = find_lowpass(low, rate)
        if lowpass is None or lowpass >= TOP_HZ:
            continue
        cutoff = lowpass * config.fft_length / rate
        sums, first, start = band_sums(power(spectrum(low.T, config)), cutoff, band_bins)
        if sums.shape[-1] - (first - start) < 2:
            continue
        features, level, anchor = hole_features(sums, first - start, frames, lowpass)
        reference = band_sums(power(spectrum(high.T, config)), cutoff, band_bins)[0]
        reference = 10 * np.log10(reference[..., first - start :] + FLOOR)
        keep = rng.random(level.shape) < 0.5
        for i, value in enumerate(
            (features[:, keep].T, (reference - anchor)[keep], (reference - level)[keep])
        ):
            out[i].append(value.astype(np.float32))
        out[3].append(np.full(int(keep.sum()), int(row["low_bitrate"])))
    return tuple(np.concatenate(parts) for parts in out)


def fit(features: np.ndarray, over_anchor: np.ndarray, hidden: int, epochs: int) -> list:
    """The perceptron's layers, fitted to the level over the anchor in tens of dB."""
    torch.manual_seed(0)
    x = torch.from_numpy(features)
    y = torch.from_numpy(np.clip(over_anchor, -40, 20) / 10)
    net = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, 1),
    )
    optimiser = torch.optim.Adam(net.parameters(), 3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs)
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), 8192):
            batch = order[i : i + 8192]
            loss = ((net(x[batch])[:, 0] - y[batch]) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        schedule.step()
    linear = [m for m in net if isinstance(m, torch.nn.Linear)]
    return [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()) for m in linear]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--out", required=True)
    parser.add_argument("--hidden", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--every", type=int, default=1, help="every so many training clips")
    parser.add_argument("--model", default="full-band", help="whose STFT and bands (full-band)")
    args = parser.parse_args()
    enhancer = Enhancer.load(args.model)
    config, bins, rate = enhancer.stft, enhancer.rule.noise_band_bins, enhancer.sample_rate
    features, over_anchor, _, _ = cells(args.dataset, "train", config, bins, args.every, rate)
    print(f"{len(features):,} bands and frames of the training split")
    layers = fit(features, over_anchor, args.hidden, args.epochs)
    geometry = dict(zip(GEOMETRY, (rate, config.fft_length, config.hop_length, bins), strict=True))
    HoleNet.write(args.out, layers, geometry)
    net = HoleNet.load(args.out)
    features, over_anchor, over_mp3, bitrates = cells(args.dataset, "val", config, bins, 1, rate)
    over_level = over_mp3 - over_anchor  # the anchor over the MP3's level
    predicted = net(np.ascontiguousarray(features.T)) + over_level  # over the MP3's level
    print(f"validation: the bands the MP3 holds more than {THRESHOLD_DB:g} dB under the reference")
    print("| kbps | such bands | found | their level's error (RMS dB) | other bands filled |")
    print("|---|---|---|---|---|")
    for bitrate in sorted(set(bitrates)):
        mine = bitrates == bitrate
        hole, said = over_mp3[mine] > THRESHOLD_DB, predicted[mine] > THRESHOLD_DB
        error = np.sqrt(np.mean((predicted[mine][hole] - over_mp3[mine][hole]) ** 2))
        print(
            f"| {bitrate} | {hole.mean():.0%} | {said[hole].mean():.0%} | {error:.1f} "
            f"| {said[~hole].mean():.1%} |"
        )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
