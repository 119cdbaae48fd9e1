"""The HTTP side of ``spectral-enhance serve``: a Starlette app, its JSON routes and the server.

An upload is the raw body of one ``POST /api/jobs?name=...`` per file, so its size is checked
against ``Content-Length`` before a byte is stored, and again while it streams to disk; its
count against the session's files; its length by probing the header once it is saved. Only
then is it queued. Every refusal is a JSON ``{"error": "..."}`` the page shows as it is.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ipaddress
import mimetypes
import shutil
import socket
import tempfile
import threading
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..atomic import OutputError, atomic_path
from ..audio import AUDIO_EXTENSIONS
from ..audio.files import READABLE
from ..audio.write import FORMATS
from ..inference.enhancer import Enhancer
from . import engine
from .jobs import Job, Jobs, Session, minutes, plain_error

__all__ = [
    "Limits",
    "create_app",
    "display_folder",
    "display_name",
    "is_loopback",
    "running",
    "serve",
]

STATIC = Path(__file__).parent / "static"
# The page's ES modules: a browser runs none served as anything but JavaScript, which a
# Windows registry's entry for .js (often text/plain) would otherwise decide.
mimetypes.add_type("text/javascript", ".js")
SESSION = "X-Session"  # the header (or ``session`` query parameter) naming a page's session
CHUNK = 1 << 16
MAX_NAME = 120  # characters of a file name kept for display
# What a file's first bytes say it is: the stored suffix decides nothing but the decoder's path.
MAGIC = ((b"RIFF", ".wav"), (b"fLaC", ".flac"), (b"OggS", ".ogg"), (b"FORM", ".aiff"))


@dataclass(frozen=True)
class Limits:
    """What one upload and one session may take; checked before anything is decoded."""

    max_upload_mb: float = 200.0
    max_files: int = 20  # files one session holds at once
    max_seconds: float = 1800.0  # length of one file
    idle_minutes: float = 30.0  # a session unseen this long is removed with its files

    @property
    def max_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def display_name(name: str | None) -> str:
    """A browser's file name made safe to show and to offer as a download name.

    Only the last path component is kept, without control characters or characters file
    systems refuse; it is never used as a path on the server. A name over `MAX_NAME` is cut
    in its stem, so it keeps its suffix (the kind its download name says).
    """
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c if c.isprintable() and c not in '<>:"|?*' else "_" for c in name)
    name = name.strip(" .")
    if len(name) > MAX_NAME:
        suffix = PurePosixPath(name).suffix
        suffix = suffix if len(suffix) < 12 else ""  # a dot in a long title is no suffix
        name = name[: MAX_NAME - len(suffix)].rstrip(" .") + suffix
    return name or "upload"


def display_folder(name: str | None) -> str:
    """The folders a browser's file name gives (a folder's file: ``Album/Disc 2/01.mp3``), each
    made safe as `display_name` makes a name, with ``.``, ``..`` and empty ones dropped: where
    the file's output goes in the ZIP of all, never a path on the server."""
    parts = (name or "").replace("\\", "/").split("/")[:-1]
    return "/".join(display_name(part) for part in parts if part.strip(" ."))[:MAX_NAME]


def stored_suffix(name: str, head: bytes) -> str:
    """The suffix a saved upload gets: from its first bytes, else its name's, else ``.bin``."""
    for magic, suffix in MAGIC:
        if head.startswith(magic):
            return suffix
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        return ".mp3"  # an ID3 tag, or an MPEG audio layer III frame header
    suffix = Path(name).suffix.lower()
    return suffix if suffix in AUDIO_EXTENSIONS else ".bin"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _session(request: Request) -> Session | None:
    """The open session the request names (header, or query for links and the beacon)."""
    token = request.headers.get(SESSION) or request.query_params.get("session")
    return request.app.state.jobs.session(token, create=False)


_NO_SESSION = (
    "this page's session has ended (closed, idle too long, or the server restarted): "
    "reload the page"
)


def _done_job(request: Request) -> Job | None:
    """The finished job the path names, if it belongs to the caller's session."""
    session = _session(request)
    job = session.jobs.get(request.path_params["job"]) if session else None
    return job if job is not None and job.state == "done" else None


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html")


