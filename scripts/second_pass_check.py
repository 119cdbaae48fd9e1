"""Which steadier band does Zimtohrli hear: a second pass over the band the enhancer synthesises.

`moment_mix_check.py` found that the full-band model's output, re-analysed and rescaled so each
2.8 kHz band keeps 0.75 of its swing about its 0.5 s course, scores higher, while the same
calming of the predicted band before synthesis does not. Here the enhancer itself synthesises
the band, analyses it again and rescales it there, per channel, frame and 2.8 kHz band from the
copy's first bin up, before the band is added to the input:

- ``calm``: its level keeps ``--calm`` of its swing about its course over 0.5 s (what the
  script did to the whole output);
- ``predicted``: its level is set back to the predicted one (the laid band's, before
  synthesis), so only what synthesis added to the swing is taken out.

Scored with Zimtohrli per bitrate beside the model as it is. Each pass costs an analysis and a
synthesis of the band per segment.

Usage: python scripts/second_pass_check.py DATASET --out FOLDER [--split val] [--limit 120]
           [--model full-band] [--calm 0.75]
"""

from __future__ import annotations

import numpy as np
from validation_check import check_parser, run_check

from spectral_enhance.dsp.band_level import calm_change
from spectral_enhance.dsp.copy_rule import copy_start
from spectral_enhance.dsp.stft import istft, power, spectrum
from spectral_enhance.evaluation.systems import System, enhancer_system
from spectral_enhance.inference.enhancer import Enhancer, find_model

BAND = 128  # bins: 2.8 kHz at 44.1 kHz


def second_pass(enhancer: Enhancer, mode: str, calm: float) -> None:
    """Make ``enhancer`` rescale its synthesised band as ``mode`` says (module doc)."""
    laid = enhancer._lay_over_noise
    hop = enhancer.stft.hop_length
    course_frames = 2 * round(0.5 * enhancer.sample_rate / hop / 2) + 1

    def rescaled(scale, spec, inputs, first, cutoff, per_bin=None, kept=slice(None)):
        # laid over the whole window, rescaled there; the enhancer keeps its frames ``kept``
        band = laid(scale, spec, inputs, first, cutoff, per_bin)
        length = (band.shape[1] - 1) * hop  # the window's (a whole number of hops)
        start = copy_start(inputs[2])
        if start >= band.shape[-1]:
            return band[:, kept]
        again = spectrum(istft(band, length, enhancer.stft), enhancer.stft)
        edges = np.arange(start, band.shape[-1], BAND)
        widths = np.diff(np.append(edges, band.shape[-1]))

        def level(spec: np.ndarray) -> np.ndarray:  # log power per 2.8 kHz band and frame
            return np.log(np.add.reduceat(power(spec)[..., start:], edges - start, axis=-1) + 1e-20)

        if mode == "predicted":
            change = np.clip(level(band) - level(again), -12.0, 12.0)
        else:  # calmed as re-analysed, or as laid (before synthesis)
            heard = level(band if mode == "calm-laid" else again)
            change = calm_change(heard, power(spec), calm, course_frames)
        factor = np.exp(0.5 * change).astype(np.float32)
        target = band if mode == "calm-laid" else again
        target[..., start:] *= np.repeat(factor, widths, axis=-1)
        return target[:, kept]

    enhancer._lay_over_noise = rescaled


def main() -> None:
    parser = check_parser(__doc__, limit=120)
    parser.add_argument("--calm", type=float, default=0.75)
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["calm", "predicted"],
        choices=["calm", "calm-laid", "predicted"],
    )
    args = parser.parse_args()

    def system(mode: str) -> System:
        enhancer = Enhancer.load(find_model(args.model), precision="int8")
        second_pass(enhancer, mode, args.calm)
        label = {
            "calm": f"calmed to {args.calm:g} as heard",
            "calm-laid": f"calmed to {args.calm:g} as laid (no second pass)",
            "predicted": "at its predicted level",
        }[mode]
        return enhancer_system(f"{args.model}, second pass: {label}", enhancer)

    run_check(args, ["mp3", args.model, *(system(mode) for mode in args.modes)])


if __name__ == "__main__":
    main()
