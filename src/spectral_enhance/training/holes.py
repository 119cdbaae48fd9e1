"""Fit the net that finds and levels the codec's holes under the low-pass (`dsp.holes`).

For the training split's MP3 clips whose measured low-pass (`dsp.lowpass.find_lowpass`, as the
enhancer measures it) is under `dsp.holes.TOP_HZ`, every band of the octave under the low-pass
and frame, at a model's STFT: `dsp.holes.hole_features` of the decoded MP3, and the reference's
level there over the band's anchor (cut to -40..+20 dB). A two-layer perceptron (ReLU) learns it
by mean squared error, from a fixed seed: the same data gives the same bytes. ``export
--hole-net`` then ships the net in the model's folder; it refuses a net of another STFT.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from ..atomic import atomic_path, refuse_to_replace
from ..dataset.manifest import read_clip, read_manifest
from ..dsp.holes import (
    FLOOR,
    THRESHOLD_DB,
    TOP_HZ,
    HoleGeometry,
    HoleNet,
    band_sums,
    hole_features,
    hole_frames,
)
from ..dsp.lowpass import find_lowpass
from ..dsp.stft import power, spectrum

__all__ = [
    "HoleCells",
    "HoleScore",
    "fit_hole_net",
    "hole_cells",
    "hole_geometry",
    "hole_scores",
    "train_holes",
]

LEVEL_RANGE_DB = (-40.0, 20.0)
"""The reference's level over the anchor is learned within these bounds."""
BATCH = 8192
"""Cells per step of the fit."""


@dataclass(frozen=True)
class HoleCells:
    """Bands and frames of a split's MP3 clips: the net's features (``[cells, 11]``), the
    reference's level over the band's anchor and over the MP3's own (dB), and each one's
    bitrate."""

    features: np.ndarray
    over_anchor: np.ndarray
    over_mp3: np.ndarray
    bitrates: np.ndarray


@dataclass(frozen=True)
class HoleScore:
    """How a net does at one bitrate of the validation split on the bands the MP3 holds more
    than `dsp.holes.THRESHOLD_DB` under the reference (its holes): their share of the bands,
    the share of them found, the RMS error of their predicted level (dB), and the share of the
    other bands it would fill."""

    kbps: int
    holes: float
    found: float
    error_db: float
    false_fills: float


def hole_geometry(model: str | os.PathLike) -> HoleGeometry:
    """The STFT a hole net for ``model`` must be fitted at: a ``.pt`` checkpoint's, as export
    checks it, or a bundled or exported model's, as the enhancer does."""
    if str(model).endswith(".pt"):
        from ..models.checkpoint import load_model

        config = load_model(model)[0].config
        if not hasattr(config, "band_bins"):
            raise ValueError(f"{model}: not a full-band model (no bands for a hole net)")
        return HoleGeometry.of(config.sample_rate, config.stft(), config.band_bins)
    from ..inference.enhancer import Enhancer

    enhancer = Enhancer.load(model)
    if not enhancer.rule.noise_band_bins:
        raise ValueError(f"{model}: does not fill its band with noise (no bands for a hole net)")
    return HoleGeometry.of(enhancer.sample_rate, enhancer.stft, enhancer.rule.noise_band_bins)


