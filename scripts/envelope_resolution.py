"""How fine must an envelope be? The reference's own envelope, over noise, at coarser bands.

The full-band model lays a predicted envelope over noise. Given instead the reference's own
power per band and frame (`dsp.replication.envelope_oracle` with noise), in bands of 8 bins
(172 Hz, the model's), 32 (690 Hz) and 128 (2.8 kHz, about an octave at 4 kHz, a third of one
at 16 kHz), Zimtohrli per bitrate says how much of the gap to `oracle-high` a perfect
envelope of each resolution closes: the most a better predictor of that resolution could give.

Usage: python scripts/envelope_resolution.py DATASET --out FOLDER [--split val] [--limit 60]
"""

from __future__ import annotations

from functools import partial

from validation_check import check_parser, run_check

from spectral_enhance.evaluation.systems import System, oracle_envelope

BAND_BINS = (8, 32, 128)


def main() -> None:
    parser = check_parser(__doc__, model=False)
    args = parser.parse_args()
    oracles = [
        System(
            f"noise-envelope-{bins}",
            process_clip=partial(oracle_envelope, band_bins=bins, noise=True),
        )
        for bins in BAND_BINS
    ]
    run_check(args, ["mp3", *oracles, "oracle-high"])


if __name__ == "__main__":
    main()
