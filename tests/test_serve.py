"""``spectral-enhance serve``: the HTTP API, its limits and sessions, and the page in Chromium.

The server runs in this process on 127.0.0.1 with a tiny untrained model; test MP3s are made by
Debian's ``lame``. Every result is compared with what ``spectral-enhance enhance`` writes for
the same file and options.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from conftest import HUNG, music
from spectral_enhance.audio import read_audio
from spectral_enhance.cli import main
from spectral_enhance.inference.enhancer import Enhancer
from spectral_enhance.serve.app import Limits, create_app, display_name, running
from spectral_enhance.serve.engine import probe
from spectral_enhance.serve.jobs import Job, Jobs
from spectral_enhance.training.export import export
from tiny import tiny_checkpoint

LIMITS = Limits(max_upload_mb=1.0, max_files=6, max_seconds=20.0)
FINISHED = ("done", "failed")


def lame_mp3(path: Path, seconds: float, kbps: int = 64, rate: int = 44100, seed: int = 0) -> Path:
    """A stereo MP3 of generated music, encoded by Debian's ``lame`` (not our own writer)."""
    if not shutil.which("lame"):
        pytest.skip("needs Debian's lame (.ci/run installs it)")
    wav = path.with_suffix(".source.wav")
    sf.write(wav, music(seconds, rate, channels=2, seed=seed), rate, subtype="PCM_16")
    resample = ["--resample", f"{rate / 1000:g}"]
    subprocess.run(["lame", "--quiet", "-b", str(kbps), *resample, str(wav), str(path)], check=True)
    wav.unlink()
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("model")
    export(tiny_checkpoint(root / "tiny.pt"), root / "onnx", precisions=["fp32"])
    return str(root / "onnx")


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    return lame_mp3(tmp_path_factory.mktemp("song") / "song.mp3", 4.0)


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    """The app, serving on a free port of 127.0.0.1 from a thread: (url, app)."""
    app = create_app(Enhancer.load(model, precision="fp32"), LIMITS)
    with running(app) as url:
        yield url, app


def cli_output(tmp_path: Path, source: Path, model: str, *options: str) -> Path:
    """What ``spectral-enhance enhance`` writes for ``source`` with the same model/options."""
    out = tmp_path / "cli"
    args = ["enhance", str(source), "--model", model, "--precision", "fp32", "-q", "-o", str(out)]
    assert main([*args, *options]) == 0
    return next(out.iterdir())


@contextlib.contextmanager
def page(url: str) -> Iterator[httpx.Client]:
    """A client that acts as one page: it asks for a session and names it in each request."""
    with httpx.Client(base_url=url) as client:
        client.headers["X-Session"] = client.post("/api/session").json()["session"]
        yield client


def wait(client: httpx.Client, job_id: str, seconds: float = HUNG) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = next(j for j in client.get("/api/jobs").json()["jobs"] if j["id"] == job_id)
        if job["state"] in FINISHED:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def upload(client: httpx.Client, name: str, data: bytes, **options: str) -> httpx.Response:
    return client.post("/api/jobs", params={"name": name, **options}, content=data)


@pytest.mark.parametrize(
    ("options", "cli_options"),
    [
        ({}, []),
        ({"format": "flac", "rate": "input"}, ["--format", "flac", "--sample-rate", "44100"]),
    ],
)
def test_result_equals_the_cli_output(server, song, model, tmp_path, options, cli_options):
    url, _ = server
    with page(url) as client:
        answer = upload(client, "song.mp3", song.read_bytes(), **options)
        assert answer.status_code == 201, answer.text
        job = wait(client, answer.json()["id"])
        assert job["state"] == "done", job
        got = client.get(f"/api/jobs/{job['id']}/output")
    expected = cli_output(tmp_path, song, model, *cli_options)
    assert got.content == expected.read_bytes()
    assert f'filename="{expected.name}"' in got.headers["content-disposition"]
    facts = job["facts"]
    assert (facts["input_rate"], facts["channels"]) == (44100, 2)
    assert facts["seconds"] == pytest.approx(4.0, abs=1e-3)
    assert 10_500 <= facts["lowpass_hz"] <= 11_500  # LAME at 64 kbps, measured in test_lowpass
    # the bands rebuilt and mended, as `enhance --json` gives them (this model mends none)
    assert facts["rebuilt_hz"][0] == pytest.approx(facts["lowpass_hz"], abs=0.5)
    assert facts["mended_hz"] is None


def test_spectrograms_span_zero_to_the_output_nyquist_with_the_lowpass(server, tmp_path):
    import base64

    url, _ = server
    # LAME's cutoff at 32 kbps: about 5.5 kHz.
    low = lame_mp3(tmp_path / "low.mp3", 3.0, kbps=32, rate=32000)
    with page(url) as client:
        job = wait(client, upload(client, "low.mp3", low.read_bytes(), rate="22050").json()["id"])
        figures = client.get(f"/api/jobs/{job['id']}/spectrograms").json()
        listening = client.get(f"/api/jobs/{job['id']}/input")
    lowpass = job["facts"]["lowpass_hz"]
    assert figures["top_hz"] == 11025 and figures["lowpass_hz"] == lowpass
    assert 5000 < lowpass < 6000
    images = {}
    for key in ("input", "output"):
        image = figures[key]
        cells = np.frombuffer(base64.b64decode(image["cells"]), np.uint8)
        images[key] = cells.reshape(image["rows"], image["columns"])
        assert images[key].min() >= 1  # every row lies inside both files' band: none blank
    row = round(lowpass / figures["top_hz"] * len(images["input"]))
    # The input is empty above its low-pass (near the -100 dB floor, byte 1) and not below it;
    # the untrained model puts energy above it, so the output is not empty there.
    assert images["input"][row + 5 :].mean() < 3
    assert images["input"][row - 20 : row - 5].mean() > 40
    assert images["output"][row + 5 :].mean() > 40
    # The player's input: the decode the enhancer saw, as 16-bit WAV at the input's rate, so
    # input and output line up in time.
    info = sf.info(io.BytesIO(listening.content))
    decoded, _ = read_audio(low)
    assert (info.samplerate, info.channels, info.frames) == (32000, 2, len(decoded))
    assert job["facts"]["seconds"] == pytest.approx(info.frames / 32000, abs=1e-3)


