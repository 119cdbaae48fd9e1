"""How far does the band under the low-pass predict the rebuilt band's moment-to-moment level?

For each clip at 32 to 64 kbps, frame by frame (the model's STFT) and per 2.8 kHz band (128 bins)
above the low-pass, in the frames within 40 dB of each band's loudest: the natural log of the
power of the reference (y), of the full-band model's output (m) and of the input's last 2.8 kHz
under the low-pass (u). Each is split into its slow course (the mean over ``--seconds`` around
each frame) and its moments (the rest). Printed per bitrate: the spread of each part, the model's
error in each, how well the moments of m and u follow the reference's (correlation), and what
the best linear mix of the two leaves of the reference's moments. `broad_level_oracle.py` says
which part Zimtohrli hears.

Usage: python scripts/band_dynamics.py DATASET [--split val] [--limit 90] [--model full-band]
           [--seconds 0.5]
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from validation_check import check_parser

from spectral_enhance.dataset.manifest import read_manifest, read_recipe
from spectral_enhance.dsp.stft import stft
from spectral_enhance.evaluation.evaluate import low_bitrate_rows
from spectral_enhance.evaluation.systems import Clip, load_system
from spectral_enhance.inference.card import ModelCard
from spectral_enhance.inference.enhancer import find_model

CONFIG = ModelCard.read(find_model("full-band")).stft  # the full-band model's frames
BAND = 128  # bins: 2.8 kHz at 44.1 kHz
RANGE = np.log(10.0**4)  # 40 dB, in natural log of power


def band_levels(clip: Clip, estimate: np.ndarray, frames: int) -> dict[str, np.ndarray]:
    """Per channel and 2.8 kHz band above the clip's low-pass, over its loud frames: y, m, u and
    their slow courses (``s`` + name), concatenated."""
    start = int(np.ceil(clip.cutoff_hz * CONFIG.fft_length / clip.sample_rate))
    top = round(20_000 * CONFIG.fft_length / clip.sample_rate)  # the corpus' bands end near 20 kHz
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("y", "m", "u", "sy", "sm", "su")}
    for c in range(clip.high.shape[1]):

        def power(x: np.ndarray, c: int = c) -> np.ndarray:
            return (stft(np.ascontiguousarray(x[:, c]), CONFIG) ** 2).sum(axis=0)  # [frames, bins]

        reference, output, given = power(clip.high), power(estimate), power(clip.low)
        u = np.log(given[:, max(0, start - BAND) : start].mean(axis=1) + 1e-12)
        for first in range(start, top, BAND):
            y = np.log(reference[:, first : first + BAND].mean(axis=1) + 1e-12)
            m = np.log(output[:, first : first + BAND].mean(axis=1) + 1e-12)
            loud = y > y.max() - RANGE
            for name, x in (("y", y), ("m", m), ("u", u)):
                parts[name].append(x[loud])
                parts["s" + name].append(uniform_filter1d(x, frames, mode="nearest")[loud])
    return {k: np.concatenate(v) for k, v in parts.items()}


def main() -> None:
    parser = check_parser(__doc__, 90, out=False)
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    recipe = read_recipe(args.dataset)
    rows = low_bitrate_rows(read_manifest(args.dataset, args.split), args.limit)
    model = load_system(args.model)
    frames = max(1, round(args.seconds * 44_100 / CONFIG.hop_length))
    by_kbps: dict[int, list[dict[str, np.ndarray]]] = {}
    for row in rows:
        clip = Clip.of_row(row, recipe)
        levels = band_levels(clip, model.estimate(clip), frames)
        by_kbps.setdefault(int(row["low_bitrate"]), []).append(levels)
    db = 10 / np.log(10)
    print(
        f"{args.split}: {len(rows)} clips; log power per 2.8 kHz band and frame, in dB; "
        f"slow = the mean over {args.seconds:g} s, moments = the rest"
    )
    for kbps, clips in sorted(by_kbps.items()):
        d = {k: np.concatenate([c[k] for c in clips]) for k in clips[0]}
        dy, dm, du = (d[k] - d["s" + k] for k in "ymu")
        slow_error, moment_error = d["sy"] - d["sm"], dy - dm
        mix = np.stack([dm, du, np.ones_like(dm)], axis=1)
        weights = np.linalg.lstsq(mix, dy, rcond=None)[0]
        left = dy - mix @ weights
        print(
            f"{kbps} kbps ({len(clips)} clips, {len(dy)} band-frames): the model "
            f"{db * (d['m'] - d['y']).mean():+.1f} dB on average; spread of the reference's "
            f"slow course {db * d['sy'].std():.1f} dB, of its moments {db * dy.std():.1f} dB; "
            f"model's error in the slow course {db * slow_error.std():.1f} dB, in the moments "
            f"{db * moment_error.std():.1f} dB; moments' correlation with the model's "
            f"{np.corrcoef(dy, dm)[0, 1]:.2f}, with the band under the low-pass "
            f"{np.corrcoef(dy, du)[0, 1]:.2f}; best mix {weights[0]:.2f} x model + "
            f"{weights[1]:.2f} x under leaves {db * left.std():.1f} dB"
        )


if __name__ == "__main__":
    main()
