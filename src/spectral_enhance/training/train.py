"""Training (section 3.3): Adam, a cyclical learning rate, validation on all four metrics.

One process or many: under ``torchrun`` the same loop runs with DistributedDataParallel (gloo on
CPU, nccl on GPU), each process taking its share of every global batch. The models are
convolutional in time, so training uses random time crops of the clips (far cheaper on a CPU)
while validation scores whole clips, as inference does: through the exact inverse STFT for the
spectral model, directly for the waveform baselines (which train on waveform crops with their
papers' MSE loss).

A run folder holds ``last.pt`` (everything needed to continue exactly, written after every epoch,
when the time budget ends the run, and at the step where a one-process run is stopped by
Ctrl-C, SIGTERM or SIGHUP), ``best.pt`` (chosen by :func:`selection_score`) and
``log.csv`` with the loss and validation metrics per epoch. A folder that already holds a run is
continued (``resume``) or replaced (``overwrite``), never mixed with a new one.

Every epoch takes every training clip once: full batches, then a last, smaller one with the rest
(cut to a multiple of the process count), so even a dataset smaller than one batch trains.
"""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Collection
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from ..atomic import STOPPING, output_folder
from ..dataset.build import clip_cutoff_hz, read_clip, read_manifest, read_recipe, split_counts
from ..dataset.recipe import recipe_change
from ..dsp.bands import copy_inputs
from ..dsp.stft import StftConfig, istft, stft
from ..evaluation.metrics import score
from ..models import ARCHITECTURES, build_model
from ..models.checkpoint import load_checkpoint, make_checkpoint, save_checkpoint
from ..models.spectral import unit_variance_scale
from .config import TrainConfig, default_loss, lr_at
from .losses import band_loss, parse_loss

__all__ = [
    "TrainConfig",
    "check_run_dir",
    "check_settings",
    "epoch_batches",
    "selection_score",
    "train",
]

METRICS = ("snr", "pesq", "lsd", "lsd_high", "stoi")

RESUME_SETTINGS = ("epochs", "max_minutes")
"""The settings a resumed run takes from its caller where given; it keeps all others."""

MODEL_SETTINGS = {"n_blocks": "--n-blocks", "residual": "--plain"}
"""Training settings that are also fields of a model's config, with the flag that sets each."""


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


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


def validate(
    model: nn.Module, clips: ClipPairs, loss_fn, stft_config: StftConfig, band_bins: int = 8
) -> dict[str, float]:
    """Mean loss and metrics of ``model`` on whole validation clips; a model that takes the
    low-pass is also scored with Zimtohrli, clip by clip (``per_clip``) for `selection_score`,
    and its loss judged per band of ``band_bins`` bins, as training judges it."""
    model.eval()
    rows = []
    told = _inner(model).takes_lowpass
    for index in range(len(clips)):
        low, high = clips.pair(index)
        if _is_waveform(model):
            with torch.no_grad():
                pred = model(torch.from_numpy(low.astype(np.float32))[None])
                loss = float(loss_fn(pred, torch.from_numpy(high.astype(np.float32))[None]))
            out = pred[0].numpy().astype(np.float64)
        else:
            spec_low = torch.from_numpy(stft(low, stft_config))[None]
            spec_high = torch.from_numpy(stft(high, stft_config))[None]
            with torch.no_grad():
                if told:
                    cutoff, top = _bins(clips, [index], stft_config)
                    pred = model(*copy_inputs(spec_low, float(cutoff[0])))
                    loss = float(band_loss(pred, spec_high, cutoff, top, band_bins=band_bins))
                else:
                    pred = model(spec_low)
                    loss = float(loss_fn(pred * _scale(model), spec_high * _scale(model)))
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


