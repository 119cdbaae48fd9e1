"""The ``spectral-enhance`` command: a thin argument layer over the package's API.

Each subcommand imports its module only when it runs, so ``spectral-enhance --help`` and
``enhance`` start without loading PyTorch. Library code raises; only this module exits. Each
subcommand's parser and run function live in the module of its stage (``enhance``,
``dataset``, ``training``, ``evaluation``, ``serve``); the parser pieces they share in
``options``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from .dataset import _add_dataset
from .enhance import _add_demo, _add_enhance
from .evaluation import _add_evaluate, _add_plot
from .options import UsageError, _bundled_help
from .serve import _add_serve
from .training import _add_export, _add_train, _add_train_holes

__all__ = ["get_parser", "main"]


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 some inputs failed, 2 usage)."""
    from ..atomic import terminate_on_hangup

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
    from ..allocator import keep_freed_memory
    from ..atomic import OutputError
    from ..audio import AudioError

    keep_freed_memory()
    try:
        return args.run_command(args)
    except (OSError, ValueError, AudioError, OutputError) as error:
        from ..inference.report import one_line

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
