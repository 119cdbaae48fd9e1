"""The batch runner: enhance many files, streaming each one so memory stays bounded at any length.

Inputs are found (:mod:`spectral_enhance.audio.files`), each output name is decided before any
work starts (`outputs`: an existing output is kept without ``overwrite``; two inputs that would
write the same output are refused by name). Each file (`one_file`) has its low-pass measured
first, on excerpts (:func:`~spectral_enhance.dsp.lowpass.lowpass_of_file`); then it is decoded
block by block (:mod:`spectral_enhance.audio.read`) and written by the output writer
(:mod:`spectral_enhance.audio.write`) under a temporary name renamed when complete. What is
written is the input resampled to the output rate plus ``strength`` times what
:class:`~spectral_enhance.inference.enhancer.Enhancer` changes at the model's rate, resampled to the
output rate, so the input's band above the model's is kept. A file that fails is reported and
the others go on; nothing is skipped silently.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..atomic import (
    OutputError,
    remove_leftovers,
    signals_held,
    starting_processes,
    terminate_on_hangup,
)
from ..audio import AudioError
from ..audio.write import FORMATS
from .enhancer import Enhancer
from .mixing import checked_strength
from .one_file import enhance_file
from .outputs import plan_outputs
from .report import BatchReport, FileResult, one_line

__all__ = ["enhance_files"]

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
        result = enhance_file(
            _worker, source, target, fmt, rate, progress, depth, strength, cut, show_bar
        )
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
