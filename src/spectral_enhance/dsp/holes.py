"""The codec's holes under the low-pass: found and levelled by a small learned net, filled with
noise.

At low bitrates an MP3 encoder leaves bands under its low-pass empty for a granule or more (it
had no bits for them). On issue 12's validation clips, noise in those holes at the reference's
own level is worth +0.16 to +0.19 on Zimtohrli at 32 to 64 kbps (`scripts/hole_fill_check.py`,
docs/full-band.md). From the MP3 alone, a net (`HoleNet`, a two-layer perceptron fitted by
`spectral-enhance train-holes`, `training.holes`, on the training split; it ships in the folder
of each model that fills holes, `export --hole-net`, and is fitted at that model's STFT)
predicts each band's level in the reference, per band of the model's bins and frame, from how
far the band lies under its neighbours in time and frequency, under the frame's loudest, under
the other channel, and where it sits under the low-pass. A band the net puts more than
`THRESHOLD_DB` above the MP3's (`LOW_CUT_THRESHOLD_DB` under a 32 kbps low-pass:
`threshold_db`) is a hole, filled with noise to `OVER_DB` over the predicted level. (A
hand-written rule did this before: more than 26 dB under the softer of its own loudest and its
neighbours', filled 6 dB under their mean. It found the holes but not their level, and got 39
and 29 % of what they are worth at 32 and 48 kbps on validation; the net gets 65 and 58 %.)

The net predicts the reference's level over an anchor, the mean of the band's own loudest over
`SECONDS` and its neighbours' loudest in the frame: a hole as empty as zeros gets a level as a
real one does.

Only in the octave under the low-pass, where the holes are, and only under a low-pass below
`TOP_HZ`: LAME's at 112 kbps and less, not at 128 kbps and up, where filling holes gained
nothing on validation, took a little from lossless input (whose own roll-off looks like a
low-pass), and cost a tenth of the time end to end.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from .band_level import LOW_CUT_HZ
from .stft import StftConfig

__all__ = [
    "LOW_CUT_THRESHOLD_DB",
    "OVER_DB",
    "SECONDS",
    "SPREAD",
    "THRESHOLD_DB",
    "TOP_HZ",
    "HoleGeometry",
    "HoleNet",
    "band_sums",
    "hole_features",
    "hole_frames",
    "hole_scale",
    "mended_band",
    "threshold_db",
]

THRESHOLD_DB = 6.0
"""How far above the MP3's level the net must put a band's for it to be a hole."""
LOW_CUT_THRESHOLD_DB = 4.0
"""`THRESHOLD_DB` under a low-pass below `dsp.band_level.LOW_CUT_HZ` (32 kbps): 4 dB scored higher
at every bitrate on validation but lost a 96 kbps clip 0.11, so only there
(`scripts/hole_net_check.py`, docs/full-band.md)."""
OVER_DB = 2.0
"""How far over the net's level a hole is filled: 2 dB louder scored a little higher on
validation (`scripts/hole_net_check.py`, docs/full-band.md)."""
SECONDS = 0.5
"""The span of frames a band's own loudest is taken over."""
SPREAD = 3
"""Bands either side whose loudest a band is compared with."""
TOP_HZ = 16_000.0
"""The low-pass from which no holes are filled: LAME's cut at 128 kbps reads 15.97 to 16.58 kHz
in its files, at 112 kbps and less 15.3 kHz and under. Not `dsp.band_level.HIGH_CUT_HZ`
(15.6 kHz), where the band above is laid fainter: an MP3 short of bits with no filter, `lame
--lowpass -1` at 96 kbps, reads 15.6 to 16 kHz and has holes to fill there (4.398 to 4.431 at
96 kbps on validation, 128 kbps unchanged; docs/full-band.md, "Holes under a cut of 15.6 to
16 kHz")."""
FLOOR = np.float32(1e-12)
"""Power added before a log: an empty band reads 120 dB under a power of 1."""
FEATURE_DB = 60.0
"""Level differences the net is shown are cut at this many dB either way."""


def mended_band(lowpass_hz: float) -> tuple[float, float] | None:
    """The band whose holes are filled under a low-pass at ``lowpass_hz``, in Hz: its octave
    under it; None from `TOP_HZ` up."""
    return (lowpass_hz / 2, lowpass_hz) if lowpass_hz < TOP_HZ else None


def hole_frames(sample_rate: int, hop_length: int) -> int:
    """Frames (odd) of about `SECONDS` at this rate and hop."""
    return 2 * round(SECONDS * sample_rate / hop_length / 2) + 1


