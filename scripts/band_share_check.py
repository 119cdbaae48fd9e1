"""Over a 128 kbps low-pass (from `dsp.band_level.HIGH_CUT_HZ` up): how loud to lay the rebuilt
band, and where that starts.

Scores the model (``--model``, default the bundled ``full-band``) with
`dsp.band_level.HIGH_CUT_SHARE`, `HIGH_CUT_HZ` and `dsp.holes.TOP_HZ` set to each ``--settings``
spec, ``SHARE,HZ[,HOLES_HZ]`` (the holes' top is ``HZ`` unless given, as when these were
chosen), in turn, beside the decoded input, on the clips of one bitrate (``--bitrate``) of a
split: the others' low-passes lie under any such boundary. ``1,16000`` is the model as it was
before these settings (no share; holes filled under 16 kHz), ``0.5,15600`` as they were chosen,
and ``0.5,15600,16000`` as it ships since the holes' top went back to 16 kHz (2026-11-28,
evening).

Usage: python scripts/band_share_check.py DATASET --out FOLDER [--split val] [--limit 120]
           [--bitrate 128] [--model full-band] [--settings 1,16000 0.5,15600 0.5,15600,16000]
"""

from __future__ import annotations

from validation_check import check_parser, patched, run_check

from spectral_enhance.dsp import band_level, holes
from spectral_enhance.evaluation.systems import System, load_system


def with_setting(model: System, spec: str) -> System:
    """``model`` with the band's share over the boundary, the boundary and the holes' top of
    ``spec`` (``SHARE,HZ[,HOLES_HZ]``; the holes' top is the boundary if not given)."""
    share, boundary, *rest = (float(x) for x in spec.split(","))
    top = rest[0] if rest else boundary
    name = f"{model.name}, from {boundary / 1000:g} kHz at {share:g}"
    if top != boundary:
        name += f", holes under {top / 1000:g} kHz"
    settings = [(band_level, "HIGH_CUT_SHARE", share), (band_level, "HIGH_CUT_HZ", boundary)]
    settings.append((holes, "TOP_HZ", top))
    return patched(model, name, settings)


def main() -> None:
    parser = check_parser(__doc__, 120)
    parser.add_argument("--bitrate", default="128")
    parser.add_argument("--settings", nargs="+", default=["1,16000", "0.5,15600"])
    args = parser.parse_args()
    model = load_system(args.model)
    systems = ["mp3", *(with_setting(model, spec) for spec in args.settings)]
    run_check(args, systems, bitrates={args.bitrate})


if __name__ == "__main__":
    main()
