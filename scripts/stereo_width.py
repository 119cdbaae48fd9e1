"""How wide is the rebuilt band? The correlation of a stereo clip's two channels above its
low-pass (to 20 kHz, where the corpus' bands end), in the reference and in a system's output,
beside that of the decoded MP3 in the octave under the low-pass (what the full-band model copies
the width from: `dsp.coherence.channel_coherence`). 1: one signal in both channels; 0: unrelated.

Usage: python scripts/stereo_width.py DATASET [--split val] [--limit 90] [--model full-band]
"""

from __future__ import annotations

import numpy as np
from validation_check import check_parser

from spectral_enhance.dataset.manifest import read_manifest, read_recipe
from spectral_enhance.dsp.stft import stft
from spectral_enhance.evaluation.evaluate import low_bitrate_rows
from spectral_enhance.evaluation.systems import Clip, load_system
from spectral_enhance.inference.card import ModelCard
from spectral_enhance.inference.enhancer import find_model

CONFIG = ModelCard.read(find_model("full-band")).stft  # the full-band model's frames
TOP_HZ = 20_000.0


def correlation(x: np.ndarray, low_hz: float, high_hz: float, rate: int) -> float:
    """The correlation of ``x``'s two channels (``[samples, 2]``) from ``low_hz`` to
    ``high_hz``, over the whole clip."""
    first, last = (round(f * CONFIG.fft_length / rate) for f in (low_hz, high_hz))
    left, right = (stft(np.ascontiguousarray(x[:, c]), CONFIG)[..., first:last] for c in (0, 1))
    together = (left * right).sum()  # the real part of left times right's conjugate, summed
    return float(together / np.sqrt((left**2).sum() * (right**2).sum() + 1e-30))


def main() -> None:
    parser = check_parser(__doc__, 90, out=False)
    args = parser.parse_args()
    recipe = read_recipe(args.dataset)
    model = load_system(args.model)
    by_kbps: dict[str, list[tuple[float, float, float]]] = {}
    for row in low_bitrate_rows(read_manifest(args.dataset, args.split), args.limit):
        clip = Clip.of_row(row, recipe)
        rate, cutoff = clip.sample_rate, clip.cutoff_hz
        scores = (
            correlation(clip.high, cutoff, TOP_HZ, rate),
            correlation(clip.low, cutoff / 2, cutoff, rate),
            correlation(model.estimate(clip), cutoff, TOP_HZ, rate),
        )
        by_kbps.setdefault(row["low_bitrate"], []).append(scores)
    print(f"{args.split}, {model.name}: correlation of the two channels, mean over clips")
    print("kbps  clips  reference above  MP3 under  output above  |out - ref|: mean, max")
    for kbps, rows in sorted(by_kbps.items(), key=lambda item: int(item[0])):
        a = np.array(rows)
        miss = np.abs(a[:, 2] - a[:, 0])
        print(
            f"{kbps:>4}  {len(a):5d}  {a[:, 0].mean():15.2f}  {a[:, 1].mean():9.2f}  "
            f"{a[:, 2].mean():12.2f}  {miss.mean():.2f}, {miss.max():.2f}"
        )
    every = np.array([scores for rows in by_kbps.values() for scores in rows])
    follows = np.corrcoef(every[:, 0], every[:, 1])[0, 1]
    print(
        f"across the clips, the reference's above and the MP3's under go together at {follows:.2f}"
    )


if __name__ == "__main__":
    main()
