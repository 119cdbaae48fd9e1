"""The batch runner: enhance many files, streaming each one so memory stays bounded at any length.

Inputs are found (:mod:`spectral_enhance.audio.files`), each output name is decided before any
work starts (an existing output is kept without ``overwrite``; two inputs that would write the
same output are refused by name), and then each file is decoded block by block
(:mod:`spectral_enhance.audio.read`), resampled to the model's rate, enhanced by
:class:`~spectral_enhance.inference.Enhancer`, resampled to the output rate and written by the
output writer (:mod:`spectral_enhance.audio.write`) under a temporary name renamed when
complete. A file that fails is reported and the others go on; nothing is skipped silently.
"""

from __future__ import annotations

import contextlib
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

from .atomic import OutputError, terminate_on_hangup
from .audio import AudioError, AudioInfo, StreamResampler, find_audio, open_audio
from .audio.write import FORMATS, audio_writer, output_suffix
from .inference import Enhancer
from .lowpass import N_FFT, SpectrumMeter, lowpass_of_spectrum

__all__ = [
    "BatchReport",
    "FileResult",
    "enhance_file",
    "enhance_files",
    "output_path",
    "plan_outputs",
    "read_ahead",
]

T = TypeVar("T")
SUFFIX = ".enhanced"


@dataclass
class FileResult:
    """What enhancing one file gave: its input's facts, seconds of audio, warnings, and the
    low-pass found over the whole input (None: its content reaches its Nyquist frequency)."""

    info: AudioInfo
    seconds: float
    warnings: list[str]
    lowpass_hz: float | None = None
    model_rate: int = 0

    def band(self) -> str:
        """What the model had to rebuild, for the file's line: ``cut at 8.3 kHz: ...``."""
        top = self.model_rate / 2000
        if self.lowpass_hz is None:
            return f"full band to {self.info.sample_rate / 2000:.1f} kHz, no low-pass found"
        cut = self.lowpass_hz / 1000
        if cut >= top:
            return f"cut at {cut:.1f} kHz, above the model's {top:.1f} kHz band"
        return f"cut at {cut:.1f} kHz: the model rebuilds {cut:.1f} to {top:.1f} kHz"


@dataclass
class BatchReport:
    """Totals of a batch, for the closing summary; every skipped input is named in ``notes``."""

    done: int = 0
    exist: int = 0
    refused: int = 0
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds_of_audio: float = 0.0
    wall_seconds: float = 0.0

    @property
    def nothing_possible(self) -> bool:
        """True when no input given could be enhanced (not even one whose output exists)."""
        return self.done == 0 and self.exist == 0

    def summary(self) -> str:
        """One line: files done, kept, refused and failed, warnings, audio and wall seconds."""
        speed = self.seconds_of_audio / self.wall_seconds if self.wall_seconds else 0.0
        line = (
            f"{self.done} enhanced, {self.exist} kept (output exists), {self.refused} skipped, "
            f"{len(self.failed)} failed, {len(self.warnings)} warning(s); "
            f"{self.seconds_of_audio:.1f} s of audio in {self.wall_seconds:.1f} s "
            f"({speed:.0f}x real time)"
        )
        if self.nothing_possible:
            line = "nothing enhanced: " + line
        return line


def output_path(source: Path, out_dir: Path | None, fmt: str) -> Path:
    """``NAME.enhanced.wav`` beside the input, or inside ``out_dir``."""
    return (out_dir or source.parent) / (source.stem + SUFFIX + output_suffix(fmt))


def _is_output(path: Path) -> bool:
    return path.stem.endswith(SUFFIX) and path.suffix.lower() in (".wav", ".flac")


