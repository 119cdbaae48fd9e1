"""Inference speed of spectral-enhance on the CPU: the model, whole files, start-up and memory.

a. Model time for one 100,000-sample clip at the model's rate: its padded STFT (the paper's
   models: ``[1, 2, 407, 512]``; ``full-band``: its inputs over 99 frames at its hop of 1,024,
   as the table's head says) through ONNX Runtime
   (``spectral_enhance.inference.backends.OnnxModel``, which is what the enhancer calls) in each
   precision of a model folder (default: the bundled ``spectral-n1``), and through PyTorch fp32
   if ``--checkpoint`` is given. Median of ``--repeats`` after ``--warmup``; ratio to ONNX
   Runtime fp32; file size and ratio to fp32. Paper reference: 7.74 ms per clip for N = 1,
   20.8 ms for N = 5. Aim: int8 under 3 ms.
b. End to end: a 3-minute music-like signal encoded to MP3 (44.1 kHz stereo 128 kbps, and the
   paper's 22.05 kHz mono 32 kbps) through ``enhance_file`` with a loaded ``Enhancer`` (the load
   is timed apart; the allocator set as the CLI sets it, ``keep_freed_memory``; output at the
   CLI's default rate, 44.1 kHz, since issue 12, or ``--output-rate``; each run to a new file,
   the last one removed untimed, as before 2026-11-26 it replaced it): wall time median of
   ``--e2e-repeats`` and times real time. Aim: 300x (issue 12: the 22 kHz path before it did
   312x, on another machine; ``--model spectral-n1 --output-rate 22050`` times that path on
   this one). Beside it, the wall time of the whole ``spectral-enhance enhance`` command on the
   same file, which adds the process start, the imports and the model load (part c times the
   start-up alone).
c. Start-up: median wall time of ``spectral-enhance --help`` and of
   ``python -c "import spectral_enhance.cli"`` in subprocesses, as the environment is and with a
   bytecode cache in a temporary folder (``PYTHONPYCACHEPREFIX``; an installed package has one).
   Aim: under 1 s.
d. ``--memory``, a separate mode: peak RSS, wall time and times real time of
   ``spectral-enhance enhance FILE -o OUT -q`` on a one-hour 44.1 kHz stereo FLAC low-passed
   at 11 kHz, under ``/usr/bin/time -v`` (else ``getrusage`` of the child). Aim: under 500 MB.

All audio is made in code (``harness.music_like``) inside a temporary folder.

Reproduce (from the repository root, on an otherwise idle machine):

    python benchmarks/inference_speed.py --json inference_speed.json
    python benchmarks/inference_speed.py --model spectral-n5 --parts model --json n5.json
    python benchmarks/inference_speed.py --checkpoint runs/n1/best.pt --parts model
    python benchmarks/inference_speed.py --memory --json inference_memory.json
    python benchmarks/inference_speed.py --model full-band --parts e2e --holes-unfilled
    python benchmarks/inference_speed.py --model spectral-n1 --parts e2e --output-rate 22050
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import soundfile as sf
from harness import (
    cores,
    machine,
    median,
    music_blocks,
    music_like,
    print_machine,
    table,
    time_calls,
    write_json,
)
from scipy import signal

from spectral_enhance.allocator import keep_freed_memory
from spectral_enhance.audio.mp3 import encode_mp3
from spectral_enhance.inference.backends import OnnxModel
from spectral_enhance.inference.enhancer import (
    Enhancer,
    ModelCard,
    find_model,
    model_inputs,
)
from spectral_enhance.inference.one_file import enhance_file

CLIP_SAMPLES = 100_000
PAPER_MS = {1: 7.74, 5: 20.8}  # per clip, by number of blocks N
AIM_INT8_MS = 3.0
AIM_TIMES_REAL_TIME = 300.0
AIM_STARTUP_S = 1.0
AIM_PEAK_MB = 500.0
# Label, sample rate, channels, kbps, and whether LAME chooses the MP3's rate (as `lame` does).
E2E_CASES = (
    ("44.1 kHz stereo 128 kbps MP3", 44100, 2, 128, False),
    ("44.1 kHz stereo 48 kbps MP3 (LAME's rate, 22.05 kHz)", 44100, 2, 48, True),
    ("22.05 kHz mono 32 kbps MP3", 22050, 1, 32, False),
)
MEMORY_RATE = 44100
MEMORY_CUT_HZ = 11_000
GNU_TIME = Path("/usr/bin/time")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--model", default="spectral-n1", help="bundled model name or folder")
    parser.add_argument("--precisions", nargs="+", help="ONNX files to time (default: all)")
    parser.add_argument("--checkpoint", type=Path, help="also time this .pt in PyTorch fp32")
    parser.add_argument("--threads", type=int, default=0, help="threads (0: all cores)")
    parser.add_argument("--repeats", type=int, default=50, help="timed model calls")
    parser.add_argument("--warmup", type=int, default=5, help="untimed model calls first")
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=("model", "e2e", "startup"),
        default=["model", "e2e", "startup"],
        help="what to measure (without --memory)",
    )
    parser.add_argument("--e2e-repeats", type=int, default=7, help="runs per end-to-end file")
    parser.add_argument("--e2e-seconds", type=float, default=180.0, help="end-to-end length")
    parser.add_argument(
        "--holes-unfilled",
        action="store_true",
        help="e2e: leave the codec's holes unfilled in enhance_file (what filling them costs)",
    )
    parser.add_argument(
        "--e2e-precision", choices=("fp32", "fp16", "int8"), default="int8", help="e2e/memory"
    )
    parser.add_argument(
        "--output-rate",
        type=int,
        help="e2e: the output's sample rate (the command's --sample-rate; default: the "
        "command's own, 44.1 kHz); 22050 with --model spectral-n1 times the path the issue "
        "12 aim's 312x was measured on, before the output was 44.1 kHz",
    )
    parser.add_argument("--startup-runs", type=int, default=5, help="runs per start-up command")
    parser.add_argument("--memory", action="store_true", help="only the one-hour memory test")
    parser.add_argument("--memory-seconds", type=float, default=3600.0, help="its input length")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers here")
    return parser


def _aim(ok: bool, text: str) -> str:
    return f"{text}: {'met' if ok else 'MISSED'}"


def _status(text: str) -> None:
    print(f"  {text} ...", file=sys.stderr, flush=True)


def _console_script() -> str:
    """The ``spectral-enhance`` of this interpreter's environment."""
    beside = Path(sys.executable).parent / "spectral-enhance"
    found = str(beside) if beside.exists() else shutil.which("spectral-enhance")
    if found is None:
        raise SystemExit("spectral-enhance is not installed (pip install -e .)")
    return found


