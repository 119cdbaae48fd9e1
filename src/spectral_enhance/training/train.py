"""Training (section 3.3): Adam, a cyclical learning rate, validation on all four metrics.

One process or many: under ``torchrun`` the same loop runs with DistributedDataParallel (gloo on
CPU, nccl on GPU), each process taking its share of every global batch. The models are
convolutional in time, so training uses random time crops of the clips (far cheaper on a CPU)
while validation scores whole clips, as inference does: through the exact inverse STFT for the
spectral model, directly for the waveform baselines (which train on waveform crops with their
papers' MSE loss).

A run folder holds ``last.pt`` (everything needed to continue exactly, written after every epoch,
when the time budget ends the run, and at the step where a one-process run is stopped by
Ctrl-C, SIGTERM or SIGHUP), ``best.pt`` (chosen by `validation.selection_score`) and
``log.csv`` with the loss and validation metrics per epoch. A folder that already holds a run is
continued (``resume``) or replaced (``overwrite``), never mixed with a new one.

Every epoch takes every training clip once: full batches, then a last, smaller one with the rest
(cut to a multiple of the process count), so even a dataset smaller than one batch trains.
"""

from __future__ import annotations

import csv
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Collection
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from ..atomic import STOPPING, output_folder
from ..dataset.manifest import read_recipe
from ..dataset.recipe import recipe_change
from ..dsp.model_inputs import copy_inputs
from ..dsp.stft import StftConfig
from ..models import ARCHITECTURES, build_model
from ..models.checkpoint import load_checkpoint, make_checkpoint, save_checkpoint
from .checks import (
    MODEL_SETTINGS,
    RESUME_SETTINGS,
    check_not_a_dataset,
    check_run_dir,
    check_settings,
)
from .clips import ClipPairs, clip_bins, estimate_scale
from .config import TrainConfig, default_loss, lr_at
from .losses import band_loss, parse_loss
from .validation import METRICS, by_bitrate, input_metrics, model_scale, selection_score, validate

__all__ = ["TrainConfig", "bitrate_batches", "epoch_batches", "init_distributed", "train"]


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _log(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


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
    """Train on the dataset at ``data`` into ``run_dir``; returns the best validation metrics,
    its ``epoch`` and whether it ``meets_rule`` (`selection_score`'s first rank: if not, no
    validation did, and ``best.pt`` is the nearest).

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
    check_not_a_dataset(run_dir, data)
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
                    cutoff, top = clip_bins(train_clips, mine, stft_config, jitter)
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
                    scale = model_scale(model)
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
    if not history["best"]:
        return {}
    best = history["best"]
    return best["metrics"] | {"epoch": best["epoch"], "meets_rule": bool(best["rank"][0])}


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
