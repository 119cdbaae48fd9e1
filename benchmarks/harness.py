"""What the benchmark scripts share: the machine, timed medians, a plain table, JSON, test audio.

The scripts in this folder import it as ``harness`` (Python puts a script's folder on the path).
The test audio is made in code, so no benchmark needs a file beyond the bundled model.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

try:
    from spectral_enhance.inference.backends import usable_cores
except ImportError:  # another checkout's, from before the backends left the enhancer's module
    from spectral_enhance.inference.enhancer import usable_cores

__all__ = [
    "cores",
    "machine",
    "median",
    "music_blocks",
    "music_like",
    "print_machine",
    "table",
    "time_calls",
    "time_in_turns",
    "write_json",
]

_SIMD = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")
_PACKAGES = ("numpy", "torch", "onnxruntime")


def cores() -> int:
    """CPU cores this process may run on (as the enhancer counts them)."""
    return usable_cores()


def _cpuinfo() -> tuple[str, list[str]]:
    """CPU model and the SIMD flags that matter for fp32/int8 kernels, from /proc/cpuinfo."""
    fields: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine(), []
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor is enough
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    name = fields.get("model name", platform.machine())
    if "family" not in name.lower() and "cpu family" in fields:
        # Virtual machines often hide the model name; family/model still identify the core.
        name += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    flags = set(fields.get("flags", "").split())
    return name, [flag for flag in _SIMD if flag in flags]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    """The machine and software a result was measured on (versions read without importing)."""
    cpu, simd = _cpuinfo()
    info = {
        "cpu": cpu,
        "simd": " ".join(simd) or "-",
        "cores": f"{cores()} usable of {os.cpu_count()}",
        "os": platform.platform(),
        "python": sys.version.split()[0],
    }
    info |= {package: _version(package) for package in _PACKAGES}
    try:
        load = os.getloadavg()[0]
        busy = " (busy: timings are pessimistic)" if load > 0.5 * cores() else ""
        info["load (1 min)"] = f"{load:.2f}{busy}"
    except OSError:
        pass
    return info


def print_machine(info: dict[str, str]) -> None:
    """The machine as aligned ``key: value`` lines."""
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key + ':':<{width + 1}} {value}")
    print()


def time_calls(
    call: Callable[[], object],
    repeats: int,
    warmup: int = 0,
    before: Callable[[], object] | None = None,
) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``call``, after ``warmup`` untimed ones; ``before``
    is called, untimed, before each (to remove the last call's output, say)."""
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return seconds


def time_in_turns(
    calls: dict[str, Callable[[], object]], repeats: int, warmup: int = 1
) -> dict[str, float]:
    """Median wall seconds of each of ``calls``, the calls taking turns round by round (so a
    machine whose speed drifts slows them alike), after ``warmup`` untimed rounds."""
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(warmup + repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            if round_ >= warmup:
                seconds[name].append(time.perf_counter() - start)
    return {name: median(values) for name, values in seconds.items()}


def median(values: Sequence[float]) -> float:
    """Median of ``values`` (NaN for none)."""
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain table: text left-aligned, numbers right-aligned, columns two spaces apart."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    numeric = [
        all(_is_number(row[i]) for row in rows if str(row[i]) != "-") for i in range(len(headers))
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *map(line, cells[1:])])


def _is_number(value: object) -> bool:
    if isinstance(value, int | float):
        return True
    try:
        float(str(value).replace(",", "").lstrip("x<>= ").rstrip("x%"))
    except ValueError:
        return False
    return True


def write_json(path: str | os.PathLike, data: dict) -> None:
    """Write ``data`` as indented JSON and say where."""
    Path(path).write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nwrote {path}")


# Test audio: three voices (bass, chords, melody) of harmonic notes on a pentatonic scale, a
# hi-hat of high-passed noise every eighth of a second, and a low noise floor. Each voice keeps
# its phase across notes, so the signal has no clicks, and blocks can be made independently.

