"""The ``spectral-enhance`` command: a thin argument layer over the package's API.

Each subcommand imports its module only when it runs, so ``spectral-enhance --help`` and
``enhance`` start without loading PyTorch. Library code raises; only this module exits.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["get_parser", "main"]


def _add_dataset(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "dataset",
        help="build paired low/high clips from music by the paper's recipe",
        description="Convert every track under SRC (files or folders) into aligned 128 kbps "
        "(high) / 32 kbps (low) MP3-decoded clips, split 85/8/7 by track.",
    )
    p.add_argument("sources", nargs="+", metavar="SRC", help="audio files or folders")
    p.add_argument("--out", required=True, type=Path, help="dataset folder to create or extend")
    p.add_argument("--clip-samples", type=int, default=100_000, help="clip length (100000)")
    p.add_argument("--sample-rate", type=int, default=22050, help="clip sample rate (22050)")
    p.add_argument("--high-bitrate", type=int, default=128, help="target kbps (128)")
    p.add_argument("--low-bitrate", type=int, default=32, help="input kbps (32)")
    p.add_argument("--silence-dbfs", type=float, default=-50.0, help="drop quieter clips (-50)")
    p.add_argument("--seed", type=int, default=0, help="seed of the track split (0)")
    p.add_argument("--jobs", type=int, default=1, help="processes (1)")
    p.set_defaults(run_command=_run_dataset)


def _run_dataset(args: argparse.Namespace) -> int:
    from .dataset import DatasetConfig, build_dataset
    from .recipe import DegradationRecipe

    recipe = DegradationRecipe(args.sample_rate, args.high_bitrate, args.low_bitrate)
    config = DatasetConfig(
        clip_samples=args.clip_samples,
        silence_dbfs=args.silence_dbfs,
        seed=args.seed,
        recipe=recipe,
    )
    report = build_dataset(args.sources, args.out, config, jobs=args.jobs)
    counts = ", ".join(f"{split} {n}" for split, n in report.clips.items())
    print(
        f"{report.tracks_done} tracks converted, {report.tracks_skipped} already done, "
        f"{len(report.failed)} failed; clips: {counts}; manifest: {args.out / 'manifest.csv'}"
    )
    return 1 if report.failed else 0


def _add_train(commands: argparse._SubParsersAction) -> None:
    from dataclasses import fields

    p = commands.add_parser(
        "train",
        help="train the paper's model (or a baseline) on a dataset",
        description="Train on DATA (a folder made by `dataset`) into --run. Defaults are the "
        "paper's (section 3.3). Runs under torchrun with DistributedDataParallel as it is.",
    )
    p.add_argument("data", type=Path, help="dataset folder (with manifest.csv)")
    p.add_argument("--run", required=True, type=Path, help="run folder for checkpoints and log")
    p.add_argument(
        "--plain", action="store_true", help="predict the whole spectrum, not a correction"
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --run exactly")
    p.add_argument("--threads", type=int, default=0, help="torch threads per process (all cores)")
    from .train import TrainConfig

    for f in fields(TrainConfig):
        if f.name == "residual":
            continue
        flag = "--" + f.name.replace("_", "-")
        p.add_argument(flag, type=type(f.default), default=f.default, help=f"({f.default})")
    p.set_defaults(run_command=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from dataclasses import fields

    import torch

    from .train import TrainConfig, init_distributed, train

    if args.threads:
        torch.set_num_threads(args.threads)
    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if f.name != "residual"}
    config = TrainConfig(**values, residual=not args.plain)
    distributed = init_distributed()
    try:
        best = train(args.data, args.run, config, resume=args.resume)
    finally:
        if distributed:
            torch.distributed.destroy_process_group()
    if best:
        print("best: " + " ".join(f"{k} {v:.4f}" for k, v in best.items()))
    return 0


def get_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="spectral-enhance",
        description="Restore low-bitrate MP3 music: rebuild the high band a codec removed.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _COMMANDS:
        add(commands)
    return parser


_COMMANDS = [_add_dataset, _add_train]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 some inputs failed, 2 usage)."""
    args = get_parser().parse_args(argv)
    try:
        return args.run_command(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as error:
        print(f"spectral-enhance {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
