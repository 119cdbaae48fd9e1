"""The ``enhance`` subcommand (files and folders, or a pipe) and ``demo``, which shows it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..audio.formats import BIT_DEPTHS, FORMATS
from .options import UsageError, _add_model_options, _bounded, _bounded_int, _warn_past_cores

if TYPE_CHECKING:
    from ..inference.report import BatchReport


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
        "folder's files go to the same subfolders in it as below that folder; - writes one "
        "INPUT file's output to standard output",
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


def _run_enhance(args: argparse.Namespace) -> int:
    from ..inference.batch import enhance_files
    from ..inference.enhancer import Enhancer

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
    if "-" in args.inputs or args.out == Path("-"):
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
    """``enhance -`` (standard input) or ``enhance FILE -o -``: to standard output, through a
    temporary folder (the meter seeks through its input, and a WAV's header is finished last),
    with ``enhance_files``' ``options``; the lines name standard input ``-``."""
    import shutil
    import tempfile

    from ..atomic import OutputError
    from ..inference.batch import enhance_files
    from ..inference.outputs import output_path

    piped = "-" in args.inputs
    if piped and args.inputs != ["-"]:
        raise UsageError("'-' (standard input) must be the only INPUT")
    if piped and args.out not in (None, Path("-")):
        raise UsageError("'-' writes to standard output: -o does not apply")
    if not piped and (len(args.inputs) != 1 or Path(args.inputs[0]).is_dir()):
        raise UsageError("-o - writes one file to standard output: give one INPUT file")
    if args.json:
        raise UsageError("'-' writes the audio to standard output: --json cannot share it")
    if (piped and sys.stdin is None) or sys.stdout is None:  # closed by the shell (<&-, >&-)
        raise ValueError("'-' needs standard input and output, and one of them is closed")
    if sys.stdout.isatty():
        raise UsageError("standard output is a terminal: redirect it (> out.wav) or pipe it")
    with tempfile.TemporaryDirectory(prefix="spectral-enhance-") as folder:
        source = Path(folder) / "stdin" if piped else Path(args.inputs[0])
        target = output_path(source, Path(folder), args.format)
        if piped:
            with open(source, "wb") as spool:
                shutil.copyfileobj(sys.stdin.buffer, spool)

        done: list[str] = []  # "- -> (standard output)": said once it is there
        name = "-" if piped else str(source)  # the input as the lines name it

        def log(line: str) -> None:
            line = line.replace(str(target), "(standard output)").replace(str(source), name)
            if line.startswith(f"{name} -> "):
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
    from ..demo import FILES, format_scores, run_demo
    from ..inference.enhancer import Enhancer

    enhancer = Enhancer.load(args.model, args.backend, args.precision)
    scores = run_demo(args.out, enhancer, args.overwrite)
    print(format_scores(scores))
    print(f"wrote {args.out}/: {', '.join(FILES)}")
    return 0
