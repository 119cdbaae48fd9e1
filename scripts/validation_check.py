"""What the checks in this folder share: their arguments and how an evaluating one is run.

Most score a few systems (a model changed one way or another, an oracle) with
`spectral_enhance.evaluation.evaluate` on a spread of one split's clips, write its report to
``--out`` and print it (`run_check`); others measure something of a model on those clips and
print it. ``--model`` picks the model a check varies or measures.
"""

from __future__ import annotations

import argparse
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spectral_enhance.dataset.manifest import read_manifest, read_recipe
from spectral_enhance.dataset.recipe import DegradationRecipe
from spectral_enhance.evaluation.evaluate import evaluate, spread_sample
from spectral_enhance.evaluation.systems import Clip, System
from spectral_enhance.inference.enhancer import Enhancer


def check_parser(
    doc: str, limit: int = 60, model: bool = True, out: bool = True, split: str = "val"
) -> argparse.ArgumentParser:
    """The arguments of a check documented by ``doc`` (its module doc): the dataset, ``--out``
    (for a check that writes an evaluation's report), ``--split``, ``--limit`` and, for a check
    that varies or measures a model, ``--model``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("dataset")
    if out:
        parser.add_argument("--out", required=True)
    parser.add_argument("--split", default=split)
    parser.add_argument("--limit", type=int, default=limit)
    if model:
        parser.add_argument("--model", default="full-band")
    return parser


def run_check(
    args: argparse.Namespace,
    systems: Sequence[str | System],
    bitrates: Collection[str] | None = None,
) -> None:
    """Score ``systems`` on the check's clips (of ``bitrates`` only, if given) and print the
    report."""
    evaluate(args.dataset, systems, args.out, args.split, args.limit, bitrates=bitrates)
    print((Path(args.out) / "report.md").read_text())


def measured_clips(
    args: argparse.Namespace,
) -> tuple[list[dict], DegradationRecipe, Enhancer]:
    """For a check that measures ``--model`` itself: the split's clips as `evaluate --limit`
    spreads them, the dataset's recipe, and the model, loaded."""
    rows = spread_sample(read_manifest(args.dataset, args.split), args.limit)
    return rows, read_recipe(args.dataset), Enhancer.load(args.model)


def patched(model: System, name: str, settings: Sequence[tuple[Any, str, Any]]) -> System:
    """``model`` named ``name``, run with each ``(module, attribute, value)`` of ``settings`` set
    while it runs and put back after: a package constant or function varied for a check."""

    def process(clip: Clip) -> np.ndarray:
        kept = [
            (module, attribute, getattr(module, attribute)) for module, attribute, _ in settings
        ]
        try:
            for module, attribute, value in settings:
                setattr(module, attribute, value)
            return model.estimate(clip)
        finally:
            for module, attribute, value in kept:
                setattr(module, attribute, value)

    return System(name, process_clip=process)