async def new_session(request: Request) -> Response:
    """A new session for a page that has just loaded: each page (tab, reload) has its own."""
    session = request.app.state.jobs.session(None)
    return JSONResponse({"session": session.token}, status_code=201)


async def config(request: Request) -> Response:
    """What the page may offer: the model, output options and limits, and capabilities."""
    enhancer: Enhancer = request.app.state.jobs.enhancer
    body = {
        "model": enhancer.name,
        "model_rate": enhancer.sample_rate,
        "formats": list(FORMATS),
        "readable": READABLE,
        "suffixes": list(AUDIO_EXTENSIONS),  # what a folder's files are taken by, as `enhance`
        "strength": engine.STRENGTH,
        "max_rate": engine.MAX_RATE,  # the highest rate, and band end, a request may name
        "limits": asdict(request.app.state.limits),
    }
    return JSONResponse(body)


async def list_jobs(request: Request) -> Response:
    """The session's jobs; the page also calls it now and then to keep its session alive. A
    session that has ended is a 404 with the line its page shows on the files it still lists."""
    session = _session(request)
    if session is None:
        return _error(_NO_SESSION, 404)
    return JSONResponse({"jobs": request.app.state.jobs.describe(session)})


async def upload(request: Request) -> Response:
    """Check the request's options and limits, then receive the file; or say why not."""
    limits: Limits = request.app.state.limits
    session = _session(request)
    name = display_name(request.query_params.get("name"))
    folder = display_folder(request.query_params.get("name"))
    if session is None:
        return _error(f"{name}: {_NO_SESSION}", 404)
    fmt = request.query_params.get("format", "wav")
    rate = request.query_params.get("rate", "")
    strength = _strength(request.query_params.get("strength", ""))
    lowpass_text = request.query_params.get("lowpass", "")
    lowpass = _within(lowpass_text, 0.0, engine.MAX_RATE) if lowpass_text else None
    if fmt not in FORMATS:
        return _error(f"{name}: output format must be one of {', '.join(FORMATS)}", 400)
    whole = rate.isascii() and rate.isdigit()  # not "²²", which isdigit() takes
    if rate not in ("", "input") and not (whole and 8000 <= int(rate) <= engine.MAX_RATE):
        return _error(f"{name}: output rate must be between 8000 and {engine.MAX_RATE} Hz", 400)
    if strength is None:
        return _error(f"{name}: strength must be a number from 0 to 1", 400)
    if lowpass_text and lowpass is None:
        return _error(
            f"{name}: the band's end (lowpass) must be a number of Hz from 0 to "
            f"{engine.MAX_RATE}; leave it out to have it found in the file",
            400,
        )
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limits.max_bytes:
        size, most = f"{int(declared) / 1024**2:,.2f} MB", f"{limits.max_upload_mb:g} MB"
        if f"{int(declared) / 1024**2:.2f}" == f"{limits.max_upload_mb:.2f}":  # a byte over
            size, most = f"{int(declared):,} bytes", f"{limits.max_bytes:,} bytes"
        return _error(f"{name}: {size} is more than this server takes ({most})", 413)
    if len(session.jobs) + session.arriving >= limits.max_files:
        return _error(f"{name}: this page holds at most {limits.max_files} files at once", 429)
    session.arriving += 1  # counted at once: the page sends several files side by side
    try:
        return await _receive(request, session, name, folder, fmt, rate, strength, lowpass)
    finally:
        session.arriving -= 1


def _strength(text: str) -> float | None:
    """The ``strength`` a request asks for (none: the slider's default), or None if it is not
    a number from 0 to 1."""
    if not text:
        return engine.STRENGTH["value"]
    return _within(text, engine.STRENGTH["min"], engine.STRENGTH["max"])


