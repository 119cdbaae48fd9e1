"""MP3s no low-pass filter cut (issue 12): where the meter puts their cut, with and without
`SpectrumMeter.soft_cut`, and what the full-band model scores told each.

LAME low-passes its input; FFmpeg's libshine (Debian's ffmpeg is built with it) has no filter and
stops coding the bands it cannot afford in most granules, so a trace of them lies far above where
its band really ends. On a split's reference clips (the windows `evaluate --limit` takes):

1. No filter: each reference encoded by ``ffmpeg -c:a libshine`` at 32 to 128 kbps (or, with
   ``--encoder lame``, by LAME with its filter off: ``lame --lowpass -1 --resample 44.1``; with
   ``--encoder ffmpeg-lame``, by FFmpeg's libmp3lame, which keeps the input's 44.1 kHz),
   decoded by FFmpeg and aligned to it; Zimtohrli of the decoded input and of the model told
   the cut the meter finds in the MP3 file (over its excerpts, as ``enhance`` does) before the
   soft cut and with it. ``--level DB`` scales each reference to that RMS first (a quiet
   passage); ``--silent P ...`` scores the soft cut with each `SILENT_POWER` given.
2. The dataset's own LAME clips, every bitrate, and its lossless references (each track's cut,
   as `evaluate` tells them): how many cuts the soft cut moves, and for the clips it moves,
   Zimtohrli before and after.

``--kbps`` chooses part 1's bitrates, ``--holes-top HZ`` sets `dsp.holes.TOP_HZ` (the low-pass
from which no holes are filled).

Usage: python scripts/soft_cut_check.py DATASET [--split val] [--limit 60] [--encoder lame]
       [--unfiltered-only] [--level -50] [--silent 1e-10 1e-6] [--kbps 96 128]
       [--holes-top 15600]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from validation_check import check_parser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from audio_tools import OTHER_ENCODERS, ffmpeg_decode, lag, other_encoder_mp3
from spectral_enhance.dataset.manifest import read_clip, read_manifest
from spectral_enhance.dsp import holes, lowpass
from spectral_enhance.evaluation.evaluate import (
    low_bitrate_rows,
    reference_rows,
    spread_sample,
    track_lowpass,
)
from spectral_enhance.evaluation.metrics import zimtohrli_mos
from spectral_enhance.inference.enhancer import Enhancer

KBPS = (32, 48, 64, 96, 128)


def score(
    enhancer: Enhancer, high: np.ndarray, low: np.ndarray, rate: int, cut: float | None
) -> float:
    """Zimtohrli of the model's output told ``cut`` (the input itself where nothing is
    rebuilt)."""
    out = enhancer.enhance(low, rate, output_rate=rate, lowpass_hz=cut)[0]
    return zimtohrli_mos(high, out, rate)  # channel by channel, averaged


def unfiltered_part(
    enhancer: Enhancer,
    references: list[dict],
    encoder: str = "libshine",
    level: float | None = None,
    silent: tuple[float, ...] = (lowpass.SILENT_POWER,),
    kbps_list: tuple[int, ...] = KBPS,
) -> None:
    """Part 1: MP3s of every reference with no low-pass filter (``encoder``: `OTHER_ENCODERS`),
    each reference first scaled to an RMS of ``level`` dBFS if given (a quiet passage, where an
    encoder leaves bands empty under the threshold of hearing, not for want of bits); the soft
    cut with each of the ``silent`` `SILENT_POWER` values."""
    # per bitrate, each clip's: input's score, score told the cut before, scores told each
    # SILENT_POWER's cut, the cut before, and each SILENT_POWER's cut
    rows: dict[int, list[tuple[float, float, list[float], float | None, list]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for row in references:
            high, rate = read_clip(row, "high"), int(row["sample_rate"])
            if level is not None:
                high = high * np.float32(10 ** (level / 20) / np.sqrt(np.mean(high**2)))
            wav = Path(folder) / "ref.wav"
            sf.write(wav, high, rate, subtype="FLOAT")
            for kbps in kbps_list:
                path = Path(folder) / f"{encoder}{kbps}.mp3"
                other_encoder_mp3(wav, path, encoder, kbps)
                decoded = ffmpeg_decode(path, 2)
                shift = lag(decoded.mean(axis=1), high.mean(axis=1))
                low = np.zeros_like(high)
                part = decoded[max(shift, 0) : max(shift, 0) + len(high)]
                low[: len(part)] = part
                before = lowpass.lowpass_of_file(path, soft=False)
                cuts = []
                shipped = lowpass.SILENT_POWER
                for power in silent:
                    lowpass.SILENT_POWER = power
                    cuts.append(lowpass.lowpass_of_file(path))
                lowpass.SILENT_POWER = shipped  # part 2 measures as shipped
                scores = {before: score(enhancer, high, low, rate, before)}
                for cut in cuts:
                    if cut not in scores:
                        scores[cut] = score(enhancer, high, low, rate, cut)
                base = zimtohrli_mos(high, low, rate)
                rows.setdefault(kbps, []).append(
                    (base, scores[before], [scores[c] for c in cuts], before, cuts)
                )
                for power, cut in zip(silent, cuts, strict=True):
                    if scores[cut] - scores[before] < -0.05:
                        print(f"  {row['reference']} {kbps} kbps, silent {power:g}: "
                              f"{scores[cut] - scores[before]:+.3f} (input {base:.3f}, "
                              f"cut {before} -> {cut})")  # fmt: skip
    what = f", scaled to {level:g} dBFS RMS" if level is not None else ""
    print(f"{encoder} ({OTHER_ENCODERS[encoder]}), {len(references)} references{what}, Zimtohrli:")
    for i, power in enumerate(silent):
        print(f"with the soft cut, SILENT_POWER {power:g}")
        print(
            "kbps  input  before  with soft cut  gain (worst clip)  cut before -> with, median kHz"
        )
        for kbps, values in sorted(rows.items()):
            a = np.array([(base, old, new[i]) for base, old, new, _, _ in values])
            cuts = (
                [(before or 0) / 1000 for _, _, _, before, _ in values],
                [(after[i] or 0) / 1000 for _, _, _, _, after in values],
            )
            print(
                f"{kbps:>4}  {a[:, 0].mean():.3f}  {a[:, 1].mean():.3f}  {a[:, 2].mean():13.3f}"
                f"  {(a[:, 2] - a[:, 1]).mean():+.3f} ({(a[:, 2] - a[:, 1]).min():+.3f})"
                f"  {np.median(cuts[0]):.1f} -> {np.median(cuts[1]):.1f}"
                f" (none: {sum(c == 0 for c in cuts[0])} -> {sum(c == 0 for c in cuts[1])})"
            )


def lame_part(enhancer: Enhancer, dataset: str, split: str, limit: int) -> None:
    """Part 2: the dataset's LAME clips and lossless references."""
    manifest = read_manifest(dataset, split)
    moved: dict[str, list[tuple[float, float]]] = {}
    counts: dict[str, int] = {}
    for row in low_bitrate_rows(manifest, limit, top_kbps=max(KBPS)):
        low, rate = read_clip(row, "low"), int(row["sample_rate"])
        name = f"{row['low_bitrate']} kbps"
        counts[name] = counts.get(name, 0) + 1
        before, after = lowpass.find_lowpass(low, rate, soft=False), lowpass.find_lowpass(low, rate)
        if before != after:
            high = read_clip(row, "high")
            print(f"  moved: {row['clip']} {before} -> {after}")
            old = score(enhancer, high, low, rate, before)
            moved.setdefault(name, []).append((old, score(enhancer, high, low, rate, after)))
    references = reference_rows(spread_sample(manifest, limit))
    told_before = track_lowpass(references, soft=False)
    told_after = track_lowpass(references)
    for track in told_before:
        print(f"  lossless {track}: {told_before[track]} -> {told_after[track]}")
    counts["lossless tracks"] = len(told_before)
    moved_tracks = [t for t in told_before if told_before[t] != told_after[t]]
    print(f"\nLAME clips and lossless references of {split}: cuts the soft cut moves")
    for name, total in counts.items():
        if name == "lossless tracks":
            print(f"{name}: {len(moved_tracks)} of {total}")
            continue
        values = np.array(moved.get(name, [])).reshape(-1, 2)
        change = values[:, 1] - values[:, 0]
        detail = (
            f", Zimtohrli {change.mean():+.3f} (worst {change.min():+.3f})" if len(change) else ""
        )
        print(f"{name}: {len(values)} of {total}{detail}")


