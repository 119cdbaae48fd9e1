"""Enhancing audio of any length, rate and channel count with a trained model, without PyTorch.

The signal is resampled to the model's rate and cut into long segments. Each segment is enhanced
with ``margin`` extra samples of real signal on both sides and only its middle kept, so memory
stays bounded for any length. For the spectral model the segment starts fall on the STFT's hop
grid and the margin covers the model's reach in frames plus the window overlap; for the waveform
baselines they fall on the model's down-sampling grid and the margin covers its receptive field.
Either way every kept sample sees exactly what a single pass over the whole signal would give it,
so segments leave no trace (TFiLM, whose LSTMs see all earlier input, is the one approximation:
its margin is a fixed ``TFILM_CONTEXT`` samples). At fp32 that holds to the bit. An int8 model
(the bundled default) quantizes its activations per call, by the call's own range, so there a
segment differs from one pass by a small part of the change the model makes.

Here the `Enhancer`: loading a model, what it rebuilds, and the signal at the model's rate and
back. Its bases cut the segments and keep them in flight (`segments`) and take each through the
model (`synthesis`); the model runs on a backend (`backends`); the output is mixed by `mixing`.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np

from ..audio import float_frames, resample
from ..audio.arrays import checked_rate
from ..dsp.band_level import LEAD_FRAMES
from ..dsp.holes import HoleGeometry, HoleNet, mended_band
from ..dsp.model_inputs import told_inputs
from ..dsp.noise import analyse_ahead
from ..dsp.stft import StftConfig, stft
from .backends import OnnxModel, TorchModel, usable_cores
from .bundled import DEFAULT_MODEL, PRECISIONS, PRETRAINED, bundled_models, find_model
from .card import BlockRule, ModelCard, block_rule
from .mixing import CHANGE_QUALITY, checked_strength, default_output_rate
from .segments import SegmentedStream

__all__ = [
    "PRETRAINED",
    "BlockRule",
    "Enhancer",
    "ModelCard",
    "bundled_models",
    "find_model",
]

# Frames x bins per segment: 2^19 (1,024 frames of the paper's 512 bins, about 11.5 s; 512 of
# the full-band model's 1,025, about 11.9 s) keeps each core's arrays small enough to stay in the
# allocator's reused memory. Twice that was 20 % slower end to end for both (benchmarks/).
SEGMENT_CELLS = 1 << 19
COHERENCE_SECONDS = 0.37  # how long the channels' likeness is measured over (as dsp's slope)
WAVEFORM_SEGMENT = 65_536  # samples per segment for the waveform models (memory grows with it)


class Enhancer(SegmentedStream):
    """Enhance signals with one loaded model; load it once and reuse it for many files.

    Example::

        enhancer = Enhancer.load()  # the bundled default, int8 on ONNX Runtime
        out, rate = enhancer.enhance(samples, sample_rate)
    """

    def __init__(
        self,
        model: Callable[[np.ndarray], np.ndarray],
        sample_rate: int,
        stft_config: StftConfig,
        rule: BlockRule,
        segment_frames: int | None = None,
        name: str = "model",
        segment_samples: int | None = None,
        unit_model: Callable[[np.ndarray], np.ndarray] | None = None,
        workers: int = 1,
        lowpass_floor_hz: float = 0.0,
        hole_net: HoleNet | None = None,
    ) -> None:
        for size, value in (
            ("segment_frames", segment_frames),
            ("segment_samples", segment_samples),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1
            ):  # a negative one never ended a stream's loop; a fraction failed in it
                raise ValueError(f"{size} must be a whole number from 1, or None, not {value!r}")
        self.model = model
        self.sample_rate = sample_rate
        self.stft = stft_config
        self.rule = rule
        self.name = name
        # What `load` read it from: the model's file, and an export's card and the precision
        # it chose (None: built from a model in hand, or a checkpoint's, which has no card).
        self.model_file: Path | None = None
        self.card: ModelCard | None = None
        self.precision: str | None = None
        # A model told the low-pass rebuilds only from one it learned to: below this, a dark
        # passage's falling spectrum, not a codec's cut (see `usable_lowpass`).
        self.lowpass_floor_hz = lowpass_floor_hz
        # Several segments or channels at once: each on one core, with ``unit_model`` (a
        # single-threaded copy of the model). Two such units run nearly twice as fast on two
        # cores as one unit whose FFT and model each split over both (benchmarks/, part b).
        self.unit_model = unit_model
        self.pool = ThreadPoolExecutor(workers) if unit_model and workers > 1 else None
        self.workers = workers if self.pool else 1
        self.hole_net = hole_net if rule.holes_frames else None  # the model's `dsp.holes` net
        if rule.holes_frames:
            if hole_net is None:
                raise ValueError(f"{name}: fills the codec's holes but has no hole net")
            try:
                hole_net.check(HoleGeometry.of(sample_rate, stft_config, rule.noise_band_bins))
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
        if rule.domain == "spectrum":
            hop = stft_config.hop_length
            # Reach of the model, plus the frames whose windows overlap a sample, on each side.
            overlap = -(-stft_config.fft_length // hop) + 1
            held = LEAD_FRAMES // 2 if rule.noise_band_bins else 0  # `lead_cap`'s reach
            self.margin = (rule.context + held + 2 * overlap) * hop
            # the channels' likeness under the low-pass over about COHERENCE_SECONDS, within
            # the model's reach (so a segment's margin holds all of it)
            wanted = round(COHERENCE_SECONDS * sample_rate / hop / 2)
            self.coherence_frames = 2 * min(wanted, rule.context) + 1
            self.segment = (segment_frames or SEGMENT_CELLS // stft_config.bins) * hop
            self.unit = hop  # segments are whole numbers of hops (the noise's frames)
        else:
            # Whole multiples of the down-sampling grid, so every segment sees the same grid.
            grid = rule.length_multiple
            self.margin = -(-rule.context // grid) * grid
            wanted = segment_samples or max(WAVEFORM_SEGMENT, 4 * self.margin)
            self.segment = -(-wanted // grid) * grid
            self.unit = grid

    @classmethod
    def load(
        cls,
        model: str | os.PathLike = DEFAULT_MODEL,
        backend: str = "onnx",
        precision: str | None = None,
        threads: int = 0,
        segment_frames: int | None = None,
        segment_samples: int | None = None,
    ) -> Enhancer:
        """Load a bundled model by name, an export folder, an ``.onnx`` file or a checkpoint.

        ``backend`` is ``onnx`` (the default; needs no PyTorch; ``precision`` picks the file of
        an export folder, int8 if None; an ``.onnx`` file is of its own, and another asked of
        it is refused) or ``torch`` (a ``.pt`` checkpoint from ``train``; needs ``[train]``).
        Long signals are cut into segments of ``segment_frames`` STFT frames (spectral models;
        default: `SEGMENT_CELLS` over the bins) or
        ``segment_samples`` samples (waveform models; default `WAVEFORM_SEGMENT`). ``threads``
        is the number of cores to use (0: all): ONNX models run one segment or channel per core
        when there are several, and one on all cores when there is one.
        """
        if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 0:
            raise ValueError(f"threads must be a whole number from 0 (all cores), not {threads!r}")
        path = find_model(model)
        if backend == "torch":
            if path.is_dir():
                raise ValueError(f"{path}: the torch backend needs a .pt checkpoint, not an export")
            net = TorchModel(path, threads)
            checkpoint = net.checkpoint
            rate = int(checkpoint["recipe"]["sample_rate"])
            rule = block_rule(net.model)
            stft_config = StftConfig(**checkpoint["stft"])
            floor = lowpass_floor(checkpoint["recipe"], rule)
            enhancer = cls(
                net,
                rate,
                stft_config,
                rule,
                segment_frames,
                path.stem,
                segment_samples,
                lowpass_floor_hz=floor,
            )
            enhancer.model_file = path
            return enhancer
        if backend != "onnx":
            raise ValueError(f"backend must be 'onnx' or 'torch', not {backend!r}")
        if precision is not None and precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        if path.suffix.lower() == ".pt":
            raise ValueError(
                f"{path}: a training checkpoint: run it with --backend torch, or export it "
                "(`spectral-enhance export`)"
            )
        card, precision = ModelCard.locate(path, precision)
        path = card.file(precision)
        net = OnnxModel(path, threads)
        if card.rule.noise_band_bins and net.input_names[0] != "power":
            raise ValueError(
                f"{path}: a noise-filling model exported before its graph took powers (its "
                f"first input is {net.input_names[0]!r}); export its checkpoint again"
            )
        workers = threads or usable_cores()
        enhancer = cls(
            net,
            card.sample_rate,
            card.stft,
            card.rule,
            segment_frames,
            card.name,
            segment_samples,
            unit_model=OnnxModel(path, 1) if workers > 1 else None,
            workers=workers,
            lowpass_floor_hz=lowpass_floor(card.recipe, card.rule),
            hole_net=HoleNet.load(hole_net) if (hole_net := card.hole_net_file()) else None,
        )
        enhancer.model_file, enhancer.card, enhancer.precision = path, card, precision
        return enhancer

    def process(
        self,
        samples: np.ndarray,
        progress: Callable[[int], None] | None = None,
        lowpass_hz: float | None = None,
        change: bool = False,
    ) -> np.ndarray:
        """Enhance ``[samples, channels]`` (or ``[samples]``) already at the model's rate; same
        shape out (see :meth:`stream` for ``lowpass_hz`` and ``change``). Samples are taken as
        :meth:`enhance` takes them (`audio.arrays.float_frames`: ints scaled, ``[channels,
        samples]`` and NaN refused); ``lowpass_hz`` None changes nothing."""
        frames, mono = float_frames(samples)
        stream = self.stream(progress, lowpass_hz, change)
        next(stream)
        head = stream.send(frames)
        out = np.concatenate([head, stream.send(None)])
        return out[:, 0] if mono else out

    def band_end(self, lowpass_hz: float | None, input_rate: int) -> float | None:
        """The low-pass to tell the model for an input at ``input_rate`` whose measured one is
        ``lowpass_hz`` (None: its band reaches its anti-aliasing edge). An input at a rate under
        the model's holds nothing over its own Nyquist frequency: where no cut shows under it,
        it is cut at that edge (`dsp.lowpass.ANTI_ALIAS` of it) and the band above rebuilt. On
        validation (``scripts/rate_edge_check.py``) lossless inputs at 22.05 and 24 kHz gained
        0.31 and 0.15 Zimtohrli so, where kept as they were they lost 0.10 and 0.07 (the
        resampler's pass band ends at about 0.91 of their Nyquist frequency); at 32 kHz, and
        LAME's ``-V7`` (32 kHz, no cut under its edge in 42 of 60 clips), a tie."""
        from ..dsp.lowpass import ANTI_ALIAS

        if lowpass_hz is None and self.rule.takes_lowpass and input_rate < self.sample_rate:
            return ANTI_ALIAS * input_rate / 2
        return lowpass_hz

    @contextlib.contextmanager
    def analysing_noise(self) -> Iterator[None]:
        """While the block runs (a file opened, its low-pass measured), a core of the pool
        analyses the noise the rebuilt band is laid over (`dsp.noise.analyse_ahead`), and the
        block's end waits for it: left to the first segment, it held a command's first file a
        tenth of a second. Without a pool or a noise to lay, nothing."""
        if self.pool is None or not self.rule.noise_band_bins:
            yield
            return
        ahead = self.pool.submit(analyse_ahead, self.stft, self.rule.noise_band_bins)
        try:
            yield
        finally:
            wait([ahead])

    def usable_lowpass(self, lowpass_hz: float | None) -> float | None:
        """The low-pass the model rebuilds from for ``lowpass_hz``, or None (nothing is
        rebuilt): a model told the low-pass learned from the low-passes of its training recipe;
        one far below the lowest (under the floor, `LOWPASS_MARGIN` of it) is a dark signal,
        not an encoder's cut, and a band copied up from there would be loud noise; any other is
        rebuilt from where it is."""
        if lowpass_hz is None or lowpass_hz < self.lowpass_floor_hz:
            return None
        return lowpass_hz

    def mended_band(self, lowpass_hz: float | None) -> tuple[float, float] | None:
        """The band under ``lowpass_hz`` whose codec holes the model fills with noise, in Hz
        (`dsp.holes`): with a model that fills them (``holes_frames``) and a low-pass it
        rebuilds from; else None."""
        usable = self.usable_lowpass(lowpass_hz)
        if not self.rule.holes_frames or usable is None:
            return None
        return mended_band(usable)

    def model_input(self, samples: int, seed: int = 0) -> tuple[np.ndarray, ...]:
        """The inputs of one model call on ``samples`` samples of noise, for timing it
        (`model_inputs`; ``model(*inputs)``)."""
        noise = np.random.default_rng(seed).standard_normal((1, samples)).astype(np.float32) * 0.1
        return model_inputs(noise, self.rule, self.stft)

    def enhance(
        self,
        samples: np.ndarray,
        sample_rate: int,
        output_rate: int | None = None,
        strength: float = 1.0,
        lowpass_hz: float | str | None = "measure",
        mp3: bool = False,
    ) -> tuple[np.ndarray, int]:
        """Enhance ``[samples]`` or ``[samples, channels]`` at any rate.

        Returns the enhanced signal at ``output_rate`` (default: `default_output_rate`, 44.1 kHz
        or the input's own rate above it) with the same shape convention and the same duration
        as the input, aligned to it, and that rate. The output is the input at the output rate
        plus ``strength`` (0 to 1) times what the model changes, so the input's band above the
        model's is kept and ``strength=0`` returns the input itself. ``lowpass_hz``: the input's
        low-pass, for a model that takes one; ``"measure"`` finds it over the whole signal
        (:func:`spectral_enhance.dsp.lowpass.find_lowpass`; ``mp3``: the samples are an MP3's
        decode, whose cut is looked for even where the spectrum shows none, as ``enhance`` does
        for an MP3 file; at a rate under the model's, none found is the rate's edge:
        :meth:`band_end`), None says there is none; one under ``lowpass_floor_hz`` is a dark
        signal's fall, not a codec's cut, and nothing is rebuilt (:meth:`usable_lowpass`).

        Float samples are taken as they are (full scale 1.0); int16 is scaled by 1/32,768,
        int32 by 1/2^31, and uint8 (8-bit WAV) is centred at 128 and scaled by 1/128. Rates are
        integers from 1,000 to 768,000 Hz. NaN or infinite samples, other types and
        ``[channels, samples]`` arrays are refused (``ValueError``; `audio.arrays.float_frames`
        says what is an array of samples), as are a ``strength`` or ``lowpass_hz`` that is not
        a number in its range (``threads`` is :meth:`load`'s)."""
        frames, mono = float_frames(samples)
        sample_rate = checked_rate(sample_rate, "sample_rate")
        if output_rate is None:
            output_rate = default_output_rate(sample_rate)
        output_rate = checked_rate(output_rate, "output_rate")
        strength = checked_strength(strength)
        given = lowpass_hz is not None and not (
            isinstance(lowpass_hz, str) and lowpass_hz == "measure"
        )
        if given and (
            isinstance(lowpass_hz, bool)
            or not isinstance(lowpass_hz, int | float | np.integer | np.floating)
            or not 0 <= lowpass_hz < math.inf
        ):
            raise ValueError(
                f"lowpass_hz must be a number of Hz from 0 on, None or 'measure', not "
                f"{lowpass_hz!r}"
            )
        if isinstance(lowpass_hz, str):
            from ..dsp.lowpass import lowpass_of_frames

            found = (
                lowpass_of_frames(frames, sample_rate, mp3=mp3) if self.rule.takes_lowpass else None
            )
            lowpass_hz = self.band_end(found, sample_rate)
        out = resample(frames, sample_rate, output_rate)
        if strength:  # at 0 the model is not run, as in `enhance`
            at_model = resample(frames, sample_rate, self.sample_rate)
            change = self.process(at_model, lowpass_hz=lowpass_hz, change=True)
            delta = resample(change, self.sample_rate, output_rate, CHANGE_QUALITY)[: len(out)]
            out[: len(delta)] += np.float32(strength) * delta  # the two rounds may differ by one
        return (out[:, 0] if mono else out), output_rate


def model_inputs(
    signal: np.ndarray, rule: BlockRule, stft_config: StftConfig | None
) -> tuple[np.ndarray, ...]:
    """The inputs of one model call on ``[batch, samples]``: the waveform or its spectrum, or
    for a model told the low-pass `told_inputs` for one at a quarter of the band (to time a
    model, or check one)."""
    if rule.domain == "waveform":
        return (signal,)
    spec = stft(signal, stft_config)
    if not rule.takes_lowpass:
        return (spec,)
    return told_inputs(spec, spec.shape[-1] / 4, rule)


LOWPASS_MARGIN = 0.4
"""The floor, the lowest low-pass a model told the low-pass rebuilds from, is this share of its
training recipe's lowest (2.2 kHz for `full-band`'s 5.54 kHz). Under it, a "low-pass" is a dark
signal's, not a codec's cut, and a band copied up from there would be loud noise: dark signals
that show one measure 1 to 1.8 kHz (every clip of the corpus and the unheard music under it).
Over it, a cut is rebuilt from where it is, under the lowest the model learned from too: an MP3
with no low-pass filter codes its band in most granules to 3.5 to 4.4 kHz at 32 kbps (libshine,
LAME with ``--lowpass -1``: `dsp.lowpass.SpectrumMeter.soft_cut`), an 11.025 kHz MP3 at 24 kbps
to 3.6 to 3.9 kHz, and an 8 kHz file cannot reach 4.4 kHz at all. Until 2026-11-27 a cut from
2.2 to 4.4 kHz was rebuilt from 4.4 kHz, which left the band between the two empty; rebuilt from
the cut, every kind gained on validation and no clip lost more than 0.034
(``scripts/low_rate_check.py``, docs/full-band.md, "A cut under the lowest learned")."""


def lowpass_floor(recipe: dict, rule: BlockRule) -> float:
    """The lowest low-pass (Hz) a model with this recipe and rule rebuilds from (0: any)."""
    if not rule.takes_lowpass:
        return 0.0
    from ..dataset.recipe import DegradationRecipe

    return LOWPASS_MARGIN * DegradationRecipe(**recipe).lowest_cutoff()
