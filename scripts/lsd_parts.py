"""What LSD above the low-pass is made of, per bitrate: the rebuilt band's level frame by frame
against its shape within the frame, and how much of the level's error is each clip's own.

LSD (`evaluation.metrics.log_spectral_distance`) is, per frame, the RMS over bins of the
difference ``d`` of log10 powers, which is the root of the frame's mean ``d`` (its level's
error) squared plus the spread of ``d`` about it (shape and fine structure). Here over the bins
from the clip's low-pass to where the reference's own band ends, each channel's: LSD; the
frames' mean ``d`` (their level's error: mean and RMS), and the RMS of each clip's mean of it
(its brightness as a whole) and of what is left within the clip; LSD with each clip's level
error taken away, and with each frame's (the spread alone: what a right level frame by frame
would leave). Then ``d`` by distance above the low-pass (its mean and RMS).

Usage: python scripts/lsd_parts.py DATASET [--split test] [--limit 250] [--model full-band]
"""

from __future__ import annotations

import itertools

import numpy as np
from rebuilt_level import DISTANCES_KHZ, FRAMES_DB
from validation_check import check_parser, measured_clips

from spectral_enhance.evaluation.metrics import log_power_frames
from spectral_enhance.evaluation.systems import Clip


def log_powers(
    clip: Clip, out: np.ndarray, top: float
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Per channel, the reference's and the model's log10 powers as LSD takes them (``[frames,
    bins]``) over the bins from the low-pass to ``top``; and those bins' centres in Hz."""
    rate, cut = clip.sample_rate, clip.cutoff_hz
    pairs = zip(clip.high.reshape(len(clip.high), -1).T, out.reshape(len(out), -1).T, strict=True)
    parts, freqs = [], np.zeros(0)
    for reference, estimate in pairs:
        s, e = (log_power_frames(x, 2048, 512, 1e-10) for x in (reference, estimate))
        freqs = np.arange(s.shape[1]) * rate / 2048
        keep = (freqs >= cut) & (freqs < top)
        parts.append((s[:, keep], e[:, keep]))
    return parts, freqs[(freqs >= cut) & (freqs < top)]


CELL_BINS = 32
"""Bins (690 Hz at 44.1 kHz) of a cell of `jensen_gaps`' fine structure."""


def jensen_gaps(s: np.ndarray) -> np.ndarray:
    """How far the band's power (dB) lies over its mean log power (``s``, ``[frames, bins]``,
    log10), in three parts that add up to it: within each cell of `CELL_BINS` bins and a
    frame (the fine structure), between a frame's cells (the band's shape), between frames
    (its loud moments). Noise of any envelope has 2.5 dB within its cells (Euler's gamma)."""
    cells = len(s[0]) // CELL_BINS * CELL_BINS
    s = s[:, :cells]
    cell = np.log10(np.mean(10.0 ** s.reshape(len(s), -1, CELL_BINS), axis=-1))
    frame = np.log10(np.mean(10.0**cell, axis=-1))
    fine = cell.mean() - s.mean()
    moments = np.log10(np.mean(10.0**frame)) - frame.mean()
    return 10 * np.array([fine, frame.mean() - cell.mean(), moments])


def differences(clip: Clip, out: np.ndarray, top: float) -> tuple[list[np.ndarray], np.ndarray]:
    """Per channel, ``d`` (``[frames, bins]``, the LSD's log10 powers, the model's less the
    reference's) over the bins from the low-pass to ``top``; and those bins' centres in Hz."""
    parts, freqs = log_powers(clip, out, top)
    return [e - s for s, e in parts], freqs


def main() -> None:
    parser = check_parser(__doc__, 250, out=False, split="test")
    args = parser.parse_args()
    rows, recipe, enhancer = measured_clips(args)
    frames: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}  # each frame's level, spread
    by_distance: dict[tuple[int, float], list[np.ndarray]] = {}
    gaps: dict[int, list[np.ndarray]] = {}  # power and log level; each one's gaps
    for row in rows:
        bitrate = int(row["low_bitrate"] or 0)
        if not bitrate:
            continue
        clip = Clip.of_row(row, recipe)
        rate, cut = clip.sample_rate, clip.cutoff_hz
        top = float(row.get("reference_band_hz") or rate / 2)
        out = enhancer.enhance(clip.low, rate, output_rate=rate)[0]
        parts, freqs = log_powers(clip, out, top)
        above = freqs - cut
        for s, e in parts:
            d = e - s
            loud = np.log10(np.mean(10.0**s, axis=1))
            sounding = loud > loud.max() - FRAMES_DB / 10  # as rebuilt_level: no silence
            s, e = s[sounding], e[sounding]
            levels = [10 * np.log10(np.mean(10.0**x)) for x in (e, s)]
            gaps.setdefault(bitrate, []).append(
                np.r_[
                    levels[0] - levels[1],
                    10 * (e.mean() - s.mean()),
                    jensen_gaps(s),
                    jensen_gaps(e),
                ]
            )
            frames.setdefault(bitrate, []).append((d.mean(axis=1), d.std(axis=1)))
            for near, far in itertools.pairwise(DISTANCES_KHZ):
                stretch = (above >= 1000 * near) & (above < 1000 * far)
                if stretch.any():
                    by_distance.setdefault((bitrate, near), []).append(d[:, stretch].ravel())
    print(
        f"LSD above the low-pass within the reference's band, taken apart ({args.split}, "
        f"{args.model}):"
    )
    print(
        "| kbps | LSD | frames' level error: mean (RMS) | of it each clip's, RMS | within "
        "the clip, RMS | LSD, each clip's level right | LSD, each frame's level right |"
    )
    print("|---|---|---|---|---|---|---|")
    for bitrate, parts in sorted(frames.items()):
        level = np.concatenate([p[0] for p in parts])
        spread = np.concatenate([p[1] for p in parts])
        own = np.concatenate([np.full(len(p[0]), p[0].mean()) for p in parts])
        lsd = np.sqrt(level**2 + spread**2).mean()
        print(
            f"| {bitrate} | {lsd:.3f} | {level.mean():+.3f} ({np.sqrt((level**2).mean()):.3f}) "
            f"| {np.sqrt((own**2).mean()):.3f} | {np.sqrt(((level - own) ** 2).mean()):.3f} "
            f"| {np.sqrt((level - own) ** 2 + spread**2).mean():.3f} | {spread.mean():.3f} |"
        )
    print("\nd by its distance above the low-pass, mean (RMS), log10 power:")
    print("| kbps | " + " | ".join(f"+{near:g} kHz" for near in DISTANCES_KHZ[:-1]) + " |")
    print("|---|" + "---|" * (len(DISTANCES_KHZ) - 1))
    for bitrate in sorted(frames):
        cells = []
        for near in DISTANCES_KHZ[:-1]:
            values = by_distance.get((bitrate, near))
            if values is None:
                cells.append("–")
                continue
            d = np.concatenate(values)
            cells.append(f"{d.mean():+.2f} ({np.sqrt((d**2).mean()):.2f})")
        print(f"| {bitrate} | " + " | ".join(cells) + " |")

    print(
        "\nThe band's power against the reference's and its log level (LSD's), dB, over the "
        f"frames within {FRAMES_DB:g} dB of the reference's loudest; the two differ by how far "
        "each one's power lies over its mean log power: within cells of "
        f"{CELL_BINS} bins and a frame, between a frame's cells, between frames:"
    )
    print("| kbps | power | log | reference: fine, shape, moments | model: fine, shape, moments |")
    print("|---|---|---|---|---|")
    for bitrate, values in sorted(gaps.items()):
        v = np.mean(values, axis=0)
        print(
            f"| {bitrate} | {v[0]:+.1f} | {v[1]:+.1f} | {v[2]:.1f}, {v[3]:.1f}, {v[4]:.1f} "
            f"| {v[5]:.1f}, {v[6]:.1f}, {v[7]:.1f} |"
        )


if __name__ == "__main__":
    main()
