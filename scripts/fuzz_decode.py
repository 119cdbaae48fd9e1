"""Fuzz the input module for longer than the test suite does (issue 11).

Damages real files (``tests/audio_tools.seed_files``: MP3s from our writer, the ``lame`` CLI and
lameenc, a WAV and a FLAC) with random mutations and checks each copy as
``tests/test_fuzz.py`` does: a result with finite float32 samples and one-line warnings naming
the file, or a one-line ``AudioError`` naming it; no other exception, no hang, bounded output
and memory. Failing copies are saved to ``--out`` with a note of what failed.

    python scripts/fuzz_decode.py --cases 20000 --seed 1
    python scripts/fuzz_decode.py --cases 300 --seed 1 --against-ffmpeg

``--against-ffmpeg`` also decodes every copy with ``ffmpeg -v error -i FILE -ac 1 -ar 44100
-f f32le -`` (mono at a known rate, so its output's length is its duration) and counts the
copies each decoder gives at least a second of audio from.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from audio_tools import decode_damaged, mutate, random_mutations, seed_files
from spectral_enhance.audio import decode

# A damaged copy decodes to at most this many times the intact file's values: a damaged WAV
# header may name a 4-bit ADPCM codec (3.4x seen), a damaged MP3 frame turn mono to stereo.
GROWTH = 4
MAX_RSS_GROWTH = 500 * 2**20  # bytes the run may add to the process's peak memory


def peak_rss() -> int:
    """The process's peak resident memory so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def ffmpeg_seconds(path: Path) -> float:
    """Seconds of audio the ffmpeg CLI decodes from ``path`` (0 if it decodes none)."""
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "44100"]
    try:
        done = subprocess.run([*command, "-f", "f32le", "-"], capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return 0.0
    return len(done.stdout) / 4 / 44100


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="damaged copies to try")
    parser.add_argument("--seed", type=int, default=0, help="random seed (the same copies)")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of the intact files")
    parser.add_argument("--limit", type=float, default=10.0, help="seconds allowed per copy")
    parser.add_argument("--out", type=Path, help="folder for failing copies (default: temp)")
    parser.add_argument("--against-ffmpeg", action="store_true", help="count >= 1 s decodes")
    return parser


def main(argv: list[str] | None = None) -> int:
    opts = get_parser().parse_args(argv)
    out = opts.out or Path(tempfile.gettempdir()) / f"fuzz-decode-failures-{opts.seed}"
    with tempfile.TemporaryDirectory(prefix="fuzz-decode-") as work:
        return run(opts, Path(work), out)


def run(opts: argparse.Namespace, work: Path, out: Path) -> int:
    """Try ``opts.cases`` damaged copies in ``work``; save failing ones to ``out``."""
    files = seed_files(work, opts.seconds)
    seeds = {name: (data, decode(data).samples.size) for name, data in files.items()}
    rng = random.Random(opts.seed)
    counts = {"decoded": 0, "warned": 0, "error": 0, "failed": 0}
    ffmpeg_ok = ours_ok = 0
    slowest = growth = 0.0
    start_rss, started = peak_rss(), time.monotonic()
    for case in range(opts.cases):
        name = rng.choice(sorted(seeds))
        mutations = random_mutations(rng)
        intact, size = seeds[name]
        data = mutate(intact, mutations)
        path = work / f"case-{name}"
        clock = time.monotonic()
        try:
            outcome, values, seconds = decode_damaged(data, path, opts.limit)
            assert values <= GROWTH * size, f"{values} values from an intact {size}"
            assert peak_rss() - start_rss < MAX_RSS_GROWTH, f"peak memory {peak_rss()} bytes"
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                raise
            outcome, values, seconds = "failed", 0, 0.0
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{case:06d}-{name}").write_bytes(data)
            note = f"seed file {name}\nmutations {mutations}\n\n{traceback.format_exc()}"
            (out / f"{case:06d}-{name}.txt").write_text(note)
            print(f"case {case}: {name} {mutations}: {type(error).__name__}: {error}")
        slowest = max(slowest, time.monotonic() - clock)
        growth = max(growth, values / size)
        counts[outcome] += 1
        if opts.against_ffmpeg:
            ffmpeg_ok += ffmpeg_seconds(path) >= 1
            ours_ok += seconds >= 1
    elapsed = time.monotonic() - started
    print(
        f"{opts.cases} cases (seed {opts.seed}, {opts.seconds:g} s files) in {elapsed:.0f} s: "
        f"{counts['decoded']} decoded, {counts['warned']} decoded with warnings, "
        f"{counts['error']} refused cleanly (AudioError), {counts['failed']} failed"
    )
    print(
        f"slowest case {slowest:.2f} s; largest output {growth:.2f}x the intact file's; "
        f"peak memory {peak_rss() / 2**20:.0f} MiB (from {start_rss / 2**20:.0f} MiB)"
    )
    if counts["failed"]:
        print(f"failing copies saved in {out}")
    if opts.against_ffmpeg:
        print(
            f"at least 1 s decoded: ffmpeg {ffmpeg_ok} of {opts.cases}, "
            f"spectral_enhance.audio.read {ours_ok} of {opts.cases}"
        )
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
