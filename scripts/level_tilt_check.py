"""The rebuilt band raised by a tilt that grows with the distance above the low-pass, to hear
whether a band nearer the reference's level scores higher (issue 12's "within 3 dB").

The model's band comes back fainter than the reference's the farther above the low-pass (4 to 5
dB in its first half kilohertz, 9 to 11 dB from 8 kHz above it up, on the test split:
`rebuilt_level.py`). Scores the
model (``--model``) with its band amplitudes, as `dsp.band_level.calm_band` leaves them, raised by
``SLOPE`` dB per kHz from ``START`` kHz above the low-pass on, up to ``CAP`` dB, for each
``--tilts`` spec ``SLOPE,START,CAP``, beside the model as it is and the decoded input.

Usage: python scripts/level_tilt_check.py DATASET --out FOLDER [--split val] [--limit 120]
           [--model full-band] [--tilts 0.6,1,6 0.3,1,3 1,0,8]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from validation_check import check_parser, patched, run_check

from spectral_enhance.dsp.copy_rule import copy_start
from spectral_enhance.evaluation.systems import System, load_system
from spectral_enhance.inference import enhancer, synthesis


def with_tilt(model: System, spec: str, rate: int, fft: int) -> System:
    """``model`` with its band raised by the tilt of ``spec`` while it runs."""
    slope, start, cap = (float(x) for x in spec.split(","))
    calm_band = synthesis.calm_band

    def tilted(scale: np.ndarray, above: np.ndarray, band_bins: int, *rest: Any) -> np.ndarray:
        out = calm_band(scale, above, band_bins, *rest)
        centre_hz = (np.arange(out.shape[-1]) + 0.5) * band_bins * rate / fft
        above_khz = (centre_hz - copy_start(above) * rate / fft) / 1000
        gain_db = np.minimum(cap, slope * np.maximum(0.0, above_khz - start))
        return out * (10 ** (gain_db / 20)).astype(np.float32)

    name = f"{model.name}, +{slope:g} dB/kHz from {start:g} kHz up, to {cap:g}"
    return patched(model, name, [(synthesis, "calm_band", tilted)])


def main() -> None:
    parser = check_parser(__doc__, 120)
    parser.add_argument("--tilts", nargs="+", default=["0.6,1,6", "0.3,1,3", "1,0,8"])
    args = parser.parse_args()
    model = load_system(args.model)
    loaded = enhancer.Enhancer.load(args.model)
    rate, fft = loaded.sample_rate, loaded.stft.fft_length
    run_check(args, ["mp3", model, *(with_tilt(model, s, rate, fft) for s in args.tilts)])


if __name__ == "__main__":
    main()