_TABLE = 4096  # samples of one period in a voice's wavetable
_SCALE = 2.0 ** (np.array([0, 2, 4, 7, 9]) / 12)
# Lowest note (Hz), mean note length (s), level, and gain in the left and right channels.
_VOICES = (
    (55.0, 0.5, 0.45, (1.0, 0.8)),
    (220.0, 0.25, 0.3, (0.7, 1.0)),
    (440.0, 0.125, 0.2, (1.0, 0.6)),
)
_HAT_PERIOD = 0.125  # seconds
_HEADROOM = 0.6  # the voices sum to at most 0.95 (plus rare noise peaks) before this gain


class _Voice:
    """The note schedule of one voice over ``total`` samples, and its wavetable."""

    def __init__(self, rng: np.random.Generator, total: int, rate: int, voice: tuple) -> None:
        base, note_seconds, self.level, pan = voice
        self.pan = np.array(pan, np.float32)
        self.decay = 4.0 / note_seconds
        # Notes last 0.5 to 1.5 mean lengths, so this many always cover ``total`` samples.
        count = int(2 * total / (note_seconds * rate)) + 2
        lengths = np.round(rng.uniform(0.5, 1.5, count) * note_seconds * rate).astype(np.int64)
        lengths = np.maximum(lengths, 1)
        self.starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self.freqs = base * _SCALE[rng.integers(0, len(_SCALE), count)]
        self.freqs *= 2.0 ** rng.integers(0, 2, count)
        self.phase0 = np.concatenate([[0.0], np.cumsum(self.freqs * lengths / rate)[:-1]]) % 1.0
        # As many harmonics (up to 40) as stay below Nyquist for the highest note.
        harmonics = int(max(1, min(40, (rate / 2 - 1) // self.freqs.max())))
        k = np.arange(1, harmonics + 1)
        amps = rng.uniform(0.3, 1.0, harmonics) / k
        x = np.arange(_TABLE) / _TABLE
        wave = (amps[:, None] * np.sin(2 * np.pi * k[:, None] * x)).sum(axis=0)
        self.table = (wave / np.abs(wave).max()).astype(np.float32)
        self.rate = rate

    def render(self, start: int, stop: int) -> np.ndarray:
        """Samples ``start`` to ``stop`` of the voice, mono float32."""
        t = np.arange(start, stop)
        note = np.searchsorted(self.starts, t, side="right") - 1
        since = (t - self.starts[note]) / self.rate
        phase = (self.phase0[note] + self.freqs[note] * since) % 1.0
        tone = self.table[(phase * _TABLE).astype(np.int64) % _TABLE]
        envelope = np.minimum(1.0, since / 0.005) * np.exp(-since * self.decay)
        return (self.level * tone * envelope).astype(np.float32)


def music_blocks(
    num_samples: int, rate: int, channels: int = 2, seed: int = 0, block: int = 1 << 16
) -> Iterator[np.ndarray]:
    """A music-like signal in float32 blocks ``[block, channels]`` (the last may be shorter).

    Peaks stay below 0.75 (in practice near 0.6). The same arguments give the same samples;
    memory stays that of one block.
    """
    rng = np.random.default_rng(seed)
    voices = [_Voice(rng, num_samples, rate, voice) for voice in _VOICES]
    hat_period = int(_HAT_PERIOD * rate)
    for index, start in enumerate(range(0, num_samples, block)):
        stop = min(num_samples, start + block)
        out = np.zeros((stop - start, channels), np.float32)
        for voice in voices:
            pan = np.resize(voice.pan, channels) if channels > 1 else np.ones(1, np.float32)
            out += voice.render(start, stop)[:, None] * pan
        noise_rng = np.random.default_rng((seed, index))
        noise = noise_rng.standard_normal((stop - start + 1, channels)).astype(np.float32)
        since_hat = (np.arange(start, stop) % hat_period) / rate
        out += 0.025 * np.diff(noise, axis=0) * np.exp(-since_hat * 60.0)[:, None]
        out += 0.003 * noise[1:]
        yield out * _HEADROOM


def music_like(num_samples: int, rate: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    """The whole of :func:`music_blocks` as one ``[num_samples, channels]`` float32 array."""
    return np.concatenate(list(music_blocks(num_samples, rate, channels, seed)))
