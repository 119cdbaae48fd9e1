"""A stream cut into overlapping segments kept in flight, one a core; each one's work: synthesis."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from itertools import islice

import numpy as np

from ..audio.arrays import first_non_finite
from ..dsp.band_level import band_share, calm_share
from .synthesis import SegmentSynthesis, _Job

__all__ = ["SegmentedStream"]


class _Flight:
    """The segments of one stream on their way through the model, returned in order.

    With a pool, each segment (or each of its channels, for a model that takes them apart) is
    started on a core of its own as soon as it is cut, and up to one per core run while the
    next ones are decoded: a stream hands over one segment at a time, so waiting for each in
    turn would leave all but one core idle. Without one, or for a lone last segment of a model
    that takes its channels together, a segment runs at once on the model of all cores.
    """

    def __init__(
        self, enhancer: SegmentedStream, job: _Job, progress: Callable[[int], None] | None
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


class SegmentedStream(SegmentSynthesis):
    """A stream cut into segments of ``segment`` samples (whole numbers of ``unit``), each
    with ``margin`` samples of real signal either side, taken through the model (its
    `SegmentSynthesis`) in flight (`_Flight`). A base of the `Enhancer`, which sets the
    attributes below and decides what is rebuilt (``usable_lowpass``, ``mended_band``)."""

    model: Callable[..., np.ndarray]
    unit_model: Callable[..., np.ndarray] | None
    pool: ThreadPoolExecutor | None
    workers: int
    segment: int
    unit: int
    usable_lowpass: Callable[[float | None], float | None]
    mended_band: Callable[[float | None], tuple[float, float] | None]

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
        share = 1.0 if usable is None else band_share(usable)
        job = _Job(usable, change, mends, calm, share)
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
            if (bad := first_non_finite(chunk)) is not None:
                raise ValueError(
                    f"a chunk holds NaN or infinite values (the first at its sample {bad})"
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
