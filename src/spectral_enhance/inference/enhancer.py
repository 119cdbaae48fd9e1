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
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, fields
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import float_frames, resample
from ..audio.arrays import checked_rate
from ..dsp.bands import (
    LEAD_FRAMES,
    calm_band,
    calm_share,
    channel_coherence,
    channels_mixing,
    copy_start,
    fill_dips,
    lay_over_noise,
    lead_cap,
    noise_frames,
    told_inputs,
)
from ..dsp.holes import HoleGeometry, HoleNet, hole_scale, mended_band
from ..dsp.stft import StftConfig, istft, spectrum, stft
from ..dsp.stft import power as stft_power
from .bundled import CARD_NAME, DEFAULT_MODEL, PRETRAINED, bundled_models, find_model
from .card import BlockRule, ModelCard

__all__ = [
    "PRETRAINED",
    "BlockRule",
    "Enhancer",
    "ModelCard",
    "block_rule",
    "bundled_models",
    "find_model",
]

PRECISIONS = ("fp32", "fp16", "int8")
# Frames x bins per segment: 2^19 (1,024 frames of the paper's 512 bins, about 11.5 s; 512 of
# the full-band model's 1,025, about 11.9 s) keeps each core's arrays small enough to stay in the
# allocator's reused memory. Twice that was 20 % slower end to end for both (benchmarks/).
SEGMENT_CELLS = 1 << 19
COHERENCE_SECONDS = 0.37  # how long the channels' likeness is measured over (as dsp's slope)
WAVEFORM_SEGMENT = 65_536  # samples per segment for the waveform models (memory grows with it)
TFILM_CONTEXT = 16_384  # samples of margin for TFiLM, whose exact reach is unbounded


def block_rule(model: Any) -> BlockRule:
    """The `BlockRule` of a built PyTorch model, for its card and for the torch backend, from
    the attributes every model has (:class:`spectral_enhance.models.interface.EnhancementModel`).
    Every field but the first four is the model's attribute of the same name."""
    from ..models import UNBOUNDED

    named = {
        "domain": model.domain,
        "context": TFILM_CONTEXT if model.reach == UNBOUNDED else model.reach,
        "multiple": model.length_multiple,
        "lowpass": model.takes_lowpass,
    }
    same = {f.name: getattr(model, f.name) for f in fields(BlockRule) if f.name not in named}
    return BlockRule(**named, **same)


def usable_cores() -> int:
    """Cores this process may run on: its affinity (where the system reports one), and no more
    than its container's CPU quota, which the affinity does not show (``docker run --cpus 2``
    on a 64-core host: 64 segments at once would take 64 segments' memory); as joblib's loky
    counts them."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cores = os.cpu_count() or 1
    quota = cpu_quota()
    return max(1, min(cores, math.ceil(quota))) if quota else cores


CGROUP = Path("/sys/fs/cgroup")


def cpu_quota(root: Path = CGROUP) -> float | None:
    """The cores' worth of CPU time a Linux cgroup (v2 ``cpu.max``, or v1's CFS quota and
    period) allows this process, or None where none is set or readable."""
    try:
        if (root / "cpu.max").is_file():
            quota, period = (root / "cpu.max").read_text().split()[:2]
        else:
            v1 = root / "cpu"
            quota = (v1 / "cpu.cfs_quota_us").read_text().strip()
            period = (v1 / "cpu.cfs_period_us").read_text().strip()
        if quota == "max" or int(quota) <= 0 or int(period) <= 0:
            return None
        return int(quota) / int(period)
    except (OSError, ValueError):
        return None


class OnnxModel:
    """An ONNX Runtime CPU session mapping a spectrum or a waveform to the same shape."""

    def __init__(self, path: str | os.PathLike, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: model file missing")
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # ONNX Runtime raises its own kinds for a file it cannot load
            reason = next((line for line in str(error).splitlines() if line.strip()), "")
            raise ValueError(f"{path}: not a valid ONNX model ({reason[:300]})") from error
        self.input_names = [node.name for node in self.session.get_inputs()]

    def __call__(self, x: np.ndarray, *more: np.ndarray) -> np.ndarray:
        """Run on ``x`` (and the further inputs of a model that has them, such as the copy map
        of a model told the low-pass), as float32 and int64 as given."""
        feed = {self.input_names[0]: x.astype(np.float32, copy=False)}
        feed |= dict(zip(self.input_names[1:], more, strict=True))
        return self.session.run(None, feed)[0]


class TorchModel:
    """A PyTorch checkpoint behind the same call as :class:`OnnxModel` (needs ``[train]``)."""

    def __init__(self, path: str | os.PathLike, threads: int = 0) -> None:
        import torch

        from ..models import exported_graph
        from ..models.checkpoint import load_model

        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        self.model, self.checkpoint = load_model(path)
        self.graph = exported_graph(self.model)  # what an export of it would run

    def __call__(self, x: np.ndarray, *more: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            x = self.torch.from_numpy(x.astype(np.float32))
            return self.graph(x, *(self.torch.from_numpy(a) for a in more)).numpy()


@dataclass(frozen=True)
class _Job:
    """What one stream asks of every segment: the input's low-pass (for a model told it; None:
    nothing to rebuild), whether to return the model's change rather than its output, whether
    to fill the codec's holes under the low-pass (`Enhancer.mended_band`), and the share of the
    rebuilt band's swing to keep (`dsp.bands.calm_share`)."""

    lowpass_hz: float | None
    change: bool
    mends: bool = False
    calm: float = 1.0


