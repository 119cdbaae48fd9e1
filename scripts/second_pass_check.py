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
from scipy.ndimage import uniform_filter1d
from validation_check import check_parser, run_check

from spectral_enhance.dsp.bands import copy_start
from spectral_enhance.dsp.stft import istft, power, spectrum
from spectral_enhance.evaluation.evaluate import Clip, System
from spectral_enhance.inference.enhancer import Enhancer, find_model

BAND = 128  # bins: 2.8 kHz at 44.1 kHz


def second_pass(enhancer: Enhancer, mode: str, calm: float) -> None:
    """Make ``enhancer`` rescale its synthesised band as ``mode`` says (module doc)."""
    laid, segment = enhancer._lay_over_noise, enhancer._segment
    course_frames = 2 * round(0.5 * enhancer.sample_rate / enhancer.stft.hop_length / 2) + 1
    length = 0

    def rescaled(scale, spec, inputs, first):
        band = laid(scale, spec, inputs, first)
        start = copy_start(inputs[2])
        if start >= band.shape[-1]:
            return band
        again = spectrum(istft(band, length, enhancer.stft), enhancer.stft)
        edges = np.arange(start, band.shape[-1], BAND)
        widths = np.diff(np.append(edges, band.shape[-1]))
        heard = np.log(np.add.reduceat(power(again)[..., start:], edges - start, axis=-1) + 1e-20)
        if mode in ("calm", "calm-laid"):
            if mode == "calm-laid":  # the band as laid, before synthesis
                heard = np.log(
                    np.add.reduceat(power(band)[..., start:], edges - start, axis=-1) + 1e-20
                )
            # the course over the frames that hold the input (not a segment's silent margin)
            held = (power(spec).sum(axis=-1) > 1e-12).astype(np.float64)[..., None]
            weight = uniform_filter1d(held, course_frames, axis=-2, mode="nearest")
            course = uniform_filter1d(heard * held, course_frames, axis=-2, mode="nearest")
            course = course / np.maximum(weight, 1e-9)
            change = (calm - 1.0) * (heard - course) * held
        else:
            laid_power = np.add.reduceat(power(band)[..., start:], edges - start, axis=-1)
            change = np.log(laid_power + 1e-20) - heard
        factor = np.exp(0.5 * np.clip(change, -12.0, 12.0)).astype(np.float32)
        target = band if mode == "calm-laid" else again
        target[..., start:] *= np.repeat(factor, widths, axis=-1)
        return target

    def counted(window, *rest):
        nonlocal length
        length = len(window)
        return segment(window, *rest)

    enhancer._lay_over_noise, enhancer._segment = rescaled, counted


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

        def process(clip: Clip) -> np.ndarray:
            rate = clip.sample_rate
            return enhancer.enhance(clip.low, rate, output_rate=rate, lowpass_hz=clip.lowpass_hz)[0]

        label = {
            "calm": f"calmed to {args.calm:g} as heard",
            "calm-laid": f"calmed to {args.calm:g} as laid (no second pass)",
            "predicted": "at its predicted level",
        }[mode]
        return System(f"{args.model}, second pass: {label}", process_clip=process)

    modes = args.modes
    run_check(args, ["mp3", args.model, *(system(mode) for mode in modes)])


if __name__ == "__main__":
    main()