def _within(text: str, low: float, high: float) -> float | None:
    """``text`` as a number from ``low`` to ``high``, or None if it is not one."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


async def _receive(
    request: Request,
    session: Session,
    name: str,
    folder: str,
    fmt: str,
    rate: str,
    strength: float,
    lowpass: float | None,
) -> Response:
    """Stream the body to the session's folder, probe it, check its length, queue it."""
    jobs: Jobs = request.app.state.jobs
    limits: Limits = request.app.state.limits
    job_id = jobs.new_id()
    session.folder.mkdir(parents=True, exist_ok=True)
    part = session.folder / f"input-{job_id}.part"
    size, head = 0, b""
    try:
        with open(part, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limits.max_bytes:
                    return _error(
                        f"{name}: larger than this server takes ({limits.max_upload_mb:g} MB)",
                        413,
                    )
                head = head or chunk[:16]
                out.write(chunk)
        if size == 0:
            return _error(f"{name}: the file is empty", 400)
        source = part.with_suffix(stored_suffix(name, head))
        part.replace(source)
    except ClientDisconnect:  # the page went away mid-file: no one to answer, nothing kept
        return _error(f"{name}: the upload was broken off", 400)
    except FileNotFoundError:  # the session ended (its folder removed) while the file came
        return _error(f"{name}: {_NO_SESSION}", 410)
    finally:
        part.unlink(missing_ok=True)
    try:
        probe = await run_in_threadpool(engine.probe, source)
    except engine.AudioError as error:
        source.unlink(missing_ok=True)
        return _error(plain_error(error, name), 422)
    if probe.seconds > limits.max_seconds:
        source.unlink(missing_ok=True)
        tenths = minutes(probe.seconds) == minutes(limits.max_seconds)  # 10:00.5, not 10:00
        long, most = minutes(probe.seconds, tenths), minutes(limits.max_seconds, tenths)
        return _error(f"{name}: {long} long; this server takes files up to {most}", 422)
    output_rate = probe.rate if rate == "input" else int(rate) if rate else None
    job = Job(job_id, name, source, probe, fmt, output_rate, strength, lowpass, folder)
    jobs.submit(session, job)
    return JSONResponse(job.describe(jobs.position(job)), status_code=201)


async def output(request: Request) -> Response:
    job = _done_job(request)
    if job is None:
        return _error("no such enhanced file in this session", 404)
    return FileResponse(job.output, filename=job.download_name)


async def listening_copy(request: Request) -> Response:
    job = _done_job(request)
    if job is None:
        return _error("no such file in this session", 404)
    return FileResponse(job.listening_copy, media_type="audio/wav")


async def spectrograms(request: Request) -> Response:
    job = _done_job(request)
    if job is None:
        return _error("no such file in this session", 404)
    return FileResponse(job.spectrograms, media_type="application/json")


async def remove_job(request: Request) -> Response:
    """Take a file off the page: stop it if it is being enhanced, and remove its files."""
    session = _session(request)
    if session is None:
        return _error(_NO_SESSION, 404)
    jobs = request.app.state.jobs
    if not await run_in_threadpool(jobs.remove, session, request.path_params["job"]):
        return _error("no such file in this session", 404)
    return Response(status_code=204)


async def zip_all(request: Request) -> Response:
    """Every enhanced file of the session in one ZIP (stored, not compressed: audio)."""
    session = _session(request)
    if session is None:
        return _error(_NO_SESSION, 404)
    done = [job for job in session.jobs.values() if job.state == "done"]
    if not done:
        return _error("no enhanced files yet", 404)
    target = session.folder / "spectral-enhance.zip"
    try:
        await run_in_threadpool(_write_zip, target, done)
    except (OSError, OutputError):  # the session ended (its folder removed) meanwhile
        return _error(_NO_SESSION, 410)
    return FileResponse(target, filename="spectral-enhance.zip")


def _write_zip(target: Path, done: list[Job]) -> None:
    names: set[str] = set()
    with atomic_path(target) as temp, zipfile.ZipFile(temp, "w", zipfile.ZIP_STORED) as archive:
        for job in done:  # a folder's files under their folders, as the page sent them
            stem = f"{job.folder}/{job.download_name}" if job.folder else job.download_name
            name, n = stem, 1
            while name in names:
                n += 1
                base, dot, ext = stem.rpartition(".")
                name = f"{base} ({n}){dot}{ext}"
            names.add(name)
            archive.write(job.output, name)


async def end_session(request: Request) -> Response:
    """The page's unload beacon (POST) or a DELETE: remove this session's files now."""
    session = _session(request)
    if session is not None:
        await run_in_threadpool(request.app.state.jobs.end, session)
    return Response(status_code=204)


async def _refused(request: Request, error: HTTPException) -> Response:
    """Starlette's own refusals (a wrong method, a path it has no route for) in the API's
    form, one line of JSON, as every other answer of the API."""
    path, allowed = request.url.path, (error.headers or {}).get("Allow")
    said = {404: f"{path}: no such page or API call"}
    said[405] = f"{path} does not take {request.method}" + (
        f"; it takes {allowed}" if allowed else ""
    )
    message = said.get(error.status_code, error.detail)
    return JSONResponse({"error": message}, status_code=error.status_code, headers=error.headers)


async def _failed(request: Request, error: Exception) -> Response:
    """Any unexpected error: one plain line, never a traceback (the server log has it)."""
    return _error("the server could not answer this request; its log has the details", 500)


def create_app(
    enhancer: Enhancer, limits: Limits = Limits(), root: Path | None = None, host: str = ""
) -> Starlette:
    """The app around a loaded ``enhancer``; session files go under ``root`` (a new temp dir).

    Requests must name a loopback host unless ``host`` is not loopback itself, so a web page
    elsewhere cannot reach a local server through DNS rebinding.
    """
    root = root or Path(tempfile.mkdtemp(prefix="spectral-enhance-serve-"))
    jobs = Jobs(enhancer, root, limits.idle_minutes * 60, limits.max_seconds)
    # The lifespan removes it at a clean exit; this, if the server never started or crashed.
    atexit.register(shutil.rmtree, root, ignore_errors=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        jobs.start()
        janitor = asyncio.create_task(_expire_idle(jobs))
        try:
            yield
        finally:
            janitor.cancel()
            await run_in_threadpool(jobs.stop)

    hosts = ["127.0.0.1", "localhost", "::1", "[::1]", "testserver"]
    allowed = hosts if not host or is_loopback(host) else ["*"]
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/config", config),
            Route("/api/jobs", list_jobs, methods=["GET"]),
            Route("/api/jobs", upload, methods=["POST"]),
            Route("/api/jobs/{job}", remove_job, methods=["DELETE"]),
            Route("/api/jobs/{job}/output", output),
            Route("/api/jobs/{job}/input", listening_copy),
            Route("/api/jobs/{job}/spectrograms", spectrograms),
            Route("/api/zip", zip_all),
            Route("/api/session", new_session, methods=["POST"]),
            Route("/api/session/end", end_session, methods=["POST", "DELETE"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed)],
        exception_handlers={Exception: _failed, HTTPException: _refused},
        lifespan=lifespan,
    )
    app.state.jobs = jobs
    app.state.limits = limits
    return app


async def _expire_idle(jobs: Jobs, every: float = 30.0) -> None:
    while True:
        await asyncio.sleep(every)
        await run_in_threadpool(jobs.expire)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host.strip("[]"), port), family=family)


SHUTDOWN_SECONDS = 3.0
"""How long Ctrl-C lets open requests finish before they are cut: an upload that stalls
(a page left half-sent) held the server open until a second Ctrl-C."""


def _config(app: Starlette) -> uvicorn.Config:
    return uvicorn.Config(
        app, log_level="warning", lifespan="on", timeout_graceful_shutdown=SHUTDOWN_SECONDS
    )


def serve(app: Starlette, host: str, port: int, on_start=None) -> None:
    """Serve ``app`` until Ctrl-C; ``on_start(url)`` runs once the socket listens."""
    sock = _bind(host, port)
    url = f"http://{_url_host(host)}:{sock.getsockname()[1]}/"
    server = uvicorn.Server(_config(app))
    if on_start:
        on_start(url)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn has shut down cleanly by then
        server.run(sockets=[sock])


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@contextlib.contextmanager
def running(app: Starlette, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` from a thread while the block runs (tests, scripts); yields its URL."""
    sock = _bind(host, port)
    url = f"http://{_url_host(host)}:{sock.getsockname()[1]}/"
    server = uvicorn.Server(_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError(f"the server at {url} did not start")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