class _Flight:
    """The segments of one stream on their way through the model, returned in order.

    With a pool, each segment (or each of its channels, for a model that takes them apart) is
    started on a core of its own as soon as it is cut, and up to one per core run while the
    next ones are decoded: a stream hands over one segment at a time, so waiting for each in
    turn would leave all but one core idle. Without one, or for a lone last segment of a model
    that takes its channels together, a segment runs at once on the model of all cores.
    """

    def __init__(
        self, enhancer: Enhancer, job: _Job, progress: Callable[[int], None] | None
    ) -> None:
        self.enhancer, self.job, self.progress = enhancer, job, progress
        # per segment: its units' futures (one, or one per channel) and the samples to keep
        self.queue: deque[tuple[list[Future], int]] = deque()

    def start(self, window: np.ndarray, take: int, first: int, last: bool = False) -> None:
        """Enhance ``window`` (a padded segment starting at the stream's sample ``first``); its
        first ``take`` samples will be kept."""
        enhancer, job = self.enhancer, self.job
        pool, unit = enhancer.pool, enhancer.unit_model
        joint = enhancer.rule.joint_channels or window.shape[1] == 1
        if pool is None or (last and joint and not self.queue):
            done: Future = Future()
            done.set_result(enhancer._segment(window, job, enhancer.model, first))
            self.queue.append(([done], take))
            return
        units = [window] if joint else [window[:, c : c + 1] for c in range(window.shape[1])]
        futures = [pool.submit(enhancer._segment, u, job, unit, first, 1) for u in units]
        self.queue.append((futures, take))
        for futures, _ in islice(self.queue, max(0, len(self.queue) - enhancer.workers)):
            wait(futures)  # bounded: no more than one segment per core still to come

    def finished(self, channels: int, wait_all: bool = False) -> np.ndarray:
        """The kept samples of the segments done so far, in order (all of them at ``wait_all``),
        in C order: a segment comes back channels first, and the caller adds it sample by sample,
        so it is transposed once, here, as it is gathered."""
        done = []
        while self.queue and (wait_all or all(f.done() for f in self.queue[0][0])):
            futures, take = self.queue.popleft()
            done.append(([f.result() for f in futures], take))
            if self.progress:
                self.progress(take)
        out = np.empty((sum(take for _, take in done), channels), np.float32)
        at = 0
        for parts, take in done:
            # Column by column: numpy transposes [channels, n] to [n, channels] in one copy
            # 7 times slower than it fills each column of it (5 % of a 48 kbps file's work).
            for column, channel in enumerate(c for part in parts for c in part[:take].T):
                out[at : at + take, column] = channel
            at += take
        return out


