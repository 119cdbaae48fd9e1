"""Sessions, their files and the work queue behind the page.

Each page session (a random token the page asks for when it loads, and sends with each request)
owns one temporary folder under the server's root; uploads are
stored there under names the server makes (``input-3.mp3``), never the browser's. One worker
thread enhances one job at a time, in arrival order across sessions, with the model loaded
once (the enhancer itself spreads a job over the cores); a waiting job knows its place in line.
A session's folder is removed when the page ends it, when it has been idle too long, and with
the root when the server stops.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import secrets
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import OutputError, atomic_path
from ..audio import resampled_length
from ..audio.files import READABLE
from ..audio.write import output_suffix
from ..inference.enhancer import Enhancer
from ..inference.outputs import output_path
from ..inference.report import FileResult
from . import engine
from .analysis import encode_cells, spectrogram_cells

__all__ = ["Job", "Jobs", "Session", "plain_error"]

log = logging.getLogger("spectral_enhance.serve")


class _CancelledError(Exception):
    """Raised from a progress report to stop the job of a session that has ended."""


class _TooLongError(Exception):
    """Raised from a progress report when a file runs on past the server's longest."""


def minutes(seconds: float, tenths: bool = False) -> str:
    """A length as the page shows it: ``3:05`` (``3:05.4`` with ``tenths``)."""
    if tenths:
        return f"{int(seconds // 60)}:{seconds % 60:04.1f}"
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def plain_error(error: engine.AudioError | OutputError, name: str) -> str:
    """One line for the page about a file the user knows as ``name``: no server paths.

    The decoder's own reason for an unreadable file names the server's copy and says little to
    a listener, so it is replaced by what the server does read.
    """
    problem = error.problem.replace(str(error.path), name)
    if problem.startswith("not an audio file"):
        problem = f"not an audio file this server reads ({READABLE}), or damaged beyond use"
    return f"{name}: {problem}"


@dataclass
class Job:
    """One uploaded file on its way through the queue; ``state`` is what the page shows."""

    id: str
    name: str  # the browser's file name, sanitised: for display and download names only
    source: Path
    probe: engine.Probe
    fmt: str = "wav"
    output_rate: int | None = None
    strength: float = 1.0
    lowpass_hz: float | None = None  # where the band ends, given on the page; None: measured
    folder: str = ""  # a folder's file: its folders below it, for the ZIP of all
    state: str = "queued"  # queued, running, analysing, done, failed
    done_samples: int = 0
    total_samples: int = 1
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    removed: bool = False  # taken off the page: a running job stops at its next report
    named_by_kind: bool = False  # its download name tells it from another of the same stem

    @property
    def output(self) -> Path:
        return self.source.with_name(f"output-{self.id}{output_suffix(self.fmt)}")

    @property
    def listening_copy(self) -> Path:
        """The decoded input as WAV, aligned as the enhancer saw it, for the A/B player."""
        return self.source.with_name(f"listen-{self.id}.wav")

    @property
    def spectrograms(self) -> Path:
        return self.source.with_name(f"spectrograms-{self.id}.json")

    @property
    def download_name(self) -> str:
        """``NAME.enhanced.wav``, as ``enhance`` names it (`output_path`): cut at a character to
        fit a file name's 255 bytes, which 83 CJK characters and the ending pass."""
        return output_path(Path(self.name), None, self.fmt, by_kind=self.named_by_kind).name

    def describe(self, position: int | None) -> dict[str, Any]:
        """The job as the page's JSON: state, place in line, progress, message, facts."""
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "position": position,
            "progress": min(1.0, self.done_samples / self.total_samples),
            "error": self.error,
            "warnings": self.warnings,
            "facts": self.facts,
            "download_name": self.download_name,
        }


@dataclass
class Session:
    """One browser's files: a private folder and its jobs, in upload order."""

    token: str
    folder: Path
    jobs: dict[str, Job] = field(default_factory=dict)
    last_seen: float = field(default_factory=time.monotonic)
    closed: bool = False
    arriving: int = 0  # uploads still streaming in, counted against the file limit


