"""Over a 128 kbps low-pass (from `dsp.band_level.HIGH_CUT_HZ` up): how loud to lay the rebuilt
band, and where that starts.

Scores the model (``--model``, default the bundled ``full-band``) with
`dsp.band_level.HIGH_CUT_SHARE` and `HIGH_CUT_HZ` set to each ``--settings`` spec,
``SHARE,HZ``, in turn, beside the decoded input, on the clips of one bitrate (``--bitrate``)
of a split: the others' low-passes lie under any such boundary. ``1,16000`` is the model as it
was before these settings (no share; holes filled under 16 kHz).

Usage: python scripts/band_share_check.py DATASET --out FOLDER [--split val] [--limit 120]
           [--bitrate 128] [--model full-band] [--settings 1,16000 0.5,15600]
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

from validation_check import check_parser, patched, run_check

from spectral_enhance.dataset.manifest import read_rows
from spectral_enhance.dsp import band_level
from spectral_enhance.evaluation.systems import System, load_system


def with_setting(model: System, spec: str) -> System:
    """``model`` with the band's share over the boundary and the boundary of ``spec``."""
    share, boundary = (float(x) for x in spec.split(","))
    name = f"{model.name}, from {boundary / 1000:g} kHz at {share:g}"
    settings = [(band_level, "HIGH_CUT_SHARE", share), (band_level, "HIGH_CUT_HZ", boundary)]
    return patched(model, name, settings)


def one_bitrate(dataset: Path, bitrate: str, folder: Path) -> Path:
    """A view of ``dataset`` in ``folder`` whose manifest holds only its clips of ``bitrate``
    (its recipe copied, its splits' folders linked)."""
    for item in dataset.iterdir():
        if item.is_dir():
            (folder / item.name).symlink_to(item.resolve())
    shutil.copy(dataset / "recipe.json", folder / "recipe.json")
    rows = read_rows(dataset / "manifest.csv")
    kept = [r for r in rows if str(r["low_bitrate"]) == bitrate]
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    return folder


def main() -> None:
    parser = check_parser(__doc__, 120)
    parser.add_argument("--bitrate", default="128")
    parser.add_argument("--settings", nargs="+", default=["1,16000", "0.5,15600"])
    args = parser.parse_args()
    model = load_system(args.model)
    with tempfile.TemporaryDirectory() as folder:
        args.dataset = one_bitrate(Path(args.dataset), args.bitrate, Path(folder))
        run_check(args, ["mp3", *(with_setting(model, spec) for spec in args.settings)])


if __name__ == "__main__":
    main()
