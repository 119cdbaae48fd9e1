"""Is the codec's damage under the low-pass worth mending? Fill its holes with noise and see.

At 32 and 48 kbps LAME leaves bands under its low-pass empty for a granule or more (a band it
had no bits for), and `oracle-low` (the reference under the low-pass) is worth +0.3 to +0.5 on
Zimtohrli there; the full-band model, as bundled before the hole fill, left that band as it
came. Here the model's output (``--model``, an export without ``holes``) gets noise under the
low-pass, per band of 8 bins and frame of a 2,048-point STFT with hop 512, where the band is
more than DEPTH dB under a level, up to that level less UNDER dB. Each ``--fills`` spec,
``LEVEL:DEPTH[,UNDER[,FRAMES[,FROM]]][:found]``, is one system; LEVEL is

- ``reference``: the reference's own power there (an oracle: what filling holes can be worth);
- ``neighbours``: the softer of the band's loudest over FRAMES frames and of its neighbours'
  one band either side;
- ``time``: the band's loudest over FRAMES frames;
- ``blend``: the mean of its upper quartile over FRAMES frames and the loudest of 3 bands
  either side;
- ``octave``: the softer of its loudest over FRAMES frames and the loudest of 3 bands either
  side, in the octave under the low-pass only (how `dsp.holes` found them before its net);
- ``octave-loud``, ``octave-mean``: the holes ``octave`` finds, filled to the band's loudest
  over FRAMES frames (or the mean of that and the loudest of 3 bands either side, as
  `dsp.holes` filled them before its net) less UNDER;

an ``octave`` rule's fourth number, FROM, starts it at that share of the low-pass instead of
half (``octave-mean:20,6,43,0.33``); and ``:found`` fills the holes a rule finds to the
reference's level instead of its own (is it the finding or the level that falls short?).

Usage: python scripts/hole_fill_check.py DATASET --out FOLDER [--split val] [--limit 60]
           [--model runs/fill-calm] [--fills reference:15 octave:20,6,43 octave:20,6,43:found]
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter, percentile_filter
from validation_check import check_parser, run_check

from spectral_enhance.dsp.stft import StftConfig, istft, stft
from spectral_enhance.evaluation.systems import Clip, System, load_system

CONFIG = StftConfig(2048, 512, 2048)  # the paper's 21.5 Hz and 11.6 ms at 44.1 kHz
BAND_BINS = 8
LEVELS = ("reference", "neighbours", "time", "blend", "octave", "octave-loud", "octave-mean")


def band_powers(spec: np.ndarray, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Power per band of `BAND_BINS` bins from bin 1 up to bin ``last`` and frame, and the
    bands' first bins."""
    edges = np.arange(1, last, BAND_BINS)
    return np.add.reduceat((spec[..., :last] ** 2).sum(axis=0), edges, axis=1), edges


def fill_level(
    db: np.ndarray, level: str, under_db: float, frames: int, start: float = 0.5
) -> np.ndarray:
    """The power a rule fills each band (``db``, ``[frames, bands]``) up to; an ``octave`` rule
    from the band at ``start`` of the low-pass up."""
    if level == "neighbours":
        around = np.minimum(
            maximum_filter(db, size=(frames, 1), mode="nearest"),
            maximum_filter(db, size=(1, 3), mode="nearest"),
        )
    elif level == "time":
        around = maximum_filter(db, size=(frames, 1), mode="nearest")
    elif level == "blend":
        quartile = percentile_filter(db, 75, size=(frames, 1), mode="nearest")
        around = (quartile + maximum_filter(db, size=(1, 7), mode="nearest")) / 2
    else:  # "octave" and its fills
        around = np.minimum(
            maximum_filter(db, size=(frames, 1), mode="nearest"),
            maximum_filter(db, size=(1, 7), mode="nearest"),
        )
    wanted = 10 ** ((around - under_db) / 10)
    if level.startswith("octave"):
        wanted[:, : int(db.shape[1] * start)] = 0
    return wanted


