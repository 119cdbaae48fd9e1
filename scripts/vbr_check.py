"""VBR and high-bitrate MP3s: what the full-band model scores on them, told the cut the meter
finds with the soft cut (`SpectrumMeter.soft_cut`) and without it.

The dataset is LAME at constant bitrates of 32 to 128 kbps; most MP3s people hold are VBR
(LAME's ``-V`` presets, FFmpeg's ``-q:a``) or CBR above 128 kbps. On a split's reference clips
(the windows ``evaluate --limit`` takes, as whole windows), each is encoded in every ``--modes``
mode by Debian's ``lame`` or ``ffmpeg``, enhanced from the MP3 file by ``enhance_file`` (the
path ``spectral-enhance enhance`` takes), and scored with Zimtohrli against the reference: the
input as FFmpeg decodes it (resampled to the reference's rate by FFmpeg where the encoder chose
a lower one), and the output told each of three cuts: the one `lowpass_of_file` finds (what
``enhance`` does), the one it finds with the soft cut wherever the spectrum allows it (as
before `soft_applies` kept it from MP3s at a variable bitrate), and the one it finds without
the soft cut. With ``--filter-shares``, 'now' is the cut taken as if no band ended under its
encoder's recorded filter (`FILTER_SHARE` 0), and a column per share scores the file kept as
it is where its cut without the soft cut lies under that share of the filter its LAME tag
records (`dsp.lowpass.kept_reason`). Each decode and output is aligned to the reference by
cross-correlation. Prints per mode the means, the worst clip's change and how many clips
lose more than 0.05.

Usage: python scripts/vbr_check.py DATASET [--split val] [--limit 120]
       [--modes lame:-V0 lame:-V6 ffmpeg:-q:a,6 lame:-b,320 lameenc:128 ...]
       [--filter-shares 0.9 ...]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import soundfile as sf
from validation_check import check_parser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from audio_tools import lag, lameenc_mp3
from spectral_enhance.audio import open_audio
from spectral_enhance.dataset.manifest import read_clip, read_manifest
from spectral_enhance.dsp import lowpass
from spectral_enhance.evaluation.evaluate import reference_rows, spread_sample
from spectral_enhance.evaluation.metrics import zimtohrli_mos
from spectral_enhance.inference.enhancer import Enhancer
from spectral_enhance.inference.one_file import enhance_file
from spectral_enhance.inference.report import FileResult

MODES = (
    *(f"lame:-V{q}" for q in range(10)),
    *(f"lame:--abr,{kbps}" for kbps in (64, 96, 128)),
    *(f"ffmpeg:-q:a,{q}" for q in (0, 2, 4, 6, 8)),
    *(f"lame:-b,{kbps}" for kbps in (160, 192, 256, 320)),
)
"""Encoder and its options, commas for spaces: LAME's VBR presets and ABR, FFmpeg's libmp3lame
VBR (its muxer's ``Lavc`` tag, no LAME settings in it), and CBR above the dataset's 128 kbps."""


SUFFIXES = {"aac": ".m4a", "libvorbis": ".ogg", "libopus": ".opus", "mp2": ".mp2"}
"""The file suffix of FFmpeg's encoders other than libmp3lame (``ffmpeg:-c:a,aac,...``)."""


def encode(wav: Path, folder: Path, mode: str) -> Path:
    """``wav`` encoded by the encoder and options of ``mode`` (`MODES`; FFmpeg's libmp3lame
    unless its options name another codec; ``lameenc:KBPS``, the Python binding's CBR at the
    input's rate with no tag) into ``folder``: the file's path."""
    encoder, options = mode.split(":", 1)
    options = options.split(",")
    if encoder == "lameenc":
        path = folder / "in.mp3"
        x, rate = sf.read(wav, dtype="float32", always_2d=True)
        path.write_bytes(lameenc_mp3(x, rate, int(options[0])))
        return path
    if encoder == "lame":
        path = folder / "in.mp3"
        command = ["lame", "--quiet", *options, str(wav), str(path)]
    else:
        codec = options[options.index("-c:a") + 1] if "-c:a" in options else "libmp3lame"
        path = folder / f"in{SUFFIXES.get(codec, '.mp3')}"
        command = ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", codec]
        command += [*options, str(path)]
    subprocess.run(command, check=True)
    return path


def as_wav(row: dict, folder: Path) -> tuple[np.ndarray, int, Path]:
    """The reference clip of manifest ``row``: its samples, its rate, and a float WAV of it in
    ``folder`` for the encoders to read (the last one's replaced)."""
    high, rate = read_clip(row, "high"), int(row["sample_rate"])
    wav = folder / "ref.wav"
    sf.write(wav, high, rate, subtype="FLOAT")
    return high, rate, wav


def ffmpeg_decode_at(path: Path, rate: int, channels: int) -> np.ndarray:
    """FFmpeg's decode of ``path`` at ``rate`` (its own resampler): float32 ``[n, channels]``."""
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-ar", str(rate), "-f", "f32le", "-"]
    out = subprocess.run(command, check=True, capture_output=True).stdout
    return np.frombuffer(out, "<f4").reshape(-1, channels)


def aligned(signal: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``signal`` shifted to line up with ``reference`` and cut or padded to its length."""
    shift = lag(signal.mean(axis=1), reference.mean(axis=1))
    out = np.zeros_like(reference)
    part = signal[max(shift, 0) : max(shift, 0) + len(reference)]
    at = max(-shift, 0)
    part = part[: len(reference) - at]
    out[at : at + len(part)] = part
    return out


def score(
    enhancer: Enhancer,
    path: Path,
    high: np.ndarray,
    rate: int,
    cut: float | None,
    measured: bool = True,
) -> float:
    """Zimtohrli of ``path`` enhanced from the file against ``high``, the model told ``cut``
    as ``enhance`` tells it a ``measured`` one (`Enhancer.band_end`), or as it is (None: no
    cut)."""
    if measured:
        with open_audio(path) as reader:
            cut = enhancer.band_end(cut, reader.info.sample_rate)
    return enhanced_score(enhancer, path, high, rate, lowpass_hz=cut or 0.0)[0]


def enhanced_score(
    enhancer: Enhancer, path: Path, high: np.ndarray, rate: int, **options: Any
) -> tuple[float, FileResult]:
    """Zimtohrli against ``high`` of ``path`` enhanced from the file by `enhance_file` at
    ``rate`` (with its ``options``; none: as ``enhance`` does), aligned to it; and the file's
    result."""
    out = path.with_name("out.wav")
    out.unlink(missing_ok=True)
    result = enhance_file(enhancer, path, out, output_rate=rate, **options)
    y = sf.read(out, dtype="float32", always_2d=True)[0]
    return zimtohrli_mos(high, aligned(y, high), rate), result


def cuts(path: Path, share: float | None = None) -> tuple[float | None, float | None, float | None]:
    """The cut of ``path`` as ``enhance`` takes it now (`cuts_of_file`, then `file_cut`: none
    for an MP3 of `HIGH_BITRATE` or more, or one cut well under the filter its encoder
    recorded, `FILTER_SHARE` of it or ``share``), as `lowpass_of_file` finds it with the soft
    cut wherever the spectrum allows it (as before `soft_applies`), and without it."""
    measured = lowpass.cuts_of_file(path)
    with open_audio(path) as reader:
        info = reader.info
    with patch.object(lowpass, "FILTER_SHARE", lowpass.FILTER_SHARE if share is None else share):
        cut, why = lowpass.file_cut(measured, info)
    now = None if why else cut
    with patch.object(lowpass, "soft_applies", lambda codec, sizes: True):
        soft = lowpass.lowpass_of_file(path)
    return now, soft, lowpass.lowpass_of_file(path, soft=False)


def applies(filter_hz: float | None, hard: float | None, share: float) -> bool:
    """Whether `kept_reason` keeps a file whose LAME tag records ``filter_hz`` and whose cut
    without the soft cut is ``hard`` as it is, with `FILTER_SHARE` set to ``share``."""
    with patch.object(lowpass, "FILTER_SHARE", share):
        return lowpass.kept_reason(hard, False, None, filter_hz, hard) is not None


def main() -> None:
    parser = check_parser(__doc__, limit=120, out=False)
    parser.add_argument("--modes", nargs="+", default=list(MODES))
    parser.add_argument(
        "--above",
        nargs="*",
        type=float,
        default=[],
        help="also score the soft cut taken only where it lies over each of these shares of "
        "the cut without it (or of the anti-aliasing edge where there is none)",
    )
    parser.add_argument(
        "--filter-shares",
        nargs="*",
        type=float,
        default=[],
        help="also score the file kept as it is where its cut without the soft cut lies under "
        "each of these shares of the filter its LAME tag records (`AudioInfo.encoder_lowpass`); "
        "'now' is then the cut taken as if none lay under it",
    )
    args = parser.parse_args()
    enhancer = Enhancer.load(args.model)
    references = reference_rows(spread_sample(read_manifest(args.dataset, args.split), args.limit))
    # per mode, per clip: the input's score, then the scores told the cut found now, with the
    # soft cut and without it, and kept as it is (or None); those cuts; the file's rate; the
    # filter its LAME tag records
    rows: dict[str, list[tuple[list, tuple, int, float | None]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for row in references:
            high, rate, wav = as_wav(row, tmp)
            for mode in args.modes:
                mp3 = encode(wav, tmp, mode)
                low = aligned(ffmpeg_decode_at(mp3, rate, high.shape[1]), high)
                found = cuts(mp3, share=0.0 if args.filter_shares else None)
                scored = {cut: score(enhancer, mp3, high, rate, cut) for cut in set(found)}
                base = zimtohrli_mos(high, low, rate)
                with open_audio(mp3) as reader:
                    own_rate, filter_hz = reader.info.sample_rate, reader.info.encoder_lowpass
                kept = None
                shares = args.filter_shares
                if shares and filter_hz and found[2] and found[2] < max(shares) * filter_hz:
                    kept = score(enhancer, mp3, high, rate, None, measured=False)
                rows.setdefault(mode, []).append(
                    ([base, *(scored[c] for c in found), kept], found, own_rate, filter_hz)
                )
                if min(scored.values()) - base < -0.05 or kept is not None:
                    now, soft, without = (scored[cut] - base for cut in found)
                    print(f"  {row['reference']} {mode}: input {base:.3f}; now {now:+.3f}, soft "
                          f"cut {soft:+.3f}, without {without:+.3f} (cuts {found})"
                          + (f", kept {kept - base:+.3f} (filter {filter_hz:g})"
                             if kept is not None else ""),
                          flush=True)  # fmt: skip
    print(f"\n{len(references)} references of {args.split}, Zimtohrli: input; the change (worst "
          "clip) and clips losing over 0.05 told the cut found now, with the soft cut wherever "
          "the spectrum allows it, and without it; clips whose cut the soft cut moves; median "
          "cut now")  # fmt: skip
    print("mode               input   now                 soft cut            without"
          "             moved  cut")  # fmt: skip
    for mode, values in rows.items():
        a = np.array([v[0][:4] for v in values])
        parts = []
        for column in (1, 2, 3):
            change = a[:, column] - a[:, 0]
            parts.append(f"{change.mean():+.3f} ({change.min():+.3f}) {(change < -0.05).sum():>3}")
        for share in args.above:  # the soft cut's score where it lies over share of the other
            change = np.array([
                (scores[2] if soft is not None and soft >= share * (hard or edge) else scores[3])
                - scores[0]
                for scores, (_, soft, hard), edge in (
                    (v[0], v[1], lowpass.ANTI_ALIAS * v[2] / 2) for v in values
                )
            ])  # fmt: skip
            parts.append(
                f"over {share:g}: {change.mean():+.3f} ({change.min():+.3f}) "
                f"{(change < -0.05).sum():>3}"
            )
        for share in args.filter_shares:  # kept where the cut lies under share of the filter
            change = np.array([
                (scores[4] if applies(filter_hz, hard, share) else scores[1])
                - scores[0]
                for scores, (_, _, hard), _, filter_hz in values
            ])  # fmt: skip
            parts.append(
                f"filter {share:g}: {change.mean():+.3f} ({change.min():+.3f}) "
                f"{(change < -0.05).sum():>3}"
            )
        moved = sum(v[1][1] != v[1][2] for v in values)
        cut = np.median([(v[1][0] or 0) / 1000 for v in values])
        print(f"{mode:<17}  {a[:, 0].mean():.3f}  {'  '.join(parts)}  {moved:>3}  {cut:.1f} kHz")


if __name__ == "__main__":
    main()