class Jobs:
    """The sessions and the queue, and the one worker thread that empties it."""

    def __init__(
        self,
        enhancer: Enhancer,
        root: Path,
        idle_seconds: float = 1800.0,
        max_seconds: float = math.inf,
    ) -> None:
        self.enhancer = enhancer
        self.root = root
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds  # a file longer than its header said stops here
        self.sessions: dict[str, Session] = {}
        self.queue: deque[Job] = deque()
        self.owner: dict[str, Session] = {}  # job id -> its session
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.stopping = False
        self.running: Job | None = None
        self.ids = itertools.count(1)
        self.thread: threading.Thread | None = None

    # Sessions -------------------------------------------------------------------------------

    def session(self, token: str | None, create: bool = True) -> Session | None:
        """The open session of ``token``; else a new one (a new token) or None if not ``create``.

        Its folder is made by the first upload, so a page that uploads nothing costs no disk.
        """
        with self.lock:
            session = self.sessions.get(token or "")
            if session is None and create:
                token = secrets.token_urlsafe(24)
                folder = self.root / f"session-{secrets.token_hex(8)}"
                session = self.sessions[token] = Session(token, folder)
            if session is not None:
                session.last_seen = time.monotonic()
            return session

    def end(self, session: Session, wait: float = 30.0) -> None:
        """Forget a session: drop its waiting jobs, stop its running one, remove its folder."""
        with self.lock:
            if session.closed:
                return
            session.closed = True
            self.sessions.pop(session.token, None)
            self._withdraw(set(session.jobs), wait)
        shutil.rmtree(session.folder, ignore_errors=True)

    def remove(self, session: Session, job_id: str, wait: float = 30.0) -> bool:
        """Take one job off ``session``'s page: out of the queue if waiting, stopped at its
        next progress report if running, and its files removed; False if it has no such job."""
        with self.lock:
            job = session.jobs.get(job_id)
            if job is None:
                return False
            job.removed = True
            self._withdraw({job_id}, wait)
            del session.jobs[job_id]
        for path in (job.source, job.output, job.listening_copy, job.spectrograms):
            path.unlink(missing_ok=True)
        return True

    def _withdraw(self, ids: set[str], wait: float) -> None:
        """With the lock held: the jobs ``ids`` out of the queue, the one of them running
        stopped at its next progress report (its files go after that), their owner forgotten.
        The running job sees it was withdrawn by its session's ``closed`` or its ``removed``."""
        self.queue = deque(job for job in self.queue if job.id not in ids)
        self.wake.wait_for(lambda: self.running is None or self.running.id not in ids, wait)
        for job_id in ids:
            self.owner.pop(job_id, None)

    def expire(self, now: float | None = None) -> int:
        """End every session idle for longer than ``idle_seconds``; returns how many."""
        now = time.monotonic() if now is None else now
        with self.lock:
            idle = [s for s in self.sessions.values() if now - s.last_seen > self.idle_seconds]
        for session in idle:
            self.end(session)
        return len(idle)

    # The queue ------------------------------------------------------------------------------

    def new_id(self) -> str:
        return str(next(self.ids))

    def submit(self, session: Session, job: Job) -> None:
        """Queue ``job`` (its file already saved and probed) for ``session``."""
        rate = self.enhancer.sample_rate
        job.total_samples = max(1, resampled_length(job.probe.frames, job.probe.rate, rate))
        with self.lock:
            same = next(
                (
                    other
                    for other in session.jobs.values()
                    if other.folder == job.folder and other.download_name == job.download_name
                ),
                None,
            )
            if same and Path(job.name).suffix != Path(same.name).suffix:
                job.named_by_kind = True  # the later one says its kind; the first keeps its name
            session.jobs[job.id] = job
            self.owner[job.id] = session
            self.queue.append(job)
            self.wake.notify_all()

    def position(self, job: Job) -> int | None:
        """1 for the next job to run, 2 for the one after, ...; None if not waiting."""
        with self.lock:
            for place, waiting in enumerate(self.queue, 1):
                if waiting is job:
                    return place
        return None

    def describe(self, session: Session) -> list[dict[str, Any]]:
        """Every job of ``session`` as the page shows it."""
        with self.lock:
            places = {job.id: place for place, job in enumerate(self.queue, 1)}
            jobs = list(session.jobs.values())
        return [job.describe(places.get(job.id)) for job in jobs]

    def start(self) -> None:
        """Start the worker thread."""
        self.thread = threading.Thread(target=self._work, name="serve-worker", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop the worker (its job at the next progress report); remove every session's files."""
        with self.lock:
            self.stopping = True
            self.queue.clear()
            self.wake.notify_all()
        if self.thread is not None:
            self.thread.join(timeout=60)
        for session in list(self.sessions.values()):
            self.end(session)
        shutil.rmtree(self.root, ignore_errors=True)

    def _work(self) -> None:
        while True:
            with self.lock:
                while not self.queue and not self.stopping:
                    self.wake.wait()
                if self.stopping:
                    return
                job = self.queue.popleft()
                session = self.owner.get(job.id)
                if session is None:
                    continue
                job.state = "running"
                self.running = job
            try:
                self.run(job, lambda job=job, s=session: s.closed or self.stopping or job.removed)
            finally:
                with self.lock:
                    self.running = None
                    self.wake.notify_all()

    def run(self, job: Job, cancelled=lambda: False) -> None:
        """Enhance and analyse one job; any failure becomes a plain message on the job.

        ``cancelled()`` is asked at each progress report; if true, the job stops there.
        """
        job.state = "running"
        started = time.monotonic()

        longest = self.max_seconds * self.enhancer.sample_rate

        def advance(samples: int) -> None:
            if cancelled():
                raise _CancelledError
            job.done_samples += samples
            if job.done_samples > longest:  # its header said less (a VBR MP3 with no tag)
                raise _TooLongError

        try:
            result = engine.enhance(
                self.enhancer,
                job.source,
                job.output,
                job.fmt,
                job.output_rate,
                advance,
                job.strength,
                job.lowpass_hz,
            )
            job.warnings = [self._plain(job, line) for line in result.warnings]
            job.done_samples = job.total_samples
            job.state = "analysing"
            job.facts = self._analyse(job, result, time.monotonic() - started)
            job.state = "done"
        except _CancelledError:
            job.error = f"{job.name}: cancelled"
            job.state = "failed"
        except _TooLongError:
            job.error = (
                f"{job.name}: longer than its header said, and than the "
                f"{minutes(self.max_seconds)} this server takes; stopped there"
            )
            job.state = "failed"
        except (engine.AudioError, OutputError) as error:
            job.error = plain_error(error, job.name)
            job.state = "failed"
        except Exception as error:  # the page gets one line; the server log the traceback
            log.exception("job %s (%s) failed", job.id, job.name)
            job.error = f"{job.name}: could not be enhanced ({type(error).__name__})"
            job.state = "failed"

    def _plain(self, job: Job, line: str) -> str:
        """A warning with the server's file names replaced by the user's."""
        return line.replace(str(job.source), job.name).replace(str(job.output), job.download_name)

    def _analyse(self, job: Job, result: FileResult, enhance_seconds: float) -> dict[str, Any]:
        """Facts, listening copy and spectrograms (0 Hz to the output's Nyquist), with the
        low-pass, the bands rebuilt and mended, and the length the enhancement measured (the
        CLI's figures, `enhance --json`'s, not a second count)."""
        samples, rate = engine.read(job.source)
        engine.write_pcm(job.listening_copy, samples, rate)
        lowpass = None if result.lowpass_hz is None else round(result.lowpass_hz)
        told = result.to_dict()  # the bands rebuilt and mended, as `enhance --json` gives them
        enhanced, out_rate = engine.read(job.output)
        top = out_rate / 2
        seconds = result.seconds  # what decoding gave, not the container's estimate
        figures = {
            "top_hz": top,
            "seconds": seconds,
            "lowpass_hz": lowpass,
            "lowpass_given": told["lowpass_given"],
            "input": encode_cells(spectrogram_cells(samples, rate, top)),
            "output": encode_cells(spectrogram_cells(enhanced, out_rate, top)),
        }
        del samples, enhanced
        with atomic_path(job.spectrograms) as temp:
            temp.write_text(json.dumps(figures))
        return {
            "input_rate": rate,
            "channels": job.probe.channels,
            "seconds": round(seconds, 3),
            "input_bytes": job.source.stat().st_size,
            "lowpass_hz": lowpass,
            **{
                key: told[key]
                for key in (
                    "lowpass_given",
                    "rebuilt_hz",
                    "mended_hz",
                    "own_band_hz",
                    "own_band_why",
                )
            },
            "line": result.band(),  # the CLI's words for what was found and rebuilt
            "output_rate": out_rate,
            "output_format": job.fmt,
            "strength": job.strength,
            "output_bytes": job.output.stat().st_size,
            "model": self.enhancer.name,
            "enhance_seconds": round(enhance_seconds, 3),
        }
