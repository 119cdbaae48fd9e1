"""The rebuilt band held, frame by frame, under the level of the input's band just under the
low-pass, to hear whether a band louder than what leads up to it is what loses where the model
loses most (the worst clips of `vbr_check.py`: a master whose own band ends under the cut, a
quiet intro whose band above it is its noise floor; `reference_bands.py`).

Scores the model (``--model``) without `dsp.band_level.lead_cap` (the rule this check chose), as
it is, and without it but with its band amplitudes, as `dsp.band_level.calm_band` leaves them,
held per frame under ``DB`` dB over the mean power per bin of the input's bins from ``FROM`` to
``TO`` kHz under the low-pass (the channels' mean: the graph is given their summed power), for
each ``--caps`` spec ``DB,FROM,TO`` (``seg,DB,FROM,TO``: over the segment as a whole), beside
the decoded input; ``win,DB,FROM,TO,FRAMES``: over that many frames about each frame.
``win,0,1.5,0.25,23`` is `lead_cap`: it scores as the model as it is (to rounding).

Usage: python scripts/continuity_cap_check.py DATASET --out FOLDER [--split val] [--limit 120]
           [--model full-band] [--caps 0,1.5,0.25 6,1.5,0.25]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter1d
from validation_check import check_parser, patched, run_check

from spectral_enhance.dsp.copy_rule import copy_start
from spectral_enhance.evaluation.systems import System, load_system
from spectral_enhance.inference import enhancer, synthesis


def with_cap(model: System, spec: str, rate: int, fft: int) -> System:
    """``model`` with its band held under the cap of ``spec`` while it runs: per frame, or with
    ``seg,`` first, over the segment as a whole (its first kilohertz and a quarter above the
    low-pass against the bins under it, in the frames where the input has power); with
    ``win,`` first and a fifth number, the same over that many frames about each frame."""
    whole = spec.startswith("seg,")
    moving = spec.startswith("win,")
    numbers = [float(x) for x in spec.removeprefix("seg,").removeprefix("win,").split(",")]
    db, low_khz, high_khz = numbers[:3]
    reach = int(numbers[3]) if moving else 0
    calm_band = synthesis.calm_band
    bin_hz = rate / fft

    def capped(
        scale: np.ndarray,
        above: np.ndarray,
        band_bins: int,
        calm: float,
        frames: int,
        given: np.ndarray,
    ) -> np.ndarray:
        out = calm_band(scale, above, band_bins, calm, frames, given)
        start = copy_start(above)
        low = max(0, start - round(low_khz * 1000 / bin_hz))
        high = max(low + 1, start - round(high_khz * 1000 / bin_hz))
        under = given[..., low:high].mean(axis=-1) / out.shape[0]  # per channel and bin
        first = start // band_bins
        out = out.copy()
        if moving:
            sounding = (given.sum(axis=-1) > 0).astype(np.float64)  # [1, frames]
            span = max(1, round((low_khz - high_khz) * 1000 / bin_hz / band_bins))
            laid = np.square(out[..., first : first + span], dtype=np.float64).mean(axis=-1)
            lead = uniform_filter1d(under * sounding, reach, axis=-1, mode="nearest")
            made = uniform_filter1d(
                laid.mean(axis=0, keepdims=True) * sounding, reach, axis=-1, mode="nearest"
            )
            factor = np.sqrt(np.minimum(1.0, lead * 10 ** (db / 10) / np.maximum(made, 1e-30)))
            factor = np.where(made > 0, factor, 1.0)
            out[..., first:] *= factor[..., None].astype(np.float32)
            return out
        if whole:
            sounding = given.sum(axis=-1) > 0  # [1, frames]
            if not sounding.any():
                return out
            span = max(1, round((low_khz - high_khz) * 1000 / bin_hz / band_bins))
            laid = np.square(out[..., first : first + span]).mean(axis=-1)  # [channels, frames]
            ratio = (
                under[sounding].mean() * 10 ** (db / 10) / max(laid[:, sounding[0]].mean(), 1e-30)
            )
            out[..., first:] *= np.float32(min(1.0, np.sqrt(ratio)))
            return out
        cap = np.sqrt(under) * np.float32(10 ** (db / 20))
        out[..., first:] = np.minimum(out[..., first:], cap[..., None].astype(np.float32))
        return out

    where = "the segment's" if whole else f"{reach} frames'" if moving else "each frame's"
    name = f"{model.name}, under {db:+g} dB of {where} {low_khz:g}-{high_khz:g} kHz under the cut"
    return patched(model, name, [(synthesis, "calm_band", capped), *UNCAPPED])


UNCAPPED = [(synthesis, "lead_cap", lambda scale, *rest: scale)]
"""The enhancer without `dsp.band_level.lead_cap`, which the check's ``win,0,1.5,0.25,23`` chose."""


def main() -> None:
    parser = check_parser(__doc__, 120)
    parser.add_argument(
        "--caps", nargs="*", default=["0,1.5,0.25", "seg,0,1.5,0.25", "win,0,1.5,0.25,23"]
    )
    args = parser.parse_args()
    model = load_system(args.model)
    loaded = enhancer.Enhancer.load(args.model)
    rate, fft = loaded.sample_rate, loaded.stft.fft_length
    uncapped = patched(model, f"{model.name}, no lead cap", UNCAPPED)
    caps = (with_cap(model, s, rate, fft) for s in args.caps)
    systems: list[Any] = ["mp3", uncapped, model, *caps]
    run_check(args, systems)


if __name__ == "__main__":
    main()
