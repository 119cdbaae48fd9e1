"""One file enhanced into its output, streamed block by block; the batch, serve and demo run it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..audio import AudioError, StreamResampler, open_audio, resampled_length
from ..audio.probe import counted_length
from ..audio.tags import Tags, read_tags
from ..audio.write import audio_writer
from ..dsp.lowpass import cuts_of_file, file_cut
from .enhancer import Enhancer
from .mixing import CHANGE_QUALITY, _Mix, checked_strength, default_output_rate, input_quality
from .read_ahead import ReadAhead
from .report import FileResult

__all__ = ["enhance_file"]


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
    count_length: bool = False,
) -> FileResult:
    """Enhance one file into ``target`` (format ``fmt``, bit depth ``depth``) at
    ``output_rate`` (default: `default_output_rate` of the input's), told its low-pass
    ``lowpass_hz`` (0: none; at most the input's Nyquist frequency) where given, else measuring
    it (`lowpass_of_file`).

    The output is the input at the output rate plus ``strength`` (0 to 1) times the model's
    change at the output rate: the input's band above the model's is kept, and 0 writes the
    input itself (the model is not run). ``progress(seconds_done, seconds_expected)`` is called
    as the output is written; the expected length is the container's estimate (None if it has
    none), or with ``count_length`` the length the file states, its packets counted where it
    states none (`audio.probe.counted_length`: a demux of the file, for a progress bar).
    Raises :class:`AudioError` for an unreadable input and :class:`OutputError` for an
    unwritable output.
    """
    started = time.monotonic()
    strength = checked_strength(strength)
    model_rate = enhancer.sample_rate
    ahead = enhancer.analysing_noise() if strength else contextlib.nullcontext()
    with ahead, open_audio(source) as reader:
        info = reader.info
        out_rate = output_rate or default_output_rate(info.sample_rate)
        quality = input_quality(info.codec)
        to_model = StreamResampler(info.sample_rate, model_rate, info.channels, quality)
        to_output = StreamResampler(info.sample_rate, out_rate, info.channels, quality)
        change_to_output = StreamResampler(model_rate, out_rate, info.channels, CHANGE_QUALITY)
        mix = _Mix(strength)
        length = counted_length(source, info) if count_length else info.estimated_samples
        expected = length / info.sample_rate if length else None
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
                    shown, why = file_cut(cuts_of_file(source), info)
                    if why and enhancer.usable_lowpass(shown) is None:
                        why = None  # a dark signal's fall, under the floor: kept, by that rule
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
        enhancer.rule.takes_lowpass,
        time.monotonic() - started,
        enhancer.lowpass_floor_hz,
        enhancer.usable_lowpass(told),
        enhancer.mended_band(told),
        lowpass_hz is not None,
        own_band,
        why,
        strength,
    )
