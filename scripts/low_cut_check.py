"""Under a 32 kbps low-pass (below `dsp.band_level.LOW_CUT_HZ`): how calm to lay the rebuilt band,
and from how many dB to fill the holes.

Scores the model (``--model``, default the bundled ``full-band``) with
`dsp.band_level.LOW_CUT_CALM` and `dsp.holes.LOW_CUT_THRESHOLD_DB` set to each ``--settings``
spec, ``CALM,THRESHOLD``, in turn, beside the decoded input. Low-passes above `LOW_CUT_HZ` are
untouched: the model's own ``calm`` and `dsp.holes.THRESHOLD_DB` (``0.75,6`` is the model as it
was before these settings).

Usage: python scripts/low_cut_check.py DATASET --out FOLDER [--split val] [--limit 120]
           [--model full-band] [--settings 0.75,6 0.5,6 0.6,6 0.5,4]
"""

from __future__ import annotations

from validation_check import check_parser, patched, run_check

from spectral_enhance.dsp import band_level, holes
from spectral_enhance.evaluation.systems import System, load_system


def with_setting(model: System, spec: str) -> System:
    """``model`` with the band's calm and the holes' threshold of ``spec`` while it runs."""
    calm, threshold = (float(x) for x in spec.split(","))
    low_cut_khz = band_level.LOW_CUT_HZ / 1000
    name = f"{model.name}, under {low_cut_khz:g} kHz calm {calm:g}, holes {threshold:g} dB"
    settings = [(band_level, "LOW_CUT_CALM", calm), (holes, "LOW_CUT_THRESHOLD_DB", threshold)]
    return patched(model, name, settings)


def main() -> None:
    parser = check_parser(__doc__, 120)
    parser.add_argument("--settings", nargs="+", default=["0.75,6", "0.5,6", "0.6,6", "0.5,4"])
    args = parser.parse_args()
    model = load_system(args.model)
    run_check(args, ["mp3", *(with_setting(model, spec) for spec in args.settings)])


if __name__ == "__main__":
    main()
