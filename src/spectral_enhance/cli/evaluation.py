"""The ``evaluate`` and ``plot`` subcommands: the paper's table and figures for trained systems."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..inference.bundled import DEFAULT_MODEL
from .options import UsageError, _bounded_int


def _add_evaluate(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "evaluate",
        help="the paper's Table 1 for any set of systems on a dataset split",
        description="Score systems on the clips of a dataset split (SNR, PESQ, LSD, LSD above "
        "the codec's cutoff, STOI, Zimtohrli) and write report.md, results.csv and "
        "results.json; a dataset with several bitrates gets a table per bitrate. Systems: "
        "mp3 (the decoded input as it is), dsp (spectral band replication continuing the "
        "spectrum's slope), dsp-edge (the same from the level at the cutoff, falling 12 dB an "
        "octave: the paper-setting tables' dsp), naive (the octave below the cutoff copied "
        "up, falling 6 dB an octave: a floor), oracle-high (the input below the cutoff, the "
        "reference above), oracle-low (the reference below the cutoff, nothing above), "
        "oracle-envelope (the input's band copied up as the full-band model copies it, at "
        "the reference's level per band and frame), a bundled model name, an export folder "
        "or .onnx file (NAME@fp32|fp16|int8), or a .pt checkpoint.",
    )
    p.add_argument("dataset", type=Path, help="dataset folder made by `dataset`")
    p.add_argument("--split", default="test", choices=("train", "val", "test"), help="(test)")
    p.add_argument(
        "--systems", nargs="+", default=["mp3", "dsp", "spectral-n1@int8"], help="systems to score"
    )
    p.add_argument("--out", type=Path, default=Path("evaluation"), help="report folder")
    p.add_argument(
        "--limit",
        type=_bounded_int(0),
        default=0,
        help="score at most N clips, whole windows spread evenly over the split (0: all)",
    )
    p.set_defaults(run_command=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    from ..evaluation.evaluate import evaluate

    evaluate(args.dataset, args.systems, args.out, args.split, args.limit)
    print((args.out / "report.md").read_text())
    return 0


def _add_plot(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "plot",
        help="draw the paper's figures 2 to 4 and training curves as PNG",
        description="spectrograms (figure 3): low, high and enhanced spectrograms of one clip; "
        "spectra (figure 4): magnitude, power and phase spectra of the enhanced clip against the "
        "high one; losses (figure 2): the spectrograms that models trained with different losses "
        "make of one clip; curves: loss and validation metrics per epoch of training runs.",
    )
    p.add_argument("kind", choices=("spectrograms", "spectra", "losses", "curves"))
    p.add_argument(
        "sources", nargs="+", type=Path, help="a dataset folder, or run folders (curves)"
    )
    p.add_argument("--clip", help="clip id (default: the first test clip)")
    p.add_argument(
        "--split",
        default="test",
        choices=("train", "val", "test"),
        help="split to take the first clip from (test)",
    )
    p.add_argument(
        "--model", help=f"model for spectrograms/spectra (default: {DEFAULT_MODEL})"
    )  # None: not given, so one given to a figure that draws none is refused, not dropped
    p.add_argument("--checkpoints", nargs="+", type=Path, default=[], help="models for losses")
    p.add_argument("--out", type=Path, required=True, help="PNG to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.set_defaults(run_command=_run_plot)


def _run_plot(args: argparse.Namespace) -> int:
    from ..atomic import refuse_to_replace
    from ..evaluation import plots

    refuse_to_replace([args.out], args.overwrite)
    if args.kind != "curves" and len(args.sources) > 1:
        raise UsageError(
            f"{args.kind} draws a clip of one dataset; {len(args.sources)} folders given"
        )
    # Each option its figures take: given to another, it was dropped unsaid.
    for option, given, kinds in [
        ("--model", args.model is not None, ("spectrograms", "spectra")),
        ("--checkpoints", bool(args.checkpoints), ("losses",)),
        ("--clip", args.clip is not None, ("spectrograms", "spectra", "losses")),
    ]:
        if given and args.kind not in kinds:
            raise UsageError(f"plot {args.kind} takes no {option} (it is for {', '.join(kinds)})")
    if args.kind == "curves":
        plots.plot_curves(args.sources, args.out)
    else:
        plots.plot_clip(
            args.kind,
            args.sources[0],
            args.out,
            args.clip,
            args.split,
            args.model or DEFAULT_MODEL,
            args.checkpoints,
        )
    print(f"wrote {args.out}")
    return 0