def hole_cells(
    dataset: str | os.PathLike, split: str, geometry: HoleGeometry, every: int = 1
) -> HoleCells | None:
    """The cells of half the bands and frames (drawn with a fixed seed) of every ``every``-th
    MP3 clip of ``split`` whose low-pass is under `dsp.holes.TOP_HZ` (none if no clip's is)."""
    rate, bins, config = geometry.sample_rate, geometry.band_bins, geometry.stft()
    rng = np.random.default_rng(0)
    frames = hole_frames(rate, config.hop_length)
    rows = [r for r in read_manifest(dataset, split) if int(r["low_bitrate"] or 0)][::every]
    parts: list[list[np.ndarray]] = [[], [], [], []]
    for row in rows:
        if int(row["sample_rate"]) != rate:
            raise ValueError(f"{row['clip']}: {row['sample_rate']} Hz, the model's is {rate}")
        low, high = read_clip(row, "low"), read_clip(row, "high")
        lowpass = find_lowpass(low, rate)
        if lowpass is None or lowpass >= TOP_HZ:
            continue
        cutoff = lowpass * config.fft_length / rate
        sums, first, start = band_sums(power(spectrum(low.T, config)), cutoff, bins)
        if sums.shape[-1] - (first - start) < 2:
            continue
        features, level, anchor = hole_features(sums, first - start, frames, lowpass)
        reference = band_sums(power(spectrum(high.T, config)), cutoff, bins)[0]
        reference = 10 * np.log10(reference[..., first - start :] + FLOOR)
        keep = rng.random(level.shape) < 0.5
        values = (features[:, keep].T, (reference - anchor)[keep], (reference - level)[keep])
        for i, value in enumerate(values):
            parts[i].append(value.astype(np.float32))
        parts[3].append(np.full(int(keep.sum()), int(row["low_bitrate"])))
    return HoleCells(*(np.concatenate(p) for p in parts)) if parts[0] else None


def fit_hole_net(
    cells: HoleCells, hidden: int = 24, epochs: int = 6
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The perceptron's layers (``(weight, bias)``), fitted from seed 0 to the level over the
    anchor in tens of dB (Adam, cosine schedule)."""
    torch.manual_seed(0)
    x = torch.from_numpy(cells.features)
    y = torch.from_numpy(np.clip(cells.over_anchor, *LEVEL_RANGE_DB) / 10)
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
        for i in range(0, len(x), BATCH):
            batch = order[i : i + BATCH]
            loss = ((net(x[batch])[:, 0] - y[batch]) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        schedule.step()
    linear = [m for m in net if isinstance(m, torch.nn.Linear)]
    return [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()) for m in linear]


def hole_scores(net: HoleNet, cells: HoleCells) -> list[HoleScore]:
    """How ``net`` finds and levels the holes of ``cells``, per bitrate."""
    over_level = cells.over_mp3 - cells.over_anchor  # the anchor over the MP3's level
    predicted = net(np.ascontiguousarray(cells.features.T)) + over_level  # over the MP3's
    scores = []
    for kbps in sorted(set(cells.bitrates.tolist())):
        mine = cells.bitrates == kbps
        hole, said = cells.over_mp3[mine] > THRESHOLD_DB, predicted[mine] > THRESHOLD_DB
        error = float(np.sqrt(np.mean((predicted[mine][hole] - cells.over_mp3[mine][hole]) ** 2)))
        found = float(said[hole].mean()) if hole.any() else float("nan")
        false = float(said[~hole].mean()) if (~hole).any() else float("nan")
        scores.append(HoleScore(int(kbps), float(hole.mean()), found, error, false))
    return scores


def train_holes(
    dataset: str | os.PathLike,
    out: str | os.PathLike,
    model: str | os.PathLike = "full-band",
    hidden: int = 24,
    epochs: int = 6,
    every: int = 1,
    overwrite: bool = False,
) -> tuple[int, list[HoleScore]]:
    """Fit a hole net for ``model``'s STFT on ``dataset``'s training split and write it to
    ``out`` (kept unless ``overwrite``; written under a temporary name, renamed when whole).
    Returns the training cells' count and the net's scores on the validation split (none when
    no clip of it is under `dsp.holes.TOP_HZ`)."""
    refuse_to_replace([out], overwrite)
    geometry = hole_geometry(model)
    cells = hole_cells(dataset, "train", geometry, every)
    if cells is None:
        raise ValueError(
            f"{dataset}: no MP3 clip of the training split has a low-pass under "
            f"{TOP_HZ / 1000:g} kHz, where the codec leaves holes"
        )
    layers = fit_hole_net(cells, hidden, epochs)
    with atomic_path(out) as temp:
        HoleNet.write(temp, layers, geometry)
    validation = hole_cells(dataset, "val", geometry)
    scores = [] if validation is None else hole_scores(HoleNet.load(out), validation)
    return len(cells.features), scores
