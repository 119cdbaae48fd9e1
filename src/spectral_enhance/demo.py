"""``spectral-enhance demo``: the main job, end to end, on a bundled excerpt.

The 44.1 kHz stereo excerpt is the reference; its 48 kbps MP3, at the rate LAME chooses for that
bitrate (22.05 kHz, cut at about 7.6 kHz), is the input. The MP3 file is enhanced exactly as
``spectral-enhance enhance`` would, and the input, enhanced and reference signals are written as
WAV, drawn as spectrograms from 0 to 22 kHz and scored against the reference.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .atomic import atomic_path, output_folder, refuse_to_replace
from .audio import read_audio, resample, to_mono, write_audio
from .audio.mp3 import encode_mp3
from .evaluation.metrics import log_spectral_distance, lsd_above, snr
from .inference.enhancer import Enhancer
from .inference.one_file import enhance_file

__all__ = ["BITRATE", "EXCERPT", "FILES", "run_demo"]

EXCERPT = Path(__file__).parent / "data" / "casualties_of_war.flac"
BITRATE = 48  # kbps: the band LAME leaves (7.6 kHz) is narrow enough to hear what comes back
FILES = (
    f"excerpt.{BITRATE}kbps.mp3",
    f"excerpt.{BITRATE}kbps.wav",
    f"excerpt.{BITRATE}kbps.enhanced.wav",
    "excerpt.reference.wav",
    "spectrograms.png",
)


def _score(reference: np.ndarray, estimate: np.ndarray, rate: int, cutoff: float) -> dict:
    scores = {
        "SNR dB": snr(reference.ravel(), estimate.ravel()),
        "LSD": log_spectral_distance(to_mono(reference), to_mono(estimate), rate),
        "LSD>cut": lsd_above(to_mono(reference), to_mono(estimate), rate, cutoff),
    }
    try:
        from .evaluation.metrics import zimtohrli_mos

        scores["Zimtohrli"] = zimtohrli_mos(reference, estimate, rate)
    except ImportError:  # the eval extra is not installed
        pass
    return scores


def run_demo(out_dir: str | os.PathLike, enhancer: Enhancer, overwrite: bool = False) -> dict:
    """Write `FILES` into ``out_dir`` and return the scores of the input and the enhanced. A
    folder holding an earlier demo's files is refused unless ``overwrite``; a run that fails or
    is interrupted removes the files it had made."""
    out = Path(out_dir)
    paths = [out / name for name in FILES]
    refuse_to_replace(paths, overwrite)
    output_folder(out)
    new = [path for path in paths if not path.exists()]
    try:
        return _demo(out, enhancer)
    except BaseException:  # an interrupt too: no half demo to block the next run
        for path in new:
            path.unlink(missing_ok=True)
        raise


def _demo(out: Path, enhancer: Enhancer) -> dict:
    reference, rate = read_audio(EXCERPT)
    mp3 = out / FILES[0]
    with atomic_path(mp3) as temp:
        temp.write_bytes(encode_mp3(reference, rate, BITRATE, lame_rate=True))
    enhanced_path = out / FILES[2]
    result = enhance_file(enhancer, mp3, enhanced_path, output_rate=rate)
    low, low_rate = read_audio(mp3)
    low = resample(low, low_rate, rate)  # LAME chose a lower rate: compare at the reference's
    enhanced, _ = read_audio(enhanced_path)
    write_audio(out / FILES[3], reference, rate)
    write_audio(out / FILES[1], low, rate)
    cutoff = result.lowpass_hz or rate / 2
    scores = {
        f"{BITRATE} kbps MP3": _score(reference, low, rate, cutoff),
        "enhanced": _score(reference, enhanced, rate, cutoff),
    }
    try:
        from .evaluation.plots import spectrograms_figure

        spectrograms_figure(
            {
                f"{BITRATE} kbps MP3 (input)": to_mono(low),
                "lossless (reference)": to_mono(reference),
                f"enhanced ({enhancer.name})": to_mono(enhanced),
            },
            rate,
            out / FILES[4],
            title=f"Casualties of War (T. Johnson), 12 s, 44.1 kHz stereo: {result.band()}",
            cutoff_hz=result.lowpass_hz,
        )
    except ImportError:
        pass
    return scores


def format_scores(scores: dict[str, dict[str, float]]) -> str:
    """A small aligned table: one row per signal, one column per metric."""
    names = list(next(iter(scores.values())))
    lines = [f"{'':14s}" + "".join(f"{n:>10s}" for n in names)]
    for label, row in scores.items():
        lines.append(f"{label:14s}" + "".join(f"{row[n]:10.3f}" for n in names))
    return "\n".join(lines)