def bench_model(args: argparse.Namespace, card: ModelCard) -> list[dict]:
    """Part a: median ms per 100,000-sample clip for each ONNX precision, and PyTorch."""
    clip = music_like(CLIP_SAMPLES, card.sample_rate, channels=1)[:, 0]
    inputs = model_inputs(clip[None], card.rule, card.stft)  # [1, 2, 407, 512] for N = 1
    shapes = ", ".join(str(list(np.shape(a))) for a in inputs)
    n_blocks = int(card.model_config.get("n_blocks", 1))
    results = []
    for precision in args.precisions or list(card.files):
        if precision not in card.files:
            raise SystemExit(f"{card.folder}: no {precision} model (has {', '.join(card.files)})")
        path = card.folder / card.files[precision]
        _status(f"onnxruntime {precision}")
        net = OnnxModel(path, args.threads)
        seconds = time_calls(partial(net, *inputs), args.repeats, args.warmup)
        results.append(
            {
                "model": card.name,
                "backend": "onnxruntime",
                "precision": precision,
                "n_blocks": n_blocks,
                "ms": 1000 * median(seconds),
                "bytes": path.stat().st_size,
                "file": str(path),
                "input": shapes,
            }
        )
    if args.checkpoint:
        results.append(_bench_torch(args, inputs))
    return results


