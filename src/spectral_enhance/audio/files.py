"""Finding audio files in folders, by the suffixes a music library's files carry.

A file named directly is always tried (its content decides); a folder is searched for these
suffixes only, so its cover art and playlists are not decoded, nor its hidden files (macOS's
``._01.mp3`` copies of a file's metadata, a ``.Trash`` folder); links to folders are followed,
each folder once. What a search skips is reported: in a folder that holds audio, its other
files in one line.
Each file found in a folder keeps its place below that folder, so a library's outputs can keep
its tree (two albums' ``01.mp3`` are not one output).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["AUDIO_EXTENSIONS", "READABLE", "Found", "find_audio"]

READABLE = "MP3, AAC/M4A, FLAC, WAV, AIFF, Ogg, Opus, WMA"  # for people: the common ones
AUDIO_EXTENSIONS = (
    ".mp3", ".mp2", ".mp1", ".m4a", ".m4b", ".aac", ".mp4", ".3gp", ".ogg", ".oga", ".opus",
    ".spx", ".flac", ".wav", ".w64", ".wma", ".aif", ".aiff", ".aifc", ".caf", ".au", ".snd",
    ".ape", ".wv", ".tta", ".mpc", ".ac3", ".eac3", ".dts", ".amr", ".dsf", ".mka", ".webm",
)  # fmt: skip


@dataclass
class Found:
    """Files to try, in order, and each path a search left out (a folder with no audio, a hidden
    file, a link to a folder searched already, the outputs' folder), with its line."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    below: dict[Path, Path] = field(default_factory=dict)  # a found file's folder, relative
    untried: list[str] = field(default_factory=list)  # a line per folder: its other files
    _taken: dict[Path, Path] = field(default_factory=dict, repr=False)  # resolved -> as found

    def take(self, path: Path, below: Path) -> None:
        """Add ``path`` (``below`` its folder searched), unless it is a file taken already."""
        real = path.resolve()
        if (first := self._taken.get(real)) is not None:
            again = "given more than once" if first == path else f"the same file as {first}"
            if (path, note := f"{path}: {again}; taken once") not in self.skipped:  # once a path
                self.skipped.append((path, note))
            return
        self._taken[real] = path
        self.files.append(path)
        self.below[path] = below

    def subfolder(self, path: Path) -> Path:
        """Where ``path`` lies below the folder it was found in (``.`` if named directly)."""
        return self.below.get(path, Path())

    @property
    def notes(self) -> list[str]:
        """One line for each path a search left out."""
        return [note for _, note in self.skipped]


def find_audio(sources: Iterable[str | os.PathLike], leave_out: Path | None = None) -> Found:
    """Files named directly, and audio files found recursively in folders, sorted.

    A named path that does not exist is kept, so the reader reports it; a folder with no audio
    file gets a note saying what it held instead. In a folder, a file whose name or a folder on
    its way down starts with ``.`` is hidden: it is left out, with a note if it has an audio
    suffix. Links to folders are followed (a library's linked albums), each folder searched
    once; a link to one searched already, or a broken link with an audio suffix, gets a note.
    ``leave_out`` (the outputs' folder, inside a folder searched) is not searched, with a note.
    A file reached twice (named twice, found again through a link, or by another name) is kept
    once, where it was first reached, with a note.
    """
    found = Found()
    for source in map(Path, sources):
        if not source.is_dir():
            found.take(source, Path())
            continue
        files = _files_below(source, found, leave_out)
        audio = []
        for path in files:
            if path.suffix.lower() not in AUDIO_EXTENSIONS:
                continue
            if _hidden(path.relative_to(source)):
                note = f"{path}: a hidden file (a name starting with '.'); skipped"
                found.skipped.append((path, note))
            else:
                audio.append(path)
        if not audio:
            held = f"{len(files)} other file(s)" if files else "nothing"
            note = f"{source}: no audio files in this folder ({held}); skipped"
            found.skipped.append((source, note))
        elif others := Counter(
            path.suffix.lower() or "no suffix"
            for path in files
            if path.suffix.lower() not in AUDIO_EXTENSIONS and not _hidden(path.relative_to(source))
        ):
            kinds = ", ".join(f"{kind} {n}" for kind, n in others.most_common())
            found.untried.append(
                f"{source}: {others.total()} file(s) not tried, not audio by their names ({kinds})"
            )
        for path in audio:
            found.take(path, path.parent.relative_to(source))
    return found


def _files_below(folder: Path, found: Found, leave_out: Path | None) -> list[Path]:
    """Every file below ``folder``, sorted, through links to folders, each folder once (so a
    link back up does not loop), but for ``leave_out``; what is left out is noted in ``found``."""
    seen = {folder.resolve()}
    outputs = leave_out.resolve() if leave_out is not None else None
    files = []
    for root, folders, names in os.walk(folder, followlinks=True):
        here = Path(root)
        kept = []
        for name in sorted(folders):
            real = (here / name).resolve()
            if real in seen:
                note = f"{here / name}: the folder {real}, searched already; skipped"
                found.skipped.append((here / name, note))
            elif real == outputs:
                note = f"{here / name}: the folder the outputs go to; not searched"
                found.skipped.append((here / name, note))
            else:
                seen.add(real)
                kept.append(name)
        folders[:] = kept
        for name in names:
            path = here / name
            if path.is_file():
                files.append(path)
            elif path.is_symlink() and path.suffix.lower() in AUDIO_EXTENSIONS:
                found.skipped.append((path, f"{path}: a broken link; skipped"))
    return sorted(files)


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)
