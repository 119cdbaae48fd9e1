"""End-to-end speed of this tree's ``enhance_file`` against another checkout's, on one machine.

Makes a 3-minute 44.1 kHz stereo MP3 (``--kbps``, 128 by default; below 128 at LAME's own rate,
as ``inference_speed.py`` part b), then times ``enhance_file`` (a bundled model, int8, loaded
once; ``--model``, default ``full-band``) in a fresh process for each tree in turn,
``--rounds`` times A B, B A, ..., each process giving the median of 7 runs after one untimed run.
Prints every round, the median of each tree and the ratio, of wall time and of the process's
CPU time (all its threads: what the file costs a machine whose cores are all busy). The same
tree against itself (``--against src``) shows the machine's own spread: on the 2-core Xeon of
model 207 it gave 0.954 and 0.973 at 48 kbps in wall time, 7 rounds each
(``results/compare_e2e_same_tree_xeon207*.txt``), so a ratio within a twentieth of 1 there
says nothing. Issue 11 used it (with
``--model spectral-n1``) to check that the FFmpeg input module is not slower than the
libsndfile reader it replaced:

    git worktree add /tmp/before 8ef214b
    python benchmarks/compare_e2e.py --against /tmp/before/src --model spectral-n1

``--this-fft mkl_fft`` runs this tree with Intel's MKL behind ``scipy.fft`` (``pip install
mkl_fft mkl-service``; not a dependency: docs/speed.md), and ``--against src``
times the same tree with SciPy's own FFT beside it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import machine, music_like, print_machine

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "src"

TIMER = """
import statistics, sys, time
from pathlib import Path
try:
    from spectral_enhance.inference.batch import enhance_file
    from spectral_enhance.inference.enhancer import Enhancer
except ImportError:  # a tree from before the stage folders
    from spectral_enhance.enhance import enhance_file
    from spectral_enhance.inference import Enhancer
try:  # as the command line runs, in a tree that has it
    from spectral_enhance.allocator import keep_freed_memory
    keep_freed_memory()
except ImportError:
    pass
mp3, out = Path(sys.argv[1]), Path(sys.argv[2])
if sys.argv[4] == "mkl_fft":  # every scipy.fft call, in every thread, goes to MKL
    import mkl_fft.interfaces.scipy_fft
    import scipy.fft
    scipy.fft.set_global_backend(mkl_fft.interfaces.scipy_fft)
enhancer = Enhancer.load(sys.argv[3], precision="int8")
times, cpu = [], []
for _ in range(8):
    out.unlink(missing_ok=True)
    start, start_cpu = time.perf_counter(), time.process_time()
    enhance_file(enhancer, mp3, out)
    times.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
print(statistics.median(times[1:]), statistics.median(cpu[1:]))
"""


def time_tree(
    source: Path, mp3: Path, out: Path, model: str, fft: str = "scipy"
) -> tuple[float, float]:
    """Median seconds of ``enhance_file`` with the package from ``source`` (a ``src`` folder),
    its ``scipy.fft`` calls made by ``fft`` (``scipy`` itself or ``mkl_fft``): wall time, and
    the process's CPU time (all its threads), which is what two cores share out."""
    done = subprocess.run(
        [sys.executable, "-c", TIMER, str(mp3), str(out), model, fft],
        env={"PYTHONPATH": str(source), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = done.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="the other tree's src folder")
    parser.add_argument("--rounds", type=int, default=5, help="A B pairs (5)")
    parser.add_argument("--model", default="full-band", help="bundled model (full-band)")
    parser.add_argument(
        "--kbps", type=int, default=128, help="MP3 bitrate (128); below 128 at LAME's own rate"
    )
    parser.add_argument(
        "--this-fft",
        choices=["scipy", "mkl_fft"],
        default="scipy",
        help="what makes this tree's scipy.fft calls (scipy)",
    )
    args = parser.parse_args()
    print_machine(machine())
    with tempfile.TemporaryDirectory() as tmp:
        mp3, out = Path(tmp) / "music.mp3", Path(tmp) / "out.wav"
        sys.path.insert(0, str(SOURCE))
        from spectral_enhance.audio.mp3 import encode_mp3

        samples = music_like(180 * 44100, 44100, 2)
        mp3.write_bytes(encode_mp3(samples, 44100, args.kbps, lame_rate=args.kbps < 128))
        print(f"3-minute 44.1 kHz stereo {args.kbps} kbps MP3, model {args.model}")
        print(f"this tree's FFT: {args.this_fft}; the other's: scipy")
        this, other = [], []
        for round_ in range(args.rounds):
            # each goes first in every other round, so that neither always runs in what the
            # first one leaves (its output being written out, a warmer or cooler core)
            pair = [
                lambda: this.append(time_tree(SOURCE, mp3, out, args.model, args.this_fft)),
                lambda: other.append(time_tree(args.against, mp3, out, args.model)),
            ]
            for run in pair if round_ % 2 == 0 else pair[::-1]:
                run()
            first = "this" if round_ % 2 == 0 else "other"
            print(
                f"round {round_ + 1} ({first} first): this {this[-1][0]:.3f} s "
                f"(CPU {this[-1][1]:.3f} s), other {other[-1][0]:.3f} s "
                f"(CPU {other[-1][1]:.3f} s)"
            )
    (a, a_cpu), (b, b_cpu) = (
        (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
        for t in (this, other)
    )
    print(f"this tree:  median {a:.3f} s, {180 / a:.0f}x real time, CPU {a_cpu:.3f} s")
    print(f"other tree: median {b:.3f} s, {180 / b:.0f}x real time, CPU {b_cpu:.3f} s")
    print(f"this / other: {a / b:.3f} wall, {a_cpu / b_cpu:.3f} CPU")


if __name__ == "__main__":
    main()