def _bench_torch(args: argparse.Namespace, inputs: tuple[np.ndarray, ...]) -> dict:
    """PyTorch fp32 time of a checkpoint (imported only when asked: it is slow to load)."""
    import torch

    from spectral_enhance.models.checkpoint import load_model

    _status("pytorch fp32")
    torch.set_num_threads(args.threads or cores())
    model, checkpoint = load_model(args.checkpoint)
    tensors = [torch.from_numpy(np.ascontiguousarray(a)) for a in inputs]

    def call() -> None:
        with torch.inference_mode():
            model(*tensors)

    seconds = time_calls(call, args.repeats, args.warmup)
    return {
        "model": args.checkpoint.name,
        "backend": "pytorch",
        "precision": "fp32",
        "n_blocks": int(checkpoint["model_config"].get("n_blocks", 1)),
        "ms": 1000 * median(seconds),
        "bytes": None,  # a checkpoint may hold optimizer state: its size says nothing
        "file": str(args.checkpoint),
    }


def print_model(results: list[dict], args: argparse.Namespace) -> None:
    ort = [r for r in results if r["backend"] == "onnxruntime"]
    base = next((r for r in ort if r["precision"] == "fp32"), None)
    rows = []
    for r in results:
        # The aim is for the default N = 1 model at int8.
        is_int8 = r["backend"] == "onnxruntime" and r["precision"] == "int8"
        is_int8 = is_int8 and r["n_blocks"] == 1
        paper = PAPER_MS.get(r["n_blocks"])
        rows.append(
            [
                r["model"],
                r["backend"],
                r["precision"],
                r["n_blocks"],
                f"{r['ms']:.2f}",
                f"{r['ms'] / base['ms']:.2f}x" if base else "-",
                f"{r['bytes'] / 1024:.0f}" if r["bytes"] else "-",
                f"{r['bytes'] / base['bytes']:.2f}x" if base and r["bytes"] else "-",
                f"{paper:.2f}" if paper else "-",
                _aim(r["ms"] < AIM_INT8_MS, f"< {AIM_INT8_MS:g} ms") if is_int8 else "",
            ]
        )
    headers = ["model", "backend", "precision", "N", "ms", "vs fp32", "KiB", "size", "paper ms"]
    print(
        f"a. model time per {CLIP_SAMPLES:,}-sample clip, input {results[0]['input']}, median of "
        f"{args.repeats} after {args.warmup} warm-up, threads {args.threads or 'all'}"
    )
    print(table([*headers, "aim"], rows))
    print("   paper: 7.74 ms per clip for N=1, 20.8 ms for N=5\n", flush=True)


