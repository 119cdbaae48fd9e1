"""Does the rebuilt band gain from the band under the low-pass's envelope within each frame?

The full-band model sets the band's level once per STFT frame (46 ms windows, hop 23 ms), so a
drum hit's noise above the low-pass is spread over the frame around it. HE-AAC's successors
shape the rebuilt band in time by the band under it (USAC's temporal envelope shaping): here
the model's change (its output less its input, all above the low-pass) is multiplied by the
envelope of the octave under the clip's cut, over ``--fine-ms``, relative to that envelope's
mean over one frame, to the power ``alpha / 2``; so each frame keeps about its power and only
its course within the frame changes. Scored with Zimtohrli per bitrate beside the model as it
is, an oracle shaped by the reference's own band above the cut, and ``oracle-high``.

Usage: python scripts/temporal_shaping_check.py DATASET --out FOLDER [--split val]
           [--limit 60] [--model full-band] [--alpha 0.5 1] [--fine-ms 5]
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import fftconvolve
from scipy.signal.windows import hann
from validation_check import check_parser, run_check

from spectral_enhance.dsp.replication import brick_wall_split
from spectral_enhance.evaluation.systems import Clip, System, load_system
from spectral_enhance.inference.card import ModelCard
from spectral_enhance.inference.enhancer import find_model

FRAME = ModelCard.read(find_model("full-band")).stft.fft_length  # samples the model's level spans


def envelope(x: np.ndarray, fine: int) -> np.ndarray:
    """Power envelope of ``[samples, channels]`` smoothed by a Hann window of ``fine`` samples,
    over its mean over one model frame: about 1 where the frame's power is even."""
    window = hann(fine + 2)[1:-1]
    power = fftconvolve(x**2, (window / window.sum())[:, None], mode="same", axes=0)
    power = np.maximum(power, 0.0)
    frame = uniform_filter1d(power, FRAME, axis=0, mode="nearest")
    return power / np.maximum(frame, 1e-12)


def shaped(out: np.ndarray, clip: Clip, alpha: float, fine: int, oracle: bool) -> np.ndarray:
    """``out`` with its change from the clip's input shaped in time (see the module doc)."""
    two = out.reshape(len(out), -1).astype(np.float64)
    low = clip.low.reshape(len(clip.low), -1).astype(np.float64)
    change = two - low
    if oracle:  # the reference's own band above the cut
        guide = brick_wall_split(clip.high, clip.sample_rate, clip.cutoff_hz)[1]
    else:  # the octave under the cut
        under = brick_wall_split(clip.low, clip.sample_rate, clip.cutoff_hz)[0]
        guide = brick_wall_split(under, clip.sample_rate, clip.cutoff_hz / 2)[1]
    guide = guide.reshape(len(guide), -1).astype(np.float64)
    gain = np.clip(envelope(guide, fine), 0.0, 16.0) ** (alpha / 2)
    # keep each frame's power: the gain's own power over a frame, weighed by the change's
    keep = uniform_filter1d(change**2, FRAME, axis=0, mode="nearest")
    after = uniform_filter1d((change * gain) ** 2, FRAME, axis=0, mode="nearest")
    gain = gain * np.sqrt(keep / np.maximum(after, 1e-20))
    return (low + change * gain).astype(np.float32).reshape(out.shape)


def main() -> None:
    parser = check_parser(__doc__)
    parser.add_argument("--alpha", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--fine-ms", type=float, default=5.0)
    args = parser.parse_args()
    model = load_system(args.model)
    cache: dict[int, np.ndarray] = {}

    def system(alpha: float, oracle: bool) -> System:
        def process(clip: Clip) -> np.ndarray:
            key = id(clip.low)
            if key not in cache:
                cache.clear()
                cache[key] = model.process_clip(clip)
            fine = round(args.fine_ms * clip.sample_rate / 1000)
            return shaped(cache[key], clip, alpha, fine, oracle)

        source = "the reference above the cut" if oracle else "the octave under the cut"
        return System(f"{model.name}, shaped by {source}, alpha {alpha:g}", process_clip=process)

    systems = [system(alpha, False) for alpha in args.alpha] + [system(1.0, True)]
    run_check(args, ["mp3", model, *systems, "oracle-high"])


if __name__ == "__main__":
    main()
