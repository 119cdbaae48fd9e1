"""Validation (section 3.3): a model scored on whole clips as inference runs it, and the rank
that chooses ``best.pt`` against the decoded input (`selection_score`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..dsp.model_inputs import copy_inputs
from ..dsp.stft import StftConfig, istft, stft
from ..evaluation.metrics import score
from .clips import ClipPairs, clip_bins
from .losses import band_loss

METRICS = ("snr", "pesq", "lsd", "lsd_high", "stoi")


def by_bitrate(metrics: dict[str, Any]) -> dict[int, float]:
    """Mean Zimtohrli of each input bitrate in a validation result with ``per_clip`` scores."""
    scores, rates = np.array(metrics["per_clip"]), np.array(metrics["bitrates"])
    return {int(b): float(scores[rates == b].mean()) for b in sorted(set(rates.tolist()))}


MAX_CLIP_DROP = 0.1
"""Zimtohrli MOS a validation clip may lose against its input for a checkpoint to be chosen."""


def selection_score(metrics: dict[str, Any], baseline: dict[str, Any]) -> tuple[int, float]:
    """Rank of a validation result against the decoded input (higher is better).

    Scored with Zimtohrli (the full-band model): first whether no bitrate's mean is below the
    input's and no clip lost more than `MAX_CLIP_DROP`, then the mean Zimtohrli gain. Otherwise:
    first whether it is at least as good as the input on every metric (so PESQ and STOI are
    never traded away for SNR or LSD), then its SNR gain in dB plus its LSD reduction.
    """
    if "per_clip" in metrics and "per_clip" in baseline:
        mine, theirs = np.array(metrics["per_clip"]), np.array(baseline["per_clip"])
        means, bars = by_bitrate(metrics), by_bitrate(baseline)
        worse = any(means[b] < bars[b] for b in means)
        safe = not worse and float((mine - theirs).min()) >= -MAX_CLIP_DROP
        return int(safe), float(mine.mean() - theirs.mean())
    better = (
        metrics["snr"] > baseline["snr"]
        and metrics["lsd"] < baseline["lsd"]
        and metrics["pesq"] >= baseline["pesq"]
        and metrics["stoi"] >= baseline["stoi"]
    )
    gain = metrics["snr"] - baseline["snr"] + baseline["lsd"] - metrics["lsd"]
    return int(better), float(gain)


def selection_rule(zimtohrli: bool) -> str:
    """What `selection_score`'s first rank asks, in words (for a run none of whose validations
    met it)."""
    if zimtohrli:
        return (
            "no bitrate's Zimtohrli under the input's, no clip's down by more than "
            f"{MAX_CLIP_DROP:g}"
        )
    return "at least the input's SNR, LSD, PESQ and STOI"


def validate(
    model: nn.Module, clips: ClipPairs, loss_fn, stft_config: StftConfig, band_bins: int = 8
) -> dict[str, float]:
    """Mean loss and metrics of ``model`` on whole validation clips; a model that takes the
    low-pass is also scored with Zimtohrli, clip by clip (``per_clip``) for `selection_score`,
    and its loss judged per band of ``band_bins`` bins, as training judges it."""
    model.eval()
    rows = []
    told = unwrapped(model).takes_lowpass
    for index in range(len(clips)):
        low, high = clips.pair(index)
        if is_waveform(model):
            with torch.no_grad():
                pred = model(torch.from_numpy(low.astype(np.float32))[None])
                loss = float(loss_fn(pred, torch.from_numpy(high.astype(np.float32))[None]))
            out = pred[0].numpy().astype(np.float64)
        else:
            spec_low = torch.from_numpy(stft(low, stft_config))[None]
            spec_high = torch.from_numpy(stft(high, stft_config))[None]
            with torch.no_grad():
                if told:
                    cutoff, top = clip_bins(clips, [index], stft_config)
                    pred = model(*copy_inputs(spec_low, float(cutoff[0])))
                    loss = float(band_loss(pred, spec_high, cutoff, top, band_bins=band_bins))
                else:
                    pred = model(spec_low)
                    loss = float(loss_fn(pred * model_scale(model), spec_high * model_scale(model)))
            out = istft(pred[0].numpy(), len(low), stft_config)
        rate, cutoff_hz = clips.sample_rate, clips.cutoffs[index]
        rows.append(score(high, out, rate, cutoff_hz, with_zimtohrli=told) | {"loss": loss})
    model.train()
    return _summary(rows, clips)


def input_metrics(clips: ClipPairs, with_zimtohrli: bool = False) -> dict[str, Any]:
    """Metrics of the decoded low-bitrate input itself: the bar a model must clear."""
    rows = [
        score(high, low, clips.sample_rate, cutoff, with_zimtohrli=with_zimtohrli)
        for (low, high), cutoff in zip(
            map(clips.pair, range(len(clips))), clips.cutoffs, strict=True
        )
    ]
    return _summary(rows, clips)


def _summary(rows: list[dict[str, float]], clips: ClipPairs) -> dict[str, Any]:
    """Mean metrics, plus each clip's Zimtohrli and bitrate where Zimtohrli was scored."""
    summary: dict[str, Any] = _mean(rows)
    if "zimtohrli" in rows[0]:
        summary["per_clip"] = [row["zimtohrli"] for row in rows]
        summary["bitrates"] = list(clips.bitrates)
    return summary


def _mean(rows: list[dict[str, float]]) -> dict[str, Any]:
    """Mean of each metric over clips, skipping NaN (PESQ where it finds nothing to score)."""
    return {name: float(np.nanmean([row[name] for row in rows])) for name in rows[0]}


def unwrapped(model: nn.Module) -> nn.Module:
    """The model itself, inside DistributedDataParallel or not."""
    return model.module if hasattr(model, "module") else model


def model_scale(model: nn.Module) -> float:
    """The spectral model's input scale, under which its loss is computed (1 for waveforms)."""
    return float(getattr(unwrapped(model).config, "scale", 1.0))


def is_waveform(model: nn.Module) -> bool:
    return unwrapped(model).domain == "waveform"
