"""How far above the MP3's level `dsp.holes`' net must put a band for it to be filled, and how
loud to fill it.

Scores the model (``--model``, one exported with ``holes=true``) with the net's threshold
(`dsp.holes.THRESHOLD_DB`, and `LOW_CUT_THRESHOLD_DB` under a 32 kbps low-pass) and the fill's
offset over its level (`dsp.holes.OVER_DB`) set to each ``--settings`` spec,
``THRESHOLD[,OVER]`` in dB, in turn, under every low-pass, beside the decoded input.

Usage: python scripts/hole_net_check.py DATASET --out FOLDER [--split val] [--limit 120]
           [--model full-band] [--settings 6 4 8 6,2 6,-2]
"""

from __future__ import annotations

from validation_check import check_parser, patched, run_check

from spectral_enhance.dsp import holes
from spectral_enhance.evaluation.systems import System, load_system


def with_setting(model: System, spec: str) -> System:
    """``model`` with the net's threshold and the fill's offset of ``spec`` while it runs."""
    threshold, over = ([float(x) for x in spec.split(",")] + [0.0])[:2]
    name = f"{model.name}, holes over {threshold:g} dB, filled {over:+g} dB"
    settings = [
        (holes, "THRESHOLD_DB", threshold),
        (holes, "LOW_CUT_THRESHOLD_DB", threshold),
        (holes, "OVER_DB", over),
    ]
    return patched(model, name, settings)


def main() -> None:
    parser = check_parser(__doc__, 120)
    parser.add_argument("--settings", nargs="+", default=["6", "4", "8", "6,2", "6,-2"])
    args = parser.parse_args()
    model = load_system(args.model)
    run_check(args, ["mp3", *(with_setting(model, spec) for spec in args.settings)])


if __name__ == "__main__":
    main()