def plan_outputs(
    sources: Sequence[str | os.PathLike], out_dir: Path | None, fmt: str, overwrite: bool
) -> tuple[list[tuple[Path, Path]], BatchReport]:
    """Pair each input with its output before any work, and name every input left out.

    Left out: this tool's own outputs, a second input whose output name is taken (by another
    input or by an input file itself), an existing output without ``overwrite``, and folders
    holding no audio file.
    """
    report = BatchReport()
    found = find_audio(sources)
    report.notes += found.notes
    report.refused += len(found.notes)
    inputs = {path.resolve() for path in found.files if path.exists() and not _is_output(path)}
    claimed: dict[Path, Path] = {}
    jobs = []
    for source in dict.fromkeys(found.files):
        target = output_path(source, out_dir, fmt)
        key = target.resolve()
        if _is_output(source):
            report.notes.append(f"{source}: is an output of this tool (*{SUFFIX}.*); skipped")
            report.refused += 1
        elif key in claimed:
            report.notes.append(
                f"{source}: its output {target} is also {claimed[key]}'s; skipped (rename one, "
                "or enhance them into different folders with -o)"
            )
            report.refused += 1
        elif key in inputs:
            report.notes.append(f"{source}: its output {target} is an input; skipped")
            report.refused += 1
        elif target.exists() and not overwrite:
            report.notes.append(f"{target}: exists, kept (use --overwrite to replace it)")
            report.exist += 1
            claimed[key] = source
        else:
            claimed[key] = source
            jobs.append((source, target))
    return jobs, report


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
    try:
        thread.start()  # inside: an interrupt as it starts must still stop it
        while True:
            item, error = ahead.get()
            if item is end:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        if thread.ident is not None:
            thread.join()


def _band(path: Path, meter: SpectrumMeter, model_rate: int) -> tuple[float | None, str | None]:
    """The input's low-pass over the whole file, and a warning if its band reaches past the
    model's (that part is not in the output)."""
    freqs, power = meter.spectrum()
    if not np.any(power > 0):
        return None, None
    cutoff = lowpass_of_spectrum(freqs, power, meter.rate)
    top, model_top = cutoff or meter.rate / 2, model_rate / 2
    if top <= model_top * 1.04:  # the model's band, give or take its own anti-alias roll-off
        return cutoff, None
    return cutoff, (
        f"{path}: has content up to {top / 1000:.1f} kHz, above the model's "
        f"{model_top / 1000:.1f} kHz band; the output does not carry that band"
    )


def enhance_file(
    enhancer: Enhancer,
    source: Path,
    target: Path,
    fmt: str = "wav",
    output_rate: int | None = None,
    progress: Callable[[float, float | None], None] | None = None,
    depth: str | None = None,
) -> FileResult:
    """Enhance one file into ``target`` (format ``fmt``, bit depth ``depth``).

    ``progress(seconds_done, seconds_expected)`` is called as the file advances; the expected
    length is the container's estimate (None if it has none). Raises :class:`AudioError` for
    an unreadable input and :class:`OutputError` for an unwritable output.
    """
    model_rate = enhancer.sample_rate
    with open_audio(source) as reader:
        info = reader.info
        out_rate = output_rate or model_rate
        to_model = StreamResampler(info.sample_rate, model_rate, info.channels)
        to_output = StreamResampler(model_rate, out_rate, info.channels)
        expected = info.estimated_samples / info.sample_rate if info.estimated_samples else None
        done = 0

        def advanced(samples: int) -> None:
            nonlocal done
            done += samples
            if progress:
                progress(done / model_rate, expected)

        stream = enhancer.stream(advanced)
        next(stream)

        # One frame in eight of Welch's: the whole file's band, at 2 % of the work.
        meter = SpectrumMeter(info.sample_rate, hop=4 * N_FFT)

        def blocks() -> Iterator[tuple[np.ndarray, float]]:
            for block in reader.blocks():
                meter.add(block)
                yield to_model(block), float(np.abs(block).max(initial=0.0))
            yield to_model(np.zeros((0, info.channels), np.float32), last=True), 0.0

        with audio_writer(target, out_rate, info.channels, fmt, depth) as sink:
            peak, received = 0.0, 0
            # Closed here, not when the error's traceback lets go of it: its thread must stop
            # decoding before the reader closes the file under it.
            with contextlib.closing(read_ahead(blocks())) as ahead:
                for block, block_peak in ahead:
                    peak = max(peak, block_peak)
                    received += len(block)
                    sink.write(to_output(stream.send(block)))
            if received < enhancer.stft.fft_length:
                raise AudioError(
                    source,
                    f"too short ({received} samples at {model_rate} Hz; one STFT frame "
                    f"needs {enhancer.stft.fft_length})",
                )
            sink.write(to_output(stream.send(None), last=True))
        cutoff, band_warning = _band(source, meter, model_rate)
        warnings = reader.warnings + ([band_warning] if band_warning else [])
    if peak == 0.0:
        warnings.append(f"{source}: is silent; the output is silent too")
    if sink.clipped:
        warnings.append(
            f"{target}: {sink.clipped} samples beyond full scale clipped (peak "
            f"{20 * np.log10(sink.peak):+.1f} dBFS); use --bit-depth float to keep them"
        )
    return FileResult(info, reader.samples_read / info.sample_rate, warnings, cutoff, model_rate)


