"""What widening the depthwise convolutions to ONNX Runtime's block of channels buys.

ONNX Runtime runs a grouped convolution in its blocked (NCHWc) layout only when its channels are
a multiple of its block (16 with AVX-512, 8 with AVX2); the full-band model's first depthwise
convolution of each block runs over its 129 bands. `spectral_enhance.training.export.
pad_depthwise` widens such a convolution with zero channels. First, a lone depthwise 5 x 5
convolution over ``[1, C, 3, 600]`` (a segment's frames) at several ``C``, one thread. Then, with
``--against FILE``, the bundled ``full-band`` int8 model against another ONNX file of it (the
file before the widening: ``git show 2481b09:src/spectral_enhance/pretrained/full-band/
model.int8.onnx > old.onnx``), on a segment's inputs (600 frames, two channels) and on a
407-frame single channel, at one and two threads, the two taking turns; and the largest
difference of their outputs. Medians of ``--repeats`` rounds of 20 calls.

Reproduce (from the repository root, on an otherwise idle machine):

    python benchmarks/depthwise_layout.py --against old.onnx
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime as ort
from harness import machine, print_machine, table, time_in_turns

from spectral_enhance.inference.bundled import PRETRAINED

CALLS = 20


def session(model: bytes | str, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def per_call(sessions: dict[str, ort.InferenceSession], feeds: dict, repeats: int) -> dict:
    """Median ms per call of each session, the sessions taking turns round by round."""

    def calls(s: ort.InferenceSession) -> None:
        for _ in range(CALLS):
            s.run(None, feeds)

    rounds = time_in_turns({name: partial(calls, s) for name, s in sessions.items()}, repeats)
    return {name: seconds / CALLS * 1000 for name, seconds in rounds.items()}


def lone_convolution(channels: int) -> bytes:
    """An ONNX graph of one depthwise 5 x 5 convolution over ``[1, channels, 3, 600]``."""
    from onnx import TensorProto, helper, numpy_helper

    weights = np.random.default_rng(0).standard_normal((channels, 1, 5, 5)).astype(np.float32)
    shape = [1, channels, 3, 600]
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], group=channels, kernel_shape=[5, 5], pads=[2, 2, 2, 2]
    )
    graph = helper.make_graph(
        [node],
        "depthwise",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(weights, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    return model.SerializeToString()


def model_inputs(frames: int, channels: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs of the full-band graph's shapes (powers with a music-like spread of levels)."""
    rng = np.random.default_rng(seed)
    return {
        "power": (rng.random((1, frames, 1025)) ** 4).astype(np.float32),
        "copy_power": rng.random((channels, frames, 129)).astype(np.float32),
        "above": (np.arange(1025) >= 350).astype(np.float32),
        "prior": rng.random((1, frames, 129)).astype(np.float32),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another ONNX file of full-band's graph")
    parser.add_argument("--repeats", type=int, default=7, help="rounds of 20 calls (7)")
    args = parser.parse_args()
    print_machine(machine())
    rows = []
    for channels in (128, 129, 136, 144):
        x = np.random.default_rng(1).standard_normal((1, channels, 3, 600)).astype(np.float32)
        ms = per_call({"": session(lone_convolution(channels), 1)}, {"x": x}, args.repeats)[""]
        rows.append([channels, f"{ms:.3f}"])
    print("\na lone depthwise 5 x 5 convolution over [1, C, 3, 600], one thread, ms per call")
    print(table(["channels C", "ms"], rows))
    if args.against is None:
        return
    bundled = PRETRAINED / "full-band" / "model.int8.onnx"
    files = {"bundled": str(bundled), "other": str(args.against)}
    rows = []
    for threads in (1, 2):
        for frames, channels in ((600, 2), (407, 1)):
            feeds = model_inputs(frames, channels)
            sessions = {name: session(path, threads) for name, path in files.items()}
            ms = per_call(sessions, feeds, args.repeats)
            out = {name: s.run(None, feeds)[0] for name, s in sessions.items()}
            rows.append(
                [
                    threads,
                    f"{frames} x {channels}",
                    f"{ms['bundled']:.2f}",
                    f"{ms['other']:.2f}",
                    f"{ms['bundled'] / ms['other']:.2f}",
                    f"{np.abs(out['bundled'] - out['other']).max():.1e}",
                ]
            )
    print(f"\nfull-band int8, the bundled file against {args.against}, ms per call")
    headers = ["threads", "frames x channels", "bundled", "other", "ratio", "largest difference"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