def main() -> None:
    parser = check_parser(__doc__, out=False)
    parser.add_argument("--share", type=float, default=lowpass.SOFT_SHARE, help="SOFT_SHARE")
    parser.add_argument("--unfiltered-only", action="store_true", help="part 1 only")
    parser.add_argument("--encoder", choices=sorted(OTHER_ENCODERS), default="libshine")
    parser.add_argument("--level", type=float, help="scale each reference to this RMS, dBFS")
    parser.add_argument(
        "--silent", type=float, nargs="+", default=[lowpass.SILENT_POWER], help="SILENT_POWER"
    )
    parser.add_argument("--kbps", type=int, nargs="+", default=list(KBPS), help="part 1's")
    parser.add_argument("--holes-top", type=float, default=holes.TOP_HZ, help="dsp.holes.TOP_HZ")
    args = parser.parse_args()
    lowpass.SOFT_SHARE = args.share
    holes.TOP_HZ = args.holes_top
    enhancer = Enhancer.load(args.model)
    references = reference_rows(spread_sample(read_manifest(args.dataset, args.split), args.limit))
    unfiltered_part(
        enhancer, references, args.encoder, args.level, tuple(args.silent), tuple(args.kbps)
    )
    if args.unfiltered_only:
        return
    print()
    lame_part(enhancer, args.dataset, args.split, args.limit)


if __name__ == "__main__":
    main()