def octave_fill(db: np.ndarray, level: str, under_db: float, frames: int) -> np.ndarray:
    """The power ``octave-loud`` and ``octave-mean`` fill a hole up to."""
    loudest = maximum_filter(db, size=(frames, 1), mode="nearest")
    if level == "octave-mean":
        loudest = (loudest + maximum_filter(db, size=(1, 7), mode="nearest")) / 2
    return 10 ** ((loudest - under_db) / 10)


def fill_holes(
    out: np.ndarray,
    clip: Clip,
    level: str,
    depth_db: float,
    under_db: float = 0.0,
    frames: int = 9,
    found: bool = False,
    seed: int = 0,
    start: float = 0.5,
) -> np.ndarray:
    """``out`` plus noise under the clip's low-pass, per band and frame, where the band is more
    than ``depth_db`` under the ``level`` less ``under_db``, up to there (with ``found``, up to
    the reference's level). A lossless file (no low-pass told) is left, as the enhancer would."""
    cut = clip.cutoff_hz if clip.lowpass_hz == "measure" else clip.lowpass_hz
    if cut is None:
        return out
    filled = out.reshape(len(out), -1).copy()
    high = clip.high.reshape(len(clip.high), -1)
    last = int(float(cut) * CONFIG.fft_length / clip.sample_rate)
    rng = np.random.default_rng(seed)
    for c in range(filled.shape[1]):
        have, edges = band_powers(stft(filled[:, c], CONFIG).astype(np.float64), last)
        if level == "reference" or found:
            reference = band_powers(stft(high[:, c], CONFIG).astype(np.float64), last)[0]
        if level == "reference":
            wanted = reference
        else:
            wanted = fill_level(10 * np.log10(have + 1e-12), level, under_db, frames, start)
        holes = wanted > have * 10 ** (depth_db / 10)
        if level in ("octave-loud", "octave-mean"):
            wanted = octave_fill(10 * np.log10(have + 1e-12), level, under_db, frames)
        fill = np.where(holes, (reference if found else wanted) - have, 0.0).clip(0)
        noise = stft(rng.standard_normal(len(filled)), CONFIG).astype(np.float64)
        noise[..., last:] = 0
        noise[..., :1] = 0
        gain = np.sqrt(fill / np.maximum(band_powers(noise, last)[0], 1e-20))
        noise[..., 1:last] *= np.repeat(gain, np.diff(np.append(edges, last)), axis=1)
        filled[:, c] += istft(noise, len(filled), CONFIG)
    return filled.reshape(out.shape).astype(np.float32)


def parse_fill(spec: str) -> dict:
    """``LEVEL:DEPTH[,UNDER[,FRAMES[,FROM]]][:found]`` as `fill_holes`' options."""
    level, numbers, *rest = spec.split(":")
    values = [float(x) for x in numbers.split(",")]
    if level not in LEVELS or len(values) > 4 or rest not in ([], ["found"]):
        raise SystemExit(
            f"--fills {spec!r}: LEVEL:DEPTH[,UNDER[,FRAMES[,FROM]]][:found], LEVEL {LEVELS}"
        )
    options = dict(zip(("depth_db", "under_db", "frames", "start"), values, strict=False))
    if "frames" in options:
        options["frames"] = int(options["frames"])
    return {"level": level, "found": bool(rest), **options}


def main() -> None:
    parser = check_parser(__doc__)
    parser.add_argument("--fills", nargs="+", default=["reference:15", "octave:20,6,43"])
    args = parser.parse_args()
    model = load_system(args.model)

    def system(spec: str) -> System:
        options = parse_fill(spec)
        return System(
            f"{model.name} + holes {spec}",
            process_clip=lambda clip: fill_holes(model.estimate(clip), clip, **options),
        )

    run_check(args, ["mp3", model, *(system(spec) for spec in args.fills), "oracle-low"])


if __name__ == "__main__":
    main()
