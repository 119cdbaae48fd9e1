"""Write-to-a-temporary-name-then-rename: the one place every output file is written through.

Audio, dataset clips, manifests and recipes, checkpoints, ONNX models and their cards, evaluation
reports and figures are written under a hidden temporary name in the target's folder and renamed
over the target only when complete, so an interrupted run (an error, Ctrl-C, SIGTERM or SIGHUP)
never leaves a half-written file under the final name, and a failure leaves no temporary file
behind either.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = [
    "STOPPING",
    "OutputError",
    "atomic_path",
    "atomic_write_text",
    "output_folder",
    "refuse_to_replace",
    "remove_leftovers",
    "terminate_on_hangup",
    "utf8_within",
]

NAME_MAX = 255  # bytes in one file name on the common Linux, macOS and Windows file systems
_SUFFIX = ".part"
_RANDOM = 8  # characters mkstemp adds


class OutputError(Exception):
    """An output that cannot be written; ``str()`` is one line naming it and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def _problem(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "the disk is full"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "cannot write here (permission denied or read-only)"
    return f"cannot write ({error.strerror or error})"


def utf8_within(name: str, room: int) -> str:
    """The longest start of ``name`` whose bytes fit in ``room``, cut at a whole character, and
    with only its valid UTF-8: a name's bytes that are not (a Latin-1 ``café``, which Python
    holds as a lone surrogate) are left out."""
    return os.fsencode(name)[:room].decode(errors="ignore")


def _prefix(name: str) -> str:
    """``.NAME.`` cut so that prefix, random part and suffix fit in one file name, and in UTF-8
    (`utf8_within`), as libsndfile's writer takes only UTF-8 paths; the file is renamed to
    ``NAME`` itself at the end."""
    return f".{utf8_within(name, NAME_MAX - len(_SUFFIX) - _RANDOM - 2)}."


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` if the body succeeds.

    The temporary file is created empty with the permissions a plain ``open`` would give it. On
    any exception it is removed and an ``OSError`` becomes :class:`OutputError` naming ``target``
    (a full disk says so).
    """
    target = Path(target)
    _hold_signals()  # a signal between making the file and guarding it would leave it behind
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        while True:
            handle, name = tempfile.mkstemp(
                prefix=_prefix(target.name), suffix=_SUFFIX, dir=target.parent
            )
            _lock(handle, wait=True)  # held while the file is made: `remove_leftovers` leaves it
            if os.fstat(handle).st_nlink:
                break
            # another run's `remove_leftovers` came between its making and its lock, and took it
            # for a dead run's: made again, or it would be written unguarded
            os.close(handle)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(name, 0o666 & ~umask)
    except OSError as error:
        _release_signals(raise_held=False)
        raise OutputError(target, _problem(error)) from error
    temp = Path(name)
    try:
        _release_signals()  # a held signal is raised here, where the file is removed
        yield temp
        os.replace(temp, target)
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputError(target, _problem(error)) from error
        raise
    finally:
        os.close(handle)  # and with it the lock


def _lock(handle: int, wait: bool) -> bool:
    """Lock the open file ``handle`` for this process alone (``flock``: it ends with the
    process, however it ends); whether it was had (False: another holds it, or none can)."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; a leftover is never taken for a dead one's
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def remove_leftovers(*targets: str | os.PathLike) -> None:
    """Remove the temporary files :func:`atomic_path` made for ``targets`` and could not remove
    itself: a process that made one and was killed outright (SIGKILL, a crash) left it. One
    whose maker still runs (it holds its lock: another run writing the same output) is kept.
    Each folder is listed once, however many of its files are named."""
    wanted: dict[Path, set[str]] = {}
    for target in map(Path, targets):
        wanted.setdefault(target.parent, set()).add(_prefix(target.name))
    tail = _RANDOM + len(_SUFFIX)
    for folder, prefixes in wanted.items():
        with contextlib.suppress(OSError):
            for path in folder.iterdir():
                name = path.name
                if not name.endswith(_SUFFIX) or name[:-tail] not in prefixes:
                    continue
                with contextlib.suppress(OSError):
                    handle = os.open(path, os.O_RDONLY)
                    try:
                        if _lock(handle, wait=False):
                            path.unlink(missing_ok=True)
                    finally:
                        os.close(handle)


def output_folder(folder: str | os.PathLike, create: bool = True) -> Path:
    """``folder``, where a command writes its outputs, made if ``create`` and missing; a file
    there, or one that cannot be made, is an :class:`OutputError` naming it."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(folder, "is a file, not a folder (the outputs go in a folder)")
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(folder, _problem(error)) from error
    return folder


def refuse_to_replace(targets: Iterable[str | os.PathLike], overwrite: bool) -> None:
    """Raise :class:`OutputError` naming the first of ``targets`` that exists, unless
    ``overwrite``: no output is replaced unasked. Checked before the work that makes them."""
    if overwrite:
        return
    for target in targets:
        if os.path.lexists(target):
            raise OutputError(target, "exists (--overwrite replaces it)")


def atomic_write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` through :func:`atomic_path`; return the target."""
    with atomic_path(target) as temp:
        temp.write_text(text, encoding="utf-8")
    return Path(target)


_held = 0  # how deep in a section where an interrupting signal waits
_waiting: list[int] = []  # a signal that came while held


def _hold_signals() -> None:
    global _held
    _held += 1


def _release_signals(raise_held: bool = True) -> None:
    global _held
    _held -= 1
    if not _held and _waiting:
        signum = _waiting.pop()
        _waiting.clear()
        if raise_held:
            raise KeyboardInterrupt(signal.Signals(signum).name)


def _interrupt(signum: int, frame: object) -> None:
    if _held:
        _waiting.append(signum)
        return
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def signals_held(raise_held: bool = True) -> Iterator[None]:
    """Hold the stopping signals (once `terminate_on_hangup` set their handlers) through the
    block, for work that, cut short, leaves a mess; one that came is raised at its end, unless
    not ``raise_held`` (when there is nothing left for it to stop)."""
    _hold_signals()
    try:
        yield
    finally:
        _release_signals(raise_held)


@contextlib.contextmanager
def starting_processes() -> Iterator[None]:
    """`signals_held` while processes start, and start them with SIGINT blocked (a mask
    outlives fork and exec). A Ctrl-C mid-start left a worker reading a half-sent task, and one
    in the second a worker takes to import printed its traceback: each worker unblocks SIGINT
    once it ignores it."""
    with signals_held():
        if not hasattr(signal, "pthread_sigmask"):  # Windows: no masks, nor a group's Ctrl-C
            yield
            return
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


STOPPING = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))
"""The signals that stop a command: Ctrl-C, ``kill``, a closed terminal (those there are)."""


def terminate_on_hangup() -> None:
    """Make SIGINT, SIGTERM and SIGHUP raise ``KeyboardInterrupt``, so cleanup runs, and wait
    while :func:`atomic_path` makes a temporary file, so none is ever left behind.

    For command-line entry points only: it replaces the process's handlers.
    """
    for number in STOPPING:
        signal.signal(number, _interrupt)
