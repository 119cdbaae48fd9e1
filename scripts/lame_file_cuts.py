"""Where `enhance` finds the cut in MP3 files of each mode: the spread over a split's references.

Each reference clip of a split (the windows ``evaluate --limit`` takes, as whole windows) is
encoded in every ``--modes`` mode by Debian's ``lame`` or ``ffmpeg`` (`vbr_check.encode`), and
the file's cut measured as ``enhance`` measures it (`dsp.lowpass.lowpass_of_file`, its header's
rules included). Prints per mode the lowest and highest cuts and how many files have none: what
a boundary between two bitrates' cuts (`dsp.band_level.HIGH_CUT_HZ`) must lie between.

Usage: python scripts/lame_file_cuts.py DATASET [--split val] [--limit 300]
           [--modes lame:-b,112 lame:-b,128 ...]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import vbr_check
from validation_check import check_parser
from vbr_check import as_wav

from spectral_enhance.dataset.manifest import read_manifest
from spectral_enhance.dsp.lowpass import lowpass_of_file
from spectral_enhance.evaluation.evaluate import reference_rows, spread_sample


def main() -> None:
    parser = check_parser(__doc__, limit=300, model=False, out=False)
    parser.add_argument("--modes", nargs="+", default=["lame:-b,112", "lame:-b,128"])
    args = parser.parse_args()
    references = reference_rows(spread_sample(read_manifest(args.dataset, args.split), args.limit))
    cuts: dict[str, list[float | None]] = {mode: [] for mode in args.modes}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for row in references:
            _, _, wav = as_wav(row, tmp)
            for mode in args.modes:
                cuts[mode].append(lowpass_of_file(vbr_check.encode(wav, tmp, mode)))
    print(f"{len(references)} references of {args.split}: the cut enhance finds in each file")
    for mode, found in cuts.items():
        measured = sorted(c for c in found if c is not None)
        span = f"{measured[0]:.0f} to {measured[-1]:.0f} Hz" if measured else "none"
        print(f"{mode:<16} {span}, {len(found) - len(measured)} without a cut")


if __name__ == "__main__":
    main()
