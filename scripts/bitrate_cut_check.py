"""An MP3 band end far under where LAME cuts at its bitrate, kept as the master's own
(`dsp.lowpass.BITRATE_SHARE`), against rebuilt from there as a codec's cut (as until
2026-11-28).

On a split's reference clips (the windows ``evaluate --limit`` takes), each made into files by
Debian's ``lame``, FFmpeg and SoX: dark masters (the reference low-passed by SoX's ``sinc`` at
2.5 or 4 kHz, then ``lame`` at its own rate, the way a dark passage or an old master is cut by
its own band, not by the codec), and the files whose true cut lies lowest under LAME's at their
bitrate (FFmpeg's libshine and libmp3lame at 44.1 kHz, ``lame --lowpass -1``, LAME's CBR and
``-V9`` to ``-V7``, 8 and 11.025 kHz MPEG-2.5), and lossy files other than MP3s (FFmpeg's AAC,
Vorbis, Opus and MPEG-1 layer II: the ``aac-``, ``vorbis-``, ``opus-`` and ``mp2-`` modes, which
`dsp.lowpass.LOSSY_CODECS` names or leaves out). Each is enhanced from the file as ``enhance``
does, with the rule off (with ``--against filter``, a filter under `FILTER_FROM_HZ` not
weighed, as before `filter_reached`) and with it deciding every MP3 kept (``BITRATE_SHARE`` 0
and 10), and
scored with Zimtohrli against the reference, aligned by cross-correlation; each share then
takes the one or the other by where the file's band end lies under LAME's cut.

With ``--against filter`` the share is of the filter the file's encoder recorded
(`AudioInfo.encoder_lowpass`) instead: what `FILTER_SHARE` weighs, at filters under
`FILTER_FROM_HZ` too (LAME's CBR at 64 to 112 kbps, 11 to 15.6 kHz, and masters made dark under
it: the ``cbr-`` modes); with ``--against lame-filter``, of the filter `assumed_filter` gives an
MP3 with no Xing header (LAME's at its bitrate, at MPEG-2 rates), inf where it gives none.

Usage: python scripts/bitrate_cut_check.py DATASET [--split val] [--limit 40] [--modes ...]
           [--shares 0.35 0.45 0.55] [--against lame|filter|lame-filter]
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
    # LAME's CBR whose Info tag records a filter under `FILTER_FROM_HZ` (11, 13.5, 15.1 and
    # 15.6 kHz at 64, 80, 96 and 112 kbps), from full-band masters and from dark ones
    "cbr-lame-64": (None, "lame:-b,64"),
    "cbr-lame-80": (None, "lame:-b,80"),
    "cbr-lame-96": (None, "lame:-b,96"),
    "cbr-lame-112": (None, "lame:-b,112"),
    # MPEG-2 rates, where LAME's frames are too short for a tag: its filter is not recorded
    "dark-3.5k-lame-32": (3500, "lame:-b,32"),
    "dark-5k-lame-48": (5000, "lame:-b,48"),
    "dark-6.5k-lame-48": (6500, "lame:-b,48"),
    "ffmpeg-lame-32-at-16k": (None, "ffmpeg:-ar,16000,-b:a,32k"),
    "ffmpeg-lame-48-at-22k": (None, "ffmpeg:-ar,22050,-b:a,48k"),
    "lame-48": (None, "lame:-b,48"),
    "lame-V8": (None, "lame:-V,8"),
    "cbr-lame-64-at-44k": (None, "lame:-b,64,--resample,44.1"),
    "cbr-lame-80-at-44k": (None, "lame:-b,80,--resample,44.1"),
    "cbr-lame-96-at-44k": (None, "lame:-b,96,--resample,44.1"),
    "cbr-lame-112-at-44k": (None, "lame:-b,112,--resample,44.1"),
    "cbr-dark-7k-lame-64": (7000, "lame:-b,64"),
    "cbr-dark-9k-lame-64": (9000, "lame:-b,64"),
    "cbr-dark-11k-lame-80": (11000, "lame:-b,80"),
    "cbr-dark-9k-lame-96": (9000, "lame:-b,96"),
    "cbr-dark-11k-lame-96": (11000, "lame:-b,96"),
    "cbr-dark-13k-lame-96": (13000, "lame:-b,96"),
    "cbr-dark-13k-lame-112": (13000, "lame:-b,112"),
    # lossy files other than MP3s, weighed by their stream's bitrate: FFmpeg's AAC, Vorbis and
    # MP2, from full-band masters and from dark ones
    "aac-32": (None, "ffmpeg:-c:a,aac,-b:a,32k"),
    "aac-48": (None, "ffmpeg:-c:a,aac,-b:a,48k"),
    "aac-64": (None, "ffmpeg:-c:a,aac,-b:a,64k"),
    "aac-128": (None, "ffmpeg:-c:a,aac,-b:a,128k"),
    "aac-64-at-22k": (None, "ffmpeg:-ar,22050,-c:a,aac,-b:a,64k"),
    "vorbis-48k": (None, "ffmpeg:-c:a,libvorbis,-b:a,48k"),
    "vorbis-q-1": (None, "ffmpeg:-c:a,libvorbis,-q:a,-1"),
    "vorbis-q0": (None, "ffmpeg:-c:a,libvorbis,-q:a,0"),
    "vorbis-q4": (None, "ffmpeg:-c:a,libvorbis,-q:a,4"),
    "mp2-64": (None, "ffmpeg:-c:a,mp2,-b:a,64k"),
    "mp2-96": (None, "ffmpeg:-c:a,mp2,-b:a,96k"),
    "mp2-128": (None, "ffmpeg:-c:a,mp2,-b:a,128k"),
    "opus-16": (None, "ffmpeg:-c:a,libopus,-b:a,16k"),
    "opus-24": (None, "ffmpeg:-c:a,libopus,-b:a,24k"),
    "opus-32": (None, "ffmpeg:-c:a,libopus,-b:a,32k"),
    "opus-64": (None, "ffmpeg:-c:a,libopus,-b:a,64k"),
    "opus-128": (None, "ffmpeg:-c:a,libopus,-b:a,128k"),
    "dark-2.5k-opus-64": (2500, "ffmpeg:-c:a,libopus,-b:a,64k"),
    "dark-4k-opus-128": (4000, "ffmpeg:-c:a,libopus,-b:a,128k"),
    "dark-2.5k-aac-64": (2500, "ffmpeg:-c:a,aac,-b:a,64k"),
    "dark-4k-aac-128": (4000, "ffmpeg:-c:a,aac,-b:a,128k"),
    "dark-2.5k-vorbis-q0": (2500, "ffmpeg:-c:a,libvorbis,-q:a,0"),
    "dark-4k-vorbis-q4": (4000, "ffmpeg:-c:a,libvorbis,-q:a,4"),
    "dark-4k-mp2-128": (4000, "ffmpeg:-c:a,mp2,-b:a,128k"),
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


def band_share(path: Path, against: str = "lame") -> float:
    """Where ``path``'s band ends (without the soft cut, as `kept_reason` weighs it) over where
    LAME cuts at its bitrate (`dsp.lowpass.expected_cut`), or ``against`` "filter", over the
    filter its encoder recorded; inf where it shows no cut or there is nothing to weigh."""
    measured = lowpass.cuts_of_file(path)
    without = measured.without
    with open_audio(path) as reader:
        info = reader.info
    if against == "filter":
        whole = info.encoder_lowpass
    elif against == "lame-filter":  # LAME's for its bitrate, where the rule assumes it
        untagged = info.mp3_tag is None and not info.encoder_lowpass
        assumed = lowpass.assumed_filter(info.bit_rate, measured.constant, info.sample_rate)
        whole = assumed if untagged else None
    else:
        rate = info.sample_rate
        whole = info.bit_rate and lowpass.expected_cut(info.bit_rate, info.channels, rate)
    return without / whole if without is not None and whole else float("inf")


def enhanced(
    enhancer: Enhancer, path: Path, high: np.ndarray, rate: int, share: float, low: bool = True
) -> float:
    """Zimtohrli of ``path`` enhanced as ``enhance`` does with ``BITRATE_SHARE`` at ``share``;
    not ``low``, a filter under `FILTER_FROM_HZ` not weighed (as before `filter_reached`)."""
    high_only = lambda hz, *_: hz >= lowpass.FILTER_FROM_HZ  # noqa: E731
    reached = lowpass.filter_reached if low else high_only
    with (
        patch.object(lowpass, "BITRATE_SHARE", share),
        patch.object(lowpass, "filter_reached", reached),
    ):
        return vbr_check.enhanced_score(enhancer, path, high, rate)[0]


def main() -> None:
    parser = check_parser(__doc__, limit=40, out=False)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--shares", nargs="+", type=float, default=[0.35, 0.45, 0.55])
    parser.add_argument("--against", choices=("lame", "filter", "lame-filter"), default="lame")
    args = parser.parse_args()
    enhancer = Enhancer.load(args.model)
    references = reference_rows(spread_sample(read_manifest(args.dataset, args.split), args.limit))
    # rebuilt from the band end: the bitrate rule off; with --against filter, as before the filter
    # rule weighed LAME's CBR (`filter_reached`), BITRATE_SHARE as now
    off_share = 0.0 if args.against == "lame" else lowpass.BITRATE_SHARE
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
                share = band_share(path, args.against)
                off = enhanced(enhancer, path, high, rate, off_share, args.against == "lame")
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
        "it; rebuilt from the band end (the rule off; with --against filter, no filter under "
        "17 kHz weighed); with each "
        f"share of {args.against}'s cut, the mean, its change over that (worst clip), and the "
        "files the rule keeps"
    )
    head = "".join(f"  share {s:<24}" for s in args.shares)
    print(f"{'mode':<21}  band end / {args.against:<6}  input  rebuilt{head}")
    for mode, values in rows.items():
        a = np.array(values)
        low_share = np.median(a[:, 3][np.isfinite(a[:, 3])]) if np.isfinite(a[:, 3]).any() else 0
        line = f"{mode:<21}  {low_share:5.2f} (min {a[:, 3].min():4.2f})  {a[:, 0].mean():.3f}"
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
