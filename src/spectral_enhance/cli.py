"""The ``spectral-enhance`` command: a thin argument layer over the package's API.

Each subcommand imports its module only when it runs, so ``spectral-enhance --help`` and
``enhance`` start without loading PyTorch. Library code raises; only this module exits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .audio.formats import BIT_DEPTHS, FORMATS
from .inference.bundled import DEFAULT_MODEL

if TYPE_CHECKING:
    from .inference.report import BatchReport

__all__ = ["get_parser", "main"]


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"a bundled model ({_bundled_help()}; default {DEFAULT_MODEL}), an export folder, an "
        ".onnx file, or a .pt checkpoint",
    )
    p.add_argument(
        "--backend",
        choices=("onnx", "torch"),
        default="onnx",
        help="onnx: ONNX Runtime, no PyTorch needed (default); torch: a .pt checkpoint",
    )
    p.add_argument(
        "--precision",
        choices=("fp32", "fp16", "int8"),
        default="int8",
        help="weights of the ONNX model: int8 is smallest and fastest (default)",
    )


def _add_demo(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "demo",
        help="run the main job on a bundled excerpt and show what it does",
        description="Make a 48 kbps MP3 of a bundled 12 s 44.1 kHz stereo excerpt as `lame` "
        "would, enhance it as `enhance` does, and write the input, enhanced and reference WAVs, "
        "their spectrograms as a PNG, and the metrics.",
    )
    p.add_argument("--out", type=Path, default=Path("spectral-enhance-demo"), help="folder")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier demo in --out")
    _add_model_options(p)
    p.set_defaults(run_command=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from .demo import FILES, format_scores, run_demo
    from .inference.enhancer import Enhancer

    enhancer = Enhancer.load(args.model, args.backend, args.precision)
    scores = run_demo(args.out, enhancer, args.overwrite)
    print(format_scores(scores))
    print(f"wrote {args.out}/: {', '.join(FILES)}")
    return 0


def _add_dataset(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "dataset",
        help="build paired low/high clips from music by the paper's recipe",
        description="Convert every track under SRC (files or folders) into aligned clips: one "
        "reference (high: a 128 kbps MP3 decoded, or the source itself with two or more "
        "--bitrates; see --high-bitrate) and one MP3-decoded input (low) per bitrate "
        "(--low-bitrate 32, or each of --bitrates), split 85/8/7 by track. A rerun keeps the "
        "clips of unchanged tracks and converts changed ones again.",
    )
    p.add_argument("sources", nargs="+", metavar="SRC", help="audio files or folders")
    p.add_argument("--out", required=True, type=Path, help="dataset folder to create or extend")
    p.add_argument(
        "--clip-samples", type=_bounded_int(1024), default=100_000, help="clip length (100000)"
    )
    p.add_argument(
        "--sample-rate", type=_bounded_int(8000, 192000), default=22050, help="clip rate (22050)"
    )
    p.add_argument(
        "--high-bitrate",
        type=_bounded_int(0, 320),
        default=None,
        help="reference kbps; 0 takes the source itself (default: 128, or 0 with two or more "
        "--bitrates)",
    )
    p.add_argument(
        "--low-bitrate", type=_bounded_int(8, 320), default=None, help="input kbps (32)"
    )  # None: not given, so one given beside --bitrates is refused, not dropped
    p.add_argument(
        "--bitrates",
        type=_int_list,
        default=(),
        help="several input bitrates, e.g. 32,48,64,96,128: one low clip of each per window, "
        "each with its own cutoff (issue 12; instead of --low-bitrate)",
    )
    p.add_argument(
        "--channels",
        type=int,
        choices=(1, 2),
        default=1,
        help="1 averages a track's channels (the paper), 2 keeps a stereo source's (1)",
    )
    p.add_argument(
        "--lame-rate",
        action="store_true",
        help="let LAME choose each MP3's sample rate as `lame` does (32 kbps stereo: 16 kHz); "
        "the paper forces the clip rate",
    )
    p.add_argument(
        "--cutoff-hz",
        type=_bounded(float, 0, 192_000),
        default=0.0,
        help="the low bitrate's low-pass, above which LSD is scored again (default: LAME's, "
        "measured; 8270 for 32 kbps at 22,050 Hz)",
    )
    p.add_argument(
        "--silence-dbfs",
        type=_bounded(float, -200, 0),
        default=-50.0,
        help="drop quieter clips (-50)",
    )
    p.add_argument(
        "--clips-per-track",
        type=_bounded_int(0),
        default=0,
        help="at most this many clips of each track, spread over it (0: all)",
    )
    p.add_argument("--seed", type=_bounded_int(0), default=0, help="seed of the track split (0)")
    p.add_argument("--jobs", type=_bounded_int(1, 64), default=1, help="processes (1)")
    p.set_defaults(run_command=_run_dataset)


def _run_dataset(args: argparse.Namespace) -> int:
    from .dataset.build import DatasetConfig, build_dataset
    from .dataset.recipe import DegradationRecipe

    if args.bitrates and args.low_bitrate is not None:
        raise UsageError("--low-bitrate and --bitrates cannot go together: give the bitrates once")
    recipe = DegradationRecipe(
        args.sample_rate,
        args.high_bitrate,
        args.low_bitrate or 32,
        args.cutoff_hz,
        args.bitrates,
        args.channels,
        args.lame_rate,
    )
    config = DatasetConfig(
        clip_samples=args.clip_samples,
        silence_dbfs=args.silence_dbfs,
        seed=args.seed,
        clips_per_track=args.clips_per_track,
        recipe=recipe,
    )
    report = build_dataset(args.sources, args.out, config, jobs=args.jobs)
    counts = ", ".join(f"{split} {n}" for split, n in report.clips.items())
    manifest = args.out / "manifest.csv"  # not written by a new dataset that made no clip
    print(
        f"{report.tracks_done} track{'s' * (report.tracks_done != 1)} converted, "
        f"{report.tracks_skipped} already done, "
        f"{len(report.failed)} failed, {len(report.warnings)} warning(s); clips: {counts}; "
        f"{report.narrow} dropped (reference band below cutoff + margin); "
        f"manifest: {manifest if manifest.exists() else 'none written'}"
    )
    if not sum(report.clips.values()):
        print(f"spectral-enhance dataset: error: {args.out}: no clips made", file=sys.stderr)
    return 1 if report.failed or not sum(report.clips.values()) else 0


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
    from .training.config import TrainConfig

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

    from .training.config import TrainConfig
    from .training.train import RESUME_SETTINGS, check_settings, init_distributed, train

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
        print("best: " + " ".join(f"{k} {v:.4f}" for k, v in best.items() if isinstance(v, float)))
    return 0


def _add_model_option_flag(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument(
        "--model-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"{help_text} (repeatable; values are JSON)",
    )


def _model_options(items: list[str]) -> dict:
    """``--model-option KEY=VALUE`` flags as a dict, each value read as JSON (``true``, ``2``)
    or, if it is not JSON, as a string (``fill=noise``)."""
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--model-option {item!r}: expected KEY=VALUE")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


def _bounded_int(low: float, high: float = float("inf")) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high], refused at parse time otherwise."""
    return _bounded(int, low, high)


