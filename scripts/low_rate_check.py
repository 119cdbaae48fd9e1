"""A cut under the lowest the full-band model learned from (less a margin, 4.4 kHz): the band
rebuilt from 4.4 kHz, as until 2026-11-27, against the band rebuilt from the cut itself, as now
(`Enhancer.usable_lowpass`, `inference.enhancer.LOWPASS_MARGIN`), which leaves no empty band
between the two.

On a split's reference clips (the windows ``evaluate --limit`` takes), each made by Debian's
``lame`` into an 8 kHz MPEG-2.5 MP3 at 8 and 16 kbps and an 11.025 kHz one at 24 kbps, by FFmpeg
into a 16-bit FLAC at 8 kHz, and at 44.1 kHz into MP3s no filter cut (FFmpeg's libshine at 32
and 48 kbps, ``lame --lowpass -1`` at 32 kbps); each enhanced from the file by ``enhance_file``
(the path ``spectral-enhance enhance`` takes: its cut measured as ``enhance`` measures it) and
scored with Zimtohrli against the reference, aligned by cross-correlation: the input as FFmpeg
decodes it and resamples it to 44.1 kHz, the output rebuilt as before, and as now.

Usage: python scripts/low_rate_check.py DATASET [--split val] [--limit 60] [--modes ...]
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from unittest.mock import patch

import numpy as np
from validation_check import check_parser
from vbr_check import aligned, as_wav, enhanced_score, ffmpeg_decode_at

from spectral_enhance.dataset.manifest import read_manifest
from spectral_enhance.evaluation.evaluate import reference_rows, spread_sample
from spectral_enhance.evaluation.metrics import zimtohrli_mos
from spectral_enhance.inference.enhancer import Enhancer

MODES = {  # name: the command's arguments after its input, the output's suffix
    "lame-8k-8": (["lame", "--quiet", "-b", "8", "--resample", "8"], ".mp3"),
    "lame-8k-16": (["lame", "--quiet", "-b", "16", "--resample", "8"], ".mp3"),
    "flac-8k": (["ffmpeg", "-v", "error", "-y", "-ar", "8000", "-sample_fmt", "s16"], ".flac"),
    "lame-11k-24": (["lame", "--quiet", "-b", "24", "--resample", "11.025"], ".mp3"),
    # MP3s no filter cut, at 44.1 kHz: their cut, where most granules stop coding the band, can
    # lie under the floor too (docs/full-band.md, "An MP3 no filter cut")
    "libshine-32": (["ffmpeg", "-v", "error", "-y", "-c:a", "libshine", "-b:a", "32k"], ".mp3"),
    "libshine-48": (["ffmpeg", "-v", "error", "-y", "-c:a", "libshine", "-b:a", "48k"], ".mp3"),
    "lame-nofilter-32": (["lame", "--quiet", "-b", "32", "--lowpass", "-1"], ".mp3"),
}


def encode(wav: Path, mode: str) -> Path:
    command, suffix = MODES[mode]
    path = wav.with_name(f"in{suffix}")
    if command[0] == "ffmpeg":
        subprocess.run([*command[:4], "-i", str(wav), *command[4:], str(path)], check=True)
    else:
        subprocess.run([*command, str(wav), str(path)], check=True)
    return path


def enhanced(enhancer: Enhancer, path: Path, high: np.ndarray, rate: int) -> tuple[float, str]:
    """Zimtohrli of ``path`` enhanced as ``enhance`` does, and the file's line."""
    score, result = enhanced_score(enhancer, path, high, rate)
    return score, result.band()


def from_old_floor(enhancer: Enhancer, cut: float | None) -> float | None:
    """`Enhancer.usable_lowpass` until 2026-11-27: a cut from the floor to twice it (0.4 to 0.8
    of the recipe's lowest) was rebuilt from twice the floor."""
    if cut is None or cut < enhancer.lowpass_floor_hz:
        return None
    return max(cut, 2 * enhancer.lowpass_floor_hz)


def main() -> None:
    parser = check_parser(__doc__, limit=60, out=False)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    args = parser.parse_args()
    enhancer = Enhancer.load(args.model)
    before = patch.object(Enhancer, "usable_lowpass", from_old_floor)
    references = reference_rows(spread_sample(read_manifest(args.dataset, args.split), args.limit))
    rows: dict[str, list[list[float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for row in references:
            high, rate, wav = as_wav(row, Path(folder))
            for mode in args.modes:
                path = encode(wav, mode)
                low = aligned(ffmpeg_decode_at(path, rate, high.shape[1]), high)
                with before:
                    floor, _ = enhanced(enhancer, path, high, rate)
                cut, line = enhanced(enhancer, path, high, rate)
                scores = [zimtohrli_mos(high, low, rate), floor, cut]
                rows.setdefault(mode, []).append(scores)
                print(f"{row['clip']} {mode}: " + " ".join(f"{s:.3f}" for s in scores) + f" {line}")
    print(f"\n{len(references)} references of {args.split}, Zimtohrli: the input; rebuilt from "
          "4.4 kHz and from the cut (their change over the input); from the cut against from "
          "4.4 kHz: mean, worst clip, clips gaining")  # fmt: skip
    print("mode              input  from 4.4 kHz    from the cut    cut - 4.4 kHz")
    for mode, values in rows.items():
        a = np.array(values)
        mean, gain = a.mean(axis=0), a[:, 2] - a[:, 1]
        print(
            f"{mode:<16}  {mean[0]:.3f}  {mean[1]:.3f} ({mean[1] - mean[0]:+.3f})"
            f"  {mean[2]:.3f} ({mean[2] - mean[0]:+.3f})"
            f"  {gain.mean():+.3f} ({gain.min():+.3f}) {(gain > 0).sum()} of {len(gain)}"
        )


if __name__ == "__main__":
    main()
