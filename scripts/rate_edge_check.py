"""Inputs at a rate under the model's (44.1 kHz) whose band reaches their own anti-aliasing edge:
what the full-band model scores told that edge as their cut (`Enhancer.band_end`), against the
band kept as it was (what ``enhance`` did before).

On a split's reference clips (the windows ``evaluate --limit`` takes), each made into a 16-bit
FLAC at 22.05, 24 and 32 kHz by FFmpeg (its resampler, not ours) and into an MP3 by Debian's
``lame -V7`` (which encodes at 32 kHz), enhanced from the file by ``enhance_file`` (the path
``spectral-enhance enhance`` takes) and scored with Zimtohrli against the reference: the input
as FFmpeg decodes it and resamples it to 44.1 kHz, the output with the band kept as it was, and
the output told each of ``--edges`` shares of the input's Nyquist frequency as its cut (where
the meter finds no cut under the anti-aliasing edge; else the cut found). Each is aligned to
the reference by cross-correlation.

Usage: python scripts/rate_edge_check.py DATASET [--split val] [--limit 300]
       [--modes flac22050 flac24000 flac32000 lame-V7] [--edges 0.85 0.9 0.95]
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
from validation_check import check_parser
from vbr_check import aligned, as_wav, ffmpeg_decode_at, score

from spectral_enhance.audio import open_audio
from spectral_enhance.dataset.manifest import read_manifest
from spectral_enhance.dsp.lowpass import ANTI_ALIAS, lowpass_of_file
from spectral_enhance.evaluation.evaluate import reference_rows, spread_sample
from spectral_enhance.evaluation.metrics import zimtohrli_mos
from spectral_enhance.inference.enhancer import Enhancer

MODES = ("flac22050", "flac24000", "flac32000", "lame-V7")


def encode(wav: Path, folder: Path, mode: str) -> tuple[Path, int]:
    """``wav`` as a FLAC at the rate ``mode`` names (``flac22050``) or an MP3 by LAME's
    preset it names (``lame-V7``): the file and its rate (as the input module reads it)."""
    if mode.startswith("lame-"):
        path = folder / "in.mp3"
        subprocess.run(["lame", "--quiet", f"-{mode[5:]}", str(wav), str(path)], check=True)
    else:
        path = folder / "in.flac"
        command = ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-ar", mode[4:]]
        subprocess.run([*command, "-sample_fmt", "s16", str(path)], check=True)
    with open_audio(path) as reader:
        return path, reader.info.sample_rate


def main() -> None:
    parser = check_parser(__doc__, limit=300, out=False)
    parser.add_argument("--modes", nargs="+", default=list(MODES))
    parser.add_argument("--edges", nargs="+", type=float, default=[0.85, 0.9, ANTI_ALIAS])
    args = parser.parse_args()
    enhancer = Enhancer.load(args.model)
    references = reference_rows(spread_sample(read_manifest(args.dataset, args.split), args.limit))
    # per mode, per clip: the input's score, kept as it was, told each edge; and the cut found
    rows: dict[str, list[tuple[list[float], float | None]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for row in references:
            high, rate, wav = as_wav(row, tmp)
            for mode in args.modes:
                path, own_rate = encode(wav, tmp, mode)
                low = aligned(ffmpeg_decode_at(path, rate, high.shape[1]), high)
                cut = lowpass_of_file(path)
                kept = score(enhancer, path, high, rate, cut, measured=False)
                told = [
                    kept
                    if cut is not None
                    else score(enhancer, path, high, rate, e * own_rate / 2, measured=False)
                    for e in args.edges
                ]
                rows.setdefault(mode, []).append(
                    ([zimtohrli_mos(high, low, rate), kept, *told], cut)
                )
    print(f"{len(references)} references of {args.split}, Zimtohrli: the input; the change (worst "
          "clip) and clips losing over 0.1, kept as it was and told each edge")  # fmt: skip
    print("mode        no cut  input   kept                " + "".join(
        f"edge {e:<15}" for e in args.edges))  # fmt: skip
    for mode, values in rows.items():
        a = np.array([v[0] for v in values])
        parts = []
        for column in range(1, a.shape[1]):
            change = a[:, column] - a[:, 0]
            parts.append(f"{change.mean():+.3f} ({change.min():+.3f}) {(change < -0.1).sum():>2}")
        none = sum(v[1] is None for v in values)
        print(f"{mode:<10}  {none:>6}  {a[:, 0].mean():.3f}  " + "  ".join(parts))


if __name__ == "__main__":
    main()