def _bounded(
    kind: type, low: float, high: float = float("inf"), above: bool = False
) -> Callable[[str], Any]:
    """An argparse type: a number of ``kind`` in [low, high] (``above``: over ``low``), refused
    at parse time otherwise."""
    noun = "whole number" if kind is int else "number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None
        if not (low < value if above else low <= value) or not value <= high:
            if above:
                span = f"over {low:g}" + (f", at most {high:g}" if high < float("inf") else "")
            else:
                span = f"{low:g} to {high:g}" if high < float("inf") else f"{low:g} or more"
            raise argparse.ArgumentTypeError(f"must be {span}, not {value}")
        return value

    return parse


def _int_list(text: str) -> tuple[int, ...]:
    """An argparse type: comma-separated whole numbers, e.g. ``32,48,64``."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list like 32,48,64") from None


def _bundled_help() -> str:
    from .inference.bundled import bundled_models

    return ", ".join(bundled_models()) or "none"


def _add_enhance(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "enhance",
        help="restore MP3s (or any audio): files or folders",
        description="Enhance each INPUT (files, or folders searched for audio) into "
        "NAME.enhanced.wav beside it or in --out, where a folder's files keep their subfolders. "
        "The output is aligned to the sample with the "
        "decoded input and lasts exactly as long. Inputs are typed by content and never "
        "written; an existing output is kept unless --overwrite; two inputs that would write "
        "the same output are refused by name. Exit code 1 if any input failed or none could "
        "be enhanced.",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="audio files or folders; - reads standard input and writes the output to "
        "standard output (ffmpeg -i song.m4a -f wav - | spectral-enhance enhance - > out.wav)",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        help="folder for the outputs (created if missing; default: beside each input); a "
        "folder's files go to the same subfolders in it as below that folder",
    )
    p.add_argument(
        "--format",
        choices=tuple(FORMATS),
        default="wav",
        help="output file format (wav)",
    )
    p.add_argument(
        "--bit-depth",
        choices=BIT_DEPTHS,
        help="output samples: float keeps peaks above full scale (WAV only; the WAV default); "
        "16, 24 (the FLAC default) or 32-bit integers clip them, and the run says how many",
    )
    _add_model_options(p)
    p.add_argument(
        "--sample-rate",
        type=_bounded_int(8000, 384000),
        help="output sample rate in Hz (default: 44100, or the input's rate above it); the "
        "output keeps the input's duration, and its band up to half this rate",
    )
    p.add_argument(
        "--strength",
        type=_bounded(float, 0, 1),
        default=1.0,
        help="how much of the model's change is added to the input: 0 writes the input as it "
        "is (at the output rate), 1 the model's full effect (1)",
    )
    p.add_argument(
        "--lowpass",
        type=_bounded(float, 0, 192_000),
        metavar="HZ",
        help="where the inputs' band ends, in Hz, instead of where the meter finds it in each "
        "file: for a file it misjudges (dark music an MP3 encoder left empty above, a quiet "
        "passage); 0: nowhere, nothing is rebuilt",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument(
        "--jobs", type=_bounded_int(1, 64), default=1, help="files processed in parallel (1)"
    )
    p.add_argument(
        "--threads", type=_bounded_int(0, 256), default=0, help="threads per job (0: all cores)"
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars (there are none when standard error is not a terminal)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object on standard output when done: every input's entry (input, "
        "output, status, reason, seconds, rates, channels, lowpass_hz, lowpass_given, "
        "rebuilt_hz, mended_hz, warnings) and the summary's counts; the usual lines still go "
        "to standard error",
    )
    p.set_defaults(run_command=_run_enhance)


def _warn_past_cores(threads: int, jobs: int = 1) -> None:
    """Say so when ``jobs`` processes of ``threads`` each (0: all cores for one job, one each
    for several) ask for more cores than this process may use: they take turns on them, and
    each holds a segment of its own, so it is slower and takes more memory."""
    from .inference.enhancer import usable_cores

    cores = usable_cores()
    asked = jobs * (threads or (1 if jobs > 1 else cores))
    if asked > cores:
        flags = f"--jobs {jobs} " * (jobs > 1) + f"--threads {threads}" * bool(threads)
        print(
            f"warning: {flags.strip()} runs {asked} threads at once on the {cores} cores this "
            "process may use: slower than one a core, and each holds a segment in memory",
            file=sys.stderr,
        )


def _run_enhance(args: argparse.Namespace) -> int:
    from .inference.batch import enhance_files
    from .inference.enhancer import Enhancer

    if args.format == "flac" and args.bit_depth in ("32", "float"):
        raise UsageError(f"FLAC holds 16 or 24-bit samples, not {args.bit_depth}")
    load_args = {
        "model": args.model,
        "backend": args.backend,
        "precision": args.precision,
        "threads": args.threads or (1 if args.jobs > 1 else 0),
    }
    Enhancer.load(**load_args)  # fail early, once, on a bad --model
    _warn_past_cores(args.threads, args.jobs)
    options = {
        "fmt": args.format,
        "output_rate": args.sample_rate,
        "progress": not args.quiet and sys.stderr.isatty(),  # not into a log file
        "depth": args.bit_depth,
        "strength": args.strength,
        "lowpass_hz": args.lowpass,
    }
    if "-" in args.inputs:
        report = _enhance_pipe(args, load_args, options)
    else:
        report = enhance_files(
            args.inputs,
            load_args,
            out_dir=args.out,
            overwrite=args.overwrite,
            jobs=args.jobs,
            **options,
        )
    print(report.summary(), file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    if report.interrupted:
        return 130
    return 1 if report.failed or report.nothing_possible else 0


def _enhance_pipe(args: argparse.Namespace, load_args: dict, options: dict) -> BatchReport:
    """``enhance -``: standard input to standard output, through a temporary folder (the meter
    seeks through its input, and a WAV's header is finished last), with ``enhance_files``'
    ``options``; the lines name them ``-``."""
    import shutil
    import tempfile

    from .atomic import OutputError
    from .inference.batch import enhance_files, output_path

    if args.inputs != ["-"]:
        raise UsageError("'-' (standard input) must be the only INPUT")
    if args.out is not None:
        raise UsageError("'-' writes to standard output: -o does not apply")
    if args.json:
        raise UsageError("'-' writes the audio to standard output: --json cannot share it")
    if sys.stdin is None or sys.stdout is None:  # closed by the shell (<&- or >&-)
        raise ValueError("'-' needs standard input and output, and one of them is closed")
    if sys.stdout.isatty():
        raise UsageError("standard output is a terminal: redirect it (> out.wav) or pipe it")
    with tempfile.TemporaryDirectory(prefix="spectral-enhance-") as folder:
        source = Path(folder) / "stdin"
        target = output_path(source, Path(folder), args.format)
        with open(source, "wb") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool)

        done: list[str] = []  # "- -> (standard output)": said once it is there

        def log(line: str) -> None:
            line = line.replace(str(target), "(standard output)").replace(str(source), "-")
            if line.startswith("- -> "):
                done.append(line)
            else:
                print(line, file=sys.stderr)

        report = enhance_files([source], load_args, out_dir=Path(folder), log=log, **options)
        if report.done:
            try:
                with open(target, "rb") as written:
                    shutil.copyfileobj(written, sys.stdout.buffer)
                sys.stdout.buffer.flush()
            except OSError as error:  # a full disk, a reader that stopped reading
                # Python's own last flush at exit would fail again, with a traceback
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                why = error.strerror or type(error).__name__
                raise OutputError("(standard output)", f"cannot write ({why})") from None
        for line in done:
            print(line, file=sys.stderr)
    return report


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
    from .dsp.holes import THRESHOLD_DB
    from .training.holes import train_holes

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
        choices=("fp32", "fp16", "int8"),
        default=["fp32", "fp16", "int8"],
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
    from .training.export import export, metrics_from_evaluation

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
    from .evaluation.evaluate import evaluate

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
    from .atomic import refuse_to_replace
    from .evaluation import plots

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


def _add_serve(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "serve",
        help="a local web page: enhance files, hear input and output A/B, download them",
        description="Start a web server for a page that enhances the files dropped on it (as "
        "`enhance` does, with the same model and options), plays input and output switchable "
        "at the same position, shows both spectrograms and offers the results for download. "
        "Needs the web extra: pip install 'spectral-enhance[web]'.",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)"
    )
    p.add_argument(
        "--port", type=_bounded_int(0, 65535), default=8000, help="port (8000; 0: any free one)"
    )
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    _add_model_options(p)
    p.add_argument(
        "--threads", type=_bounded_int(0, 256), default=0, help="threads per job (0: all cores)"
    )
    positive = _bounded(float, 0, above=True)
    p.add_argument("--max-upload-mb", type=positive, default=200.0, help="largest upload (200 MB)")
    p.add_argument(
        "--max-files", type=_bounded_int(1), default=20, help="files a page holds at once (20)"
    )
    p.add_argument(
        "--max-seconds", type=positive, default=1800.0, help="longest file, in seconds (1800)"
    )
    p.add_argument(
        "--idle-minutes",
        type=positive,
        default=30.0,
        help="a page unseen this long loses its files (30)",
    )
    p.set_defaults(run_command=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    try:
        from .serve.app import Limits, create_app, is_loopback, serve
    except ImportError as error:
        extra = "pip install 'spectral-enhance[web]'"
        raise ValueError(f"needs the web extra: {extra} ({error})") from None
    import webbrowser

    from .allocator import cap_arenas
    from .inference.enhancer import Enhancer

    cap_arenas()  # before the server's threads start: each would keep an arena of its own
    limits = Limits(args.max_upload_mb, args.max_files, args.max_seconds, args.idle_minutes)
    enhancer = Enhancer.load(args.model, args.backend, args.precision, args.threads)
    _warn_past_cores(args.threads)
    if not is_loopback(args.host):
        print(
            f"warning: listening on {args.host}, not only on this machine: anyone who can reach "
            "it can upload files and download the results",
            file=sys.stderr,
        )

    def started(url: str) -> None:
        print(f"spectral-enhance serve: {url} (model {enhancer.name}; Ctrl-C stops)", flush=True)
        if args.open:
            webbrowser.open(url)

    serve(create_app(enhancer, limits, host=args.host), args.host, args.port, started)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse's parser, but a usage error is one line (what is wrong, where help is), not the
    usage block above it; subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (`{self.prog} --help` lists the options)\n")


def get_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = _Parser(
        prog="spectral-enhance",
        description="Restore low-bitrate MP3 music: rebuild the high band a codec removed.",
        epilog=f"Bundled models: {_bundled_help()}. `spectral-enhance COMMAND --help` explains "
        "each command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _COMMANDS:
        add(commands)
    return parser


_COMMANDS = [
    _add_enhance,
    _add_demo,
    _add_dataset,
    _add_train,
    _add_train_holes,
    _add_export,
    _add_evaluate,
    _add_plot,
    _add_serve,
]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spectral-enhance")
    except PackageNotFoundError:
        return "unknown (not installed)"


class UsageError(ValueError):
    """Options that cannot go together, or a value of the wrong form: exit code 2, as argparse
    gives for the usage errors it finds itself."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 some inputs failed, 2 usage)."""
    from .atomic import terminate_on_hangup

    if sys.stderr is None:  # closed by the shell (2>&-): the lines have nowhere to go, and
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115  print() would send them to stdout
    args = get_parser().parse_args(argv)
    terminate_on_hangup()  # before the imports of NumPy and FFmpeg: a Ctrl-C there is one line
    try:
        return _run(args)
    except (KeyboardInterrupt, ImportError) as error:
        stopped = error if isinstance(error, KeyboardInterrupt) else error.__cause__
        if not isinstance(stopped, KeyboardInterrupt):
            raise  # an ImportError of its own; ONNX Runtime's raised on an interrupt is one
        said = str(stopped)  # the signal's name, or what the command kept
        said = f" by {said}" if said.startswith("SIG") else f": {said}" if said else ""
        print(f"interrupted{said}", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    """The command ``args`` names; an error it expects is its one line and exit code."""
    from .allocator import keep_freed_memory
    from .atomic import OutputError
    from .audio import AudioError

    keep_freed_memory()
    try:
        return args.run_command(args)
    except (OSError, ValueError, AudioError, OutputError) as error:
        from .inference.report import one_line

        print(f"spectral-enhance {args.command}: error: {one_line(str(error))}", file=sys.stderr)
        return 2 if isinstance(error, UsageError) else 1


def entry() -> None:
    """The console script: :func:`main`, and after an interrupt an immediate exit.

    An interrupted run has removed its temporary files by then; leaving at once spares the
    interpreter's shutdown the ONNX Runtime and FFmpeg threads that may still be stopping,
    which aborted it about once in 40 interrupts.
    """
    code = main()
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
