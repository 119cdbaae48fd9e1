"""The rebuilt band's phase source: the band copied up from under the low-pass, against noise.

Issue 12 asks what fills the lost band. Both fillings are given the reference's own envelope
per 8-bin band and frame (`dsp.envelope_oracle`), so only the fine structure differs: the copy
(what the full-band model uses) or white noise (noise filling). Scored with Zimtohrli per
bitrate on the clips of a split, beside the decoded input and `oracle-high`.

Usage: python scripts/phase_source.py DATASET --out FOLDER [--split val] [--limit 100]
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from spectral_enhance.evaluation.evaluate import System, evaluate, oracle_envelope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--out", required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    noise = System("oracle-envelope-noise", process_clip=partial(oracle_envelope, noise=True))
    systems = ["mp3", "oracle-envelope", noise, "oracle-high"]
    evaluate(args.dataset, systems, args.out, args.split, args.limit)
    print((Path(args.out) / "report.md").read_text())


if __name__ == "__main__":
    main()