@dataclass(frozen=True)
class HoleGeometry:
    """The STFT and bands a hole net is fitted at, kept in its graph's metadata: it serves only
    a model that fills its holes at the same (`HoleNet.check`)."""

    sample_rate: int
    fft_length: int
    hop_length: int
    band_bins: int

    @classmethod
    def of(cls, sample_rate: int, stft: StftConfig, band_bins: int) -> HoleGeometry:
        """A model's: its rate, its STFT's FFT and hop, and its noise's band."""
        return cls(int(sample_rate), int(stft.fft_length), int(stft.hop_length), int(band_bins))

    def stft(self) -> StftConfig:
        """The STFT (a Hann window of the FFT's length) the net's cells are measured at."""
        return StftConfig(self.fft_length, self.hop_length, self.fft_length)

    def __str__(self) -> str:
        return (
            f"{self.sample_rate} Hz, FFT {self.fft_length}, hop {self.hop_length}, "
            f"{self.band_bins}-bin bands"
        )


@dataclass(frozen=True)
class HoleNet:
    """A fitted perceptron from `hole_features` to a band's level in the reference over the
    anchor, in tens of dB: a small ONNX graph (its features first, ``[11, cells]``), run on one
    thread (the enhancer runs segments side by side; a BLAS call spreading over every core
    there cost more than the net itself), with the STFT it was fitted at."""

    session: Any
    geometry: HoleGeometry

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """The predicted level over the anchor, in dB, of each cell of ``[features, ...]``
        (features first: each is one contiguous plane, as `hole_features` makes them)."""
        cells = features.reshape(len(features), -1)
        (out,) = self.session.run(None, {"features": cells})
        return (out[0] * np.float32(10.0)).reshape(features.shape[1:])

    @staticmethod
    def write(
        path: str | Path, layers: list[tuple[np.ndarray, np.ndarray]], geometry: HoleGeometry
    ) -> None:
        """Write the perceptron of ``layers`` (``(weight [out, in], bias [out])``, a ReLU
        between them) as the graph `load` reads, with the ``geometry`` it was fitted at. Needs the
        ``onnx`` package (the ``train`` extra)."""
        from onnx import TensorProto, helper, numpy_helper, save_model

        weights, nodes, x = [], [], "features"
        for i, (weight, bias) in enumerate(layers):
            weights.append(numpy_helper.from_array(weight.astype(np.float32), f"w{i}"))
            weights.append(numpy_helper.from_array(bias.astype(np.float32)[:, None], f"b{i}"))
            nodes.append(helper.make_node("MatMul", [f"w{i}", x], [f"m{i}"]))
            nodes.append(helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"]))
            x = f"a{i}"
            if i < len(layers) - 1:
                nodes.append(helper.make_node("Relu", [x], [f"r{i}"]))
                x = f"r{i}"
        inputs = [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, "cells"])]
        outputs = [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, "cells"])]
        graph = helper.make_graph(nodes, "holes", inputs, outputs, weights)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8  # what onnxruntime 1.17, the oldest we take, reads
        names = [field.name for field in fields(HoleGeometry)]
        helper.set_model_props(model, dict(zip(names, map(str, astuple(geometry)), strict=True)))
        save_model(model, str(path))

    @classmethod
    def load(cls, path: str | Path) -> HoleNet:
        """The net `write` wrote to ``path``, on one thread; a file that is missing or is no
        such net is an error naming it."""
        import onnxruntime as ort

        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: hole net missing")
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            meta = session.get_modelmeta().custom_metadata_map
            geometry = HoleGeometry(*(int(meta[field.name]) for field in fields(HoleGeometry)))
            return cls(session, geometry)
        except Exception as error:  # ONNX Runtime raises its own kinds; a missing geometry key
            reason = next((line for line in str(error).splitlines() if line.strip()), "")
            raise ValueError(f"{path}: not a hole net ({reason[:300]})") from error

    def check(self, model: HoleGeometry) -> None:
        """Raise ValueError unless a model of this STFT and band (``model``) can use the net."""
        if self.geometry != model:
            raise ValueError(f"the hole net was fitted at {self.geometry}; this model is {model}")


