"""Load test of ``spectral-enhance serve`` on 127.0.0.1: many pages upload a long MP3 at once.

Starts ``spectral-enhance serve --port 0`` as its own process (so its memory is its own), makes
a 3-minute 44.1 kHz stereo MP3 with Debian's ``lame``, and lets ``--clients`` threads, each its
own browser session, upload it at the same moment and poll until their job is done. Records
every queue position each client saw, the server's peak resident memory, and whether each
result equals byte for byte what ``spectral-enhance enhance`` writes for the same file. The run
is bounded: at most 50 clients, and ``--timeout`` seconds in all (15 minutes). Only 127.0.0.1 is
ever contacted.

    python benchmarks/serve_load.py [--clients 20] [--seconds 180] [--model full-band]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import soundfile as sf
from harness import machine, median, music_like, print_machine, table, write_json

MAX_CLIENTS = 50
RESULTS = Path(__file__).parent / "results"


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=20, help="concurrent pages (20, at most 50)")
    p.add_argument("--seconds", type=float, default=180.0, help="length of the MP3 (180)")
    p.add_argument("--kbps", type=int, default=128, help="MP3 bitrate (128)")
    p.add_argument("--model", default="full-band", help="model (full-band, the bundled default)")
    p.add_argument("--precision", default="int8", help="ONNX weights (int8)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds for the whole run (900)")
    p.add_argument("--out", type=Path, default=RESULTS / "serve_load.json", help="JSON to write")
    return p


def make_mp3(folder: Path, seconds: float, kbps: int) -> Path:
    """A music-like 44.1 kHz stereo MP3 encoded by Debian's lame."""
    if not shutil.which("lame"):
        raise SystemExit("needs Debian's lame")
    wav, mp3 = folder / "song.wav", folder / "song.mp3"
    sf.write(wav, music_like(int(seconds * 44100), 44100, 2), 44100, subtype="PCM_16")
    subprocess.run(["lame", "--quiet", "-b", str(kbps), str(wav), str(mp3)], check=True)
    wav.unlink()
    return mp3


def console_script() -> str:
    return str(Path(sys.executable).with_name("spectral-enhance"))


def cli_digest(mp3: Path, folder: Path, model: list[str]) -> str:
    """SHA-256 of what ``spectral-enhance enhance`` writes for ``mp3``."""
    out = folder / "cli"
    command = [console_script(), "enhance", str(mp3), "-o", str(out), "-q", *model]
    subprocess.run(command, check=True, capture_output=True)
    return hashlib.sha256((out / "song.enhanced.wav").read_bytes()).hexdigest()


def start_server(model: list[str], temp: Path) -> tuple[subprocess.Popen, str]:
    """``spectral-enhance serve`` on a free port of 127.0.0.1, its session files under ``temp``."""
    env = dict(os.environ, TMPDIR=str(temp))
    command = [console_script(), "serve", "--host", "127.0.0.1", "--port", "0", *model]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    line = server.stdout.readline()  # "spectral-enhance serve: http://127.0.0.1:PORT/ (...)"
    if "http://" not in line:
        server.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return server, line.split()[2]