def bench_e2e(args: argparse.Namespace, tmp: Path) -> tuple[dict, list[dict]]:
    """Part b: load the enhancer once, then enhance each MP3 ``--e2e-repeats`` times, with the
    allocator set as the command line sets it (`keep_freed_memory`)."""
    keep_freed_memory()
    _status(f"loading {args.model} {args.e2e_precision}")
    start = time.perf_counter()
    enhancer = Enhancer.load(args.model, precision=args.e2e_precision, threads=args.threads)
    load = {"model": args.model, "precision": args.e2e_precision}
    if args.output_rate:
        load["precision"] += f", output at {args.output_rate} Hz"
    if args.holes_unfilled:  # the same model, its hole net not run (mended_band: None)
        enhancer.rule = dataclasses.replace(enhancer.rule, holes_frames=0)
        load["precision"] += ", the codec's holes left unfilled (not in the command)"
    load["seconds"] = time.perf_counter() - start
    results = []
    for label, rate, channels, kbps, lame_rate in E2E_CASES:
        _status(f"encoding {label}")
        samples = music_like(int(args.e2e_seconds * rate), rate, channels)
        mp3 = tmp / f"music-{rate}-{channels}ch-{kbps}k.mp3"
        mp3.write_bytes(encode_mp3(samples, rate, kbps, lame_rate=lame_rate))
        del samples
        out = tmp / f"{mp3.stem}.enhanced.wav"
        _status(f"enhancing {label}")
        audio_seconds = 0.0

        def run(source: Path = mp3, target: Path = out) -> None:
            nonlocal audio_seconds
            audio_seconds = enhance_file(
                enhancer, source, target, output_rate=args.output_rate
            ).seconds

        # Each run writes a new file, as a user's first run does: replacing the last run's
        # output costs 35-70 ms more here (ext4 starts writing a file renamed over another out).
        wall = median(
            time_calls(run, args.e2e_repeats, before=partial(out.unlink, missing_ok=True))
        )
        _status(f"spectral-enhance enhance {label}")
        command = [_console_script(), "enhance", str(mp3), "-o", str(tmp / "cli"), "-q"]
        command += ["--overwrite", "--model", args.model, "--precision", args.e2e_precision]
        if args.output_rate:
            command += ["--sample-rate", str(args.output_rate)]
        if args.threads:
            command += ["--threads", str(args.threads)]
        whole = median(
            time_calls(
                partial(subprocess.run, command, check=True, capture_output=True),
                args.e2e_repeats,
                before=partial(shutil.rmtree, tmp / "cli", ignore_errors=True),
            )
        )
        results.append(
            {
                "input": label,
                "mp3_bytes": mp3.stat().st_size,
                "audio_seconds": audio_seconds,
                "wall_seconds": wall,
                "times_real_time": audio_seconds / wall,
                "command_seconds": whole,
                "command_times_real_time": audio_seconds / whole,
            }
        )
    return load, results


def print_e2e(load: dict, results: list[dict], args: argparse.Namespace) -> None:
    rows = [
        [
            r["input"],
            f"{r['audio_seconds']:.0f}",
            f"{r['wall_seconds']:.2f}",
            f"{r['times_real_time']:.0f}x",
            _aim(r["times_real_time"] >= AIM_TIMES_REAL_TIME, f">= {AIM_TIMES_REAL_TIME:g}x"),
            f"{r['command_seconds']:.2f}",
            f"{r['command_times_real_time']:.0f}x",
        ]
        for r in results
    ]
    print(
        f"b. end to end, enhance_file with {load['model']} {load['precision']} "
        f"(loaded once in {1000 * load['seconds']:.0f} ms), median of {args.e2e_repeats}; "
        "and the whole `spectral-enhance enhance` command (process start, imports, load)"
    )
    headers = ["input", "audio s", "wall s", "real time", "aim", "command s", "real time"]
    print(table(headers, rows))
    print(flush=True)


