"""A split's clips held in memory for training and validation, and crops of them as the
models take them (waveforms, or STFTs as ``[batch, 2, frames, bins]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..dataset.manifest import clip_cutoff_hz, read_clip, read_manifest, read_recipe, split_counts
from ..dsp.stft import StftConfig, stft
from ..models.spectral import unit_variance_scale


class ClipPairs:
    """Low/high waveforms of one split, held in memory as int16 (4,000 clips fit in 2 GB).

    Each channel of a stereo clip (issue 12's datasets) is one mono pair, as ``enhance`` runs
    the model on each channel; ``cutoffs`` holds each pair's low-pass (its clip's bitrate's, or
    the recipe's for a dataset made before the manifest recorded it), ``tops`` where its
    reference's own band ends (Hz) and ``bitrates`` its input's bitrate.
    """

    def __init__(self, root: str | Path, split: str, limit: int = 0, seed: int = 0) -> None:
        rows = read_manifest(root, split)
        if not rows:
            use = "nothing to train on" if split == "train" else "nothing to validate on"
            raise ValueError(
                f"{root}: 0 clips in the {split!r} split ({split_counts(root)}); {use}"
            )
        if limit:
            order = np.random.default_rng(seed).permutation(len(rows))[:limit]
            rows = [rows[i] for i in sorted(order)]
        self.rows = rows
        recipe = read_recipe(root)
        self.sample_rate = int(rows[0]["sample_rate"])
        self.low, self.high, self.cutoffs, self.tops, self.bitrates = [], [], [], [], []
        for row in rows:
            low, high = read_clip(row, "low", dtype="int16"), read_clip(row, "high", dtype="int16")
            for channel in range(1 if low.ndim == 1 else low.shape[1]):
                self.low.append(low if low.ndim == 1 else np.ascontiguousarray(low[:, channel]))
                self.high.append(high if high.ndim == 1 else np.ascontiguousarray(high[:, channel]))
                self.cutoffs.append(clip_cutoff_hz(row, recipe))
                self.tops.append(float(row.get("reference_band_hz") or self.sample_rate / 2))
                self.bitrates.append(int(row["low_bitrate"]))

    def __len__(self) -> int:
        return len(self.low)

    def counted(self) -> str:
        """How many clips, and the mono pairs of a stereo split's: ``156 (312 channels)``."""
        pairs = f" ({len(self)} channels)" if len(self) != len(self.rows) else ""
        return f"{len(self.rows)}{pairs}"

    def pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Float waveforms of clip ``index``."""
        return self.low[index] / 32768.0, self.high[index] / 32768.0

    def crop_waveforms(
        self, indices: np.ndarray, length: int, rng_key: tuple[int, ...]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Random crops of ``length`` samples: two float32 ``[batch, length]`` tensors.

        Crop positions depend only on ``rng_key`` and the clip, so a resumed run repeats them.
        """
        lows, highs = [], []
        for index in indices:
            low, high = self.pair(int(index))
            rng = np.random.default_rng((*rng_key, int(index)))
            start = int(rng.integers(0, len(low) - length + 1)) if len(low) > length else 0
            lows.append(low[start : start + length])
            highs.append(high[start : start + length])
        to_tensor = lambda x: torch.from_numpy(np.stack(x).astype(np.float32))  # noqa: E731
        return to_tensor(lows), to_tensor(highs)

    def crop_batch(
        self, indices: np.ndarray, frames: int, stft_config: StftConfig, rng_key: tuple[int, ...]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """STFTs of random crops of ``frames`` frames: two ``[batch, 2, frames, bins]`` tensors."""
        length = (frames - 1) * stft_config.hop_length + stft_config.window_length
        low, high = self.crop_waveforms(indices, length, rng_key)
        return stft_tensor(low, stft_config), stft_tensor(high, stft_config)


def stft_tensor(waves: torch.Tensor, stft_config: StftConfig) -> torch.Tensor:
    """STFT of ``[batch, samples]`` crops without edge padding: ``[batch, 2, frames, bins]``."""
    return torch.from_numpy(stft(waves.numpy(), stft_config, pad=False))


def clip_bins(
    clips: ClipPairs,
    indices: Any,
    stft_config: StftConfig,
    jitter: np.random.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Low-pass and reference band top of clips ``indices`` in STFT bins: two ``[batch]``
    tensors. ``jitter`` moves each low-pass by up to 3 %, as a measured one may be off."""
    per_hz = stft_config.fft_length / clips.sample_rate
    cutoff = np.array([clips.cutoffs[int(i)] for i in indices]) * per_hz
    if jitter is not None:  # one move for the batch, which shares one low-pass
        cutoff *= jitter.uniform(0.97, 1.03)
    top = np.array([clips.tops[int(i)] for i in indices]) * per_hz
    return torch.tensor(cutoff, dtype=torch.float32), torch.tensor(top, dtype=torch.float32)


def estimate_scale(clips: ClipPairs, stft_config: StftConfig, count: int = 64) -> float:
    """The model's input scale from the STFTs of up to ``count`` evenly spread clips."""
    step = max(1, len(clips) // count)
    spectra = np.stack([stft(clips.pair(i)[0], stft_config) for i in range(0, len(clips), step)])
    return unit_variance_scale(torch.from_numpy(spectra))
