"""The ``train``, ``train-holes`` and ``export`` subcommands: a dataset to a shipped model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..inference.bundled import DEFAULT_MODEL, PRECISIONS
from .options import UsageError, _add_model_option_flag, _bounded, _bounded_int, _model_options


def _add_train(commands: argparse._SubParsersAction) -> None:
    from dataclasses import fields

    p = commands.add_parser(
        "train",
        help="train the paper's model (or a baseline) on a dataset",
        description="Train on DATA (a folder made by `dataset`) into --out. Defaults are the "
        "paper's (section 3.3). Runs under torchrun with DistributedDataParallel as it is: "
        "torchrun --nproc-per-node 2 -m spectral_enhance train DATA --out RUN.",
    )
    p.add_argument("data", type=Path, help="dataset folder (with manifest.csv)")
    p.add_argument(
        "--out", "--run", required=True, type=Path, help="run folder for checkpoints and log"
    )
    p.add_argument(
        "--plain", action="store_true", help="predict the whole spectrum, not a correction"
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh in an --out that holds a run, replacing its checkpoints and log",
    )
    p.add_argument(
        "--threads",
        type=_bounded_int(0, 256),
        default=0,
        help="torch threads per process (all cores)",
    )
    _add_model_option_flag(p, "set a field of the model's config, e.g. input_gain=true")
    from ..training.config import TrainConfig

    for f in fields(TrainConfig):
        if f.name == "residual":
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata["help"] + (f" ({f.default})" if f.default != "" else "")
        kind = type(f.default)
        minimum = f.metadata.get("minimum")
        parse = kind if minimum is None else _bounded(kind, minimum)
        # None: not given, so --resume can tell a flag given at its default from one left out
        p.add_argument(flag, type=parse, default=None, help=help_text)
    p.set_defaults(run_command=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from dataclasses import fields

    import torch

    from ..training.checks import RESUME_SETTINGS, check_settings
    from ..training.config import TrainConfig
    from ..training.train import init_distributed, train
    from ..training.validation import selection_rule

    if args.threads:
        torch.set_num_threads(args.threads)
    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if f.name != "residual"}
    values = {name: value for name, value in values.items() if value is not None}
    config = TrainConfig(**values, residual=not args.plain)
    given = [*values, *["residual"] * args.plain]
    options = _model_options(args.model_option)
    if args.resume and args.overwrite:
        raise UsageError(
            "--resume and --overwrite exclude each other: continue a run or replace it"
        )
    if args.resume:  # the run goes on as it was saved: say which flags that leaves unused
        unused = ["--" + name.replace("_", "-") for name in values if name not in RESUME_SETTINGS]
        unused += ["--plain"] * args.plain + ["--model-option"] * bool(options)
        if unused:
            print(
                f"warning: {', '.join(unused)} not used: --resume continues the run with the "
                "settings it was saved with (but --epochs and --max-minutes, if given)",
                file=sys.stderr,
            )
    else:
        try:
            check_settings(config, options, given)
        except ValueError as error:
            raise UsageError(str(error)) from None
    distributed = init_distributed()
    try:
        best = train(
            args.data,
            args.out,
            config,
            resume=args.resume,
            model_config=options,
            overwrite=args.overwrite,
            given=given,
        )
    finally:
        if distributed:
            torch.distributed.destroy_process_group()
    if best:
        shown = " ".join(f"{k} {v:.4f}" for k, v in best.items() if isinstance(v, float))
        print(f"best (epoch {best['epoch']}): {shown}")
        if not best["meets_rule"]:
            print(
                f"warning: {Path(args.out) / 'best.pt'}: no validation met the selection rule "
                f"({selection_rule('zimtohrli' in best)}): it is the nearest; check it before "
                "exporting it",
                file=sys.stderr,
            )
    return 0


def _add_train_holes(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "train-holes",
        help="fit the net that finds and levels the codec's holes, for export --hole-net",
        description="Fit, on DATA's training split (a full-band dataset made by `dataset`), the "
        "small net with which a full-band model fills the bands an MP3 encoder left empty "
        "under its low-pass, at --model's STFT; write it to --out and score it per bitrate on "
        "the validation split. The same data gives the same net. `export --hole-net` ships it "
        "in the model's folder.",
    )
    p.add_argument("data", type=Path, help="dataset folder (with manifest.csv)")
    p.add_argument("--out", required=True, type=Path, help="the net's .onnx file to write")
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"whose STFT: a .pt checkpoint from `train`, an export folder, or a bundled model "
        f"({DEFAULT_MODEL})",
    )
    p.add_argument("--hidden", type=_bounded_int(1), default=24, help="units per layer (24)")
    p.add_argument("--epochs", type=_bounded_int(1), default=6, help="passes over the cells (6)")
    p.add_argument(
        "--every", type=_bounded_int(1), default=1, help="fit on every N-th training clip (1)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.set_defaults(run_command=_run_train_holes)


def _run_train_holes(args: argparse.Namespace) -> int:
    from ..dsp.holes import THRESHOLD_DB
    from ..training.holes import train_holes

    cells, scores = train_holes(
        args.data, args.out, args.model, args.hidden, args.epochs, args.every, args.overwrite
    )
    print(f"fitted on {cells:,} bands and frames of the training split; wrote {args.out}")
    if scores:
        print(
            f"validation: the bands the MP3 holds more than {THRESHOLD_DB:g} dB under the reference"
        )
        print("| kbps | such bands | found | their level's error (RMS dB) | other bands filled |")
        print("|---|---|---|---|---|")
        for s in scores:
            print(
                f"| {s.kbps} | {s.holes:.0%} | {s.found:.0%} | {s.error_db:.1f} "
                f"| {s.false_fills:.1%} |"
            )
    return 0


def _add_export(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "export",
        help="export a checkpoint to ONNX fp32/fp16/int8 with a model card",
        description="Write model.fp32.onnx, model.fp16.onnx, model.int8.onnx and card.json, "
        "each ONNX file checked against PyTorch in ONNX Runtime.",
    )
    p.add_argument("checkpoint", type=Path, help="a .pt checkpoint from `train`")
    p.add_argument("--out", required=True, type=Path, help="folder to write")
    p.add_argument("--name", help="model name in the card (default: the run folder's name)")
    p.add_argument("--training-data", help="what the model was trained on, for the card")
    p.add_argument(
        "--command",
        dest="training_command",  # not `command`, the subcommand's name that errors give
        help="the command that trained it, for the card",
    )
    p.add_argument(
        "--evaluation",
        type=Path,
        help="an `evaluate` output folder whose results.json holds this model's test metrics",
    )
    p.add_argument("--system", help="the model's system name in --evaluation (e.g. NAME@int8)")
    p.add_argument(
        "--precisions",
        nargs="+",
        choices=PRECISIONS,
        default=list(PRECISIONS),
        help="which ONNX files to keep (all three)",
    )
    _add_model_option_flag(
        p,
        "override a config field that changes no weights, e.g. correction_from_bin=232 "
        "(the bundled models' guard: no correction below 5 kHz)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace a model in --out")
    p.add_argument(
        "--hole-net",
        type=Path,
        help="fill the codec's holes under the low-pass with this net (`train-holes` fits one "
        "at the model's STFT); shipped in the folder, and sets holes=true",
    )
    p.set_defaults(run_command=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from ..training.export import export, metrics_from_evaluation

    extra = {}
    if args.training_data:
        extra["training_data"] = args.training_data
    if args.training_command:
        extra["training_command"] = args.training_command
    if args.evaluation:
        if not args.system:
            raise UsageError("--evaluation needs --system: the model's name in its results")
        extra["test_metrics"] = metrics_from_evaluation(args.evaluation, args.system)
    options = _model_options(args.model_option)
    card = export(
        args.checkpoint,
        args.out,
        args.name,
        extra,
        args.precisions,
        options,
        args.hole_net,
        args.overwrite,
    )
    sizes = ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in card["bytes"].items())
    errors = ", ".join(f"{k} {v:.1e}" for k, v in card["parity_error"].items())
    print(f"wrote {args.out}: {sizes}; error against PyTorch: {errors}")
    return 0
