"""Export a checkpoint to ONNX at fp32, fp16 and int8, checked against PyTorch, with a model card.

int8 is ONNX Runtime's dynamic quantization (section 3.4): the weights of the matrix products
(the pointwise layers, nearly all of the weights) are stored as int8 and activations are quantized
on the fly; in the waveform baselines the convolutions (and TFiLM's LSTMs) are quantized the same
way. fp16 stores weights and computes in half precision, with float32 inputs and outputs.
Each file is loaded into an ONNX Runtime CPU session and compared with PyTorch on a real-looking
input before the card is written; a model that disagrees beyond its tolerance is an error.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from ..atomic import atomic_path, output_folder, refuse_to_replace
from ..dataset.recipe import recipe_change
from ..dsp.holes import HoleGeometry, HoleNet
from ..dsp.model_inputs import told_inputs
from ..dsp.stft import StftConfig
from ..inference.backends import OnnxModel
from ..inference.card import CARD_NAME, ModelCard, block_rule, fingerprint
from ..models import BandScale, count_parameters, exported_graph
from ..models.checkpoint import load_model

__all__ = ["HOLE_NET_FILE", "TOLERANCES", "export", "metrics_from_evaluation", "pad_depthwise"]

# Largest error allowed against PyTorch, relative to the largest output magnitude.
TOLERANCES = {"fp32": 1e-4, "fp16": 1e-2, "int8": 5e-2}
FP16_SAFE = {"Conv", "LeakyRelu", "Relu"}
HOLE_NET_FILE = "holes.onnx"
"""The hole net's name in a model's folder (`export`'s ``hole_net``)."""


NCHWC_BLOCK = 16
"""Channels in ONNX Runtime's blocked layout on the CPU (16 with AVX-512, 8 with AVX2): only a
grouped convolution whose channels are a multiple of its block runs in it (`pad_depthwise`)."""


# A graph's inputs by kind, each with its time axis (None: no batch or time axis)
WAVEFORM_INPUTS = {"waveform": 1}
SPECTRUM_INPUTS = {"spectrum": 2, "copy": 2, "above": None, "prior": 1}
NOISE_INPUTS = {"power": 1, "copy_power": 1, "above": None, "prior": 1}  # `BandScale`'s


def _export_onnx(model: torch.nn.Module, example: tuple[np.ndarray, ...], path: Path) -> None:
    """fp32 ONNX with dynamic batch and time axes (``spectrum`` frames or ``waveform`` samples),
    and the copied band and ``above`` (``[bins]``) of a model that takes the low-pass; its output
    is the same shape. A noise-filling model's graph (`BandScale`) takes the spectrum's
    ``power`` per bin, the copy's per band (``copy_power``) and ``above``, and returns its
    ``scale`` (``[batch, frames, bands]``). A model with the tilt prior takes it last
    (``prior``, :func:`spectral_enhance.dsp.tilt.band_prior`)."""
    if isinstance(model, BandScale):
        inputs, output = NOISE_INPUTS, "scale"
    else:
        inputs = SPECTRUM_INPUTS if example[0].ndim == 4 else WAVEFORM_INPUTS
        output = "enhanced"
    names = list(inputs)[: len(example)]
    dynamic = {key: {0: "batch", inputs[key]: "time"} for key in names if inputs[key]}
    for key in ("power", "prior"):  # one for a file's linked channels: a batch of its own
        if key in dynamic:
            dynamic[key] = {0: f"{key}_batch", 1: "time"}
    dynamic[output] = dynamic[names[0]] if output == "enhanced" else {0: "batch", 1: "time"}
    torch.onnx.export(
        model,
        tuple(torch.from_numpy(a) for a in example),
        path,
        input_names=names,
        output_names=[output],
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )


def _to_fp16(source: Path, target: Path) -> None:
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    model = onnx.load(source)
    blocked = list(DEFAULT_OP_BLOCK_LIST)
    if any(node.op_type == "LSTM" for node in model.graph.node):
        # ONNX Runtime 1.32's CPU kernels crash on TFiLM's graph in half precision (the LSTMs
        # and the ops around them); only its convolutions are converted.
        blocked += sorted({node.op_type for node in model.graph.node} - FP16_SAFE)
    onnx.save(convert_float_to_float16(model, keep_io_types=True, op_block_list=blocked), target)


def _to_int8(source: Path, target: Path, op_types: list[str]) -> None:
    """``source`` dynamically quantized into ``target``, its weights on 7 bits
    (``reduce_range``): on a CPU without VNNI (AVX2 only: AMD Zen 2 and 3, Intel before Ice
    Lake) ONNX Runtime's u8s8 products saturate on 8-bit weights, and a tiny model of five
    blocks then missed the int8 tolerance (8e-2 of the peak on an AMD EPYC; 7-bit: within it)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # its advice to pre-process applies to static quantization
    try:
        quantize_dynamic(
            source,
            target,
            op_types_to_quantize=op_types,
            weight_type=QuantType.QInt8,
            reduce_range=True,
        )
    finally:
        logging.disable(logging.NOTSET)


WAVEFORM_FORMS = {
    "audiounet": "Audio-SR-Net (Kuleshov et al., 2017): a waveform U-Net predicting a correction",
    "tfilm": "TFiLM (Birnbaum et al., 2019): the waveform U-Net with temporal FiLM layers",
    "wavenet": "WaveNet (non-causal, Rethage et al., 2018) predicting a waveform correction",
}


def describe(arch: str, config: dict[str, Any]) -> str:
    """One sentence on what the model computes, for the card."""
    if arch == "band":
        if config.get("fill") == "noise":
            sets = "predicts the band's level (SBR's envelope), laid over noise,"
        elif config.get("envelope"):
            sets = "predicts the band's level (the copy divided by its own, as SBR's envelope)"
        else:
            sets = "sets a gain on the copy"
        under = (
            "passes unchanged but for the codec's holes in the octave there, found and levelled "
            "by a small net (dsp.holes) and filled with the same noise"
            if config.get("holes")
            else "passes unchanged"
        )
        return (
            "full band (issue 12): the band under the input's low-pass is copied up and the "
            f"paper's separable block (N = {config.get('n_blocks', 1)}) {sets} per "
            f"{config.get('band_bins', 8)}-bin band and frame; below the low-pass the input "
            f"{under}"
        )
    if arch != "spectral":
        return WAVEFORM_FORMS.get(arch, arch)
    n = config.get("n_blocks", 1)
    if not config.get("residual", True):
        return f"plain (the paper's form): N = {n} blocks map the input STFT to the output STFT"
    gain = "a learned gain per bin times the input" if config.get("input_gain") else "the input"
    start = config.get("correction_from_bin", 0)
    band = f"above bin {start}" if start else "over the whole band"
    return (
        f"residual (our default, better than the plain form on validation): output = {gain} "
        f"+ the correction of N = {n} blocks, {band}"
    )


def parity_input(frames: int = 128, bins: int = 512, seed: int = 0) -> np.ndarray:
    """A music-like test spectrum ``[1, 2, frames, bins]``: energy falling with frequency."""
    rng = np.random.default_rng(seed)
    envelope = 30.0 / (1.0 + np.arange(bins) / 8.0)
    return (rng.standard_normal((1, 2, frames, bins)) * envelope).astype(np.float32)


def parity_waveform(samples: int = 16_384, seed: int = 0) -> np.ndarray:
    """A music-like test waveform ``[1, samples]``: noise whose energy falls with frequency."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    spectrum /= 1.0 + np.arange(len(spectrum)) / 64.0
    wave = np.fft.irfft(spectrum, samples)
    return (0.3 * wave / np.abs(wave).max())[None].astype(np.float32)


def pad_depthwise(model: onnx.ModelProto, multiple: int = NCHWC_BLOCK) -> int:
    """Widen each depthwise convolution of ``model`` whose channels are not a multiple of
    ``multiple``: zero channels padded onto its input, weights and bias, and sliced off its
    output. It computes the same, and ONNX Runtime runs it in its blocked layout: the full-band
    model's, over 129 bands, 3.6 times as fast (docs/speed.md). Returns how many were widened."""
    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    nodes: list[onnx.NodeProto] = []
    padded: dict[tuple[str, int], str] = {}  # one pad for the convolutions of one input
    widened = 0
    for node in graph.node:
        channels = _depthwise_channels(node, initializers)
        wide = -(-channels // multiple) * multiple
        if wide == channels:  # 0 too: not a depthwise convolution
            nodes.append(node)
            continue
        nodes += _widened(graph, node, initializers, channels, wide, padded)
        widened += 1
    if widened:
        del graph.node[:]
        graph.node.extend(nodes)
    return widened


def _depthwise_channels(node: onnx.NodeProto, initializers: dict[str, Any]) -> int:
    """The channels of ``node`` if it is a depthwise convolution of constant weights, else 0."""
    if node.op_type != "Conv" or node.input[1] not in initializers:
        return 0
    group = next((a.i for a in node.attribute if a.name == "group"), 1)
    dims = initializers[node.input[1]].dims  # [out channels, in channels per group, kernel...]
    return group if group > 1 and dims[0] == group and dims[1] == 1 else 0


def _widened(
    graph: onnx.GraphProto,
    node: onnx.NodeProto,
    initializers: dict[str, Any],
    channels: int,
    wide: int,
    padded: dict[tuple[str, int], str],
) -> list[onnx.NodeProto]:
    """`pad_depthwise`'s nodes for one convolution of ``channels`` made ``wide``: a pad of its
    input (unless ``padded`` has one), the convolution, a slice of its output."""
    from onnx import helper, numpy_helper

    extra, prefix = wide - channels, node.name or node.output[0]

    def constant(name: str, values: list[int]) -> str:
        graph.initializer.append(numpy_helper.from_array(np.array(values, np.int64), name))
        return name

    for name in filter(None, node.input[1:3]):  # the weights, and the bias if it has one
        values = numpy_helper.to_array(initializers[name])
        values = np.concatenate([values, np.zeros((extra, *values.shape[1:]), values.dtype)])
        initializers[name].CopyFrom(numpy_helper.from_array(values, name))
    out = []
    source, rank = node.input[0], len(initializers[node.input[1]].dims)
    if (source, wide) not in padded:
        pads = [0] * (2 * rank)
        pads[rank + 1] = extra  # the end of the channel axis
        padded[source, wide] = f"{source}/{wide}_channels"
        pad_inputs = [source, constant(f"{prefix}/pads", pads)]
        out.append(helper.make_node("Pad", pad_inputs, [padded[source, wide]], f"{prefix}/pad"))
    result = node.output[0]
    node.input[0], node.output[0] = padded[source, wide], f"{result}/{wide}_channels"
    next(a for a in node.attribute if a.name == "group").i = wide
    kept = [  # the first ``channels`` of the channel axis
        constant(f"{prefix}/{name}", values)
        for name, values in (("starts", [0]), ("ends", [channels]), ("axes", [1]))
    ]
    out += [node, helper.make_node("Slice", [node.output[0], *kept], [result], f"{prefix}/slice")]
    return out


def _write_onnx(
    model: torch.nn.Module, example: tuple[np.ndarray, ...], paths: dict[str, Path], spectral: bool
) -> None:
    """The fp32 ONNX file at ``paths["fp32"]``, checked, and from it those of fp16 and int8."""
    with warnings.catch_warnings():
        # We use the TorchScript exporter (deprecated for torch.export), the one whose output is
        # checked here against ONNX Runtime and its quantizer; its notice is silenced here only.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        # Tracing TFiLM's LSTMs: shape checks become constants (the export is checked below on
        # another length), and the batch-size advice is met (the states are made inside).
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*with a variable length with LSTM.*")
        _export_onnx(model, example, paths["fp32"])
    graph = onnx.load(paths["fp32"])
    if pad_depthwise(graph):
        onnx.save(graph, paths["fp32"])
    onnx.checker.check_model(graph)
    if "fp16" in paths:
        _to_fp16(paths["fp32"], paths["fp16"])
    if "int8" in paths:
        quantized = ["MatMul"] if spectral else ["MatMul", "Conv", "LSTM"]
        _to_int8(paths["fp32"], paths["int8"], quantized)


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # only an empty folder can be removed so
        folder.rmdir()


def export(
    checkpoint: str | os.PathLike,
    out_dir: str | os.PathLike,
    name: str | None = None,
    extra_card: dict[str, Any] | None = None,
    precisions: Sequence[str] = tuple(TOLERANCES),
    model_options: dict[str, Any] | None = None,
    hole_net: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write ``model.{fp32,fp16,int8}.onnx`` and ``card.json`` into ``out_dir``; return the card.
    A folder's earlier model is replaced only with ``overwrite``.

    ``precisions`` picks which of the three files to keep (a bundled model may ship int8 only).
    ``model_options`` override fields of the model's config that change no weights (such as
    ``correction_from_bin``); one that changes a weight's shape fails to load. ``hole_net``: the
    net that finds the codec's holes (`dsp.holes`, fitted at the model's STFT by
    ``spectral-enhance train-holes``), copied into the folder as `HOLE_NET_FILE`; it sets ``holes``,
    which needs it.
    """
    unknown = sorted(set(precisions) - set(TOLERANCES))
    if unknown or not precisions:
        raise ValueError(f"precisions must be some of {', '.join(TOLERANCES)}, not {unknown}")
    model_options = dict(model_options or {})
    if hole_net is not None and model_options.setdefault("holes", True) is not True:
        raise ValueError(f"{checkpoint}: a hole net is given with holes={model_options['holes']}")
    model, state = load_model(checkpoint, model_options)
    tested = (extra_card or {}).get("test_metrics")
    if tested and (change := recipe_change(state["recipe"], tested["recipe"])):
        raise ValueError(
            f"{tested['dataset']}: its {tested['split']} clips were not made by the recipe "
            f"{checkpoint} was trained on ({change}): not its test metrics"
        )
    net = None
    if model.holes_frames:  # the enhancer fills its holes with the net shipped beside it
        if hole_net is None:
            raise ValueError(
                f"{checkpoint}: holes=true needs its hole net (--hole-net FILE; "
                "spectral-enhance train-holes fits one)"
            )
        net, config = HoleNet.load(hole_net), model.config
        try:
            net.check(HoleGeometry.of(config.sample_rate, config.stft(), config.band_bins))
        except ValueError as error:
            raise ValueError(f"{checkpoint}: holes=true: {error}") from None
    out_dir = Path(out_dir)
    made = {precision: f"model.{precision}.onnx" for precision in TOLERANCES}
    files = {precision: made[precision] for precision in TOLERANCES if precision in precisions}
    # Any model's file in the folder is an export's: replaced only with ``overwrite``, and those
    # this export does not make are removed once it has passed, not left beside its card.
    anyone = [*made.values(), CARD_NAME, HOLE_NET_FILE]
    refuse_to_replace((out_dir / name for name in anyone), overwrite)
    stale = [name for name in anyone if name not in files.values() and name != CARD_NAME]
    stale = [name for name in stale if not (name == HOLE_NET_FILE and net is not None)]
    output_folder(out_dir, create=False)  # made with its first file
    new_folder = not out_dir.exists()
    spectral = model.domain == "spectrum"
    # The check runs on another length than the export's example: the time axis must be dynamic.
    if spectral:
        bins = model.stft.bins
        example = (parity_input(bins=bins),)
        check = (parity_input(frames=100, bins=bins, seed=1),)
        if model.takes_lowpass:  # and another low-pass, with a batch of two
            example = told_inputs(example[0], 0.3 * bins, model)
            check = np.concatenate([check[0], check[0][:, :, ::-1]])
            check = told_inputs(check, 0.6 * bins, model)
    else:
        example, check = (parity_waveform(),), (parity_waveform(12_345, seed=1),)
    # Every file is made under a temporary name and renamed only once all have passed the check,
    # so a failed export leaves a folder's earlier model as it was.
    with contextlib.ExitStack() as stack:
        if new_folder:  # a failed or stopped export leaves no empty folder it made
            stack.callback(_remove_if_empty, out_dir)
        temps = {p: stack.enter_context(atomic_path(out_dir / made[p])) for p in files}
        if "fp32" not in temps:  # the source of the others, not kept
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            temps["fp32"] = scratch / made["fp32"]
        if net is not None:
            shutil.copyfile(hole_net, stack.enter_context(atomic_path(out_dir / HOLE_NET_FILE)))
        graph = exported_graph(model)
        _write_onnx(graph, example, temps, spectral)
        with torch.no_grad():
            expected = graph(*(torch.from_numpy(np.ascontiguousarray(a)) for a in check)).numpy()
        peak = float(np.abs(expected).max())
        parity, sizes = {}, {}
        for precision in files:
            got = OnnxModel(temps[precision])(*check)
            error = float(np.abs(got - expected).max()) / peak
            if not error <= TOLERANCES[precision]:
                raise ValueError(
                    f"{out_dir / files[precision]}: differs from PyTorch by {error:.2e} of the "
                    f"peak (allowed {TOLERANCES[precision]:.0e})"
                )
            parity[precision] = error
            sizes[precision] = temps[precision].stat().st_size
        if tested:
            _check_tested(tested, checkpoint, model, temps, hole_net, not model_options)

    parameters = count_parameters(model)
    extra = {"model_options_at_export": dict(model_options)} if model_options else {}
    card = ModelCard(
        name=name or Path(checkpoint).parent.name,
        arch=state["arch"],
        sample_rate=int(state["recipe"]["sample_rate"]),
        stft=StftConfig(**state["stft"]),
        rule=block_rule(model),
        files=files,
        form=describe(state["arch"], state["model_config"]),
        model_config=state["model_config"],
        recipe=state["recipe"],
        bytes=sizes,
        parameters=parameters,
        parameters_per_block=getattr(model, "parameters_per_block", dict)(),
        float32_bytes=4 * parameters,
        parity_error=parity,
        validation_metrics={
            key: value
            for key, value in state.get("metrics", {}).items()
            if key not in ("per_clip", "bitrates")
        },
        training={
            key: value
            for key, value in state.get("training", {}).items()
            if key in ("config", "epoch", "step")
        },
        hole_net=HOLE_NET_FILE if net is not None else "",
        extra=extra | (extra_card or {}),
    )
    card.write(out_dir)
    for name in stale:
        (out_dir / name).unlink(missing_ok=True)
    return card.to_dict()


def _check_tested(
    tested: dict[str, Any],
    checkpoint: str | os.PathLike,
    model: torch.nn.Module,
    files: dict[str, Path],
    hole_net: str | os.PathLike | None,
    as_trained: bool,
) -> None:
    """Refuse test metrics scored on another model than this export: one of the files it
    writes (with its rule and hole net), or the checkpoint itself if exported as trained."""
    rule, net = block_rule(model), Path(hole_net) if hole_net is not None else None
    ours = {fingerprint(file, rule, net) for file in files.values()}
    if as_trained:
        ours.add(fingerprint(checkpoint, rule))
    if tested["fingerprint"] not in ours:
        raise ValueError(
            f"{tested['evaluation']}: its {tested['system']} is another model than this export "
            f"of {checkpoint} (another file, export options or hole net): not its test metrics"
        )


def metrics_from_evaluation(folder: str | os.PathLike, system: str) -> dict[str, Any]:
    """The card's ``test_metrics``: ``system``'s scores (and the input's) in an evaluation folder.

    ``folder`` is an ``evaluate`` output; its ``mp3`` system, where scored, is the input's bar,
    ``recipe`` the recipe of the dataset it scored, which `export` holds to the model's, and
    ``fingerprint`` the model file it scored, which `export` holds to the one it writes.
    """
    from ..evaluation.evaluate import read_results, scored_model, scored_recipe

    results = read_results(folder)
    recipe = scored_recipe(folder)
    systems = results["systems"]
    if system not in systems:
        known = ", ".join(systems) or "none"
        raise ValueError(f"{folder}: no system {system!r} in its results (has {known})")
    model = scored_model(folder, system)
    if model is None:
        raise ValueError(
            f"{folder}: {system} was scored as no model file (a rule such as mp3 or dsp, or "
            "before evaluate recorded models): not a model's test metrics"
        )
    return {
        "evaluation": str(folder),
        "fingerprint": model,
        "system": system,
        "dataset": results["dataset"],
        "split": results["split"],
        "machine": results["machine"],
        "input": systems.get("mp3", {}).get("metrics"),
        "model": systems[system]["metrics"],
        "model_ms": systems[system]["model_ms"],
        "recipe": recipe,
    }
