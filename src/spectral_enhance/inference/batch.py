"""The batch runner: enhance many files, streaming each one so memory stays bounded at any length.

Inputs are found (:mod:`spectral_enhance.audio.files`), each output name is decided before any
work starts (an existing output is kept without ``overwrite``; two inputs that would write the
same output are refused by name). Each file's low-pass is measured first, on excerpts
(:func:`~spectral_enhance.dsp.lowpass.lowpass_of_file`); then it is decoded block by block
(:mod:`spectral_enhance.audio.read`) and written by the output writer
(:mod:`spectral_enhance.audio.write`) under a temporary name renamed when complete. What is
written is the input resampled to the output rate plus ``strength`` times what
:class:`~spectral_enhance.inference.enhancer.Enhancer` changes at the model's rate, resampled to the
output rate, so the input's band above the model's is kept. A file that fails is reported and
the others go on; nothing is skipped silently.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.synchronize
import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from ..atomic import (
    NAME_MAX,
    OutputError,
    output_folder,
    remove_leftovers,
    signals_held,
    starting_processes,
    terminate_on_hangup,
    utf8_within,
)
from ..audio import AudioError, StreamResampler, find_audio, open_audio, resampled_length
from ..audio.tags import Tags, read_tags
from ..audio.write import FORMATS, audio_writer, output_suffix
from ..dsp.lowpass import cuts_of_file, file_cut
from .enhancer import CHANGE_QUALITY, Enhancer, checked_strength, default_output_rate
from .report import BatchReport, FileResult, one_line

__all__ = [
    "ReadAhead",
    "enhance_file",
    "enhance_files",
    "output_path",
    "plan_outputs",
]

T = TypeVar("T")
SUFFIX = ".enhanced"


def output_path(
    source: Path,
    out_dir: Path | None,
    fmt: str,
    subfolder: Path = Path(),
    by_kind: bool = False,
) -> Path:
    """``NAME.enhanced.wav`` beside the input, or in ``out_dir``'s ``subfolder`` (where the
    input lies below the folder it was found in). A ``NAME`` too long for the ending (a title
    of 80 CJK characters is 240 bytes; a file name holds 255) is cut, at a character, to fit.
    ``by_kind``: ``NAME (flac).enhanced.wav``, for song.flac beside a song.mp3 that holds the
    plain name."""
    folder = out_dir / subfolder if out_dir else source.parent
    ending = SUFFIX + output_suffix(fmt)
    stem = f"{source.stem} ({source.suffix.lstrip('.')})" if by_kind else source.stem
    room = NAME_MAX - len(os.fsencode(ending))
    if len(os.fsencode(stem)) > room:
        stem = utf8_within(stem, room)
    return folder / (stem + ending)


def _is_output(path: Path) -> bool:
    return path.stem.endswith(SUFFIX) and path.suffix.lower() in (".wav", ".flac")


def plan_outputs(
    sources: Sequence[str | os.PathLike], out_dir: Path | None, fmt: str, overwrite: bool
) -> tuple[list[tuple[Path, Path]], BatchReport]:
    """Pair each input with its output before any work, and name every input left out.

    In ``out_dir``, a file found in a folder keeps its place below that folder. A second input
    of another kind whose output name is taken (song.flac after song.mp3) says its kind in its
    own (``song (flac).enhanced.wav``), as ``serve`` names its download. Left out: an input given
    again, this tool's own outputs (silently, one that an input of the run makes or keeps), a
    second input whose output name is taken (by another input or by an input file itself), an
    existing output without ``overwrite`` (a link there too, even one leading nowhere), hidden
    files and links that lead nowhere new in folders, ``out_dir`` inside a folder searched, and
    folders holding no audio file.
    """
    if out_dir is not None:
        output_folder(out_dir, create=False)
    report = BatchReport()
    found = find_audio(sources, leave_out=out_dir)
    for path, note in found.skipped:
        report.skip(path, None, note)
    report.notes += found.untried
    inputs = {path.resolve() for path in found.files if path.exists() and not _is_output(path)}
    claimed: dict[Path, Path] = {}
    jobs = []
    # This tool's outputs last: one that an input of this run makes (or keeps) is named there.
    for source in sorted(found.files, key=_is_output):
        target = output_path(source, out_dir, fmt, found.subfolder(source))
        key = target.resolve()
        if key in claimed and claimed[key].suffix != source.suffix:  # song.mp3 and song.flac
            target = output_path(source, out_dir, fmt, found.subfolder(source), by_kind=True)
            key = target.resolve()
        if _is_output(source):
            if source.resolve() not in claimed:
                note = f"{source}: is an output of this tool (*{SUFFIX}.*); skipped"
                report.skip(source, None, note)
        elif key in claimed:
            report.skip(
                source,
                target,
                f"{source}: its output {target} is also {claimed[key]}'s; skipped (rename one, "
                "or enhance them into different folders with -o)",
            )
        elif key in inputs:
            report.skip(source, target, f"{source}: its output {target} is an input; skipped")
        elif os.path.lexists(target) and not overwrite:
            note = f"{target}: exists, kept (use --overwrite to replace it)"
            report.skip(source, target, note, kept=True)
            claimed[key] = source
        else:
            claimed[key] = source
            jobs.append((source, target))
    return jobs, report


class ReadAhead(Generic[T]):
    """Yield ``items`` while a thread fetches the next ``depth``, so reading overlaps enhancing.

    The thread starts at once, not at the first item asked for: what the caller does before
    (`enhance_file` measures the low-pass, 40 ms of a 3-minute MP3) overlaps the first decode.
    Decoding and resampling release the GIL, so on two cores they run beside the model almost
    for free. An error in the thread is raised here, at the item it replaced. Call `close` when
    done, early too (`contextlib.closing`): it stops the thread, which closes ``items``.
    """

    _END = object()

    def __init__(self, items: Iterable[T], depth: int = 2) -> None:
        self._ahead: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(
            target=self._fetch, args=(items,), name="read-ahead", daemon=True
        )
        try:
            self._thread.start()
        except BaseException:  # an interrupt as it starts must still stop it
            self.close()
            raise

    def _put(self, entry: tuple) -> bool:
        while not self._stop.is_set():
            try:
                self._ahead.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _fetch(self, items: Iterable[T]) -> None:
        source = iter(items)
        try:
            for item in source:
                if not self._put((item, None)):
                    return
            self._put((self._END, None))
        except BaseException as error:
            self._put((self._END, error))
        finally:
            close = getattr(source, "close", None)
            if close is not None:  # a generator's file is closed here, in its own thread
                close()

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item, error = self._ahead.get()
        if item is self._END:
            self.close()
            if error is not None:
                raise error
            raise StopIteration
        return item

    def close(self) -> None:
        """Stop the thread (it closes ``items``) and wait for it."""
        self._done = True
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()


def _input_tags(source: Path) -> tuple[Tags | None, str | None]:
    """The tags to carry to ``source``'s output, or None and why: the audio is readable, so a
    file whose tags are not is enhanced without them, and said so."""
    try:
        return read_tags(source), None
    except AudioError as error:
        return None, f"{error}; the output has none"


def _lost_band(path: Path, band_end: float | None, input_rate: int, output_rate: int) -> str | None:
    """A warning if the input has content above what the output's rate holds (that is lost):
    up to ``band_end`` (a codec's cut, or where its own band ends), else its Nyquist frequency."""
    top, output_top = band_end or input_rate / 2, output_rate / 2
    if top <= output_top * 1.04:  # the output's band, give or take the resampler's roll-off
        return None
    return (
        f"{path}: has content up to {top / 1000:.1f} kHz, above the {output_top / 1000:.1f} kHz "
        f"an output at {output_rate} Hz holds; that band is lost (--sample-rate {input_rate} "
        "keeps it)"
    )


class _Fifo:
    """``[n, channels]`` samples in arrival order, taken from the front."""

    def __init__(self) -> None:
        self.parts: deque[np.ndarray] = deque()
        self.size = 0

    def put(self, samples: np.ndarray) -> None:
        if len(samples):
            self.parts.append(samples)
            self.size += len(samples)

    def take(self, n: int) -> list[np.ndarray]:
        """The first ``n`` samples (all there are, if fewer), in pieces."""
        taken = []
        while n > 0 and self.parts:
            head = self.parts.popleft()
            if len(head) > n:
                head, rest = head[:n], head[n:]
                self.parts.appendleft(rest)
            taken.append(head)
            n -= len(head)
            self.size -= len(head)
        return taken


class _Mix:
    """The input at the output rate plus ``strength`` times the model's change at the output
    rate, added sample for sample. The change comes later than the input (the model returns
    whole segments), so the input waits here for it: a FIFO of a segment or so. The input's
    arrays become the mix's own: the change is added into them, sparing a copy of the output."""

    def __init__(self, strength: float) -> None:
        self.strength = np.float32(strength)
        self.dry, self.wet = _Fifo(), _Fifo()

    def __call__(
        self, dry: np.ndarray, wet: np.ndarray | None, last: bool = False
    ) -> list[np.ndarray]:
        """Take more of each (``wet`` None: no change at all); return, in pieces, the samples
        both parts now cover. At ``last``, all of the input: the change, whose two resamplings
        may round its length differently, is cut or padded with silence to it."""
        self.dry.put(dry)
        if wet is None:
            return self.dry.take(self.dry.size)
        self.wet.put(wet)
        n = self.dry.size if last else min(self.dry.size, self.wet.size)
        out = [piece if piece.flags.writeable else piece.copy() for piece in self.dry.take(n)]
        for piece in out:  # the change's pieces, cut by the FIFO to each piece of the input
            done = 0
            for part in self.wet.take(len(piece)):
                piece[done : done + len(part)] += (
                    part if self.strength == 1 else self.strength * part
                )
                done += len(part)
        return out


def enhance_file(
    enhancer: Enhancer,
    source: Path,
    target: Path,
    fmt: str = "wav",
    output_rate: int | None = None,
    progress: Callable[[float, float | None], None] | None = None,
    depth: str | None = None,
    strength: float = 1.0,
    lowpass_hz: float | None = None,
) -> FileResult:
    """Enhance one file into ``target`` (format ``fmt``, bit depth ``depth``) at
    ``output_rate`` (default: `default_output_rate` of the input's), told its low-pass
    ``lowpass_hz`` (0: none; at most the input's Nyquist frequency) where given, else measuring
    it (`lowpass_of_file`).

    The output is the input at the output rate plus ``strength`` (0 to 1) times the model's
    change at the output rate: the input's band above the model's is kept, and 0 writes the
    input itself (the model is not run). ``progress(seconds_done, seconds_expected)`` is called
    as the output is written; the expected length is the container's estimate (None if it has
    none). Raises :class:`AudioError` for an unreadable input and :class:`OutputError` for an
    unwritable output.
    """
    started = time.monotonic()
    strength = checked_strength(strength)
    model_rate = enhancer.sample_rate
    with open_audio(source) as reader:
        info = reader.info
        out_rate = output_rate or default_output_rate(info.sample_rate)
        to_model = StreamResampler(info.sample_rate, model_rate, info.channels)
        to_output = StreamResampler(info.sample_rate, out_rate, info.channels)
        change_to_output = StreamResampler(model_rate, out_rate, info.channels, CHANGE_QUALITY)
        mix = _Mix(strength)
        expected = info.estimated_samples / info.sample_rate if info.estimated_samples else None
        nothing = np.zeros((0, info.channels), np.float32)

        # At the model's own rate the input is resampled once, for both (a 22.05 kHz MP3 to
        # 44.1 kHz): the stream copies what it is sent before the mix adds into it.
        shared = bool(strength) and out_rate == model_rate

        def blocks() -> Iterator[tuple[np.ndarray, np.ndarray | None, float]]:
            # In the read-ahead thread: decoding, and both resamplings of the input; the input
            # in C order (a decoded block is a strided view), as the mix and the writer want it.
            for block in reader.blocks():
                at_model = to_model(block) if strength else None
                dry = np.ascontiguousarray(at_model if shared else to_output(block))
                yield dry, at_model, float(np.abs(block).max(initial=0.0))
            at_model = to_model(nothing, last=True) if strength else None
            yield (at_model if shared else to_output(nothing, last=True)), at_model, 0.0

        tags, lost_tags = _input_tags(source)
        estimate = info.estimated_samples  # the container's: a long WAV is written as RF64
        frames = resampled_length(estimate, info.sample_rate, out_rate) if estimate else None
        with audio_writer(
            # Dithered to 16 bits unless the input is written as it is (strength 0, its rate).
            target,
            out_rate,
            info.channels,
            fmt,
            depth,
            tags,
            frames,
            dither=bool(strength) or out_rate != info.sample_rate,
            speakers=info.speakers,
        ) as sink:
            peak, written = 0.0, 0

            def write(pieces: list[np.ndarray]) -> None:
                nonlocal written
                for piece in pieces:
                    sink.write(piece)
                    written += len(piece)
                if progress:
                    progress(written / out_rate, expected)

            # Closed here, not when the error's traceback lets go of it: its thread must stop
            # decoding before the reader closes the file under it.
            with contextlib.closing(ReadAhead(blocks())) as ahead:
                # While the first blocks are decoded: the low-pass, which the full-band model
                # needs from its first segment on, measured over the whole file.
                own_band, why = None, None  # a band end not a codec's cut, and why: kept
                if lowpass_hz is None:
                    shown, why = file_cut(*cuts_of_file(source), info)
                    cutoff, own_band = (None, shown) if why else (shown, None)
                    told = enhancer.band_end(cutoff, info.sample_rate)
                else:  # given: at most the input's Nyquist frequency; 0, none
                    cutoff = told = min(lowpass_hz, info.sample_rate / 2) or None
                stream = enhancer.stream(lowpass_hz=told, change=True) if strength else None
                if stream is not None:
                    next(stream)
                for dry, at_model, block_peak in ahead:
                    peak = max(peak, block_peak)
                    change = None
                    if stream is not None:
                        change = change_to_output(stream.send(at_model))
                    write(mix(dry, change))
            change = None
            if stream is not None:
                change = change_to_output(stream.send(None), last=True)
            write(mix(nothing, change, last=True))
        warnings = list(reader.warnings) + ([lost_tags] if lost_tags else [])
    if peak == 0.0:
        warnings.append(f"{source}: is silent; the output is silent too")
    elif lost := _lost_band(source, cutoff or own_band, info.sample_rate, out_rate):
        warnings.append(lost)
    if sink.untagged:
        warnings.append(f"{target}: {sink.untagged}")
    if sink.clipped:
        keep = (
            "--bit-depth float keeps them"
            if fmt == "wav"
            else "FLAC holds no float samples: a WAV (--format wav, float by default) keeps them"
        )
        warnings.append(
            f"{target}: {sink.clipped} samples beyond full scale clipped (peak "
            f"{20 * np.log10(sink.peak):+.1f} dBFS); {keep}"
        )
    seconds = reader.samples_read / info.sample_rate
    return FileResult(
        info,
        seconds,
        warnings,
        cutoff,
        model_rate,
        out_rate,
        enhancer.rule.lowpass,
        time.monotonic() - started,
        enhancer.lowpass_floor_hz,
        enhancer.usable_lowpass(told),
        enhancer.mended_band(told),
        lowpass_hz is not None,
        own_band,
        why,
        strength,
    )


_worker: Enhancer | None = None
# Set when the batch is interrupted (a process's own, or a pool's shared): stop at the next block.
_stop: threading.Event | multiprocessing.synchronize.Event | None = None
_pooled = False  # this process is a worker of a batch's pool, which decides when it stops
_INTERRUPTED = "interrupted"  # `_enhance_one`'s error for a file it began and did not finish
_NOT_BEGUN = "not begun"  # and for one it did not begin, the batch being interrupted
_BAR = "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]"
_BAR_UNSIZED = "{desc}: {n:.0f} s of audio [{elapsed}, {rate_fmt}]"


def _init_worker(
    load_args: dict, stop: threading.Event | multiprocessing.synchronize.Event
) -> None:
    global _worker, _stop
    _worker, _stop = Enhancer.load(**load_args), stop


def _init_pool_worker(load_args: dict, stop: multiprocessing.synchronize.Event) -> None:
    # A terminal's Ctrl-C reaches the whole group: a worker leaves it to the batch, which sets
    # ``stop``; its SIGTERM still cleans up its temporary file and ends its file. SIGINT came
    # blocked (`starting_processes`), so one sent while this process imported is dropped here.
    global _pooled
    terminate_on_hangup()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # as `starting_processes`: Windows has no masks
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _init_worker(load_args, stop)
    _pooled = True


def _started(
    pool: ProcessPoolExecutor, jobs: Sequence[tuple], stop: multiprocessing.synchronize.Event
) -> list[Future]:
    """``jobs`` submitted to ``pool``, whose workers start as they are submitted, quiet to a
    Ctrl-C till set up (`starting_processes`). An interrupt meanwhile sets ``stop``: each job
    then ends as not begun, one not yet submitted too."""
    futures: list[Future] = []
    try:
        with starting_processes():
            futures += (pool.submit(_enhance_one, job) for job in jobs)
    except KeyboardInterrupt:
        stop.set()
        for job in jobs[len(futures) :]:
            futures.append(future := Future())
            future.set_result((job[0], None, _NOT_BEGUN))
    return futures


def _enhance_one(job: tuple) -> tuple[Path, FileResult | None, str | None]:
    """Enhance one planned file in this process's enhancer: its result, or its error's line
    (`_INTERRUPTED` once the batch stops: a file then in hand is left at its next block, and
    `_NOT_BEGUN` for those after it)."""
    source, target, fmt, rate, depth, strength, cut, show_bar = job
    if _stop is not None and _stop.is_set():
        return source, None, _NOT_BEGUN
    bar = None

    def progress(seconds: float, expected: float | None) -> None:
        nonlocal bar
        if _stop is not None and _stop.is_set():
            raise KeyboardInterrupt
        if not show_bar:
            return
        if bar is None:  # the length is known once the file is open
            from tqdm import tqdm

            form = _BAR if expected else _BAR_UNSIZED
            bar = tqdm(desc=source.name, unit="s", leave=False, total=expected, bar_format=form)
        if bar.total and seconds > bar.total:
            bar.total = seconds  # the container's estimate was short
        bar.update(seconds - bar.n)

    try:
        result = enhance_file(_worker, source, target, fmt, rate, progress, depth, strength, cut)
        return source, result, None
    except KeyboardInterrupt:
        if _stop is not None and not _pooled:
            _stop.set()  # in one process, the files after this one are not begun
        # (a pool's worker leaves that to the batch: the pool itself ends its workers so when
        # one of them dies, and the batch goes on with a new pool)
        return source, None, _INTERRUPTED
    except (AudioError, OutputError) as error:
        return source, None, str(error)
    except Exception as error:  # one bad file must not stop the batch
        return source, None, f"{source}: {type(error).__name__}: {error}"
    finally:
        if bar is not None:
            bar.close()


def enhance_files(
    sources: Sequence[str | os.PathLike],
    load_args: dict,
    out_dir: Path | None = None,
    fmt: str = "wav",
    output_rate: int | None = None,
    overwrite: bool = False,
    jobs: int = 1,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    depth: str | None = None,
    strength: float = 1.0,
    lowpass_hz: float | None = None,
) -> BatchReport:
    """Enhance every input; the model is loaded once per process. Returns the batch totals.

    ``log`` receives one line per file and per problem (default: standard error, around the bar).
    ``output_rate``, ``depth``, ``strength`` and ``lowpass_hz`` (for every input): as
    :func:`enhance_file` takes them. An interrupt (Ctrl-C, SIGTERM) ends the batch rather than
    escaping it: the files in hand stop at their next block, none is begun after, and the
    report names them (``interrupted``).
    """
    import sys

    from tqdm import tqdm

    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}")
    strength = checked_strength(strength)
    emit = log or (lambda line: tqdm.write(line, file=sys.stderr))
    log = lambda line: emit(one_line(line))  # noqa: E731  each message one line
    started = time.monotonic()
    planned, report = plan_outputs(sources, out_dir, fmt, overwrite)
    for note in report.notes:
        log(note)
    remove_leftovers(*(target for _, target in planned))  # of a run killed outright before
    show_bar = progress and jobs == 1
    todo = [(s, t, fmt, output_rate, depth, strength, lowpass_hz, show_bar) for s, t in planned]
    bar = tqdm(total=len(todo), unit="file", disable=not progress or len(todo) < 2)
    pool = None
    if jobs > 1 and len(todo) > 1:
        # Spawned, not forked: a fork of a process holding ONNX Runtime's threads can hang.
        context = multiprocessing.get_context("spawn")
        stop = context.Event()

        def new_pool(workers: int = jobs) -> ProcessPoolExecutor:
            return ProcessPoolExecutor(
                workers,
                mp_context=context,
                initializer=_init_pool_worker,
                initargs=(load_args, stop),
            )

        pool = new_pool()
        futures = _started(pool, todo, stop)
    else:
        stop = threading.Event()
        if todo:
            _init_worker(load_args, stop)

    def alone(job: tuple) -> tuple[Path, FileResult | None, str | None]:
        """``job`` again, in a process of its own, after a worker died with it in hand: it
        fails only if it kills that one too (a crash in a library it uses)."""
        source, target = job[:2]
        with new_pool(1) as solo:
            try:
                ended = _started(solo, [job], stop)[0].result()
            except BrokenProcessPool:
                why = "the process enhancing it ended abruptly (a crash in a library it uses)"
                ended = source, None, f"{source}: {why}; nothing written"
        remove_leftovers(target)  # the dead workers' temporary outputs (a done one is renamed)
        return ended

    def outcome(n: int) -> tuple[Path, FileResult | None, str | None]:
        """The n-th file's; an interrupt while it is awaited stops the batch and awaits it
        still: a file in hand stops at its next block, and one not begun is not begun. A worker
        that dies breaks the pool: the files after go to a new one, and this one is tried
        again alone, so only a file that kills its process fails (and the others finish)."""
        nonlocal pool
        while True:
            try:
                if pool is None:
                    return _enhance_one(todo[n])
                try:
                    return futures[n].result()
                except Exception as error:  # a worker killed, or the pool broken by it
                    if stop.is_set():
                        return todo[n][0], None, _NOT_BEGUN
                    if not isinstance(error, BrokenProcessPool):
                        return todo[n][0], None, f"{todo[n][0]}: {type(error).__name__}: {error}"
                    pool.shutdown(cancel_futures=True)
                    pool = new_pool()
                    futures[n + 1 :] = _started(pool, todo[n + 1 :], stop)
                    return alone(todo[n])
            except KeyboardInterrupt:
                stop.set()

    try:
        for n, (source, target) in enumerate(planned):
            source, result, error = outcome(n)
            bar.update()
            if error in (_INTERRUPTED, _NOT_BEGUN):
                line = report.stop(source, target, begun=error == _INTERRUPTED)
                if error == _INTERRUPTED:
                    log(line)
                continue
            if error or result is None:
                log(f"error: {error}")
                report.failed.append(str(error))
                report.add(source, target, "failed", str(error))
                continue
            for warning in result.warnings:
                log(f"warning: {warning}")
            report.warnings += result.warnings
            report.done += 1
            report.seconds_of_audio += result.seconds
            report.add(source, target, "done", **result.to_dict())
            log(f"{source} -> {target} ({result.band()})")
    finally:
        stop.set()  # whatever ends the loop, no worker begins another file
        bar.close()
        if pool:  # whole: cut short, it left its queues' semaphores to a warning at exit;
            with signals_held(raise_held=False):  # each file has its end: a signal stops none
                pool.shutdown(cancel_futures=True)
    if report.not_begun:
        first = next(e["input"] for e in report.files if e["status"] == "not begun")
        log(f"interrupted: {report.not_begun} more not begun, from {first} on")
    report.wall_seconds = time.monotonic() - started
    return report
