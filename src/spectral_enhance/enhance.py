"""The main job: enhance many files, streaming each one so memory stays bounded at any length.

Each file is read in blocks (MP3 gapless, as :mod:`spectral_enhance.codec` decodes it), resampled
to the model's rate, enhanced by :class:`~spectral_enhance.inference.Enhancer`, resampled to the
output rate and written block by block under a temporary name that is renamed when complete.
A file that fails is reported and the others go on.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import soundfile as sf
import soxr

from .audio import (
    AUDIO_EXTENSIONS,
    AudioError,
    find_audio,
    read_blocks,
    resampled_length,
    temporary_path,
)
from .inference import Enhancer

__all__ = ["BatchReport", "enhance_file", "enhance_files", "output_path"]

T = TypeVar("T")
FORMATS = {"wav": ("WAV", ".wav"), "flac": ("FLAC", ".flac")}
SUFFIX = ".enhanced"


@dataclass
class BatchReport:
    """Totals of a batch, for the closing summary."""

    done: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    seconds_of_audio: float = 0.0
    wall_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: files done and failed, audio seconds, wall time and times real time."""
        speed = self.seconds_of_audio / self.wall_seconds if self.wall_seconds else 0.0
        return (
            f"{self.done} enhanced, {self.skipped} skipped, {len(self.failed)} failed; "
            f"{self.seconds_of_audio:.1f} s of audio in {self.wall_seconds:.1f} s "
            f"({speed:.0f}x real time)"
        )


def output_path(source: Path, out_dir: Path | None, fmt: str) -> Path:
    """``NAME.enhanced.wav`` beside the input, or inside ``out_dir``."""
    name = source.stem + SUFFIX + FORMATS[fmt][1]
    return (out_dir or source.parent) / name


def _wide_band_warning(path: Path, block: np.ndarray, rate: int, model_rate: int) -> str | None:
    """A warning when the input holds content above the model's band (it will be removed)."""
    if rate <= model_rate or len(block) < 4096:
        return None
    spectrum = np.abs(np.fft.rfft(block.mean(axis=1) * np.hanning(len(block)))) ** 2
    above = spectrum[int(len(spectrum) * model_rate / rate) :].sum()
    if above <= 1e-4 * spectrum.sum():
        return None
    return (
        f"{path}: has content above {model_rate / 2000:.1f} kHz, which the model's "
        f"{model_rate} Hz output does not carry; that band is not kept"
    )


class _Resampler:
    """Streaming soxr resampling whose total output has exactly the rounded length."""

    def __init__(self, rate_in: int, rate_out: int, channels: int, total_in: int) -> None:
        self.same = rate_in == rate_out
        self.left = resampled_length(total_in, rate_in, rate_out)
        if not self.same:
            self.stream = soxr.ResampleStream(rate_in, rate_out, channels, "float32", "VHQ")

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        out = block if self.same else self.stream.resample_chunk(block, last=last)
        out = out[: self.left]
        if last and len(out) < self.left:
            out = np.pad(out, ((0, self.left - len(out)), (0, 0)))
        self.left -= len(out)
        return out