def _bins(
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


def _mean(rows: list[dict[str, float]]) -> dict[str, Any]:
    """Mean of each metric over clips, skipping NaN (PESQ where it finds nothing to score)."""
    return {name: float(np.nanmean([row[name] for row in rows])) for name in rows[0]}


def _inner(model: nn.Module) -> nn.Module:
    """The model itself, inside DistributedDataParallel or not."""
    return model.module if hasattr(model, "module") else model


def _scale(model: nn.Module) -> float:
    """The spectral model's input scale, under which its loss is computed (1 for waveforms)."""
    return float(getattr(_inner(model).config, "scale", 1.0))


def _is_waveform(model: nn.Module) -> bool:
    return _inner(model).domain == "waveform"


def estimate_scale(clips: ClipPairs, stft_config: StftConfig, count: int = 64) -> float:
    """The model's input scale from the STFTs of up to ``count`` evenly spread clips."""
    step = max(1, len(clips) // count)
    spectra = np.stack([stft(clips.pair(i)[0], stft_config) for i in range(0, len(clips), step)])
    return unit_variance_scale(torch.from_numpy(spectra))


def _log(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


RUN_FILES = ("last.pt", "best.pt", "log.csv")


def check_run_dir(run_dir: Path, resume: bool, overwrite: bool) -> list[Path]:
    """Refuse to mix a new run with one already in ``run_dir`` (a ``last.pt`` or ``log.csv``).

    ``resume`` needs the old run's ``last.pt``. Returns the old run's files that ``overwrite``
    replaces (checkpoints, log and TensorBoard events), for the caller to remove once the new
    run is ready to start, so a run refused for its data leaves the old one whole.
    """
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other: continue a run or replace it")
    if resume:
        if (run_dir / "log.csv").is_file() and not (run_dir / "last.pt").is_file():
            raise FileNotFoundError(
                f"{run_dir / 'last.pt'}: missing: the run stopped before its first epoch ended, "
                "so there is nothing to resume; start it again with --overwrite"
            )
        if not (run_dir / "last.pt").is_file():
            raise FileNotFoundError(f"{run_dir / 'last.pt'}: missing, so there is no run to resume")
        return []
    held = [name for name in ("last.pt", "log.csv") if (run_dir / name).exists()]
    if held and not overwrite:
        raise ValueError(
            f"{run_dir}: already holds a run ({', '.join(held)}); continue it with --resume "
            "or start afresh with --overwrite"
        )
    if not overwrite or not run_dir.is_dir():
        return []
    events = sorted(run_dir.glob("events.out.tfevents.*"))  # TensorBoard's
    return [path for path in (*(run_dir / name for name in RUN_FILES), *events) if path.exists()]


def _check_not_a_dataset(run_dir: Path, data: str | Path) -> None:
    """Refuse a run folder that is the dataset or inside it, another dataset or a folder of
    clips: a run's checkpoints and log do not belong among a dataset's files (nor
    ``dataset``'s among music)."""
    if run_dir.resolve() == Path(data).resolve():
        held = "the dataset it trains on"
    elif names := [n for n in ("recipe.json", "manifest.csv") if (run_dir / n).is_file()]:
        held = f"a dataset folder (it holds {', '.join(names)})"
    elif next(run_dir.glob("*.low.wav"), None) is not None:
        held = "a dataset's folder of clips"
    elif run_dir.resolve().is_relative_to(Path(data).resolve()):
        held = "inside the dataset it trains on"
    else:
        return
    raise ValueError(f"{run_dir}: is {held}; write the run to another folder")


def check_settings(
    config: TrainConfig, model_config: dict | None = None, given: Collection[str] | None = None
) -> None:
    """Refuse settings that cannot go together, before a fresh run starts.

    An unknown architecture or loss, a loss for a model that trains with its own (the
    full-band model's band loss), and a model setting given both in ``config`` and in
    ``model_config`` with different values; ``given`` names the fields of ``config`` its caller
    set (None: all of them).
    """
    if config.arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {config.arch!r}; known: {sorted(ARCHITECTURES)}")
    model_class, config_class = ARCHITECTURES[config.arch]
    own = default_loss(config.arch)
    if model_class.takes_lowpass and config.loss not in ("", own):
        raise ValueError(
            f"--loss {config.loss!r}: --arch {config.arch} trains with its own loss ({own}); "
            "leave --loss out"
        )
    if not model_class.takes_lowpass and config.loss:
        parse_loss(config.loss)  # an unknown term is refused before the data is read
    for setting in fields(config):
        archs = setting.metadata.get("archs")
        if archs and config.arch not in archs and given is not None and setting.name in given:
            flag = MODEL_SETTINGS.get(setting.name) or "--" + setting.name.replace("_", "-")
            which = " or ".join([", ".join(archs[:-1]), archs[-1]] if archs[:-1] else archs)
            raise ValueError(
                f"{flag} is for --arch {which}: --arch {config.arch} takes no part of it"
            )
    options, model_fields = model_config or {}, {f.name for f in fields(config_class)}
    for name, flag in MODEL_SETTINGS.items():
        value = getattr(config, name)
        if name not in options or options[name] == value or name not in model_fields:
            continue
        if given is None or name in given:  # else the model option sets it alone
            shown = flag if name == "residual" else f"{flag} {value}"
            raise ValueError(
                f"{shown} and --model-option {name}={json.dumps(options[name])} disagree: "
                "give it once"
            )


def epoch_batches(order: np.ndarray, batch_size: int, world: int = 1) -> list[np.ndarray]:
    """One epoch's batches of clip indices: full ones, then the rest cut to a multiple of ``world``.

    So every clip (but at most ``world - 1``) is used each epoch, however few there are.
    """
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if batches:
        batches[-1] = batches[-1][: len(batches[-1]) // world * world]
    return [batch for batch in batches if len(batch)]


def bitrate_batches(
    order: np.ndarray, bitrates: list[int], batch_size: int, world: int, seed: tuple[int, ...]
) -> list[np.ndarray]:
    """One epoch's batches for a model told the low-pass: each batch of one bitrate (one
    low-pass for the batch, as a file's channels share one), in an order shuffled by ``seed``."""
    rates = np.asarray(bitrates)[order]
    batches = [
        batch
        for rate in sorted(set(rates.tolist()))
        for batch in epoch_batches(order[rates == rate], batch_size, world)
    ]
    shuffled = np.random.default_rng(seed).permutation(len(batches))
    return [batches[i] for i in shuffled]


def train(
    data: str | Path,
    run_dir: str | Path,
    config: TrainConfig | None = None,
    resume: bool = False,
    progress: bool = True,
    model_config: dict | None = None,
    overwrite: bool = False,
    given: Collection[str] | None = None,
) -> dict:
    """Train on the dataset at ``data`` into ``run_dir``; returns the best validation metrics.

    ``model_config`` overrides the architecture's defaults (e.g. a tiny model for tests);
    ``given`` names the fields of ``config`` its caller set (None: all of them). With
    ``resume``, the run continues from ``run_dir/last.pt`` with its saved settings, except the
    number of epochs and the time budget where ``given`` names them, which come from
    ``config``. A ``run_dir`` that holds a run already is refused unless ``resume`` or
    ``overwrite`` (see :func:`check_run_dir`); so are settings that cannot go together (see
    :func:`check_settings`) and a ``run_dir`` that is a dataset's folder.
    """
    config = config or TrainConfig()
    run_dir = Path(run_dir)
    _check_not_a_dataset(run_dir, data)
    state = None
    if resume and (run_dir / "last.pt").is_file():  # its settings decide what is trained
        state = load_checkpoint(run_dir / "last.pt")
        saved = TrainConfig(**state["training"]["config"])
        kept = [name for name in RESUME_SETTINGS if given is None or name in given]
        config = replace(saved, **{name: getattr(config, name) for name in kept})
    else:
        check_settings(config, model_config, given)
    if not config.loss:
        config = replace(config, loss=default_loss(config.arch))
    model_class = ARCHITECTURES[config.arch][0]
    waveform, told = model_class.domain == "waveform", model_class.takes_lowpass
    rank, world = _world()
    replaced = check_run_dir(run_dir, resume, overwrite)
    recipe = read_recipe(data)
    if state is not None and state["training"]["epoch"] >= config.epochs and progress:
        tqdm.write(
            f"{run_dir}: has done {state['training']['epoch']} epochs already, as --epochs "
            f"{config.epochs} asks: nothing to do (a higher --epochs trains on)"
        )
    if state is not None and (change := recipe_change(state["recipe"], recipe.to_dict())):
        raise ValueError(
            f"{data}: not the dataset the run in {run_dir} was trained on (its recipe differs: "
            f"{change}); resume it on its own"
        )
    torch.manual_seed(config.seed)
    train_clips = ClipPairs(data, "train")
    val_clips = ClipPairs(data, "val", limit=config.val_clips, seed=config.seed)
    if config.batch_size % world:
        raise ValueError(f"batch size {config.batch_size} does not divide over {world} processes")

    def batches_of(order: np.ndarray, epoch: int) -> list[np.ndarray]:
        if told:
            rates = train_clips.bitrates
            return bitrate_batches(order, rates, config.batch_size, world, (config.seed, epoch))
        return epoch_batches(order, config.batch_size, world)

    steps_per_epoch = len(batches_of(np.arange(len(train_clips)), 0))
    if not steps_per_epoch:
        raise ValueError(
            f"{data}: {len(train_clips)} training clips cannot be shared over {world} processes"
        )

    if state is not None:
        arch_config = state["model_config"]
    elif waveform:
        arch_config = dict(model_config or {})
    elif told:
        rate = {"sample_rate": train_clips.sample_rate}  # the prior's smoothing is in seconds
        arch_config = {"n_blocks": config.n_blocks} | rate | (model_config or {})
    else:
        arch_config = {"n_blocks": config.n_blocks, "residual": config.residual}
        arch_config |= model_config or {}
        if "scale" not in arch_config:
            arch_config["scale"] = estimate_scale(train_clips, StftConfig())
    model = build_model(config.arch, arch_config)
    # the run records the model it trains, whichever of the flags and model options set it
    built = {
        name: getattr(model.config, name) for name in MODEL_SETTINGS if hasattr(model.config, name)
    }
    config = replace(config, **built)
    stft_config = model.stft or StftConfig()
    ssim = {"k1": config.ssim_k1, "k2": config.ssim_k2, "max_val": config.ssim_max_val}
    # The full-band model's loss needs each clip's low-pass and band, so it is called apart.
    loss_fn = None if told else parse_loss(config.loss, ssim=ssim)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    epoch, step_in_epoch, step, history = 0, 0, 0, {"best": None, "baseline": None}
    if state is not None:
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["training"]["optimizer"])
        epoch = state["training"]["epoch"]
        step_in_epoch = state["training"]["step_in_epoch"]
        step = state["training"]["step"]
        history = state["training"]["history"]
    if model.joint_channels:  # a batch holds different clips, not one file's channels
        model.link_channels = False
    # the full-band model is judged in its own bands, or in those --band-width asks for
    band_width = (config.band_width or model.config.band_bins) if told else 0
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    if rank == 0:
        output_folder(run_dir)
        for path in replaced:
            path.unlink(missing_ok=True)
        if history["baseline"] is None:
            history["baseline"] = input_metrics(val_clips, with_zimtohrli=told)
            _log(run_dir / "log.csv", _row("input", step, 0.0, math.nan, history["baseline"]))
        if progress:
            tqdm.write(
                f"{train_clips.counted()} training clips, {val_clips.counted()} validation "
                f"clips: {steps_per_epoch} steps of up to {config.batch_size} per epoch"
            )

    def checkpoint(metrics: dict | None = None) -> dict:
        training = {
            "config": asdict(config),
            "optimizer": optimizer.state_dict(),
            "epoch": epoch,
            "step_in_epoch": step_in_epoch,
            "step": step,
            "history": history,
        }
        stft, made_by = stft_config.to_dict(), recipe.to_dict()
        return make_checkpoint(config.arch, model, stft, made_by, metrics, training)

    board = _tensorboard(run_dir) if rank == 0 else None
    started = time.monotonic()
    out_of_time = False
    stop = _StopBetweenSteps(world == 1)  # Ctrl-C: the step in hand ends, and the run is saved
    try:
        while epoch < config.epochs and not out_of_time:
            if stop.asked:  # during the last validation: last.pt holds the run as it stands
                raise KeyboardInterrupt(
                    f"{run_dir / 'last.pt'}: saved after epoch {epoch}; --resume goes on from there"
                )
            order = np.random.default_rng((config.seed, epoch)).permutation(len(train_clips))
            batches = batches_of(order, epoch)
            bar = tqdm(
                total=steps_per_epoch,
                initial=step_in_epoch,
                desc=f"epoch {epoch + 1}",
                disable=None if progress and rank == 0 else True,
                unit="step",
            )
            losses = []
            while step_in_epoch < steps_per_epoch:
                mine = np.array_split(batches[step_in_epoch], world)[rank]
                key = (config.seed, epoch, step_in_epoch)
                low, high = _training_batch(train_clips, mine, config, stft_config, key[:2])
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(step, config)
                if told:
                    jitter = np.random.default_rng(key)
                    cutoff, top = _bins(train_clips, mine, stft_config, jitter)
                    pred = net(*copy_inputs(low, float(cutoff[0])))
                    loss = band_loss(
                        pred,
                        high,
                        cutoff,
                        top,
                        band_bins=band_width,
                        overshoot=config.overshoot,
                        fine=config.fine_weight,
                        loudness=config.loudness,
                    )
                else:
                    scale = _scale(model)
                    loss = loss_fn(net(low) * scale, high * scale)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                step += 1
                step_in_epoch += 1
                bar.update()
                bar.set_postfix(
                    loss=f"{np.mean(losses[-20:]):.4f}", lr=f"{lr_at(step, config):.1e}"
                )
                elapsed = (time.monotonic() - started) / 60
                if config.max_minutes and _agree(elapsed >= config.max_minutes):
                    out_of_time = True
                    break
                if stop.asked:
                    break
            bar.close()
            if stop.asked:  # saved where it stopped, not validated: --resume goes on from this step
                save_checkpoint(run_dir / "last.pt", checkpoint())
                raise KeyboardInterrupt(
                    f"{run_dir / 'last.pt'}: saved after step {step} (epoch {epoch + 1}, step "
                    f"{step_in_epoch} of {steps_per_epoch}); --resume goes on from there"
                )
            if step_in_epoch >= steps_per_epoch:
                epoch, step_in_epoch = epoch + 1, 0
            if rank == 0:
                metrics = validate(model, val_clips, loss_fn, stft_config, band_width)
                label = f"{epoch}" if step_in_epoch == 0 else f"{epoch}+{step_in_epoch}"
                _log(
                    run_dir / "log.csv",
                    _row(label, step, np.mean(losses or [math.nan]), lr_at(step, config), metrics),
                )
                rank_now = selection_score(metrics, history["baseline"])
                best = history["best"]
                if best is None or rank_now > tuple(best["rank"]):
                    history["best"] = {"rank": list(rank_now), "metrics": metrics, "epoch": label}
                    save_checkpoint(run_dir / "best.pt", checkpoint(metrics))
                save_checkpoint(run_dir / "last.pt", checkpoint(metrics))
                if board is not None:
                    board.add_scalar("train/loss", float(np.mean(losses or [math.nan])), step)
                    for name, value in metrics.items():
                        board.add_scalar(f"val/{name}", value, step)
                    board.flush()
                if progress:
                    names = ("loss", *METRICS, *(("zimtohrli",) if "zimtohrli" in metrics else ()))
                    shown = " ".join(f"{k} {metrics[k]:.3f}" for k in names)
                    if "per_clip" in metrics:
                        shown += " (meets" if rank_now[0] else " (misses"
                        shown += " the selection rule)"
                    tqdm.write(f"epoch {label}: {shown}")
            if world > 1:
                dist.barrier()
    finally:
        stop.restore()
    return history["best"]["metrics"] if history["best"] else {}


class _StopBetweenSteps:
    """While a one-process run trains, a first Ctrl-C (or SIGTERM, SIGHUP) asks it to stop
    after the step in hand (`asked`), so the run is saved as it stands, every step kept; a
    second is handled as before it, which stops it at once. Under ``torchrun``, or off the main
    thread, the signals stop it at once, as before."""

    def __init__(self, active: bool) -> None:
        self.asked = False
        self._before: dict[int, Any] = {}
        if active and threading.current_thread() is threading.main_thread():
            for number in STOPPING:  # those that stop a command (`atomic.terminate_on_hangup`)
                self._before[number] = signal.signal(number, self._ask)

    def _ask(self, signum: int, frame: Any) -> None:
        if self.asked:
            before = self._before.get(signum)
            if callable(before):  # the command's handler, or Python's for Ctrl-C
                before(signum, frame)
            raise KeyboardInterrupt(signal.Signals(signum).name)
        self.asked = True
        name = signal.Signals(signum).name
        print(
            f"{name}: stopping after this step, to save it (a second stops at once)",
            file=sys.stderr,
        )

    def restore(self) -> None:
        """Give the signals back to what handled them before."""
        for number, before in self._before.items():
            signal.signal(number, before)
        self._before = {}


def _training_batch(
    clips: ClipPairs,
    indices: np.ndarray,
    config: TrainConfig,
    stft_config: StftConfig,
    key: tuple[int, ...],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random crops of clips ``indices`` as the model takes them: waveforms or STFTs."""
    if ARCHITECTURES[config.arch][0].domain == "waveform":
        return clips.crop_waveforms(indices, config.crop_samples or len(clips.low[0]), key)
    frames = config.crop_frames or _whole_clip_frames(clips, stft_config)
    return clips.crop_batch(indices, frames, stft_config, key)


def _tensorboard(run_dir: Path) -> Any:
    """A TensorBoard writer into ``run_dir`` if TensorBoard is installed, else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(run_dir))


def _whole_clip_frames(clips: ClipPairs, stft_config: StftConfig) -> int:
    return 1 + (len(clips.low[0]) - stft_config.window_length) // stft_config.hop_length


def _agree(flag: bool) -> bool:
    """True on every process if it is true on any (so all stop at the same step)."""
    if _world()[1] == 1:
        return flag
    value = torch.tensor([int(flag)])
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _row(label: str, step: int, loss: float, lr: float, metrics: dict) -> dict:
    row = {"epoch": label, "step": step, "train_loss": loss, "lr": lr}
    row |= {"val_loss": metrics.get("loss", math.nan)}
    row |= {name: metrics[name] for name in METRICS}
    if "per_clip" in metrics:  # Zimtohrli, overall and per bitrate
        row["zimtohrli"] = metrics["zimtohrli"]
        row |= {f"zimtohrli_{b}k": mean for b, mean in by_bitrate(metrics).items()}
    row["time"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return {k: (f"{v:.5g}" if isinstance(v, float) else v) for k, v in row.items()}


def init_distributed() -> bool:
    """Join the process group torchrun describes in the environment; False when not under it."""
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) < 2:
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    return True
