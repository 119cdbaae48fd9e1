"""How far above the MP3's level `dsp.holes`' net must put a band for it to be filled.

Scores the model (``--model``, one exported with ``holes=true``) with the net's threshold
(`dsp.holes.THRESHOLD_DB`) set to each of ``--thresholds`` dB in turn, beside the decoded input.

Usage: python scripts/hole_net_check.py DATASET --out FOLDER [--split val] [--limit 120]
           [--model full-band] [--thresholds 3 6 10]
"""

from __future__ import annotations

import numpy as np
from validation_check import check_parser, run_check

from spectral_enhance.dsp import holes
from spectral_enhance.evaluation.evaluate import Clip, System, load_system


def at_threshold(model: System, threshold_db: float) -> System:
    """``model`` with the net's threshold at ``threshold_db`` while it runs."""

    def process(clip: Clip) -> np.ndarray:
        kept, holes.THRESHOLD_DB = holes.THRESHOLD_DB, threshold_db
        try:
            return model.estimate(clip)
        finally:
            holes.THRESHOLD_DB = kept

    return System(f"{model.name}, holes over {threshold_db:g} dB", process_clip=process)


def main() -> None:
    parser = check_parser(__doc__, 120)
    parser.add_argument("--thresholds", type=float, nargs="+", default=[3.0, 6.0, 10.0])
    args = parser.parse_args()
    model = load_system(args.model)
    run_check(args, ["mp3", *(at_threshold(model, t) for t in args.thresholds)])


if __name__ == "__main__":
    main()
