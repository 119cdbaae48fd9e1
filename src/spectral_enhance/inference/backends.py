"""A model run on this process's cores by ONNX Runtime or PyTorch, for the enhancer and export."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

__all__ = ["CGROUP", "OnnxModel", "TorchModel", "cpu_quota", "usable_cores"]


def usable_cores() -> int:
    """Cores this process may run on: its affinity (where the system reports one), and no more
    than its container's CPU quota, which the affinity does not show (``docker run --cpus 2``
    on a 64-core host: 64 segments at once would take 64 segments' memory); as joblib's loky
    counts them."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cores = os.cpu_count() or 1
    quota = cpu_quota()
    return max(1, min(cores, math.ceil(quota))) if quota else cores


CGROUP = Path("/sys/fs/cgroup")


def cpu_quota(root: Path = CGROUP) -> float | None:
    """The cores' worth of CPU time a Linux cgroup (v2 ``cpu.max``, or v1's CFS quota and
    period) allows this process, or None where none is set or readable."""
    try:
        if (root / "cpu.max").is_file():
            quota, period = (root / "cpu.max").read_text().split()[:2]
        else:
            v1 = root / "cpu"
            quota = (v1 / "cpu.cfs_quota_us").read_text().strip()
            period = (v1 / "cpu.cfs_period_us").read_text().strip()
        if quota == "max" or int(quota) <= 0 or int(period) <= 0:
            return None
        return int(quota) / int(period)
    except (OSError, ValueError):
        return None


class OnnxModel:
    """An ONNX Runtime CPU session mapping a spectrum or a waveform to the same shape."""

    def __init__(self, path: str | os.PathLike, threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: model file missing")
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # ONNX Runtime raises its own kinds for a file it cannot load
            reason = next((line for line in str(error).splitlines() if line.strip()), "")
            raise ValueError(f"{path}: not a valid ONNX model ({reason[:300]})") from error
        self.input_names = [node.name for node in self.session.get_inputs()]

    def __call__(self, x: np.ndarray, *more: np.ndarray) -> np.ndarray:
        """Run on ``x`` (and the further inputs of a model that has them, such as the copy map
        of a model told the low-pass), as float32 and int64 as given."""
        feed = {self.input_names[0]: x.astype(np.float32, copy=False)}
        feed |= dict(zip(self.input_names[1:], more, strict=True))
        return self.session.run(None, feed)[0]


class TorchModel:
    """A PyTorch checkpoint behind the same call as :class:`OnnxModel` (needs ``[train]``)."""

    def __init__(self, path: str | os.PathLike, threads: int = 0) -> None:
        import torch

        from ..models import exported_graph
        from ..models.checkpoint import load_model

        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        self.model, self.checkpoint = load_model(path)
        self.graph = exported_graph(self.model)  # what an export of it would run

    def __call__(self, x: np.ndarray, *more: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            x = self.torch.from_numpy(x.astype(np.float32))
            return self.graph(x, *(self.torch.from_numpy(a) for a in more)).numpy()
