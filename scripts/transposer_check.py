"""The model's rebuilt band with a harmonic transposer's fine structure in place of its noise, to
hear whether partials placed where the input's harmonics continue meet what noise misses (issue
12's "within 3 dB" and "LSD above the low-pass halved").

The band above the low-pass ``fc`` is filled as USAC's harmonic transposer (eSBR, ISO/IEC
23003-3) fills it: from ``fc`` to ``2 fc`` the input transposed up an octave, to ``3 fc`` by
three, above by four. A transposition by ``T`` takes the input's spectrum analysed with a window
``T`` times the model's (same hop, frames centred alike) and multiplies each bin's phase by
``T``: a partial at ``f`` lands at ``T f``, on its own harmonic series, where spectral band
replication's copy (`dsp.copy_rule.copy_map`) shifts it off the series.

The model's output is analysed at its own STFT and, in each of its cells (8 bins and a frame)
above the low-pass, the transposed band is scaled to the model's band there: to its power
(``power``), or to its mean log power, LSD's level (``log``: the transposer's partials then raise
the power by however much spikier than noise they are). Cells where the input is silent keep
the model's noise. Only lossy clips are changed; the low-pass is found in the clip as the model
finds it.

Usage: python scripts/transposer_check.py DATASET --out FOLDER [--split val] [--limit 120]
           [--model full-band] [--levels power log]
"""

from __future__ import annotations

import numpy as np
from validation_check import check_parser, run_check

from spectral_enhance.dsp.lowpass import find_lowpass
from spectral_enhance.evaluation.systems import Clip, System, load_system

FACTORS = (2, 3, 4)
"""The transpositions, each over its own multiple of the low-pass, as eSBR's."""


def _hann(length: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)


def analyse(x: np.ndarray, length: int, hop: int, frames: int) -> np.ndarray:
    """Zero-phase spectra ``[frames, length // 2 + 1]`` of ``x`` under a Hann window of
    ``length`` centred on every ``hop``-th sample: a bin's phase is its partial's at the centre."""
    padded = np.pad(x, (length, length))
    where = np.arange(frames)[:, None] * hop + length // 2 + np.arange(length)[None]
    return np.fft.rfft(np.roll(padded[where] * _hann(length), -(length // 2), axis=1), axis=1)


def synthesise(spec: np.ndarray, length: int, hop: int, samples: int) -> np.ndarray:
    """The least-squares overlap-add of `analyse`'s spectra, ``samples`` long."""
    frames = np.roll(np.fft.irfft(spec, n=length, axis=1), length // 2, axis=1) * _hann(length)
    out = np.zeros(samples + 2 * length + len(spec) * hop)
    norm = np.zeros_like(out)
    for i, frame in enumerate(frames):
        at = i * hop + length // 2
        out[at : at + length] += frame
        norm[at : at + length] += _hann(length) ** 2
    return (out / np.maximum(norm, 1e-9))[length : length + samples]


def transposed(x: np.ndarray, cut_bin: int, length: int, hop: int, frames: int) -> np.ndarray:
    """The band above ``cut_bin`` made of ``x`` transposed by `FACTORS`, each over its own
    multiple of the cut; zero under it."""
    bins = length // 2 + 1
    out = np.zeros((frames, bins), np.complex128)
    for i, factor in enumerate(FACTORS):
        low = cut_bin * (i + 1)
        high = bins if i == len(FACTORS) - 1 else min(bins, cut_bin * (i + 2))
        if low >= bins:
            break
        long = analyse(x, factor * length, hop, frames)[:, low:high]
        out[:, low:high] = np.abs(long) * np.exp(1j * factor * np.angle(long))
    return out


def with_transposer(model: System, level: str, length: int, hop: int, band: int) -> System:
    """``model`` with its band above the low-pass made of the transposed input, at the model's
    power or log level per cell (``level``)."""

    def process(clip: Clip) -> np.ndarray:
        out = model.estimate(clip)
        rate = clip.sample_rate
        cut = find_lowpass(clip.low, rate) if clip.lowpass_hz == "measure" else None
        if cut is None:
            return out
        low = clip.low.reshape(len(clip.low), -1)
        estimate = out.reshape(low.shape).astype(np.float64)
        cut_bin = int(np.ceil(cut / rate * length))
        frames = len(low) // hop + 1
        for c in range(low.shape[1]):
            have = analyse(estimate[:, c], length, hop, frames)
            fill = transposed(low[:, c].astype(np.float64), cut_bin, length, hop, frames)
            new = have.copy()
            for start in range(cut_bin, have.shape[1], band):
                cell = slice(start, start + band)
                p_have, p_fill = np.abs(have[:, cell]) ** 2, np.abs(fill[:, cell]) ** 2
                if level == "power":
                    gain = np.sqrt(p_have.sum(1) / np.maximum(p_fill.sum(1), 1e-30))
                else:
                    gap = np.log(p_have + 1e-30).mean(1) - np.log(p_fill + 1e-30).mean(1)
                    gain = np.exp(gap / 2)
                live = p_fill.sum(1) > 1e-6 * p_have.sum(1) + 1e-24
                new[live, cell] = fill[live, cell] * gain[live, None]
            change = synthesise(new - have, length, hop, len(low))
            estimate[:, c] += change
        return estimate.reshape(out.shape).astype(np.float32)

    return System(f"{model.name}, transposed at its {level} level", process_clip=process)


def main() -> None:
    parser = check_parser(__doc__, 120)
    parser.add_argument("--levels", nargs="*", default=["power", "log"])
    args = parser.parse_args()
    from spectral_enhance.inference.enhancer import Enhancer

    loaded = Enhancer.load(args.model)
    length, hop = loaded.stft.fft_length, loaded.stft.hop_length
    model = load_system(args.model)
    systems: list[str | System] = ["mp3", model]
    for level in args.levels:
        systems.append(with_transposer(model, level, length, hop, loaded.rule.noise_band_bins))
    run_check(args, systems)


if __name__ == "__main__":
    main()
