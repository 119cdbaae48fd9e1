"""An MP3 band end far under where LAME cuts at its bitrate, kept as the master's own
(`dsp.lowpass.BITRATE_SHARE`), against rebuilt from there as a codec's cut (as until
2026-11-28).

On a split's reference clips (the windows ``evaluate --limit`` takes), each made into files by
Debian's ``lame``, FFmpeg and SoX: dark masters (the reference low-passed by SoX's ``sinc`` at
2.5 or 4 kHz, then ``lame`` at its own rate, the way a dark passage or an old master is cut by
its own band, not by the codec), and the files whose true cut lies lowest under LAME's at their
bitrate (FFmpeg's libshine and libmp3lame at 44.1 kHz, ``lame --lowpass -1``, LAME's CBR and
``-V9`` to ``-V7``, 8 and 11.025 kHz MPEG-2.5). Each is enhanced from the file as ``enhance``
does, with the rule off and with it deciding every MP3 kept (``BITRATE_SHARE`` 0 and 10), and
scored with Zimtohrli against the reference, aligned by cross-correlation; each share then
takes the one or the other by where the file's band end lies under LAME's cut.

Usage: python scripts/bitrate_cut_check.py DATASET [--split val] [--limit 40] [--modes ...]
           [--shares 0.35 0.45 0.55]
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from unittest.mock import patch

import numpy as np
import soundfile as sf
import vbr_check
from validation_check import check_parser
from vbr_check import aligned, as_wav, ffmpeg_decode_at

from spectral_enhance.audio import open_audio
from spectral_enhance.dataset.manifest import read_manifest
from spectral_enhance.dsp import lowpass
from spectral_enhance.evaluation.evaluate import reference_rows, spread_sample
from spectral_enhance.evaluation.metrics import zimtohrli_mos
from spectral_enhance.inference.enhancer import Enhancer

MODES = {  # name: (the master's low-pass in Hz, or None: the reference itself), and
    # `vbr_check.encode`'s mode: the encoder, and its options
    "dark-2.5k-lame-32": (2500, "lame:-b,32"),
    "dark-2.5k-lame-64": (2500, "lame:-b,64"),
    "dark-4k-lame-48": (4000, "lame:-b,48"),
    "dark-4k-lame-96": (4000, "lame:-b,96"),
    "libshine-32": (None, "ffmpeg:-c:a,libshine,-b:a,32k"),
    "libshine-48": (None, "ffmpeg:-c:a,libshine,-b:a,48k"),
    "libshine-64": (None, "ffmpeg:-c:a,libshine,-b:a,64k"),
    "ffmpeg-lame-32": (None, "ffmpeg:-b:a,32k"),
    "ffmpeg-lame-48": (None, "ffmpeg:-b:a,48k"),
    "ffmpeg-lame-64": (None, "ffmpeg:-b:a,64k"),
    "lame-nofilter-32": (None, "lame:-b,32,--lowpass,-1"),
    "lame-nofilter-64": (None, "lame:-b,64,--lowpass,-1"),
    "lame-32": (None, "lame:-b,32"),
    "lame-64": (None, "lame:-b,64"),
    "lame-V9": (None, "lame:-V,9"),
    "lame-V7": (None, "lame:-V,7"),
    "lame-8k-16": (None, "lame:-b,16,--resample,8"),
    "lame-11k-24": (None, "lame:-b,24,--resample,11.025"),
}
KEPT_ALWAYS = 10.0  # a share under which every MP3's band end lies


def encode(wav: Path, mode: str) -> tuple[Path, Path]:
    """``wav`` (the reference), low-passed by SoX where the mode's master is dark, encoded: the
    MP3, and the master it was made from (the reference it is judged against)."""
    dark, encoder = MODES[mode]
    if dark is not None:
        master = wav.with_name("dark.wav")
        subprocess.run(["sox", str(wav), str(master), "sinc", f"-{dark}"], check=True)
        wav = master
    return vbr_check.encode(wav, wav.parent, encoder), wav


def band_share(path: Path) -> float:
    """Where ``path``'s band ends (without the soft cut, as `kept_reason` weighs it) over where
    LAME cuts at its bitrate (`dsp.lowpass.expected_cut`); inf where it shows no cut."""
    _, without = lowpass.cuts_of_file(path)
    with open_audio(path) as reader:
        info = reader.info
    if without is None or not info.bit_rate:
        return float("inf")
    return without / lowpass.expected_cut(info.bit_rate, info.channels, info.sample_rate)


def enhanced(enhancer: Enhancer, path: Path, high: np.ndarray, rate: int, share: float) -> float:
    """Zimtohrli of ``path`` enhanced as ``enhance`` does with ``BITRATE_SHARE`` at ``share``."""
    with patch.object(lowpass, "BITRATE_SHARE", share):
        return vbr_check.enhanced_score(enhancer, path, high, rate)[0]


def main() -> None:
    parser = check_parser(__doc__, limit=40, out=False)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--shares", nargs="+", type=float, default=[0.35, 0.45, 0.55])
    args = parser.parse_args()
    enhancer = Enhancer.load(args.model)
    references = reference_rows(spread_sample(read_manifest(args.dataset, args.split), args.limit))
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for row in references:
            reference, rate, wav = as_wav(row, Path(folder))
            for mode in args.modes:
                path, master = encode(wav, mode)
                high = (
                    sf.read(master, dtype="float32", always_2d=True)[0]
                    if master != wav
                    else reference
                )
                low = aligned(ffmpeg_decode_at(path, rate, high.shape[1]), high)
                share = band_share(path)
                off = enhanced(enhancer, path, high, rate, 0.0)
                kept = (
                    off
                    if share == float("inf")
                    else enhanced(enhancer, path, high, rate, KEPT_ALWAYS)
                )
                scores = (zimtohrli_mos(high, low, rate), off, kept, share)
                rows.setdefault(mode, []).append(scores)
                print(f"{row['clip']} {mode}: " + " ".join(f"{s:.3f}" for s in scores), flush=True)
    print(
        f"\n{len(references)} references of {args.split}, Zimtohrli: the input as FFmpeg decodes "
        "it; rebuilt from the band end (the rule off); with each share, the mean, its change "
        "over the rule off (worst clip), and the files the rule keeps"
    )
    head = "".join(f"  share {s:<24}" for s in args.shares)
    print(f"{'mode':<18}  band end / LAME's  input  rule off{head}")
    for mode, values in rows.items():
        a = np.array(values)
        low_share = np.median(a[:, 3][np.isfinite(a[:, 3])]) if np.isfinite(a[:, 3]).any() else 0
        line = f"{mode:<18}  {low_share:5.2f} (min {a[:, 3].min():4.2f})  {a[:, 0].mean():.3f}"
        line += f"  {a[:, 1].mean():.3f}   "
        for s in args.shares:
            taken = np.where(a[:, 3] < s, a[:, 2], a[:, 1])
            change = taken - a[:, 1]
            kept = int((a[:, 3] < s).sum())
            line += f"  {taken.mean():.3f} ({change.mean():+.3f}, {change.min():+.3f})"
            line += f" {kept:>2}/{len(a)}"
        print(line)


if __name__ == "__main__":
    main()