def band_sums(power: np.ndarray, cutoff_bin: float, band_bins: int) -> tuple[np.ndarray, int, int]:
    """The power of each band of ``band_bins`` bins of a spectrum (``[channels, frames, bins]``,
    `dsp.stft.power`) with a low-pass at ``cutoff_bin``, from `SPREAD` bands under the octave
    under the low-pass to the last band wholly under it: ``[channels, frames, bands]``; the
    index of the octave's first band and of the first band given."""
    last = int(cutoff_bin) // band_bins
    first = min(-(-int(cutoff_bin) // 2 // band_bins), last)
    low = max(first - SPREAD, 0)  # the first band a band of the octave is compared with
    bins = power[..., low * band_bins : last * band_bins]
    return bins.reshape(*bins.shape[:-1], last - low, band_bins).sum(-1), first, low


def _running_max(x: np.ndarray, size: int, axis: int) -> np.ndarray:
    """The loudest of ``size`` (odd) values centred on each along ``axis``, the edge values
    repeated beyond the ends: SciPy's ``maximum_filter1d(x, size, axis, mode="nearest")``,
    equal to the bit, by doubling spans (a few whole-array maxima). SciPy's walks each line on
    its own, and this array's lines are short: 3 times the time here, per segment."""
    half, length = size // 2, x.shape[axis]
    x = np.moveaxis(x, axis, -1)
    edges = (np.repeat(x[..., :1], half, -1), x, np.repeat(x[..., -1:], half, -1))
    loudest, span = np.concatenate(edges, -1), 1
    while 2 * span <= size:  # loudest[i]: the loudest of the span from i
        loudest = np.maximum(loudest[..., :-span], loudest[..., span:])
        span *= 2
    out = np.maximum(loudest[..., :length], loudest[..., size - span : size - span + length])
    return np.moveaxis(out, -1, axis)


def hole_features(
    sums: np.ndarray, offset: int, frames: int, cutoff_hz: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the net sees of each band of the octave (``sums[..., offset:]``, `band_sums`'
    powers): ``[11, channels, frames, bands]``; and each band's level and anchor in dB.

    In dB over the band's own level, cut at `FEATURE_DB` and scaled by 1/20: its loudest over
    ``frames`` frames, over 9 and over 3; the loudest of `SPREAD` bands either side and of one;
    the frame's loudest band of the octave, and that over ``frames``; the octave's mean in the
    frame; the other channel's level (0 but for two channels). Then where the band sits in the
    octave (0 to 1) and the low-pass in tens of kHz."""
    level = 10.0 * np.log10(sums + FLOOR)
    own = level[..., offset:]
    loudest = _running_max(level, frames, -2)[..., offset:]
    near = _running_max(level, 2 * SPREAD + 1, -1)[..., offset:]
    top = own.max(-1, keepdims=True)
    over = [
        loudest,
        near,
        _running_max(level, 9, -2)[..., offset:],
        _running_max(level, 3, -2)[..., offset:],
        _running_max(level, 3, -1)[..., offset:],
        top,
        _running_max(top, frames, -2),
        own.mean(-1, keepdims=True),
        own[::-1] if own.shape[0] == 2 else own,
    ]
    features = np.empty((len(over) + 2, *own.shape), np.float32)
    for i, value in enumerate(over):
        np.subtract(value, own, out=features[i])
    differences = features[: len(over)]
    np.clip(differences, -FEATURE_DB, FEATURE_DB, out=differences)
    differences *= np.float32(1 / 20)
    bands = own.shape[-1]
    features[-2] = (np.arange(bands, dtype=np.float32) + np.float32(0.5)) / np.float32(bands)
    features[-1] = np.float32(cutoff_hz / 10_000)
    return features, own, (loudest + near) / 2


def threshold_db(cutoff_hz: float) -> float:
    """How far above the MP3's level the net must put a band's for it to be a hole, under a
    low-pass at ``cutoff_hz``: `THRESHOLD_DB`, or `LOW_CUT_THRESHOLD_DB` under
    `dsp.band_level.LOW_CUT_HZ`."""
    return LOW_CUT_THRESHOLD_DB if cutoff_hz < LOW_CUT_HZ else THRESHOLD_DB


def hole_scale(
    power: np.ndarray, cutoff_bin: float, band_bins: int, frames: int, net: HoleNet
) -> tuple[np.ndarray, int]:
    """The noise that fills the holes of a spectrum whose power per bin is ``power``
    (``[channels, frames, bins]``, `dsp.stft.power`) with a low-pass at ``cutoff_bin``: each
    band's amplitude over noise of a power of 1 per bin (`dsp.noise.noise_frames`),
    ``[channels, frames, bands]``, 0 where a band is no hole, for the bands of ``band_bins``
    bins from the first in the octave under the low-pass to the last wholly under it; and the
    first's index. ``net``: the model's fitted net; ``frames``: the span of a band's own
    loudest (`hole_frames`)."""
    sums, first, low = band_sums(power, cutoff_bin, band_bins)
    if sums.shape[-1] == first - low:  # no band wholly in the octave: nothing to fill
        return np.zeros((*sums.shape[:-1], 0), np.float32), first
    cutoff_hz = cutoff_bin * net.geometry.sample_rate / net.geometry.fft_length
    features, level, anchor = hole_features(sums, first - low, frames, cutoff_hz)
    predicted = anchor + net(features)
    have = sums[..., first - low :]
    wanted = 10.0 ** ((predicted + np.float32(OVER_DB)) / 10.0)
    fill = np.where(predicted - level > threshold_db(cutoff_hz), wanted - have, 0.0)
    return np.sqrt(np.maximum(fill, 0.0, dtype=np.float32) / np.float32(band_bins)), first
