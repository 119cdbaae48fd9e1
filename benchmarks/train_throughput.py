"""Training throughput of the spectral autoencoder on the CPU, in clips per second.

One training step as ``spectral_enhance.training.train`` takes it: forward, the paper's loss
``pixel+0.5*ssim`` (eq. 3), backward and an Adam step, fp32, on random tensors
``[batch, 2, frames, 512]``, for each number of blocks N. The model is the one being trained:
``build_model("spectral", {"n_blocks": N, "input_gain": True, "correction_from_bin": 372})``.

Two inputs per N: whole clips (100,000 samples = 400 frames of 512 bins, unpadded as in training)
and the random 128-frame crops training actually uses, counted in clip equivalents
(batch x 128 / 400 clips per step). Warm-up steps are excluded; results are medians.
For scale: a plain PyTorch prototype of one block did about 19 whole clips/s on 2 cores.

Reproduce (from the repository root, on an otherwise idle machine):

    python benchmarks/train_throughput.py --blocks 1 5 --batch 32 --repeats 10 --warmup 2 \
        --json train_throughput.json
"""

from __future__ import annotations

import argparse
import resource
import sys

import torch
from harness import cores, machine, median, print_machine, table, time_calls, write_json

from spectral_enhance.models import build_model, count_parameters
from spectral_enhance.training.losses import parse_loss

CLIP_FRAMES = 400  # a 100,000-sample clip, framed without padding as in training
BINS = 512
LOSS = "pixel+0.5*ssim"
PROTOTYPE_CLIPS_PER_S = 19.0  # plain PyTorch prototype, one block, whole clips, 2 cores


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, nargs="+", default=[1, 5], help="N values (1 5)")
    parser.add_argument("--batch", type=int, default=32, help="clips per step (32)")
    parser.add_argument("--crop-frames", type=int, default=128, help="training crop (128)")
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per setting (10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (2)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    parser.add_argument("--json", type=str, metavar="PATH", help="also write the numbers here")
    return parser


def measure(n_blocks: int, frames: int, args: argparse.Namespace) -> dict:
    """Median time of one training step of N blocks on ``[batch, 2, frames, 512]``."""
    torch.manual_seed(0)
    config = {"n_blocks": n_blocks, "input_gain": True, "correction_from_bin": 372}
    model = build_model("spectral", config).train()
    loss_fn = parse_loss(LOSS)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    low = torch.randn(args.batch, 2, frames, BINS)
    high = low + 0.1 * torch.randn_like(low)

    def step() -> None:
        loss = loss_fn(model(low), high)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    seconds = median(time_calls(step, args.repeats, args.warmup))
    clips = args.batch * frames / CLIP_FRAMES
    return {
        "n_blocks": n_blocks,
        "parameters": count_parameters(model),
        "frames": frames,
        "batch": args.batch,
        "ms_per_step": 1000 * seconds,
        "clips_per_step": clips,
        "clips_per_s": clips / seconds,
    }


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    threads = args.threads or cores()
    torch.set_num_threads(threads)
    info = machine() | {"torch threads": str(threads)}
    print_machine(info)
    print(
        f"training step: forward + {LOSS} + backward + Adam, fp32, batch {args.batch}, "
        f"median of {args.repeats} after {args.warmup} warm-up",
        flush=True,
    )
    results = []
    for n_blocks in args.blocks:
        for frames in (CLIP_FRAMES, args.crop_frames):
            print(f"  N={n_blocks}, {frames} frames ...", file=sys.stderr, flush=True)
            results.append(measure(n_blocks, frames, args))
    rows = []
    for r in results:
        kind = "whole clip" if r["frames"] == CLIP_FRAMES else "crop (clip equiv.)"
        vs_prototype = "-"
        if r["n_blocks"] == 1:
            vs_prototype = f"{r['clips_per_s'] / PROTOTYPE_CLIPS_PER_S:.2f}x"
        rows.append(
            [
                r["n_blocks"],
                f"{r['parameters']:,}",
                kind,
                r["frames"],
                f"{r['ms_per_step']:.0f}",
                f"{r['clips_per_s']:.1f}",
                vs_prototype,
            ]
        )
    headers = ["N", "params", "input", "frames", "ms/step", "clips/s", "vs prototype"]
    print()
    print(table(headers, rows))
    print(
        f"\nprototype: plain PyTorch, one block, whole clips, 2 cores: "
        f"~{PROTOTYPE_CLIPS_PER_S:.0f} clips/s"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    print(f"peak RSS of this process: {peak_mb:.0f} MB")
    if args.json:
        settings = vars(args) | {"threads": threads, "loss": LOSS}
        write_json(args.json, {"machine": info, "settings": settings, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