class PeakMemory(threading.Thread):
    """Samples a process's resident memory every 0.1 s: ``peak`` in bytes, ``seconds`` (MB)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.status = Path(f"/proc/{pid}/status")
        self.peak = 0
        self.seconds: list[float] = []  # the highest RSS in each second, in MB
        self.stop = threading.Event()

    def rss(self) -> int:
        for line in self.status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def run(self) -> None:
        began = time.monotonic()
        while not self.stop.wait(0.1):
            try:
                rss = self.rss()
            except OSError:
                return
            self.peak = max(self.peak, rss)
            second = int(time.monotonic() - began)
            self.seconds += [0.0] * (second + 1 - len(self.seconds))
            self.seconds[second] = max(self.seconds[second], rss / 1e6)


def client(url: str, data: bytes, start: threading.Barrier, deadline: float) -> dict:
    """One page: upload, poll (noting queue positions) until done, download, end the session."""
    record: dict = {"positions": [], "state": "timed out"}
    with httpx.Client(base_url=url, timeout=120) as http:
        http.headers["X-Session"] = http.post("/api/session").json()["session"]
        start.wait()
        began = time.monotonic()
        answer = http.post("/api/jobs", params={"name": "song.mp3"}, content=data)
        record["upload_seconds"] = time.monotonic() - began
        if answer.status_code != 201:
            record["state"] = f"refused: {answer.json().get('error')}"
            return record
        job = answer.json()
        while time.monotonic() < deadline:
            if job["position"] is not None:
                record["positions"].append(job["position"])
            if job["state"] != "queued" and "started" not in record:
                record["started"] = time.monotonic() - began
            if job["state"] in ("done", "failed"):
                record["state"] = job["state"]
                break
            time.sleep(0.25)
            job = next(j for j in http.get("/api/jobs").json()["jobs"] if j["id"] == job["id"])
        record["finished"] = time.monotonic() - began
        record["error"] = job["error"]
        if job["state"] == "done":
            record["enhance_seconds"] = job["facts"]["enhance_seconds"]
            output = http.get(f"/api/jobs/{job['id']}/output").content
            record["digest"] = hashlib.sha256(output).hexdigest()
        http.post("/api/session/end")
    return record


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS:
        raise SystemExit(f"--clients must be between 1 and {MAX_CLIENTS}")
    info = machine()
    print_machine(info)
    model = ["--model", args.model, "--precision", args.precision]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        mp3 = make_mp3(folder, args.seconds, args.kbps)
        data = mp3.read_bytes()
        expected = cli_digest(mp3, folder, model)
        temp = folder / "server-tmp"
        temp.mkdir()
        server, url = start_server(model, temp)
        memory = PeakMemory(server.pid)
        idle_rss = memory.rss()
        memory.start()
        deadline = time.monotonic() + args.timeout
        barrier = threading.Barrier(args.clients)
        records: list[dict] = [{} for _ in range(args.clients)]

        def run(i: int) -> None:
            try:
                records[i] = client(url, data, barrier, deadline)
            except Exception as error:  # a failed client is a result, not a crash
                records[i] = {"state": f"client error: {error}", "positions": []}

        began = time.monotonic()
        threads = [threading.Thread(target=run, args=(i,)) for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, deadline - time.monotonic() + 60))
        wall = time.monotonic() - began
        memory.stop.set()
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        left = [p.name for p in temp.glob("spectral-enhance-serve-*")]
    done = [r for r in records if r.get("state") == "done"]
    equal = sum(r.get("digest") == expected for r in done)
    waited = [r for r in records if r.get("positions")]
    summary = {
        "clients": args.clients,
        "audio": f"{args.seconds:g} s, 44.1 kHz stereo, {args.kbps} kbps (lame)",
        "mp3_bytes": len(data),
        "model": f"{args.model} {args.precision}",
        "done": len(done),
        "failed_or_timed_out": args.clients - len(done),
        "equal_to_cli": equal,
        "clients_that_saw_a_queue_position": len(waited),
        "largest_position_seen": max((max(r["positions"]) for r in waited), default=0),
        "upload_seconds_median": median([r["upload_seconds"] for r in records if r]),
        "queue_wait_seconds_median": median([r["started"] for r in done if "started" in r]),
        "queue_wait_seconds_max": max((r["started"] for r in done if "started" in r), default=0),
        "enhance_seconds_median": median([r["enhance_seconds"] for r in done]),
        "finish_seconds_max": max((r["finished"] for r in done), default=0),
        "wall_seconds": wall,
        "server_rss_idle_mb": idle_rss / 1e6,
        "server_rss_peak_mb": memory.peak / 1e6,
        "server_files_left_after_exit": len(left),
        "server_exit_code": server.returncode,
    }
    rows = [(k, f"{v:.2f}" if isinstance(v, float) else v) for k, v in summary.items()]
    print(table(["measure", "value"], rows))
    for r in records:
        if r.get("state") != "done":
            print(f"not done: {r.get('state')} {r.get('error') or ''}")
    trace = " ".join(f"{mb:.0f}" for mb in memory.seconds[::5])
    print(f"\nserver RSS (MB), every 5 s: {trace}")
    data = {"machine": info, "summary": summary, "rss_mb_each_second": memory.seconds}
    write_json(args.out, data | {"clients": records})
    ok = len(done) == equal == args.clients and not left
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
