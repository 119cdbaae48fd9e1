"""Does Zimtohrli want the model's band level to swing less, or more, from frame to frame?

Per 2.8 kHz band (128 bins) above the clip's low-pass and per frame of the model's STFT, the
natural log of the power of the model's output (m) and of the input's last 2.8 kHz under the
low-pass (u) are split into their slow course (the mean over 0.5 s) and their moments (the
rest), as `band_dynamics.py` does. Each system rescales the model's band per band and frame to
``slow(m) + k * moments(m) + j * moments(u)``, its shape inside each band and its noise kept:
``k`` below 1 calms the model's moments, above 1 sharpens them; ``j`` mixes in the band under
the low-pass (`band_dynamics.py` found the best linear mix near k 0.5, j 0.35). Scored with
Zimtohrli per bitrate beside the model as it is.

Usage: python scripts/moment_mix_check.py DATASET --out FOLDER [--split val] [--limit 60]
           [--model full-band] [--mixes 0.5,0 0.75,0 1.25,0 0.5,0.35 0.75,0,128]
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from validation_check import check_parser, run_check

from spectral_enhance.dsp.copy_rule import copy_map, copy_start
from spectral_enhance.dsp.lowpass import find_lowpass
from spectral_enhance.dsp.stft import istft, power, stft
from spectral_enhance.evaluation.systems import Clip, System, load_system
from spectral_enhance.inference.card import ModelCard
from spectral_enhance.inference.enhancer import find_model

CONFIG = ModelCard.read(find_model("full-band")).stft  # the full-band model's frames
BAND = 128  # bins: 2.8 kHz at 44.1 kHz
SLOW = max(1, round(0.5 * 44_100 / CONFIG.hop_length))  # frames in 0.5 s


def remixed(
    out: np.ndarray, clip: Clip, k: float, j: float, offset: int = 0, measured: bool = False
) -> np.ndarray:
    """``out`` with its band's level per 2.8 kHz band and frame set as the module doc says,
    the bands starting ``offset`` bins above the clip's cut (below it, if negative); with
    ``measured``, the cut the model finds in the clip rather than the clip's own."""
    cutoff_hz = (find_lowpass(clip.low, clip.sample_rate) if measured else None) or clip.cutoff_hz
    cut = copy_start(copy_map(cutoff_hz * CONFIG.fft_length / clip.sample_rate, 1025)[1])
    start = cut + offset
    shaped = out.reshape(len(out), -1).copy()
    low = clip.low.reshape(len(clip.low), -1)
    for c in range(shaped.shape[1]):
        spec = stft(shaped[:, c], CONFIG)
        power_per_bin = power(spec)  # [frames, bins]
        given = power(stft(low[:, c], CONFIG))
        u = np.log(given[:, max(0, cut - BAND) : cut].mean(axis=1) + 1e-12)
        du = u - uniform_filter1d(u, SLOW, mode="nearest")
        for first in range(start, power_per_bin.shape[1], BAND):
            m = np.log(power_per_bin[:, first : first + BAND].mean(axis=1) + 1e-12)
            slow = uniform_filter1d(m, SLOW, mode="nearest")
            wanted = slow + k * (m - slow) + j * du
            gain = np.exp(0.5 * np.clip(wanted - m, -12.0, 12.0))
            spec[..., first : first + BAND] *= gain[:, None]
        shaped[:, c] = istft(spec, len(shaped), CONFIG)
    return shaped.reshape(out.shape)


def main() -> None:
    parser = check_parser(__doc__)
    parser.add_argument(
        "--mixes",
        nargs="+",
        default=["0.5,0", "0.75,0", "1.25,0", "0.5,0.35"],
        help="k,j pairs; a third number moves the bands' start by so many bins from the cut",
    )
    parser.add_argument(
        "--measured", action="store_true", help="bands from the low-pass the model measures"
    )
    args = parser.parse_args()
    model = load_system(args.model)

    def system(mix: str) -> System:
        k, j, *moved = (float(x) for x in mix.split(","))
        offset = int(moved[0]) if moved else 0

        def process(clip: Clip) -> np.ndarray:
            return remixed(model.process_clip(clip), clip, k, j, offset, args.measured)

        name = f"{model.name}, moments x{k:g} + under's x{j:g}"
        return System(name + (f", from {offset:+d} bins" if offset else ""), process_clip=process)

    systems = ["mp3", model, *(system(mix) for mix in args.mixes), "oracle-high"]
    run_check(args, systems)


if __name__ == "__main__":
    main()