_worker: Enhancer | None = None
_BAR = "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]"
_BAR_UNSIZED = "{desc}: {n:.0f} s of audio [{elapsed}, {rate_fmt}]"


def _init_worker(load_args: dict) -> None:
    global _worker
    _worker = Enhancer.load(**load_args)


def _init_pool_worker(load_args: dict) -> None:
    terminate_on_hangup()  # a worker's SIGTERM cleans up its temporary file too
    _init_worker(load_args)


def _enhance_one(job: tuple) -> tuple[Path, FileResult | None, str | None]:
    source, target, fmt, rate, depth, show_bar = job
    try:
        if not show_bar:
            return source, enhance_file(_worker, source, target, fmt, rate, depth=depth), None
        from tqdm import tqdm

        bar = None

        def progress(seconds: float, expected: float | None) -> None:
            nonlocal bar
            if bar is None:  # the length is known once the file is open
                form = _BAR if expected else _BAR_UNSIZED
                bar = tqdm(desc=source.name, unit="s", leave=False, total=expected, bar_format=form)
            if bar.total and seconds > bar.total:
                bar.total = seconds  # the container's estimate was short
            bar.update(seconds - bar.n)

        try:
            result = enhance_file(_worker, source, target, fmt, rate, progress, depth)
        finally:
            if bar is not None:
                bar.close()
        return source, result, None
    except (AudioError, OutputError) as error:
        return source, None, str(error)
    except Exception as error:  # one bad file must not stop the batch
        return source, None, f"{source}: {type(error).__name__}: {error}"


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
) -> BatchReport:
    """Enhance every input; the model is loaded once per process. Returns the batch totals.

    ``log`` receives one line per file and per problem (default: standard error, around the bar).
    """
    import sys

    from tqdm import tqdm

    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}")
    log = log or (lambda line: tqdm.write(line, file=sys.stderr))
    started = time.monotonic()
    planned, report = plan_outputs(sources, out_dir, fmt, overwrite)
    for note in report.notes:
        log(note)
    todo = [(s, t, fmt, output_rate, depth, progress and jobs == 1) for s, t in planned]
    bar = tqdm(total=len(todo), unit="file", disable=not progress or len(todo) < 2)
    if jobs > 1 and len(todo) > 1:
        # Spawned, not forked: a fork of a process holding ONNX Runtime's threads can hang.
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_init_pool_worker, initargs=(load_args,)
        )
        results = pool.map(_enhance_one, todo)
    else:
        pool = None
        if todo:
            _init_worker(load_args)
        results = map(_enhance_one, todo)
    try:
        for (source, result, error), (_, target) in zip(results, planned, strict=True):
            bar.update()
            if error or result is None:
                log(f"error: {error}")
                report.failed.append(str(error))
                continue
            for warning in result.warnings:
                log(f"warning: {warning}")
            report.warnings += result.warnings
            report.done += 1
            report.seconds_of_audio += result.seconds
            log(f"{source} -> {target} ({result.band()})")
    finally:
        bar.close()
        if pool:
            pool.shutdown(cancel_futures=True)
    report.wall_seconds = time.monotonic() - started
    return report
