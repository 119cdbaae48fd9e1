"""The rebuilt band without the sawtooth its copy's patches leave in it, to hear whether it
costs anything (issue 12's LSD above the low-pass, and its level).

The band's level per band and frame is its copy's level times the network's gain. A copy
patch's top bands come from just under the low-pass, where the encoder's filter and its holes
leave the MP3 weakest, so the rebuilt band falls by about 12 dB over each patch's top kilohertz
and jumps back at the next (docs/figures/serve.png: dark spots at 8.7, 11.6 and 14.5 kHz over a
5.8 kHz cut). Scores the model (``--model``) with its band amplitudes, as `dsp.band_level.calm_band`
leaves them, closed along frequency (``close:N``, a grey closing of each channel: each dip
narrower than N bands rises to the lower of its shoulders) or smoothed along it (``smooth:N``,
the mean of the log amplitude over N bands, within the rebuilt band), for each ``--variants``,
beside the model as it is and the decoded input. Since `dsp.band_level.fill_dips` ships (the end of
2026-11-27: ``shipped:N``, the channels' joint level closed over N bands, each channel raised
alike), the model as it is has its dips closed already; the first runs' were before it, and an
evaluation folder keeps what it scored under a system's name.

Usage: python scripts/dip_fill_check.py DATASET --out FOLDER [--split val] [--limit 120]
           [--model full-band] [--variants close:5 smooth:9 smooth:17]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import grey_closing, uniform_filter1d
from validation_check import check_parser, patched, run_check

from spectral_enhance.dsp.band_level import DIP_BANDS
from spectral_enhance.evaluation.systems import System, load_system
from spectral_enhance.inference import synthesis


def with_band_shaped(model: System, variant: str) -> System:
    """``model`` with its band's amplitudes closed or smoothed along frequency (``variant``)."""
    kind, size = variant.split(":")
    size = int(size)
    if kind == "shipped":  # the enhancer's own `fill_dips` (of the channels' joint level)
        if size != DIP_BANDS:
            raise SystemExit(f"shipped:{size}: the enhancer closes over {DIP_BANDS} bands")
        return patched(model, f"{model.name}, {variant}", [])
    calm_band = synthesis.calm_band

    def shaped(scale: np.ndarray, above: np.ndarray, band_bins: int, *rest: Any) -> np.ndarray:
        out = calm_band(scale, above, band_bins, *rest)
        if kind == "close":
            return grey_closing(out, size=(1, 1, size)).astype(np.float32)
        first = int(np.argmax(out.max(axis=(0, 1)) > 0))  # the rebuilt band's first band
        log = np.log(np.maximum(out[..., first:], 1e-12))
        smooth = np.exp(uniform_filter1d(log, size, axis=-1, mode="nearest"))
        out = out.copy()
        out[..., first:] = np.where(out[..., first:] > 0, smooth, 0.0)
        return out

    return patched(model, f"{model.name}, {variant}", [(synthesis, "calm_band", shaped)])


def main() -> None:
    parser = check_parser(__doc__, 120)
    parser.add_argument("--variants", nargs="+", default=["close:5", "smooth:9", "smooth:17"])
    args = parser.parse_args()
    model = load_system(args.model)
    run_check(args, ["mp3", model, *(with_band_shaped(model, v) for v in args.variants)])


if __name__ == "__main__":
    main()