class Enhancer:
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
            grid = rule.multiple
            self.margin = -(-rule.context // grid) * grid
            wanted = segment_samples or max(WAVEFORM_SEGMENT, 4 * self.margin)
            self.segment = -(-wanted // grid) * grid
            self.unit = grid

    @classmethod
    def load(
        cls,
        model: str | os.PathLike = DEFAULT_MODEL,
        backend: str = "onnx",
        precision: str = "int8",
        threads: int = 0,
        segment_frames: int | None = None,
        segment_samples: int | None = None,
    ) -> Enhancer:
        """Load a bundled model by name, an export folder, an ``.onnx`` file or a checkpoint.

        ``backend`` is ``onnx`` (the default; needs no PyTorch; ``precision`` picks the file of
        an export folder) or ``torch`` (a ``.pt`` checkpoint from ``train``; needs ``[train]``).
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
            return cls(
                net,
                rate,
                stft_config,
                rule,
                segment_frames,
                path.stem,
                segment_samples,
                lowpass_floor_hz=floor,
            )
        if backend != "onnx":
            raise ValueError(f"backend must be 'onnx' or 'torch', not {backend!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        if path.suffix.lower() == ".pt":
            raise ValueError(
                f"{path}: a training checkpoint: run it with --backend torch, or export it "
                "(`spectral-enhance export`)"
            )
        if not path.is_dir() and not (path.parent / CARD_NAME).is_file():
            raise ValueError(f"{path}: no {CARD_NAME} beside it (an export folder holds both)")
        card = ModelCard.read(path if path.is_dir() else path.parent)
        if path.is_dir():
            path = card.file(precision)
        elif path.name not in card.files.values():  # its hole net, or a stray file beside it
            raise ValueError(
                f"{path}: not a model of its folder's {CARD_NAME} (its models: "
                f"{', '.join(card.files.values())}); load the folder or one of those"
            )
        net = OnnxModel(path, threads)
        if card.rule.noise_band_bins and net.input_names[0] != "power":
            raise ValueError(
                f"{path}: a noise-filling model exported before its graph took powers (its "
                f"first input is {net.input_names[0]!r}); export its checkpoint again"
            )
        workers = threads or usable_cores()
        return cls(
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

    def stream(
        self,
        progress: Callable[[int], None] | None = None,
        lowpass_hz: float | None = None,
        change: bool = False,
    ) -> Iterator[np.ndarray]:
        """A generator: send ``[n, channels]`` chunks at the model's rate, then ``None``.

        Each send returns the enhanced samples that are complete so far; the final ``None``
        returns the rest. Altogether the output is exactly as long as the input.
        ``lowpass_hz``: the input's low-pass, for a model that takes it (`takes_lowpass`);
        None means the input reaches its Nyquist frequency, and such a model changes nothing.
        ``change``: return what the model changes (its output minus its input) instead of its
        output, for a caller that adds it to the input at another rate.
        """
        mends = self.mended_band(lowpass_hz) is not None
        usable = self.usable_lowpass(lowpass_hz)
        calm = self.rule.calm if usable is None else calm_share(self.rule.calm, usable)
        job = _Job(usable, change, mends, calm)
        flight = _Flight(self, job, progress)
        buffer: np.ndarray | None = None
        pending = 0  # input samples received and not yet cut into segments
        first = -self.margin  # the stream's sample where the next segment's window starts
        out = np.zeros((0, 0), dtype=np.float32)
        while True:
            chunk = yield out
            if chunk is None:
                break
            chunk = np.asarray(chunk, dtype=np.float32)
            if chunk.ndim != 2 or (buffer is not None and chunk.shape[1] != buffer.shape[1]):
                had = "" if buffer is None else f" after chunks of {buffer.shape[1]} channels"
                raise ValueError(f"a chunk must be [samples, channels]{had}, not {chunk.shape}")
            # one NaN would spread over its whole segment; the sum is the cheap look
            if not np.isfinite(chunk.sum()) and not (finite := np.isfinite(chunk)).all():
                first = int(np.argwhere(~finite)[0][0])
                raise ValueError(
                    f"a chunk holds NaN or infinite values (the first at its sample {first})"
                )
            if buffer is None:
                buffer = np.zeros((self.margin, chunk.shape[1]), dtype=np.float32)
            buffer = np.concatenate([buffer, chunk])
            pending += len(chunk)
            while len(buffer) >= 2 * self.margin + self.segment:
                flight.start(buffer[: 2 * self.margin + self.segment], self.segment, first)
                buffer = buffer[self.segment :]
                first += self.segment
                pending -= self.segment
            out = flight.finished(chunk.shape[1])
        while buffer is not None and pending > 0:
            # The last window only as long as its samples need: a whole segment of padding
            # cost a whole segment's work, on one core, when the others have none left.
            take = min(self.segment, pending)
            size = 2 * self.margin + -(-take // self.unit) * self.unit
            window = np.zeros((size, buffer.shape[1]), np.float32)
            window[: min(len(buffer), size)] = buffer[:size]
            flight.start(window, take, first, last=True)
            buffer = buffer[self.segment :]
            first += self.segment
            pending -= take
        yield flight.finished(1 if buffer is None else buffer.shape[1], wait_all=True)

    def _segment(
        self,
        window: np.ndarray,
        job: _Job,
        model: Callable[..., np.ndarray],
        first: int,
        fft_workers: int = -1,
    ) -> np.ndarray:
        """Enhance one padded segment ``[2 * margin + segment, channels]`` (a last one may be
        shorter) that starts at the stream's sample ``first``; return its middle."""
        middle = slice(self.margin, len(window) - self.margin)
        if self.rule.lowpass and job.lowpass_hz is None:  # nothing to rebuild
            return np.zeros_like(window[middle]) if job.change else window[middle]
        channels_first = window.T  # a view: the STFT's padding copies it channels first
        if self.rule.domain == "waveform":
            enhanced = model(np.ascontiguousarray(channels_first)).T
        else:
            # [channels, 2, frames, bins], or complex [channels, frames, bins] for a graph that
            # takes powers: the noise is laid over it, and the inverse takes it, as it is
            analyse = spectrum if self.rule.noise_band_bins else stft
            spec = analyse(channels_first, self.stft, workers=fft_workers)
            if self.rule.lowpass:
                cutoff = job.lowpass_hz * self.stft.fft_length / self.sample_rate
                per_bin = stft_power(spec) if job.mends else None
                inputs = told_inputs(spec, cutoff, self.rule, per_bin)
                if self.rule.noise_band_bins:  # the band's amplitudes, laid over noise here
                    rule = self.rule
                    scale = calm_band(
                        model(*inputs),
                        inputs[2],
                        rule.noise_band_bins,
                        job.calm,
                        rule.calm_frames,
                        inputs[0],
                    )
                    scale = fill_dips(scale, copy_start(inputs[2]) // rule.noise_band_bins)
                    scale = lead_cap(scale, inputs[2], rule.noise_band_bins, inputs[0])
                    # Laid and synthesised only in the frames that make the middle: the
                    # margins' are for the model's reach, 15 % of a segment's frames.
                    kept = self._kept_frames(len(window))
                    change = self._lay_over_noise(scale, spec, inputs, first, cutoff, per_bin, kept)
                    length = len(window) - 2 * self.margin
                    added = istft(change, length, self.stft, workers=fft_workers).T
                    return added if job.change else window[middle] + added
                spec = model(*inputs)
            else:
                spec = model(spec)
            enhanced = istft(spec, len(window), self.stft, workers=fft_workers).T
        enhanced = enhanced[middle]
        return enhanced - window[middle] if job.change else enhanced

    def _kept_frames(self, length: int) -> slice:
        """The frames of a window of ``length`` samples whose STFT windows reach its middle (all
        but the margins): `istft` of these alone gives the middle's samples."""
        hop, middle = self.stft.hop_length, length - 2 * self.margin
        first = self.margin // hop  # the margin is a whole number of hops
        return slice(first, first - (-(self.stft.pad + middle) // hop))

    def _lay_over_noise(
        self,
        scale: np.ndarray,
        spec: np.ndarray,
        inputs: tuple,
        first: int,
        cutoff: float,
        per_bin: np.ndarray | None = None,
        kept: slice = slice(None),
    ) -> np.ndarray:
        """The rebuilt band of a segment starting at sample ``first`` (a whole number of hops, as
        margins and segments are), in its frames ``kept``: a noise-filling model's amplitudes
        ``scale`` over the noise frames from there on, above the low-pass at bin ``cutoff``:
        complex ``[channels, frames, bins]``; given each channel's power per bin ``per_bin`` (a
        stream that mends them), the codec's holes in the octave under it too (`hole_scale`).
        Two channels (``spec``, the segment's complex spectrum, and the model's ``inputs``) get
        a second noise mixed in, as far as they differ under the low-pass
        (`channel_coherence`); more, a noise each, mixed so that each pair is as alike as
        under it (`channels_mixing`). What a frame kept takes from those around it (the
        channels' likeness, the holes' loudest) is taken as over the whole segment."""
        bins, (power, _, above) = self.rule.noise_band_bins, inputs[:3]
        kept = slice(*kept.indices(scale.shape[1]))
        start = (first - self.stft.pad) // self.stft.hop_length + kept.start
        coherence = None
        if scale.shape[0] == 2:
            coherence = channel_coherence(spec, power, above, self.coherence_frames)[kept]
        elif scale.shape[0] > 2:
            coherence = channels_mixing(spec, above, self.coherence_frames)[kept]
        out = self._noise_band(scale[:, kept], above, start, coherence)
        if per_bin is not None:
            # a frame's holes are judged by the loudest of half their span either side
            reach = self.rule.holes_frames // 2
            low_frame = max(kept.start - reach, 0)
            around = per_bin[:, low_frame : kept.stop + reach]
            holes, low = hole_scale(around, cutoff, bins, self.rule.holes_frames, self.hole_net)
            holes = holes[:, kept.start - low_frame : kept.stop - low_frame]
            found = np.flatnonzero(holes.any(axis=(0, 1)))
            if len(found):  # laid from the first band with a hole to the last under the cut
                holes, low = holes[..., found[0] :], low + found[0]
                span = slice(low * bins, (low + holes.shape[-1]) * bins)
                where = np.ones(span.stop - span.start, np.float32)
                out[..., span] = self._noise_band(holes, where, start, coherence, span.start)
        return out

    def _noise_band(
        self,
        scale: np.ndarray,
        where: np.ndarray,
        start: int,
        coherence: np.ndarray | None,
        offset: int = 0,
    ) -> np.ndarray:
        """The noise frames from frame ``start`` on, in the bins from ``offset`` on, at ``scale``
        (per band of the model's bins, from ``offset`` on) where ``where`` (`lay_over_noise`):
        one noise for one channel, two mixed by ``coherence`` for two (`channel_coherence`),
        and for more as many by its mixing (`channels_mixing`), each orthogonal to the others
        band by band and frame by frame (`noise_frames`' ``apart``)."""
        bins, frames = self.rule.noise_band_bins, scale.shape[1]
        band, to = offset + copy_start(where), offset + len(where)  # the noise's bins used

        def noise(apart: int = 0) -> np.ndarray:
            return noise_frames(
                self.stft, start, frames, bins, apart=apart, from_bin=band, to_bin=to
            )

        if coherence is None:
            return lay_over_noise(noise(), scale, where, bins)
        if coherence.ndim == 1:
            return lay_over_noise(noise(), scale, where, bins, coherence, noise(apart=1))
        noises = np.concatenate([noise(apart) for apart in range(len(scale))])
        mixed = np.einsum("fcj,jfk->cfk", coherence, noises, optimize=True)
        return lay_over_noise(mixed, scale, where, bins)

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

        if lowpass_hz is None and self.rule.lowpass and input_rate < self.sample_rate:
            return ANTI_ALIAS * input_rate / 2
        return lowpass_hz

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

            found = lowpass_of_frames(frames, sample_rate, mp3=mp3) if self.rule.lowpass else None
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
    if not rule.lowpass:
        return (spec,)
    return told_inputs(spec, spec.shape[-1] / 4, rule)


DEFAULT_OUTPUT_RATE = 44_100
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
    if not rule.lowpass:
        return 0.0
    from ..dataset.recipe import DegradationRecipe

    return LOWPASS_MARGIN * DegradationRecipe(**recipe).lowest_cutoff()


# soxr's quality for the model's change on its way to the output rate: 20-bit precision, far
# under any output's noise floor, with the pass band of the input's "VHQ" and less work.
CHANGE_QUALITY = "HQ"


def default_output_rate(input_rate: int) -> int:
    """The output rate when none is asked for: 44.1 kHz, or the input's own rate above it."""
    return max(DEFAULT_OUTPUT_RATE, int(input_rate))


def checked_strength(strength: float) -> float:
    """``strength`` as a float from 0 to 1, or a ``ValueError`` saying what is wrong."""
    number = isinstance(strength, int | float | np.integer | np.floating)
    value = float(strength) if number else math.nan  # a string is a caller's slip, as for rates
    if isinstance(strength, bool) or not 0.0 <= value <= 1.0:
        raise ValueError(f"strength must be a number from 0 to 1, not {strength!r}")
    return value
