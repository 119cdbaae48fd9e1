"""Does the band the enhancer synthesises keep the level the model predicted for it?

The full-band model's amplitudes are laid over noise frame by frame (`dsp.noise.lay_over_noise`)
and the band is synthesised by the inverse STFT; re-analysed, each 2.8 kHz band and frame has
its own power. For validation clips at 32 to 64 kbps, this prints how far that power is from
the predicted one (the laid band's, before synthesis), in dB: mean and spread over the band-
frames within 40 dB of the loudest.

Usage: python scripts/synthesised_level.py DATASET [--split val] [--limit 60] [--model full-band]
           [--clips 20]
"""

from __future__ import annotations

import numpy as np
from validation_check import check_parser

from spectral_enhance.dataset.manifest import read_manifest, read_recipe
from spectral_enhance.dsp.copy_rule import copy_start
from spectral_enhance.dsp.stft import istft, power, spectrum
from spectral_enhance.evaluation.evaluate import low_bitrate_rows
from spectral_enhance.evaluation.systems import Clip
from spectral_enhance.inference.enhancer import Enhancer

BAND = 128  # bins: 2.8 kHz at 44.1 kHz


def main() -> None:
    parser = check_parser(__doc__, out=False)
    parser.add_argument("--clips", type=int, default=20)
    args = parser.parse_args()
    recipe = read_recipe(args.dataset)
    enhancer = Enhancer.load(args.model, precision="int8")
    laid = enhancer._lay_over_noise
    ratios: list[np.ndarray] = []
    hop = enhancer.stft.hop_length

    def measured(scale, spec, inputs, first, cutoff, per_bin=None, kept=slice(None)):
        # the band as laid over the whole window, and as synthesised again; the enhancer
        # keeps its frames ``kept``
        band = laid(scale, spec, inputs, first, cutoff, per_bin)
        length = (band.shape[1] - 1) * hop  # the window's (a whole number of hops)
        start = copy_start(inputs[2])
        again = spectrum(istft(band, length, enhancer.stft), enhancer.stft)
        edges = np.arange(start, band.shape[-1], BAND) - start
        predicted = np.add.reduceat(power(band)[..., start:], edges, axis=-1)
        heard = np.add.reduceat(power(again)[..., start:], edges, axis=-1)
        loud = predicted > predicted.max() * 1e-4
        ratios.append(10 * np.log10(heard[loud] / predicted[loud]))
        return band[:, kept]

    enhancer._lay_over_noise = measured
    rows = low_bitrate_rows(read_manifest(args.dataset, args.split), args.limit)[: args.clips]
    for row in rows:
        clip = Clip.of_row(row, recipe)
        enhancer.enhance(clip.low, clip.sample_rate, lowpass_hz=clip.cutoff_hz)
    db = np.concatenate(ratios)
    print(
        f"{args.split}: {len(rows)} clips, {len(db)} band-frames of 2.8 kHz: the band as "
        f"synthesised against as predicted, {db.mean():+.2f} dB on average, spread "
        f"{db.std():.2f} dB (10th to 90th percentile {np.percentile(db, 10):+.1f} to "
        f"{np.percentile(db, 90):+.1f} dB)"
    )


if __name__ == "__main__":
    main()
