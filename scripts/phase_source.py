"""The rebuilt band's phase source: the band copied up from under the low-pass, against noise.

Issue 12 asks what fills the lost band. Both fillings are given the reference's own envelope
per 8-bin band and frame (`dsp.replication.envelope_oracle`), so only the fine structure
differs: the copy (what the full-band model uses) or white noise (noise filling). Scored with
Zimtohrli per bitrate on the clips of a split, beside the decoded input and `oracle-high`.

Usage: python scripts/phase_source.py DATASET --out FOLDER [--split val] [--limit 100]
"""

from __future__ import annotations

from functools import partial

from validation_check import check_parser, run_check

from spectral_enhance.evaluation.systems import System, oracle_envelope


def main() -> None:
    parser = check_parser(__doc__, 100, model=False)
    args = parser.parse_args()
    noise = System("oracle-envelope-noise", process_clip=partial(oracle_envelope, noise=True))
    systems = ["mp3", "oracle-envelope", noise, "oracle-high"]
    run_check(args, systems)


if __name__ == "__main__":
    main()