def bench_startup(args: argparse.Namespace, tmp: Path) -> list[dict]:
    """Part c: subprocess wall times, one untimed run first, as is and with cached bytecode."""
    commands = {
        "spectral-enhance --help": [_console_script(), "--help"],
        'python -c "import spectral_enhance.cli"': [
            sys.executable,
            "-c",
            "import spectral_enhance.cli",
        ],
    }
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    environments = {"as environment": dict(os.environ), "bytecode cached": cached}
    results = []
    for env_name, env in environments.items():
        for name, command in commands.items():
            _status(f"{name} ({env_name})")
            run = partial(
                subprocess.run,
                command,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            seconds = median(time_calls(run, args.startup_runs, warmup=1))
            results.append({"command": name, "bytecode": env_name, "seconds": seconds})
    return results


def print_startup(results: list[dict], args: argparse.Namespace) -> None:
    rows = [
        [
            r["command"],
            r["bytecode"],
            f"{1000 * r['seconds']:.0f}",
            _aim(r["seconds"] < AIM_STARTUP_S, f"< {AIM_STARTUP_S:g} s"),
        ]
        for r in results
    ]
    print(f"c. start-up, median of {args.startup_runs} after one untimed run")
    print(table(["command", "bytecode", "ms", "aim"], rows))
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("   PYTHONDONTWRITEBYTECODE is set here: 'as environment' compiles on every start")
    print(flush=True)


def bench_memory(args: argparse.Namespace, tmp: Path) -> dict:
    """Part d: peak RSS and speed of the enhance command on a long FLAC, low-passed."""
    total = int(args.memory_seconds * MEMORY_RATE)
    flac = tmp / "long.flac"
    _status(f"writing {args.memory_seconds:g} s of 44.1 kHz stereo FLAC")
    # Low-passed at 11 kHz (a 64 kbps MP3's cut), so a full-band model has a band to rebuild.
    sos = signal.ellip(12, 0.1, 100, MEMORY_CUT_HZ, fs=MEMORY_RATE, output="sos")
    state = np.zeros((sos.shape[0], 2, 2))
    with sf.SoundFile(flac, "w", MEMORY_RATE, 2, "PCM_16", format="FLAC") as handle:
        for block in music_blocks(total, MEMORY_RATE, 2, block=10 * MEMORY_RATE):
            filtered, state = signal.sosfilt(sos, block, axis=0, zi=state)
            handle.write(filtered)
    command = [_console_script(), "enhance", str(flac), "-o", str(tmp / "out"), "-q"]
    command += ["--model", args.model, "--precision", args.e2e_precision]
    command += ["--threads", str(args.threads)]
    report = tmp / "time.txt"
    if GNU_TIME.exists():
        command = [str(GNU_TIME), "-v", "-o", str(report), *command]
    _status("spectral-enhance enhance")
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"enhance failed ({done.returncode}):\n{done.stderr}")
    if GNU_TIME.exists():
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read_text())
        if found is None:
            raise SystemExit(f"no peak memory in /usr/bin/time's report:\n{report.read_text()}")
        peak_kib, method = int(found.group(1)), "/usr/bin/time -v"
    else:
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        method = "getrusage(RUSAGE_CHILDREN)"
    return {
        "input": f"{args.memory_seconds:g} s 44.1 kHz stereo FLAC cut at 11 kHz",
        "flac_bytes": flac.stat().st_size,
        "audio_seconds": total / MEMORY_RATE,
        "wall_seconds": wall,
        "times_real_time": total / MEMORY_RATE / wall,
        "peak_rss_mb": peak_kib * 1024 / 1e6,
        "method": method,
        "command": " ".join(command),
    }


def print_memory(r: dict) -> None:
    row = [
        r["input"],
        f"{r['flac_bytes'] / 1e6:.0f}",
        f"{r['wall_seconds']:.1f}",
        f"{r['times_real_time']:.0f}x",
        f"{r['peak_rss_mb']:.0f}",
        _aim(r["peak_rss_mb"] < AIM_PEAK_MB, f"< {AIM_PEAK_MB:g} MB"),
    ]
    print(f"d. peak memory of `spectral-enhance enhance FILE -o OUT -q` ({r['method']})")
    print(table(["input", "file MB", "wall s", "real time", "peak MB", "aim"], [row]))
    print(f"   end-to-end aim: >= {AIM_TIMES_REAL_TIME:g}x real time")


def run(args: argparse.Namespace, tmp: Path, data: dict) -> None:
    """The parts asked for, each printed as soon as measured and stored in ``data``."""
    if args.memory:
        data["memory"] = bench_memory(args, tmp)
        print_memory(data["memory"])
        return
    if "model" in args.parts:
        card = ModelCard.read(find_model(args.model))
        data["model"] = bench_model(args, card)
        print_model(data["model"], args)
    if "e2e" in args.parts:
        data["e2e_load"], data["e2e"] = bench_e2e(args, tmp)
        print_e2e(data["e2e_load"], data["e2e"], args)
    if "startup" in args.parts:
        data["startup"] = bench_startup(args, tmp)
        print_startup(data["startup"], args)


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    info = machine() | {"threads": str(args.threads or "all")}
    print_machine(info)
    data: dict = {"machine": info, "settings": {k: str(v) for k, v in vars(args).items()}}
    try:
        with tempfile.TemporaryDirectory(prefix="spectral-enhance-bench-") as name:
            run(args, Path(name), data)
    except (FileNotFoundError, ValueError) as error:  # a bad --model, --precisions or file
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        write_json(args.json, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
