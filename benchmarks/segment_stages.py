"""Where a segment's time goes: each stage of ``Enhancer._segment``, summed over a whole file.

Makes a 3-minute 44.1 kHz stereo MP3 (``--kbps``, 48 by default, at LAME's own rate below
128), enhances it with ``enhance_file`` (a bundled model, int8, ``--model``, default
``full-band``) ``--runs`` times after one untimed run, and prints for each stage its thread
time per file (the median over the runs) and its share of the segments' time. Thread time, not
wall time: the segments run two at a time beside the decoding, and a stage's wall time would
count what the others took from its core. The stages nest: laying the noise holds the channels'
likeness, the holes and the noise bands. ``PYTHONPATH=OTHER/src python benchmarks/
segment_stages.py`` times another checkout's (docs/full-band.md, "Speed", used it to find
that the margins' frames were synthesised and thrown away).
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from pathlib import Path

from harness import machine, median, music_like, print_machine, table

# (where, name, label): module-level functions as the segment's module (`inference.synthesis`)
# calls them, and methods
STAGES = [
    ("module", "spectrum", "forward STFT"),
    ("module", "stft_power", "power per bin"),
    ("module", "told_inputs", "the model's inputs (the copy's power, the tilt prior)"),
    ("OnnxModel", "__call__", "the model (ONNX Runtime, one thread)"),
    ("module", "calm_band", "calm_band"),
    ("module", "fill_dips", "fill_dips"),
    ("module", "lead_cap", "lead_cap"),
    ("Enhancer", "_lay_over_noise", "laying the noise, all of it:"),
    ("module", "channel_coherence", "  the channels' likeness"),
    ("module", "hole_scale", "  the holes' levels (features and net)"),
    ("Enhancer", "_noise_band", "  the noise bands, above the cut and in the holes"),
    ("module", "istft", "inverse STFT"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kbps", type=int, default=48, help="MP3 bitrate (48)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (5)")
    parser.add_argument("--model", default="full-band", help="bundled model (full-band)")
    args = parser.parse_args()
    print_machine(machine())

    from spectral_enhance.allocator import keep_freed_memory
    from spectral_enhance.audio.mp3 import encode_mp3
    from spectral_enhance.inference.enhancer import Enhancer

    try:
        from spectral_enhance.inference import synthesis as module
        from spectral_enhance.inference.backends import OnnxModel
        from spectral_enhance.inference.one_file import enhance_file
    except ImportError:  # another checkout's, from before the enhancer's module was split
        from spectral_enhance.inference import enhancer as module
        from spectral_enhance.inference.batch import enhance_file
        from spectral_enhance.inference.enhancer import OnnxModel

    keep_freed_memory()  # as the command line runs
    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()

    def timed(function, label: str):
        def stage(*args, **kwargs):
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.thread_time() - start
                calls[label] += 1

        return stage

    owners = {"module": module, "OnnxModel": OnnxModel, "Enhancer": Enhancer}
    for where, name, label in [*STAGES, ("Enhancer", "_segment", "segments")]:
        setattr(owners[where], name, timed(getattr(owners[where], name), label))

    enhancer = Enhancer.load(args.model, precision="int8")
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        mp3, out = Path(tmp) / "music.mp3", Path(tmp) / "out.wav"
        samples = music_like(180 * 44100, 44100, 2)
        mp3.write_bytes(encode_mp3(samples, 44100, args.kbps, lame_rate=args.kbps < 128))
        for run in range(args.runs + 1):
            spent.clear()
            calls.clear()
            out.unlink(missing_ok=True)
            enhance_file(enhancer, mp3, out)
            if run:  # the first run loads and warms up
                runs.append(dict(spent))
    per_file = {label: median([run.get(label, 0.0) for run in runs]) for label in spent}
    whole = per_file["segments"]
    rows = [
        (label, f"{1000 * per_file.get(label, 0.0):.1f}", f"{per_file.get(label, 0.0) / whole:.0%}")
        for _, _, label in STAGES
    ]
    rows.append(("segments, all of it", f"{1000 * whole:.1f}", "100%"))
    print(
        f"\n3-minute 44.1 kHz stereo {args.kbps} kbps MP3, model {args.model} (int8), "
        f"{calls['segments']} segments; thread time per file, median of {args.runs} runs"
    )
    print(table(["stage", "ms per file", "share"], rows))


if __name__ == "__main__":
    main()
