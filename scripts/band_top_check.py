"""Where should the rebuilt band end? The model's change kept only under ``--tops`` kHz.

The full-band model rebuilds up to the output's Nyquist frequency, 22.05 kHz at 44.1 kHz. The
corpus' references end at 15.2 to 20.8 kHz (Ogg Vorbis masters), LAME's own widest low-pass is
about 20 kHz, and little is heard above 20 kHz; a band rebuilt where the reference has none
counts against LSD above the low-pass, to the Nyquist frequency. Each system here is the model
with its change (its output less its input, all above the low-pass) cut at one top, by one
FFT over the clip; scored with Zimtohrli and LSD per bitrate beside the model as it is.

Usage: python scripts/band_top_check.py DATASET --out FOLDER [--split val] [--limit 60]
           [--model full-band] [--tops 20 19]
"""

from __future__ import annotations

import numpy as np
from validation_check import check_parser, run_check

from spectral_enhance.dsp.replication import brick_wall_split
from spectral_enhance.evaluation.systems import Clip, System, load_system


def main() -> None:
    parser = check_parser(__doc__)
    parser.add_argument("--tops", type=float, nargs="+", default=[20.0, 19.0])
    args = parser.parse_args()
    model = load_system(args.model)

    def topped(top_khz: float) -> System:
        def process(clip: Clip) -> np.ndarray:
            out = model.process_clip(clip)
            change = out - clip.low
            kept = brick_wall_split(change, clip.sample_rate, top_khz * 1000)[0]
            return (clip.low + kept).astype(np.float32)

        return System(f"{model.name}, its band ending at {top_khz:g} kHz", process_clip=process)

    systems = ["mp3", model, *(topped(top) for top in args.tops), "oracle-high"]
    run_check(args, systems)


if __name__ == "__main__":
    main()
