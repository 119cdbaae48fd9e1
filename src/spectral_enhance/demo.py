"""``spectral-enhance demo``: the main job, end to end, on a bundled excerpt.

The excerpt goes through the paper's recipe (128 kbps reference, then the 32 kbps MP3), the MP3
file is enhanced exactly as ``spectral-enhance enhance`` would, and the low, enhanced and
reference signals are written as WAV, drawn as figure 3 and scored against the reference.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .audio import read_audio, write_audio
from .audio.mp3 import encode_mp3
from .enhance import enhance_file
from .inference import Enhancer
from .metrics import log_spectral_distance, lsd_above, snr
from .recipe import DegradationRecipe, transcode

__all__ = ["EXCERPT", "run_demo"]

EXCERPT = Path(__file__).parent / "data" / "casualties_of_war.flac"


def _score(reference: np.ndarray, estimate: np.ndarray, rate: int, cutoff: float) -> dict:
    scores = {
        "SNR dB": snr(reference, estimate),
        "LSD": log_spectral_distance(reference, estimate, rate),
        "LSD>cut": lsd_above(reference, estimate, rate, cutoff),
    }
    try:
        from .metrics import pesq_wb, stoi

        scores["PESQ"] = pesq_wb(reference, estimate, rate)
        scores["STOI"] = stoi(reference, estimate, rate)
    except ImportError:
        pass
    return scores


def run_demo(out_dir: str | os.PathLike, enhancer: Enhancer, overwrite: bool = True) -> dict:
    """Write the demo's files into ``out_dir`` and return the scores of low and enhanced."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    recipe = DegradationRecipe()
    samples, rate = read_audio(EXCERPT)
    if rate != recipe.sample_rate:
        raise ValueError(f"{EXCERPT}: expected {recipe.sample_rate} Hz, found {rate}")
    reference = transcode(samples[:, 0], rate, recipe.high_bitrate)
    mp3 = out / "excerpt.32kbps.mp3"
    mp3.write_bytes(encode_mp3(reference, rate, recipe.low_bitrate))
    enhanced_path = out / "excerpt.32kbps.enhanced.wav"
    enhance_file(enhancer, mp3, enhanced_path, output_rate=rate)  # the reference's rate
    low, _ = read_audio(mp3)
    enhanced, _ = read_audio(enhanced_path)
    write_audio(out / "excerpt.reference-128kbps.wav", reference, rate)
    write_audio(out / "excerpt.32kbps.wav", low[:, 0], rate)
    scores = {
        "32 kbps MP3": _score(reference, low[:, 0], rate, recipe.cutoff_hz),
        "enhanced": _score(reference, enhanced[:, 0], rate, recipe.cutoff_hz),
    }
    try:
        from .plots import spectrograms_figure

        spectrograms_figure(
            {
                "32 kbps MP3 (input)": low[:, 0],
                "128 kbps (reference)": reference,
                f"enhanced ({enhancer.name})": enhanced[:, 0],
            },
            rate,
            out / "spectrograms.png",
            title="Casualties of War (T. Johnson), 12 s: figure 3 of the paper",
            cutoff_hz=recipe.cutoff_hz,
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
