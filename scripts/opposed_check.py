"""Channels opposed in part or whole: how the low-pass meter and the channels' likeness take them.

1. The low-pass meter (`dsp.lowpass.SpectrumMeter`) measures the channels' mean signal and,
   where that keeps under `dsp.lowpass.CANCELLED` of their power, their own powers. Per
   bitrate: the least share of their power a clip's mean keeps, and how many clips' cuts the
   channels' own powers would move if always taken (and the largest move), and how many the
   meter as it is moves from the mean's (none, unless a clip cancels).
2. `dsp.coherence.channel_coherence` follows a likeness under 0 only under
   `dsp.coherence.OPPOSED`.
   Per bitrate: the share of frames whose channels are opposed in part under the low-pass
   (likeness under 0, over the likeness's span), their mean likeness there, and the
   reference's above the low-pass in the same frames.
3. With ``--out``: the model against the model following every likeness under 0
   (``OPPOSED`` set to 0), scored by `evaluate` on the same clips.

Usage: python scripts/opposed_check.py DATASET [--split val] [--limit 120] [--out FOLDER]
"""

from __future__ import annotations

import numpy as np
from validation_check import check_parser, measured_clips, patched, run_check

from spectral_enhance.dsp import coherence
from spectral_enhance.dsp.lowpass import CANCELLED, SpectrumMeter, lowpass_of_spectrum
from spectral_enhance.dsp.stft import StftConfig, spectrum
from spectral_enhance.evaluation.systems import Clip, load_system


def cuts(x: np.ndarray, rate: int) -> tuple[float, float | None, float | None, float | None]:
    """The share of the channels' power their mean keeps, and the cut from the mean, from
    the channels' own powers, and from the meter as it is."""
    meter = SpectrumMeter(rate)
    meter.add(x)
    freqs, as_is = meter.spectrum()
    own = (meter.total + meter.apart_total) / meter.frames
    mean = meter.total / meter.frames
    return (
        float(mean.sum() / own.sum()),
        *(lowpass_of_spectrum(freqs, p, rate) for p in (mean, own, as_is)),
    )


def likeness(
    x: np.ndarray, low: float, high: float, rate: int, frames: int, config: StftConfig
) -> np.ndarray:
    """`channel_coherence`'s likeness of ``x``'s two channels from ``low`` to ``high`` Hz,
    frame by frame at the STFT ``config``, before it is mapped (`dsp.coherence.likeness_of`)."""
    spec = spectrum(np.ascontiguousarray(x.T), config)
    band = slice(round(low * config.fft_length / rate), round(high * config.fft_length / rate))
    left, right = spec[0, :, band], spec[1, :, band]
    cross = (left * right.conj()).real.sum(-1)
    return coherence.likeness_of(cross, (abs(left) ** 2 + abs(right) ** 2).sum(-1), frames)


def main() -> None:
    parser = check_parser(__doc__, 120, model=False, out=False)
    parser.add_argument("--out", help="also score the model with every likeness under 0 followed")
    args = parser.parse_args()
    args.model = "full-band"
    rows, recipe, enhancer = measured_clips(args)
    frames = enhancer.coherence_frames
    meters: dict[int, list] = {}
    opposed: dict[int, list] = {}
    for row in rows:
        bitrate = int(row["low_bitrate"] or 0)
        clip = Clip.of_row(row, recipe)
        if not bitrate or clip.low.ndim != 2 or clip.low.shape[1] != 2:
            continue
        rate, cut = clip.sample_rate, clip.cutoff_hz
        meters.setdefault(bitrate, []).append(cuts(clip.low, rate))
        under = likeness(clip.low, cut / 2, cut, rate, frames, enhancer.stft)
        above = likeness(clip.high, cut, min(20_000.0, rate / 2), rate, frames, enhancer.stft)
        n = min(len(under), len(above))
        opposed.setdefault(bitrate, []).append((under[:n], above[:n]))
    print(f"1. the low-pass meter ({args.split}, {len(rows)} clips; CANCELLED {CANCELLED})")
    print(
        "| kbps | clips | least share the mean keeps | cuts moved, own powers always "
        "(largest, Hz) | cuts moved as it is |"
    )
    print("|---|---|---|---|---|")
    for bitrate, found in sorted(meters.items()):
        share = min(f[0] for f in found)
        moved = [abs((f[2] or 0) - (f[1] or 0)) for f in found]
        as_is = sum((f[3] or 0) != (f[1] or 0) for f in found)
        print(
            f"| {bitrate} | {len(found)} | {share:.2f} | {sum(m > 0 for m in moved)} "
            f"({max(moved):.0f}) | {as_is} |"
        )
    print(
        f"\n2. frames opposed in part under the low-pass (likeness under 0, over {frames} frames)"
    )
    print("| kbps | share of frames | their likeness under | the reference's above |")
    print("|---|---|---|---|")
    for bitrate, pairs in sorted(opposed.items()):
        under = np.concatenate([u for u, _ in pairs])
        above = np.concatenate([a for _, a in pairs])
        part = under < 0
        print(
            f"| {bitrate} | {part.mean():.0%} | {under[part].mean():+.2f} | "
            f"{above[part].mean():+.2f} |"
        )
    if args.out:
        model = load_system("full-band")
        followed = patched(
            model, "full-band, every likeness under 0", [(coherence, "OPPOSED", 0.0)]
        )
        run_check(args, ["mp3", model, followed])


if __name__ == "__main__":
    main()
