"""The parser pieces the subcommands share: argparse types, the model options, UsageError."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ..inference.bundled import DEFAULT_MODEL, PRECISIONS


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
        choices=PRECISIONS,
        default=None,
        help="weights of the ONNX model: int8 is smallest and fastest (default; an .onnx file "
        "given as --model is of its own)",
    )


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
    from ..inference.bundled import bundled_models

    return ", ".join(bundled_models()) or "none"


def _warn_past_cores(threads: int, jobs: int = 1) -> None:
    """Say so when ``jobs`` processes of ``threads`` each (0: all cores for one job, one each
    for several) ask for more cores than this process may use: they take turns on them, and
    each holds a segment of its own, so it is slower and takes more memory."""
    from ..inference.backends import usable_cores

    cores = usable_cores()
    asked = jobs * (threads or (1 if jobs > 1 else cores))
    if asked > cores:
        flags = f"--jobs {jobs} " * (jobs > 1) + f"--threads {threads}" * bool(threads)
        print(
            f"warning: {flags.strip()} runs {asked} threads at once on the {cores} cores this "
            "process may use: slower than one a core, and each holds a segment in memory",
            file=sys.stderr,
        )


class UsageError(ValueError):
    """Options that cannot go together, or a value of the wrong form: exit code 2, as argparse
    gives for the usage errors it finds itself."""
