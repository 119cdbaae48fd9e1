"""What evaluate scores, apart from how: the clip a system sees; the rules, oracles and models."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..dataset.manifest import clip_cutoff_hz, read_clip
from ..dataset.recipe import DegradationRecipe
from ..dsp.replication import band_replication, brick_wall_split, envelope_oracle
from ..inference.card import fingerprint
from ..inference.enhancer import Enhancer, find_model

__all__ = [
    "Clip",
    "System",
    "enhancer_system",
    "load_system",
    "oracle_envelope",
]

INPUT = "mp3"  # the system that is the decoded input itself


@dataclass(frozen=True)
class Clip:
    """One clip as a system may see it: float32 ``[samples]`` or ``[samples, channels]``.

    ``cutoff_hz`` is where the oracles split it, and where LSD above the cutoff starts.
    ``lowpass_hz`` is the low-pass a system that rebuilds is told, as ``enhance`` finds it in a
    whole file: ``"measure"`` has a model find it in ``low`` (a lossy clip's cut is its
    encoder's, the same all through its file) and the rules take ``cutoff_hz``; a lossless
    input is told its track's (:func:`~spectral_enhance.evaluation.evaluate.track_lowpass`),
    since a quiet passage can lack a band its file has.
    """

    low: np.ndarray
    high: np.ndarray
    sample_rate: int
    cutoff_hz: float
    lowpass_hz: float | str | None = "measure"

    @classmethod
    def of_row(cls, row: dict, recipe: DegradationRecipe) -> Clip:
        """A manifest row's clip: its decoded MP3, its reference, its rate and its low-pass
        (`clip_cutoff_hz`)."""
        low, high = read_clip(row, "low"), read_clip(row, "high")
        return cls(low, high, int(row["sample_rate"]), clip_cutoff_hz(row, recipe))


@dataclass
class System:
    """A named way of turning the low-bitrate clip into an estimate of the reference.

    ``process`` takes the decoded input alone; ``process_clip``, when given, is used instead and
    sees the whole :class:`Clip` (the oracles need the reference, ``dsp`` the clip's cutoff).
    """

    name: str
    process: Callable[[np.ndarray], np.ndarray] | None = None
    model_ms: float | None = None
    size_bytes: int | None = None
    process_clip: Callable[[Clip], np.ndarray] | None = None
    fingerprint: str | None = None  # a model's (`inference.card.fingerprint`); None: a rule's

    def estimate(self, clip: Clip) -> np.ndarray:
        """This system's estimate of ``clip.high``."""
        if self.process_clip is not None:
            return self.process_clip(clip)
        assert self.process is not None, f"system {self.name} has no process"
        return self.process(clip.low)


def per_channel(clip: Clip, process: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """``process(low, high)`` on each channel of ``clip`` (1-D each), stacked back into the
    clip's shape: for systems that work on one channel at a time."""
    low = clip.low.reshape(len(clip.low), -1)
    high = clip.high.reshape(low.shape)
    out = [process(a, b) for a, b in zip(low.T, high.T, strict=True)]
    return np.stack(out, axis=1).reshape(clip.low.shape)


def _replication(rule: str) -> Callable[[Clip], np.ndarray]:
    """`band_replication` by ``rule`` on each channel of a clip, at the clip's cutoff, or at the
    low-pass it is told (a lossless input: its file's; None, nothing to rebuild), as a model."""

    def process(clip: Clip) -> np.ndarray:
        rate, cut = clip.sample_rate, clip.cutoff_hz
        if clip.lowpass_hz != "measure":
            if clip.lowpass_hz is None:
                return clip.low
            cut = float(clip.lowpass_hz)
        return per_channel(clip, lambda low, _: band_replication(low, rate, cut, rule))

    return process


def _oracle_high(clip: Clip) -> np.ndarray:
    """The decoded input below the cutoff, the reference above it."""
    below = brick_wall_split(clip.low, clip.sample_rate, clip.cutoff_hz)[0]
    return below + brick_wall_split(clip.high, clip.sample_rate, clip.cutoff_hz)[1]


def oracle_envelope(clip: Clip, band_bins: int = 8, noise: bool = False) -> np.ndarray:
    """The input's copied band (or, with ``noise``, white noise of a seed of its own for each
    channel) at the reference's level per band of ``band_bins`` bins and frame
    (:func:`~spectral_enhance.dsp.replication.envelope_oracle`); the system ``oracle-envelope``
    is the copy in 8-bin bands."""
    rate, cut = clip.sample_rate, clip.cutoff_hz
    seeds = iter(range(clip.low.size)) if noise else None

    def process(low: np.ndarray, high: np.ndarray) -> np.ndarray:
        seed = next(seeds) if seeds else None
        return envelope_oracle(low, high, rate, cut, band_bins=band_bins, noise_seed=seed)

    return per_channel(clip, process)


def _oracle_low(clip: Clip) -> np.ndarray:
    """The reference below the cutoff, nothing above it."""
    return brick_wall_split(clip.high, clip.sample_rate, clip.cutoff_hz)[0]


UNLEARNED = {
    INPUT: System(INPUT, lambda low: low),
    "dsp": System("dsp", process_clip=_replication("tilt")),
    "dsp-edge": System("dsp-edge", process_clip=_replication("edge")),
    "naive": System("naive", process_clip=_replication("naive")),
    "oracle-high": System("oracle-high", process_clip=_oracle_high),
    "oracle-low": System("oracle-low", process_clip=_oracle_low),
    "oracle-envelope": System("oracle-envelope", process_clip=oracle_envelope),
}


def _time_model(enhancer: Enhancer, repeats: int = 20) -> float:
    """Median model-only time (ms) of one 100,000-sample clip, as the model takes it."""
    example = enhancer.model_input(100_000)
    enhancer.model(*example)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        enhancer.model(*example)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def load_system(spec: str) -> System:
    """``mp3``, ``dsp``, ``dsp-edge``, ``naive``, ``oracle-high``, ``oracle-low``,
    ``oracle-envelope`` (each clip gives its own cutoff), or a model:
    ``NAME_OR_PATH[@fp32|fp16|int8]`` (a .pt uses PyTorch)."""
    if spec in UNLEARNED:
        return UNLEARNED[spec]
    target, _, precision = spec.partition("@")
    path = find_model(target)
    if path.suffix == ".pt":
        enhancer = Enhancer.load(path, backend="torch")
    else:
        enhancer = Enhancer.load(path, precision=precision or None)
    card, file = enhancer.card, enhancer.model_file
    mark = card.fingerprint(enhancer.precision) if card else fingerprint(file, enhancer.rule)
    name = spec if "@" in spec or card is None else f"{spec}@{enhancer.precision}"
    return replace(enhancer_system(name, enhancer, file.stat().st_size), fingerprint=mark)


def enhancer_system(name: str, enhancer: Enhancer, size_bytes: int | None = None) -> System:
    """The system ``name`` that runs each clip through ``enhancer`` as ``enhance`` does (a model
    told the low-pass gets the one measured in the input), its model timed."""

    def process(clip: Clip) -> np.ndarray:
        rate = clip.sample_rate
        return enhancer.enhance(clip.low, rate, output_rate=rate, lowpass_hz=clip.lowpass_hz)[0]

    return System(name, model_ms=_time_model(enhancer), size_bytes=size_bytes, process_clip=process)
