"""Where each output goes, decided for every input before any work (serve names its file so)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..atomic import NAME_MAX, output_folder, utf8_within
from ..audio import find_audio
from ..audio.write import output_suffix
from .report import BatchReport

__all__ = ["SUFFIX", "output_path", "plan_outputs"]

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