def read_ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield ``items`` while a thread fetches the next ``depth``, so reading overlaps enhancing.

    Decoding and resampling release the GIL, so on two cores they run beside the model almost
    for free. An error in the thread is raised here, at the item it replaced; closing this
    generator early stops the thread.
    """
    ahead: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    end = object()

    def put(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                ahead.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        source = iter(items)
        try:
            for item in source:
                if not put((item, None)):
                    return
            put((end, None))
        except BaseException as error:
            put((end, error))
        finally:
            close = getattr(source, "close", None)
            if close is not None:  # a generator's file is closed here, in its own thread
                close()

    thread = threading.Thread(target=fetch, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ahead.get()
            if item is end:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()


def enhance_file(
    enhancer: Enhancer,
    source: Path,
    target: Path,
    fmt: str = "wav",
    output_rate: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[float, list[str]]:
    """Enhance one file into ``target``; returns (seconds of audio, warnings)."""
    rate, channels, length, blocks = read_blocks(source)
    out_rate = output_rate or enhancer.sample_rate
    model_length = resampled_length(length, rate, enhancer.sample_rate)
    if model_length < enhancer.stft.fft_length:
        raise AudioError(source, f"too short ({length} samples; one STFT frame needs more)")
    to_model = _Resampler(rate, enhancer.sample_rate, channels, length)
    to_output = _Resampler(enhancer.sample_rate, out_rate, channels, model_length)
    stream = enhancer.stream(progress)
    next(stream)
    warnings: list[str] = []
    clipped = 0
    temp = temporary_path(target)
    try:
        format_name = FORMATS[fmt][0]
        with sf.SoundFile(temp, "w", out_rate, channels, "PCM_16", format=format_name) as out:

            def write(data: np.ndarray) -> None:
                nonlocal clipped
                clipped += int(np.count_nonzero(np.abs(data) > 1.0))
                out.write(np.clip(data, -1.0, 1.0))

            def read() -> Iterator[tuple[np.ndarray, float]]:
                for index, block in enumerate(blocks):
                    if index == 0 and (
                        note := _wide_band_warning(source, block, rate, enhancer.sample_rate)
                    ):
                        warnings.append(note)
                    yield to_model(block), float(np.abs(block).max(initial=0.0))

            peak = 0.0
            for block, block_peak in read_ahead(read()):
                peak = max(peak, block_peak)
                write(to_output(stream.send(block)))
            tail = to_model(np.zeros((0, channels), np.float32), last=True)
            write(to_output(stream.send(tail)))
            write(to_output(stream.send(None), last=True))
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if peak == 0.0:
        warnings.append(f"{source}: is silent; the output is silent too")
    if clipped:
        warnings.append(f"{target}: {clipped} samples clipped to [-1, 1]")
    return length / rate, warnings


def collect_inputs(sources: Sequence[str | os.PathLike]) -> list[Path]:
    """Input files: named files as they are, folders searched for audio (not our own outputs)."""
    found = []
    for path in find_audio(sources):
        if path.stem.endswith(SUFFIX) and path.suffix.lower() in AUDIO_EXTENSIONS:
            continue
        found.append(path)
    return list(dict.fromkeys(found))


_worker: Enhancer | None = None
_SECONDS_BAR = "{desc}: {n:.0f} s of audio [{elapsed}, {rate_fmt}]"


def _init_worker(load_args: dict) -> None:
    global _worker
    _worker = Enhancer.load(**load_args)


def _enhance_one(
    job: tuple[Path, Path, str, int | None, bool],
) -> tuple[Path, float, list[str], str | None]:
    source, target, fmt, rate, show_blocks = job
    try:
        if not show_blocks:
            seconds, warnings = enhance_file(_worker, source, target, fmt, rate)
            return source, seconds, warnings, None
        from tqdm import tqdm

        with tqdm(desc=source.name, unit="s", leave=False, bar_format=_SECONDS_BAR) as bar:
            per_second = 1.0 / _worker.sample_rate
            seconds, warnings = enhance_file(
                _worker, source, target, fmt, rate, lambda n: bar.update(n * per_second)
            )
        return source, seconds, warnings, None
    except AudioError as error:
        return source, 0.0, [], str(error)
    except Exception as error:  # one bad file must not stop the batch
        return source, 0.0, [], f"{source}: {type(error).__name__}: {error}"


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
) -> BatchReport:
    """Enhance every input; the model is loaded once per process. Returns the batch totals.

    ``log`` receives one line per file and per problem (default: standard error, around the bar).
    """
    import sys

    from tqdm import tqdm

    log = log or (lambda line: tqdm.write(line, file=sys.stderr))
    started = time.monotonic()
    report = BatchReport()
    todo = []
    for source in collect_inputs(sources):
        target = output_path(source, out_dir, fmt)
        if target.exists() and not overwrite:
            log(f"{target}: exists, skipped (use --overwrite to replace it)")
            report.skipped += 1
        else:
            todo.append((source, target, fmt, output_rate, progress and jobs == 1))
    bar = tqdm(total=len(todo), unit="file", disable=not progress or len(todo) < 2)
    if jobs > 1 and len(todo) > 1:
        # Spawned, not forked: a fork of a process holding ONNX Runtime's threads can hang.
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_init_worker, initargs=(load_args,)
        )
        results = pool.map(_enhance_one, todo)
    else:
        pool = None
        _init_worker(load_args)
        results = map(_enhance_one, todo)
    try:
        for source, seconds, warnings, error in results:
            bar.update()
            for warning in warnings:
                log(f"warning: {warning}")
            report.warnings += warnings
            if error:
                log(f"error: {error}")
                report.failed.append(error)
            else:
                report.done += 1
                report.seconds_of_audio += seconds
                log(f"{source} -> {output_path(source, out_dir, fmt)}")
    finally:
        bar.close()
        if pool:
            pool.shutdown(cancel_futures=True)
    report.wall_seconds = time.monotonic() - started
    return report
