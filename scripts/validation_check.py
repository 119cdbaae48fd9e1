"""What the validation checks in this folder share: their arguments and how they are run.

Each check scores a few systems (a model changed one way or another, an oracle) with
`spectral_enhance.evaluation.evaluate` on a spread of one split's clips, writes its report to
``--out`` and prints it; ``--model`` picks the model a check varies.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from spectral_enhance.evaluation.evaluate import System, evaluate


def check_parser(doc: str, limit: int = 60, model: bool = True) -> argparse.ArgumentParser:
    """The arguments of a check documented by ``doc`` (its module doc): the dataset, ``--out``,
    ``--split`` (val), ``--limit`` and, for a check that varies a model, ``--model``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--out", required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--limit", type=int, default=limit)
    if model:
        parser.add_argument("--model", default="full-band")
    return parser


def run_check(args: argparse.Namespace, systems: Sequence[str | System]) -> None:
    """Score ``systems`` on the check's clips and print the report."""
    evaluate(args.dataset, systems, args.out, args.split, args.limit)
    print((Path(args.out) / "report.md").read_text())
