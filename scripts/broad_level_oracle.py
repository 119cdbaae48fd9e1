"""Is the band's broad level, frame by frame, what the full-band model misses? Give it the
reference's and see.

The model's output (`full-band`) is rescaled, above the clip's low-pass, frame by frame and
band by band of ``--band-bins`` bins (128: 2.8 kHz), to the reference's power there, keeping
the model's own shape inside each band and its noise; scored with Zimtohrli per bitrate beside
the model as it is and `oracle-high`. If this closes most of the gap, a better predictor of
the broad level per frame is what the model needs (`scripts/envelope_resolution.py` asks the
same of the reference's envelope over noise).

With ``--seconds`` the reference's level is followed only as slowly: over a second, or over
the whole clip (-1), asks how much of what is missed is the band's slow level (how bright a
passage is), which a longer context might predict, and how much its moment-to-moment changes.

Usage: python scripts/broad_level_oracle.py DATASET --out FOLDER [--split val] [--limit 60]
           [--model full-band] [--band-bins 128] [--seconds 0 1 -1]
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from validation_check import check_parser, run_check

from spectral_enhance.dsp.copy_rule import copy_map, copy_start
from spectral_enhance.dsp.stft import istft, stft
from spectral_enhance.evaluation.systems import Clip, System, load_system
from spectral_enhance.inference.card import ModelCard
from spectral_enhance.inference.enhancer import find_model

CONFIG = ModelCard.read(find_model("full-band")).stft  # the full-band model's frames


def at_reference_level(
    out: np.ndarray, clip: Clip, band_bins: int, frames: int | None = 1
) -> np.ndarray:
    """``out`` with its band above the clip's low-pass scaled, per frame and per band of
    ``band_bins`` bins from the low-pass up, to the reference's power there, both powers
    averaged over ``frames`` frames around each (None: over the whole clip, one gain per
    band)."""
    start = copy_start(copy_map(clip.cutoff_hz * CONFIG.fft_length / clip.sample_rate, 1025)[1])
    shaped = out.reshape(len(out), -1).copy()
    high = clip.high.reshape(len(clip.high), -1)
    for c in range(shaped.shape[1]):
        spec, ref = stft(shaped[:, c], CONFIG), stft(high[:, c], CONFIG)
        have = (spec[..., start:] ** 2).sum(axis=0)  # [frames, bins above]
        want = (ref[..., start:] ** 2).sum(axis=0)
        edges = np.arange(0, have.shape[1], band_bins)
        sums_have = np.add.reduceat(have, edges, axis=1)
        sums_want = np.add.reduceat(want, edges, axis=1)
        if frames is None:
            sums_have = sums_have.sum(axis=0, keepdims=True)
            sums_want = sums_want.sum(axis=0, keepdims=True)
        elif frames > 1:
            sums_have = uniform_filter1d(sums_have, frames, axis=0, mode="nearest")
            sums_want = uniform_filter1d(sums_want, frames, axis=0, mode="nearest")
        gain = np.sqrt(sums_want / np.maximum(sums_have, 1e-20)) * (sums_have > 1e-20)
        widths = np.diff(np.append(edges, have.shape[1]))
        spec[..., start:] *= np.repeat(gain, widths, axis=1)
        shaped[:, c] = istft(spec, len(shaped), CONFIG)
    return shaped.reshape(out.shape)


def main() -> None:
    parser = check_parser(__doc__)
    parser.add_argument("--band-bins", type=int, default=128)
    parser.add_argument(
        "--seconds",
        type=float,
        nargs="+",
        default=[0.0],
        help="the powers averaged over this long around each frame before the gain is set "
        "(0: frame by frame; -1: the whole clip, one gain per band); several give one system each",
    )
    args = parser.parse_args()
    model = load_system(args.model)

    def oracle(seconds: float) -> System:
        frames = None if seconds < 0 else max(1, round(seconds * 44_100 / CONFIG.hop_length))
        over = "per clip" if frames is None else f"over {seconds:g} s" if seconds else ""

        def rescaled(clip: Clip) -> np.ndarray:
            return at_reference_level(model.process_clip(clip), clip, args.band_bins, frames)

        return System(
            f"{model.name} at the reference's level {over}".strip(), process_clip=rescaled
        )

    oracles = [oracle(seconds) for seconds in args.seconds]
    run_check(args, ["mp3", model, *oracles, "oracle-high"])


if __name__ == "__main__":
    main()