def test_bad_uploads_get_one_plain_line_and_the_server_keeps_serving(server, song, tmp_path):
    url, app = server
    tagged = lame_mp3(tmp_path / "tagged.mp3", 3.0, kbps=128)
    long = lame_mp3(tmp_path / "long.mp3", 25.0, kbps=32)
    just = lame_mp3(tmp_path / "just.mp3", 20.5, kbps=32)
    bad = {
        "empty.wav": (b"", 400, "the file is empty"),
        "notes.mp3": (b"these are my notes, not audio\n" * 40, 422, "not an audio file"),
        "big.flac": (
            b"\0" * 2 * LIMITS.max_bytes,
            413,
            "2.00 MB is more than this server takes (1 MB)",
        ),
        "long.mp3": (long.read_bytes(), 422, "0:25 long; this server takes files up to 0:20"),
        # a byte over: "1.00 MB is more than 1 MB" said nothing; 20.5 s, not "0:20 over 0:20"
        "over.flac": (
            b"\0" * (LIMITS.max_bytes + 1),
            413,
            f"{LIMITS.max_bytes + 1:,} bytes is more than this server takes "
            f"({LIMITS.max_bytes:,} bytes)",
        ),
        "just.mp3": (just.read_bytes(), 422, "0:20.5 long; this server takes files up to 0:20.0"),
    }
    with page(url) as client:
        for name, (data, status, message) in bad.items():
            answer = upload(client, name, data)
            assert answer.status_code == status, answer.text
            error = answer.json()["error"]
            assert error.startswith(f"{name}: ") and message in error, error
            assert str(app.state.jobs.root) not in error and "Traceback" not in error
        truncated = tagged.read_bytes()
        answer = upload(client, "cut.mp3", truncated[: len(truncated) // 2])
        job = wait(client, answer.json()["id"])
        # Enhanced as far as it goes, with the warning the CLI gives, in the user's names.
        assert job["state"] == "done", job
        (warning,) = [line for line in job["warnings"] if "ends early" in line]
        assert warning.startswith("cut.mp3: ends early") and "missing" in warning, warning
        assert str(app.state.jobs.root) not in warning
        good = wait(client, upload(client, "song.mp3", song.read_bytes()).json()["id"])
        assert good["state"] == "done"
        odd = upload(client, "song.mp3", song.read_bytes(), rate="\u00b2\u00b2\u00b2\u00b2\u00b2")
        assert odd.status_code == 400 and "output rate must be" in odd.json()["error"]  # not 500
    with httpx.Client(base_url=url) as stranger:
        answer = upload(stranger, "song.mp3", song.read_bytes())
        assert answer.status_code == 404
        assert answer.json()["error"].startswith("song.mp3: this page's session has ended")
        zipped = stranger.get("/api/zip")  # not "no enhanced files yet"
        assert zipped.json()["error"].startswith("this page's session has ended")


def test_file_names_never_become_paths(server, song):
    url, app = server
    with page(url) as client:
        answer = upload(client, "../../../tmp/x/..\\evil:name?.mp3", song.read_bytes())
        job = wait(client, answer.json()["id"])
        session = app.state.jobs.sessions[client.headers["X-Session"]]
    assert job["name"] == "evil_name_.mp3" and job["download_name"] == "evil_name_.enhanced.wav"
    names = sorted(p.name for p in session.folder.iterdir())
    assert names == [f"{kind}-{job['id']}{ext}" for kind, ext in SERVER_FILES]
    assert display_name("") == "upload" and display_name("a/b/\x00c.mp3") == "_c.mp3"
    with page(url) as client:  # a name that fits a file system, its download name too
        answer = upload(client, "\u591c" * 83 + ".mp3", song.read_bytes())
        job = wait(client, answer.json()["id"])
    assert len(job["download_name"].encode()) <= 255
    assert job["download_name"].endswith(".enhanced.wav")


def test_a_session_that_ends_under_a_request_gets_its_message(server, song):
    """Its folder removed (the session ended, idle or closed) while "Download all" is made:
    the page's plain line, not a 500 and a traceback in the server's log."""
    url, app = server
    with page(url) as client:
        wait(client, upload(client, "song.mp3", song.read_bytes()).json()["id"])
        session = app.state.jobs.sessions[client.headers["X-Session"]]
        shutil.rmtree(session.folder)
        answer = client.get("/api/zip")
    assert answer.status_code == 410
    assert answer.json()["error"].startswith("this page's session has ended")


def test_stopping_the_server_cuts_a_stalled_upload(model):
    """Ctrl-C waits a few seconds for open requests, then cuts them: an upload left half-sent
    (a page that hung) held the server open until a second Ctrl-C, with a traceback."""
    import socket
    from urllib.parse import urlparse

    from spectral_enhance.serve.app import SHUTDOWN_SECONDS

    app = create_app(Enhancer.load(model, precision="fp32"), LIMITS)
    with running(app) as url:
        address = urlparse(url)
        token = httpx.post(f"{url}api/session").json()["session"]
        stalled = socket.create_connection((address.hostname, address.port))
        stalled.sendall(
            f"POST /api/jobs?name=a.wav HTTP/1.1\r\nHost: {address.netloc}\r\n"
            f"X-Session: {token}\r\nContent-Length: 500000\r\n\r\n".encode()
            + b"RIFF" * 1000
        )
        time.sleep(0.5)
        started = time.monotonic()
    assert time.monotonic() - started < SHUTDOWN_SECONDS + 5  # not the 30 s `running` allows
    stalled.close()


SERVER_FILES = [
    ("input", ".mp3"),
    ("listen", ".wav"),
    ("output", ".wav"),
    ("spectrograms", ".json"),
]


def test_sessions_are_private_limited_and_removed(server, song):
    url, app = server
    jobs = app.state.jobs
    with page(url) as mine, page(url) as theirs:
        job = wait(mine, upload(mine, "song.mp3", song.read_bytes()).json()["id"])
        folder = jobs.sessions[mine.headers["X-Session"]].folder
        assert theirs.get(f"/api/jobs/{job['id']}/output").status_code == 404
        assert theirs.get("/api/jobs").json() == {"jobs": []}
        for _ in range(LIMITS.max_files - 1):
            assert upload(mine, "s.mp3", song.read_bytes()).status_code == 201
        refused = upload(mine, "one-more.mp3", song.read_bytes())
        assert refused.status_code == 429
        assert refused.json()["error"] == "one-more.mp3: this page holds at most 6 files at once"
        assert mine.post("/api/session/end").status_code == 204
        assert not folder.exists()
        ended = mine.get("/api/jobs")
        assert ended.status_code == 404 and "session has ended" in ended.json()["error"]
        assert mine.get(f"/api/jobs/{job['id']}/output").status_code == 404
        # An idle session goes with its files.
        job = wait(theirs, upload(theirs, "song.mp3", song.read_bytes()).json()["id"])
        folder = jobs.sessions[theirs.headers["X-Session"]].folder
        assert folder.exists() and jobs.expire(time.monotonic() + 10) == 0
        assert jobs.expire(time.monotonic() + jobs.idle_seconds + 1) >= 1
        assert not folder.exists()


def test_zip_holds_every_result_under_its_download_name(server, song, tmp_path):
    import zipfile

    url, _ = server
    with page(url) as client:
        ids = [upload(client, "song.mp3", song.read_bytes()).json()["id"] for _ in range(2)]
        outputs = [client.get(f"/api/jobs/{wait(client, i)['id']}/output").content for i in ids]
        (tmp_path / "all.zip").write_bytes(client.get("/api/zip").content)
    with zipfile.ZipFile(tmp_path / "all.zip") as archive:
        assert archive.namelist() == ["song.enhanced.wav", "song.enhanced (2).wav"]
        assert [archive.read(n) for n in archive.namelist()] == outputs


def test_zip_keeps_a_folders_tree_and_no_name_climbs_out_of_it(server, song, tmp_path):
    """A folder's files are sent named by their paths below it: the ZIP keeps those folders,
    each made safe, with ``..`` and empty parts dropped; the messages name the file alone."""
    import zipfile

    url, _ = server
    names = ["Album/01.mp3", "Album/Disc 2/01.mp3", "../../etc/x.mp3", "a\\b/./c:d.mp3"]
    with page(url) as client:
        answers = [upload(client, name, song.read_bytes()).json() for name in names]
        for answer in answers:
            wait(client, answer["id"])
        (tmp_path / "all.zip").write_bytes(client.get("/api/zip").content)
    assert [a["name"] for a in answers] == ["01.mp3", "01.mp3", "x.mp3", "c_d.mp3"]
    with zipfile.ZipFile(tmp_path / "all.zip") as archive:
        assert archive.namelist() == [
            "Album/01.enhanced.wav",
            "Album/Disc 2/01.enhanced.wav",
            "etc/x.enhanced.wav",
            "a/b/c_d.enhanced.wav",
        ]


def test_a_file_longer_than_its_header_said_is_stopped_at_the_longest(model, tmp_path):
    """Two 12 s MP3s of ``lame`` joined end to end (``cat``): the first one's LAME tag says
    12 s, under the 20 s this server takes; the job stops at 20 s. (An untagged VBR MP3 whose
    loud start made FFmpeg's guess short is counted by its packets now, and refused.)"""
    first, second = lame_mp3(tmp_path / "a.mp3", 12.0), lame_mp3(tmp_path / "b.mp3", 12.0, seed=1)
    source = tmp_path / "trick.mp3"
    source.write_bytes(first.read_bytes() + second.read_bytes())
    assert probe(source).seconds == pytest.approx(12.0, abs=0.01)
    jobs = Jobs(Enhancer.load(model, precision="fp32"), tmp_path / "root", max_seconds=20.0)
    job = Job(jobs.new_id(), "trick.mp3", source, probe(source))
    jobs.submit(jobs.session(None), job)
    jobs.run(job)
    assert job.state == "failed"
    assert job.error == (
        "trick.mp3: longer than its header said, and than the 0:20 this server takes; stopped there"
    )


def test_a_length_ffmpeg_guesses_is_not_refused_before_it_is_decoded(server, tmp_path):
    """FFmpeg's VBR MP3 with no Xing tag, 3 s silent and 5 s of music: FFmpeg guesses its length
    from its first, silent frames' bit rate, over the 20 s this server takes. It was refused
    as too long; its packets are counted, and it is enhanced."""
    import av

    url, _ = server
    x = music(8.0, 44100, channels=2)
    x[: 3 * 44100] = 0
    sf.write(tmp_path / "quiet.wav", x, 44100, subtype="PCM_16")
    source = tmp_path / "quiet.mp3"
    command = ["ffmpeg", "-v", "error", "-i", tmp_path / "quiet.wav", "-c:a", "libmp3lame"]
    subprocess.run([*command, "-q:a", "4", "-write_xing", "0", source], check=True)
    with av.open(str(source)) as container:
        assert container.duration / 1e6 > LIMITS.max_seconds  # FFmpeg's guess
    assert probe(source).seconds == pytest.approx(8.0, abs=0.1)
    with page(url) as client:
        answer = upload(client, "quiet.mp3", source.read_bytes())
        assert answer.status_code == 201, answer.text
        job = wait(client, answer.json()["id"])
    assert job["state"] == "done", job
    assert job["facts"]["seconds"] == pytest.approx(8.0, abs=0.1)
    # The other way: ``lame -V0 -t`` of a loud second and 40 quiet ones, guessed far under 20 s
    # (it was taken, and stopped at 20 s), is refused for the 41 s its packets last.
    x = np.concatenate(
        [0.5 * np.random.default_rng(0).standard_normal(44100), np.zeros(40 * 44100)]
    )
    sf.write(tmp_path / "loud.wav", x.astype(np.float32), 44100, subtype="PCM_16")
    loud = tmp_path / "loud.mp3"
    subprocess.run(["lame", "--quiet", "-V0", "-t", tmp_path / "loud.wav", loud], check=True)
    with av.open(str(loud)) as container:
        assert container.duration / 1e6 < LIMITS.max_seconds  # FFmpeg's guess
    with page(url) as client:
        answer = upload(client, "loud.mp3", loud.read_bytes())
    assert answer.status_code == 422
    assert answer.json()["error"] == "loud.mp3: 0:41 long; this server takes files up to 0:20"


def test_queue_positions_then_every_job_done_and_files_removed_at_stop(model, song, tmp_path):
    jobs = Jobs(Enhancer.load(model, precision="fp32"), tmp_path / "root")
    sessions = [jobs.session(None) for _ in range(2)]
    queued = []
    for n in range(3):
        session = sessions[n % 2]
        session.folder.mkdir(parents=True, exist_ok=True)
        source = session.folder / f"input-{n}.mp3"
        shutil.copy(song, source)
        queued.append(Job(jobs.new_id(), "song.mp3", source, probe(source)))
        jobs.submit(session, queued[-1])
    assert [jobs.position(job) for job in queued] == [1, 2, 3]
    assert [j["position"] for j in jobs.describe(sessions[0])] == [1, 3]
    jobs.start()
    deadline = time.monotonic() + HUNG
    while any(job.state not in FINISHED for job in queued) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [job.state for job in queued] == ["done"] * 3
    assert jobs.position(queued[0]) is None
    jobs.stop()
    assert not (tmp_path / "root").exists()


def test_a_file_taken_off_the_page_stops_and_leaves_nothing(model, song, tmp_path, monkeypatch):
    """Removed while it is enhanced, a job stops at its next progress report; removed while it
    waits, it never runs; either way its files go, and the rest of the queue runs on."""
    from spectral_enhance.serve import engine

    enhance = engine.enhance

    def slowly(*args):  # each progress report a tenth of a second late: time to remove it
        report = args[5]
        return enhance(*args[:5], lambda n: (time.sleep(0.1), report(n)), *args[6:])

    monkeypatch.setattr(engine, "enhance", slowly)
    noise = np.random.default_rng(0).normal(0, 0.1, (60 * 44100, 2))
    sf.write(tmp_path / "long.wav", noise, 44100, subtype="PCM_16")  # lame's input
    long = tmp_path / "long.mp3"
    subprocess.run(["lame", "--quiet", "-b", "32", tmp_path / "long.wav", long], check=True)
    jobs = Jobs(Enhancer.load(model, precision="fp32"), tmp_path / "root")
    session = jobs.session(None)
    session.folder.mkdir(parents=True)
    queued = []
    for source in [long, long, song]:
        job_id = jobs.new_id()
        copy = session.folder / f"input-{job_id}.mp3"
        shutil.copy(source, copy)
        queued.append(Job(job_id, source.name, copy, probe(copy)))
        jobs.submit(session, queued[-1])
    running, waiting, last = queued
    jobs.start()
    try:
        wait_for(lambda: running.done_samples > 0, what="the first job under way")
        assert jobs.remove(session, waiting.id) and waiting.state == "queued"
        assert jobs.remove(session, running.id)
        assert running.state == "failed" and running.done_samples < running.total_samples
        assert not jobs.remove(session, running.id)  # once only
        wait_for(lambda: last.state in FINISHED, what="the job after them")
        assert last.state == "done" and waiting.state == "queued"
        assert [job["id"] for job in jobs.describe(session)] == [last.id]
        left = sorted(path.name for path in session.folder.iterdir())
        assert left and all(f"-{last.id}." in name for name in left), left
    finally:
        jobs.stop()


def test_a_removed_file_frees_its_place_on_the_page(server, song):
    url, app = server
    with page(url) as client:
        job = wait(client, upload(client, "song.mp3", song.read_bytes()).json()["id"])
        folder = app.state.jobs.sessions[client.headers["X-Session"]].folder
        assert any(job["id"] in path.name for path in folder.iterdir())
        for _ in range(LIMITS.max_files - 1):
            assert upload(client, "s.mp3", song.read_bytes()).status_code == 201
        assert upload(client, "more.mp3", song.read_bytes()).status_code == 429
        assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
        assert not any(f"-{job['id']}." in path.name for path in folder.iterdir())
        assert job["id"] not in [j["id"] for j in client.get("/api/jobs").json()["jobs"]]
        assert client.get(f"/api/jobs/{job['id']}/output").status_code == 404
        assert client.delete(f"/api/jobs/{job['id']}").status_code == 404
        assert upload(client, "more.mp3", song.read_bytes()).status_code == 201
    with httpx.Client(base_url=url) as stranger:  # no session: nothing to remove
        assert stranger.delete("/api/jobs/1").status_code == 404


def test_server_exit_removes_every_session_file(model, song):
    app = create_app(Enhancer.load(model, precision="fp32"), LIMITS)
    root = app.state.jobs.root
    with running(app) as url, page(url) as client:
        wait(client, upload(client, "song.mp3", song.read_bytes()).json()["id"])
        assert any(root.rglob("output-*.wav"))
        assert client.get("/", headers={"host": "attacker.example"}).status_code == 400
    assert not root.exists()


def test_the_strength_control_reaches_the_job(server, song, tmp_path):
    """The page is offered the slider; strength 0 gives back the input itself (at its rate),
    1 the CLI's output, and a strength outside 0 to 1 is refused."""
    url, _ = server
    assert httpx.get(f"{url}api/config").json()["strength"] == {
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
        "value": 1.0,
    }
    with page(url) as client:
        answer = upload(client, "song.mp3", song.read_bytes(), rate="input", strength="0")
        assert answer.status_code == 201, answer.text
        job = wait(client, answer.json()["id"])
        assert job["state"] == "done" and job["facts"]["strength"] == 0.0, job
        got = client.get(f"/api/jobs/{job['id']}/output")
        for bad in ("1.5", "-0.1", "strong", "nan"):
            refused = upload(client, "song.mp3", song.read_bytes(), strength=bad)
            assert refused.status_code == 400 and "strength" in refused.json()["error"], bad
    output, rate = sf.read(io.BytesIO(got.content), dtype="float32")
    decoded, _ = read_audio(song)
    assert rate == 44100
    np.testing.assert_array_equal(output, decoded)


def test_a_given_band_end_reaches_the_job(server, song, model, tmp_path):
    """``lowpass=HZ`` is ``enhance --lowpass HZ``: the same output, the facts say it was given;
    a value that is not a number of Hz from 0 to 192000 is refused."""
    url, _ = server
    with page(url) as client:
        answer = upload(client, "song.mp3", song.read_bytes(), lowpass="6000")
        assert answer.status_code == 201, answer.text
        job = wait(client, answer.json()["id"])
        assert job["state"] == "done", job
        got = client.get(f"/api/jobs/{job['id']}/output")
        figures = client.get(f"/api/jobs/{job['id']}/spectrograms").json()
        for bad in ("-1", "6 kHz", "nan", "200000"):
            refused = upload(client, "song.mp3", song.read_bytes(), lowpass=bad)
            assert refused.status_code == 400 and "lowpass" in refused.json()["error"], bad
    facts = job["facts"]
    assert (facts["lowpass_hz"], facts["lowpass_given"]) == (6000, True)
    assert facts["rebuilt_hz"][0] == 6000 and figures["lowpass_given"] is True
    assert got.content == cli_output(tmp_path, song, model, "--lowpass", "6000").read_bytes()


def test_cli_warns_off_loopback_and_checks_limits(model, monkeypatch, capsys):
    import spectral_enhance.serve.app as serve_app

    calls = []
    monkeypatch.setattr(serve_app, "serve", lambda *args: calls.append(args))
    base = ["serve", "--model", model, "--precision", "fp32"]
    assert main([*base, "--port", "0"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main([*base, "--host", "0.0.0.0"]) == 0
    assert "warning: listening on 0.0.0.0" in capsys.readouterr().err
    assert [call[1:3] for call in calls] == [("127.0.0.1", 0), ("0.0.0.0", 8000)]
    for app, *_ in calls:
        shutil.rmtree(app.state.jobs.root)
    refused = {"--max-files": "0", "--max-upload-mb": "0", "--idle-minutes": "nan"}
    refused |= {"--port": "70000", "--threads": "-3"}
    for option, value in refused.items():
        with pytest.raises(SystemExit) as exit_info:
            main([*base, option, value])
        assert exit_info.value.code == 2
        (line,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
        assert f"argument {option}: must be" in line and value in line
    assert len(calls) == 2


def test_cli_without_the_web_extra_says_how_to_get_it(model, monkeypatch, capsys):
    import sys

    for name in [n for n in sys.modules if n.split(".")[0] in ("starlette", "uvicorn")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    monkeypatch.delitem(sys.modules, "spectral_enhance.serve.app")
    assert main(["serve", "--model", model, "--precision", "fp32"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'spectral-enhance[web]'" in err and len(err.strip().splitlines()) == 1


# ---- the page in a real browser ---------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Debian Chromium through its chromedriver; downloads go to ``browser.downloads``."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": 0}
    )
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.downloads = downloads
    yield driver
    driver.quit()


def page_cards(driver) -> list[dict]:
    script = """return [...document.querySelectorAll('.card')].map(c => ({
        name: c.querySelector('.name').textContent, job: c.dataset.job,
        state: c.querySelector('.state').textContent,
        message: c.querySelector('.message').textContent}))"""
    return driver.execute_script(script)


def open_page(driver, url: str) -> None:
    """Load the page and wait until it has its configuration."""
    driver.get(url)
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready"), what="load")


def card_facts(card) -> dict[str, str]:
    """A result card's facts, as the page shows them: term -> value."""
    from selenium.webdriver.common.by import By

    terms = card.find_elements(By.CSS_SELECTOR, ".facts dt")
    values = card.find_elements(By.CSS_SELECTOR, ".facts dd")
    return {term.text: value.text for term, value in zip(terms, values, strict=True)}


def cards_when(driver, count: int, states: tuple[str, ...]) -> list[dict] | None:
    """The page's cards once there are ``count``, all in one of ``states``; else None."""
    cards = page_cards(driver)
    return cards if len(cards) == count and all(c["state"] in states for c in cards) else None


def wait_for(condition, seconds: float = HUNG, what: str = "the page"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what() if callable(what) else what}: timed out")


def test_page_enhances_switches_a_b_in_place_and_downloads(browser, server, song, model, tmp_path):
    from selenium.webdriver.common.by import By

    url, _ = server
    notes = tmp_path / "notes.mp3"
    notes.write_bytes(b"these are my notes, not audio\n" * 40)
    open_page(browser, url)
    browser.find_element(By.ID, "files").send_keys(f"{song}\n{notes}")
    cards = wait_for(
        lambda: cards_when(browser, 2, FINISHED),
        what=lambda: f"two results: {page_cards(browser)} {browser.get_log('browser')}",
    )
    by_name = {c["name"]: c for c in cards}
    assert by_name["notes.mp3"]["state"] == "failed"
    assert by_name["notes.mp3"]["message"].startswith("notes.mp3: not an audio file")
    job = by_name["song.mp3"]["job"]
    card = browser.find_element(By.CSS_SELECTOR, f'.card[data-job="{job}"]')
    wait_for(
        lambda: browser.execute_script(
            f"return spectralEnhance.players.get('{job}').figures.length"
        )
    )
    facts = card_facts(card)  # what was found and rebuilt
    assert re.fullmatch(r"\d+\.\d-\d+\.\d kHz", facts["rebuilt"]), facts
    assert facts["codec's holes filled"] == "none"  # this model fills none

    # Download: the file the browser saves equals the CLI's output.
    card.find_element(By.CSS_SELECTOR, ".download").click()
    saved = wait_for(lambda: list(browser.downloads.glob("song.enhanced.wav")), what="download")
    assert saved[0].read_bytes() == cli_output(tmp_path, song, model).read_bytes()

    # A/B: T switches what is heard while both keep playing: same position, no restart.
    card.find_element(By.CSS_SELECTOR, ".play").click()
    player = f"spectralEnhance.players.get('{job}')"
    wait_for(lambda: browser.execute_script(f"return {player}.position > 0.8"), what="playback")
    before = browser.execute_script(
        f"window.voices = {player}.voices; return [{player}.position, performance.now(), "
        f"{player}.which]"
    )
    browser.find_element(By.TAG_NAME, "body").send_keys("t")
    after = browser.execute_script(
        f"return [{player}.position, performance.now(), {player}.which, "
        f"{player}.voices === window.voices, {player}.playing]"
    )
    assert (before[2], after[2]) == ("b", "a") and after[3] and after[4]
    moved, elapsed = after[0] - before[0], (after[1] - before[1]) / 1000
    assert 0 <= moved <= elapsed + 0.05, (moved, elapsed)  # the position only ran on
    assert card.find_element(By.CSS_SELECTOR, ".which-a").get_attribute("aria-pressed") == "true"
    browser.save_screenshot(str(tmp_path / "serve.png"))
    card.find_element(By.CSS_SELECTOR, ".play").click()
    assert not browser.execute_script(f"return {player}.playing")


def test_page_takes_the_band_end_in_khz(browser, server, song):
    """The page's "Band ends at" field: kHz in, the card says the low-pass was given; a field
    that is not a number fails the file on the page, before anything is sent."""
    from selenium.webdriver.common.by import By

    url, _ = server
    open_page(browser, url)
    field = browser.find_element(By.ID, "lowpass")
    field.send_keys("7,5")  # a decimal comma, as many keyboards type it
    browser.find_element(By.ID, "files").send_keys(str(song))
    (card,) = wait_for(
        lambda: cards_when(browser, 1, ("done",)),
        what=lambda: f"one result: {page_cards(browser)} {browser.get_log('browser')}",
    )
    element = browser.find_element(By.CSS_SELECTOR, f'.card[data-job="{card["job"]}"]')
    facts = wait_for(lambda: card_facts(element), what="facts")
    assert facts["low-pass given"] == "7.50 kHz" and facts["rebuilt"].startswith("7.5-"), facts
    field.clear()
    field.send_keys("seven")
    browser.find_element(By.ID, "files").send_keys(str(song))
    cards = wait_for(lambda: cards_when(browser, 2, ("done", "failed")), what="the refusal")
    (refused,) = [c for c in cards if c["state"] == "failed"]
    assert refused["message"] == (
        'song.mp3: "Band ends at" must be a number of kHz, 0 or more, or blank to find it in '
        "each file"
    )
    assert refused["job"] is None  # never sent
    field.clear()
    field.send_keys("30")  # past the model's reach: the card says why nothing was rebuilt
    browser.find_element(By.ID, "files").send_keys(str(song))
    cards = wait_for(lambda: cards_when(browser, 3, ("done", "failed")), what="the third")
    latest = browser.find_elements(By.CSS_SELECTOR, ".card")[0]
    facts = wait_for(lambda: card_facts(latest), what="its facts")
    assert facts["rebuilt"].startswith("cut given at "), facts
    assert facts["rebuilt"].endswith(" the model reaches: nothing to rebuild"), facts
    field.clear()
    field.send_keys("16000")  # Hz, typed into a kHz field
    browser.find_element(By.ID, "files").send_keys(str(song))
    cards = wait_for(lambda: cards_when(browser, 4, ("done", "failed")), what="the refusal")
    assert (
        'song.mp3: "Band ends at" is in kHz: 16000 kHz is more than any band (192 kHz at most)'
        in [c["message"] for c in cards if c["state"] == "failed"]
    )
    field.clear()


def test_page_takes_a_folders_audio_files_as_enhance_does(browser, server, song, tmp_path):
    """ "choose a folder": its audio files, each card named by its path below the folder, in
    their order, and kept under it in the ZIP; its cover art and hidden files left out, in one
    line. A dropped
    folder is searched the same way (its entries are faked here: a test cannot drop files on
    the page)."""
    import zipfile

    from selenium.webdriver.common.by import By

    url, _ = server
    album = tmp_path / "Album"
    (album / "Disc 2").mkdir(parents=True)
    for path in (album / "01.mp3", album / "Disc 2" / "01.mp3"):
        shutil.copy(song, path)
    (album / "cover.jpg").write_bytes(b"\xff\xd8 not audio")
    (album / "._01.mp3").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    open_page(browser, url)
    browser.find_element(By.ID, "folder").send_keys(str(album))
    cards = wait_for(
        lambda: cards_when(browser, 2, ("done",)),
        what=lambda: f"two results: {page_cards(browser)} {browser.get_log('browser')}",
    )
    # in the order of their paths, as `enhance` takes them (they came last first)
    assert [c["name"] for c in cards] == ["Album/01.mp3", "Album/Disc 2/01.mp3"]
    zipped = browser.execute_script(  # the page's ZIP of all: the folder's tree kept
        "return import('/static/page.js').then(({ link }) => fetch(link('/api/zip')))"
        ".then(r => r.arrayBuffer()).then(b => [...new Uint8Array(b)])"
    )
    with zipfile.ZipFile(io.BytesIO(bytes(zipped))) as archive:
        names = sorted(archive.namelist())
    assert names == ["Album/01.enhanced.wav", "Album/Disc 2/01.enhanced.wav"]
    assert browser.find_element(By.ID, "left-out").text == (
        "Album: 2 audio file(s) taken; 2 left out (not audio by their names, or hidden): "
        "Album/._01.mp3, Album/cover.jpg"
    )
    found = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        const file = (path) => ({isFile: true, isDirectory: false, fullPath: "/" + path,
            file: (ok) => ok(new File(["x"], path.split("/").pop()))});
        const folder = (path, children) => {
            const batches = [children.slice(0, 1), children.slice(1), []];
            return {isFile: false, isDirectory: true, fullPath: "/" + path,
                createReader: () => ({readEntries: (ok) => ok(batches.shift())})};
        };
        const tree = folder("Live", [file("Live/a.flac"),
            folder("Live/set 2", [file("Live/set 2/b.mp3"), file("Live/set 2/notes.txt")])]);
        import("/static/drop.js")
            .then(({ filesOfEntries }) => filesOfEntries([tree, file("single.wav")]))
            .then((found) => done(found.map((item) => [item.path, item.file.name])));"""
    )
    assert found == [
        ["Live/a.flac", "a.flac"],
        ["Live/set 2/b.mp3", "b.mp3"],
        ["Live/set 2/notes.txt", "notes.txt"],
        ["single.wav", "single.wav"],
    ]


def test_page_shows_refusals_before_upload_work(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    url, _ = server
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    big = tmp_path / "big.flac"
    big.write_bytes(b"\0" * 2 * LIMITS.max_bytes)
    open_page(browser, url)
    browser.find_element(By.ID, "files").send_keys(f"{empty}\n{big}")
    cards = wait_for(
        lambda: cards_when(browser, 2, ("failed",)),
        what=lambda: f"two refusals: {page_cards(browser)} {browser.get_log('browser')}",
    )
    messages = sorted(c["message"] for c in cards)
    assert messages == [
        "big.flac: 2.00 MB is more than this server takes (1 MB)",
        "empty.wav: the file is empty",
    ]
    assert "Traceback" not in browser.page_source


def one_files_facts(browser, path) -> dict[str, str]:
    """The facts the page's card gives for ``path`` sent alone to a server of the bundled
    model, once it is done."""
    from selenium.webdriver.common.by import By

    with running(create_app(Enhancer.load(), LIMITS)) as url:
        open_page(browser, url)
        browser.find_element(By.ID, "files").send_keys(str(path))
        (card,) = wait_for(
            lambda: cards_when(browser, 1, FINISHED),
            what=lambda: f"a result: {page_cards(browser)}",
        )
        assert card["state"] == "done", card
        element = browser.find_element(By.CSS_SELECTOR, f'.card[data-job="{card["job"]}"]')
        wait_for(lambda: card_facts(element).get("rebuilt"), what="the card's facts")
        return card_facts(element)


def test_page_says_a_lower_rate_file_is_rebuilt_from_its_rates_edge(browser, tmp_path):
    """A 22.05 kHz FLAC (FFmpeg's, its band up to its own Nyquist frequency), on the bundled
    full-band model: the card says no cut was found under the rate's edge and the band rebuilt
    from there (`Enhancer.band_end`)."""
    if not shutil.which("ffmpeg"):
        pytest.skip("needs Debian's ffmpeg (.ci/run installs it)")
    wav = tmp_path / "src.wav"
    sf.write(wav, music(4.0, 44100, channels=2, seed=4), 44100, subtype="PCM_16")
    flac = tmp_path / "low.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-ar", "22050", str(flac)], check=True)
    facts = one_files_facts(browser, flac)
    assert facts["low-pass found"] == "none under its rate's edge", facts
    assert facts["rebuilt"].startswith("10.5-"), facts


def test_page_says_a_lossless_files_own_band_end_is_kept(browser, tmp_path):
    """A 44.1 kHz FLAC whose band ends at 17 kHz (SoX's low-pass) ends where its master does
    (`dsp.lowpass.kept_reason`): the card says so, and why, and that nothing was rebuilt."""
    if not shutil.which("sox"):
        pytest.skip("needs Debian's sox (.ci/run installs it)")
    wav = tmp_path / "src.wav"
    sf.write(wav, music(4.0, 44100, channels=2, seed=4), 44100, subtype="PCM_16")
    flac = tmp_path / "master.flac"
    subprocess.run(["sox", str(wav), str(flac), "sinc", "-17k"], check=True)
    facts = one_files_facts(browser, flac)
    assert facts["low-pass found"].startswith("none: its band ends at 1"), facts
    assert facts["low-pass found"].endswith("kHz, a lossless file's own"), facts
    assert facts["rebuilt"] == "nothing", facts


def test_page_fails_the_files_still_waiting_when_its_session_ends(
    browser, server, song, monkeypatch
):
    """The session ends (idle too long, or the server restarted) while files wait in line:
    their cards say so, rather than waiting for ever."""
    import threading

    from selenium.webdriver.common.by import By

    url, app = server
    jobs = app.state.jobs
    held = threading.Event()
    monkeypatch.setattr(jobs, "run", lambda job, cancelled=None: held.wait(10))  # a slow job
    open_page(browser, url)
    browser.find_element(By.ID, "files").send_keys(f"{song}\n{song}")
    wait_for(lambda: len([c for c in page_cards(browser) if c["job"]]) == 2, what="two uploads")
    for session in list(jobs.sessions.values()):
        jobs.end(session, wait=0)
    held.set()
    cards = wait_for(
        lambda: cards_when(browser, 2, ("failed",)),
        what=lambda: f"two failed cards: {page_cards(browser)} {browser.get_log('browser')}",
    )
    assert [c["message"] for c in cards] == [
        "song.mp3: this page's session has ended (closed, idle too long, or the server "
        "restarted): reload the page"
    ] * 2


def test_page_shows_the_strength_it_will_send(browser, server):
    from selenium.webdriver.common.by import By

    url, _ = server
    open_page(browser, url)
    shown = browser.find_element(By.ID, "strength-value")
    assert shown.text == "1.00"
    browser.execute_script(
        "const s = document.getElementById('strength'); s.value = 0.5;"
        "s.dispatchEvent(new Event('input'))"
    )
    assert shown.text == "0.50"


def test_page_play_pressed_twice_while_loading_leaves_no_sound_pause_cannot_stop(
    browser, server, song
):
    """Two presses while the audio loads: the second takes the first back, so nothing plays;
    a press then starts one pair of sources (input and enhanced), and Pause stops both."""
    from selenium.webdriver.common.by import By

    url, _ = server
    open_page(browser, url)
    browser.find_element(By.ID, "files").send_keys(str(song))
    (card,) = wait_for(lambda: cards_when(browser, 1, ("done",)), what="one result")
    browser.execute_script(
        "window.sources = {started: 0, live: new Set()};"
        "const node = AudioBufferSourceNode.prototype, start = node.start, stop = node.stop;"
        "node.start = function (...a) { sources.started++; sources.live.add(this);"
        "  return start.apply(this, a); };"
        "node.stop = function (...a) { sources.live.delete(this); return stop.apply(this, a); };"
    )
    element = browser.find_element(By.CSS_SELECTOR, f'.card[data-job="{card["job"]}"]')
    play = element.find_element(By.CSS_SELECTOR, ".play")
    counts = "return [sources.started, sources.live.size]"
    browser.execute_script("arguments[0].click(); arguments[0].click();", play)
    time.sleep(1.5)  # the audio has loaded by now
    assert browser.execute_script(counts) == [0, 0] and play.text == "Play"
    play.click()
    wait_for(lambda: play.text == "Pause", what="playing")
    assert browser.execute_script(counts) == [2, 2]
    play.click()
    assert browser.execute_script(counts) == [2, 0] and play.text == "Play"


def test_page_spectrograms_hold_the_pixels_they_are_shown_with(browser, server, song):
    """On a narrow window the spectrogram is drawn again at its shown size, so its labels keep
    their size instead of being scaled down with a picture drawn for a wide one."""
    from selenium.webdriver.common.by import By

    url, _ = server
    open_page(browser, url)
    browser.find_element(By.ID, "files").send_keys(str(song))
    (card,) = wait_for(lambda: cards_when(browser, 1, ("done",)), what="one result")
    job = card["job"]
    figures = f"return spectralEnhance.players.get('{job}').figures.length"
    wait_for(lambda: browser.execute_script(figures))
    sizes = (
        f"const c = document.querySelector('.card[data-job=\"{job}\"] .spec-out');"
        "return [c.width, Math.round(c.clientWidth * devicePixelRatio), c.clientWidth]"
    )
    wide = browser.execute_script(sizes)
    assert wide[0] == wide[1] and wide[2] > 560
    browser.set_window_size(460, 1000)
    try:
        narrow = wait_for(
            lambda: (s := browser.execute_script(sizes))[2] < 440 and s[0] == s[1] and s,
            what=lambda: f"a redrawn spectrogram: {browser.execute_script(sizes)}",
        )
        assert narrow[0] < wide[0]  # drawn again, not scaled down
    finally:
        browser.set_window_size(1400, 1000)


def test_page_removes_a_card_and_its_files(browser, server, song):
    """Remove takes a finished file off the page and off the server; a later poll does not bring
    its card back, and with no result left the download-all bar goes."""
    from selenium.webdriver.common.by import By

    url, app = server
    open_page(browser, url)
    assert not browser.find_element(By.ID, "toolbar").is_displayed()  # nothing to download yet
    browser.find_element(By.ID, "files").send_keys(str(song))
    (card,) = wait_for(lambda: cards_when(browser, 1, ("done",)), what="one result")
    token = browser.execute_script("return spectralEnhance.session")
    session = app.state.jobs.sessions[token]
    assert card["job"] in session.jobs
    assert browser.find_element(By.ID, "toolbar").is_displayed()
    element = browser.find_element(By.CSS_SELECTOR, f'.card[data-job="{card["job"]}"]')
    element.find_element(By.CSS_SELECTOR, ".remove").click()
    wait_for(
        lambda: (
            card["job"] not in session.jobs
            and not any(f"-{card['job']}." in path.name for path in session.folder.iterdir())
        ),
        what="the job and its files removed on the server",
    )
    browser.execute_script("spectralEnhance.removed.clear()")  # a poll would bring it back ...
    browser.find_element(By.ID, "files").send_keys(str(song))  # ... were it still listed
    wait_for(lambda: cards_when(browser, 1, ("done",)), what="the second file alone")
    (other,) = page_cards(browser)
    assert other["job"] != card["job"]
    browser.find_element(By.CSS_SELECTOR, ".card .remove").click()
    wait_for(lambda: not page_cards(browser), what="no card left")
    assert not browser.find_element(By.ID, "toolbar").is_displayed()


def test_page_removes_a_file_while_it_uploads(browser, server, tmp_path):
    """Remove during the upload (here slowed to 64 KB/s in Chromium) aborts it: the card goes,
    the server holds no job and no file of it, and the next file is enhanced as usual."""
    from selenium.webdriver.common.by import By

    url, app = server
    big = tmp_path / "big.wav"  # 660 KB, under the tests' 1 MB: 10 s to send at 64 KB/s
    sf.write(big, music(15.0, 22050), 22050, subtype="PCM_16")
    open_page(browser, url)
    token = browser.execute_script("return spectralEnhance.session")
    session = app.state.jobs.sessions[token]
    browser.execute_cdp_cmd("Network.enable", {})
    slow = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 65536}
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", slow)
    try:
        browser.find_element(By.ID, "files").send_keys(str(big))
        wait_for(
            lambda: (cards := page_cards(browser)) and cards[0]["state"].startswith("uploading "),
            what=lambda: f"an upload under way: {page_cards(browser)}",
        )
        browser.find_element(By.CSS_SELECTOR, ".card .remove").click()
        wait_for(lambda: not page_cards(browser), what="no card left")
    finally:
        unthrottled = {**slow, "uploadThroughput": -1}
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", unthrottled)
    time.sleep(1.0)  # a job the upload might still make would show by now
    assert not session.jobs
    assert not [path for path in session.folder.iterdir() if path.suffix != ".json"]
    browser.find_element(By.ID, "files").send_keys(str(tmp_path / "big.wav"))
    wait_for(lambda: cards_when(browser, 1, ("done",)), what="the file sent again, enhanced")


def test_a_spectrogram_of_any_rate_is_drawn():
    """A 5 Hz WAV (a header's nonsense that FFmpeg reads) failed its analysis with "negative
    shift count"; the CLI enhances it."""
    from spectral_enhance.serve.analysis import spectrogram_cells

    cells = spectrogram_cells(np.zeros(40, np.float32), 5, 22050)
    assert cells.shape[0] == 256 and cells[:, :].max() <= 1  # silence, and no row under 2.5 Hz


def test_page_removes_a_file_sent_whole_but_not_yet_answered(browser, server, song, monkeypatch):
    """Remove between the file's last byte and the server's answer (held here until the click
    is made): the server makes the job whatever the page does, so the page no longer aborts
    the request, which left it no id to delete, but deletes the job when the answer comes.
    Before, a poll brought its card back and the file was enhanced."""
    import threading

    from selenium.webdriver.common.by import By

    url, app = server
    jobs = app.state.jobs
    made, clicked = threading.Event(), threading.Event()
    submit = jobs.submit

    def held(session, job):  # the job made, its answer not yet sent
        submit(session, job)
        made.set()
        clicked.wait(10)

    monkeypatch.setattr(jobs, "submit", held)
    open_page(browser, url)
    session = jobs.sessions[browser.execute_script("return spectralEnhance.session")]
    browser.find_element(By.ID, "files").send_keys(str(song))
    assert made.wait(30)
    browser.find_element(By.CSS_SELECTOR, ".card .remove").click()
    clicked.set()
    wait_for(lambda: not session.jobs, what=lambda: f"no job left: {list(session.jobs)}")
    time.sleep(1.5)  # polls that might bring it back
    assert not page_cards(browser) and not session.jobs
    assert not [path for path in session.folder.iterdir() if path.suffix != ".json"]


def test_page_says_when_a_download_or_play_finds_its_session_ended(browser, server, song):
    """A finished file's Download, Download all and Play after the session ended (idle, or the
    server restarted): each says so, where before nothing was saved and nothing said (and Play
    asked whether the server was still running)."""
    from selenium.webdriver.common.by import By

    url, app = server
    jobs = app.state.jobs
    before = set(browser.downloads.iterdir())  # earlier tests' downloads
    open_page(browser, url)
    browser.find_element(By.ID, "files").send_keys(str(song))
    wait_for(lambda: cards_when(browser, 1, ("done",)), what="one result")
    session = jobs.sessions[browser.execute_script("return spectralEnhance.session")]
    jobs.end(session, wait=0)
    ended = "this page's session has ended (closed, idle too long, or the server restarted)"
    browser.find_element(By.CSS_SELECTOR, ".card .download").click()
    wait_for(lambda: ended in page_cards(browser)[0]["message"], what="the card's line")
    browser.find_element(By.ID, "zip").click()
    status = browser.find_element(By.ID, "toolbar-status")
    wait_for(lambda: ended in status.text, what="the toolbar's line")
    browser.find_element(By.CSS_SELECTOR, ".card .play").click()
    wait_for(lambda: ended in page_cards(browser)[0]["state"], what="the player's line")
    assert set(browser.downloads.iterdir()) == before


def test_page_keeps_long_lines_in_their_card_and_shows_keyboard_focus(browser, server, tmp_path):
    """At 360 px a refusal naming a 120-character file wraps in its card (the page scrolled
    sideways), and the keyboard's place on the hidden file inputs shows on their labels."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, _ = server
    name = tmp_path / ("x" * 120 + ".mp3")
    name.write_bytes(b"not audio" * 10)
    browser.set_window_size(360, 900)
    try:
        open_page(browser, url)
        browser.find_element(By.ID, "files").send_keys(str(name))
        wait_for(lambda: cards_when(browser, 1, ("failed",)), what="the refusal")
        scroll = "return [document.documentElement.scrollWidth, window.innerWidth]"
        wide, window = browser.execute_script(scroll)
        assert wide <= window
    finally:
        browser.set_window_size(1400, 1000)
    open_page(browser, url)
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(6):  # Tab until the file input has the keyboard
        body.send_keys(Keys.TAB) if _ == 0 else browser.switch_to.active_element.send_keys(Keys.TAB)
        if browser.switch_to.active_element.get_attribute("id") == "files":
            break
    assert browser.switch_to.active_element.get_attribute("id") == "files"
    outline = "return getComputedStyle(document.querySelector('label[for=files]')).outlineStyle"
    assert browser.execute_script(outline) != "none"


def test_files_of_one_name_and_two_kinds_download_apart(server, song, tmp_path):
    """song.mp3 and song.flac on one page both downloaded as song.enhanced.wav, and the ZIP
    told them apart only by a number; the later one now says its kind."""
    import zipfile

    url, _ = server
    flac = tmp_path / "song.flac"
    sf.write(flac, read_audio(song)[0], 44100)
    with page(url) as client:
        first = wait(client, upload(client, "song.mp3", song.read_bytes()).json()["id"])
        second = wait(client, upload(client, "song.flac", flac.read_bytes()).json()["id"])
        third = wait(client, upload(client, "song.mp3", song.read_bytes()).json()["id"])
        archive = zipfile.ZipFile(io.BytesIO(client.get("/api/zip").content))
    names = [job["download_name"] for job in (first, second, third)]
    assert names == ["song.enhanced.wav", "song (flac).enhanced.wav", "song.enhanced.wav"]
    assert archive.namelist() == [
        "song.enhanced.wav", "song (flac).enhanced.wav", "song.enhanced (2).wav"
    ]  # fmt: skip


def test_a_header_that_overstates_its_length_is_not_refused_for_it(server, tmp_path):
    """A 3 s WAV whose data chunk claims 4 GB was refused as "405:47 long": the length limit
    now takes what the file holds, and the job warns that it ends early, as the CLI does."""
    import struct

    wav = tmp_path / "lies.wav"
    sf.write(wav, music(3.0, 22050), 22050, subtype="PCM_16")
    data = bytearray(wav.read_bytes())
    at = data.find(b"data")
    data[at + 4 : at + 8] = struct.pack("<I", 0xFFFFFFF0)
    url, _ = server
    with page(url) as client:
        answer = upload(client, "lies.wav", bytes(data))
        assert answer.status_code == 201, answer.text
        job = wait(client, answer.json()["id"])
    assert job["state"] == "done"
    (warning,) = [line for line in job["warnings"] if "ends early" in line]
    assert warning.startswith("lies.wav: ends early: decoded 3.00 s")


def test_a_wrong_method_or_path_gets_the_apis_json_line(server):
    """Starlette's own refusals were plain text where every other answer is a JSON line."""
    url, _ = server
    with httpx.Client(base_url=url) as client:
        wrong = client.put("/api/zip")
        missing = client.get("/api/nothing")
    assert wrong.status_code == 405
    said = wrong.json()["error"]
    assert said.startswith("/api/zip does not take PUT; it takes ") and "GET" in said
    assert missing.status_code == 404
    assert missing.json() == {"error": "/api/nothing: no such page or API call"}


def test_the_page_s_modules_are_served_as_javascript_and_each_is_loaded(server):
    """The page is ES modules: index.html loads one, which imports the rest. A browser runs no
    module served as anything but JavaScript (a Windows registry often maps .js to text/plain),
    and a module no import reaches is dead code left in the package."""
    from spectral_enhance.serve.app import STATIC

    url, _ = server
    with httpx.Client(base_url=url) as client:
        entries = re.findall(r'<script type="module" src="/static/([\w.]+)">', client.get("/").text)
        loaded, waiting = set(), list(entries)
        while waiting:
            name = waiting.pop()
            if name in loaded:
                continue
            loaded.add(name)
            answer = client.get(f"/static/{name}")
            assert answer.status_code == 200, name
            assert answer.headers["content-type"].startswith("text/javascript"), answer.headers
            waiting += re.findall(r'^import .* from "\./([\w.]+)";$', answer.text, flags=re.M)
    assert entries == ["main.js"]
    assert loaded == {path.name for path in STATIC.glob("*.js")}


def test_page_says_what_download_all_leaves_out(browser, server, song, monkeypatch):
    """ "Download all" holds the files done; one still being enhanced is left out, and the page
    now says so (it left it out without a word)."""
    import threading

    from selenium.webdriver.common.by import By

    url, app = server
    jobs = app.state.jobs
    open_page(browser, url)
    browser.find_element(By.ID, "files").send_keys(str(song))
    wait_for(lambda: cards_when(browser, 1, ("done",)), what="one result")
    held = threading.Event()
    monkeypatch.setattr(jobs, "run", lambda job, cancelled=None: held.wait(10))  # a slow job
    browser.find_element(By.ID, "files").send_keys(str(song))
    wait_for(lambda: len([c for c in page_cards(browser) if c["job"]]) == 2, what="the second")
    try:
        browser.find_element(By.ID, "zip").click()
        status = browser.find_element(By.ID, "toolbar-status")
        wait_for(
            lambda: "1 file(s) still on their way are not in it" in status.text, what="the line"
        )
    finally:
        held.set()


def test_page_says_when_the_server_is_away_and_keeps_keyboard_focus_on_remove(
    browser, server, song
):
    """The page's polls failing for 2 s (the server stopped) put a line on each unfinished card,
    where they said nothing and kept "enhancing 0 %"; it goes when the server answers again.
    Each card's controls are named by its file; Remove from the keyboard puts focus on the next
    card's Remove (then on the file picker), not on the top of the page; the picker offers
    every suffix the server reads (.webm and .mka are no audio/* type); the player shows the
    whole length beside the position."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, _ = server
    open_page(browser, url)
    assert ".webm" in browser.find_element(By.ID, "files").get_attribute("accept").split(",")
    browser.execute_script(
        """const real = window.fetch; window.away = true;  // the polls fail; uploads go
        window.fetch = (path, options) => window.away && path === "/api/jobs" && !options.method
          ? Promise.reject(new TypeError("Failed to fetch")) : real(path, options);"""
    )
    browser.find_element(By.ID, "files").send_keys(str(song))
    message = "return document.querySelector('.card .message').textContent"
    wait_for(lambda: "could not be reached" in browser.execute_script(message), what="the line")
    browser.execute_script("window.away = false")
    wait_for(lambda: cards_when(browser, 1, ("done",)), what="the result, the server back")
    assert browser.execute_script(message) == ""
    browser.find_element(By.ID, "files").send_keys(str(song))
    wait_for(lambda: cards_when(browser, 2, ("done",)), what="two results")
    first, second = browser.find_elements(By.CSS_SELECTOR, ".card .remove")
    assert first.get_attribute("aria-label") == "Remove song.mp3"
    times = browser.find_elements(By.CSS_SELECTOR, ".card .time")  # the whole length beside
    assert [t.text for t in times] == ["0:00.0 / 0:04.0"] * 2
    first.send_keys(Keys.ENTER)
    wait_for(lambda: len(page_cards(browser)) == 1, what="one card left")
    assert browser.switch_to.active_element == second
    second.send_keys(Keys.SPACE)
    wait_for(lambda: not page_cards(browser), what="no card left")
    assert browser.switch_to.active_element.get_attribute("id") == "files"


def test_a_long_name_is_cut_in_its_stem_and_keeps_its_suffix():
    """A title of 130 characters lost its suffix, and left a space before the download's
    ending ("... limites .enhanced.wav")."""
    from spectral_enhance.serve.app import MAX_NAME, display_name

    name = display_name("é" * 110 + " limites de la nuit.mp3")
    assert len(name) == MAX_NAME and name.endswith(" limit.mp3")
    assert display_name("a" * 116 + "    .flac").endswith("a.flac")
