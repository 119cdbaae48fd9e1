import json

import numpy as np
import pytest
import torch

from conftest import music
from spectral_enhance.cli import main
from spectral_enhance.inference.enhancer import Enhancer
from spectral_enhance.training.export import export
from tiny import tiny_checkpoint, tiny_waveform_checkpoint


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    paths = {
        "random": tiny_checkpoint(root / "random.pt"),
        "identity": tiny_checkpoint(root / "identity.pt", identity=True),
        "u5": tiny_checkpoint(root / "u5.pt", n_blocks=5),
    }
    for name in ("random", "identity"):
        export(paths[name], root / f"{name}-onnx")
        paths[f"{name}-onnx"] = root / f"{name}-onnx"
    return paths


@pytest.fixture(scope="module")
def baselines(tmp_path_factory):
    """Tiny untrained waveform baselines: each as a checkpoint and as an export folder."""
    root = tmp_path_factory.mktemp("baselines")
    paths = {}
    for arch in ("audiounet", "tfilm", "wavenet"):
        paths[arch] = tiny_waveform_checkpoint(root / f"{arch}.pt", arch)
        export(paths[arch], root / f"{arch}-onnx")
        paths[f"{arch}-onnx"] = root / f"{arch}-onnx"
    return paths


def assert_segments_leave_no_trace(model, x, whole: dict, short: dict, atol: float) -> None:
    """Enhancing ``x`` in short segments gives what one segment over all of it gives."""
    whole_out = Enhancer.load(model, backend="torch", **whole).process(x)
    pieces = Enhancer.load(model, backend="torch", **short).process(x)
    assert whole_out.shape == pieces.shape == x.shape
    assert np.abs(whole_out - x).max() > 1e-3  # the model does change the signal
    np.testing.assert_allclose(pieces, whole_out, atol=atol)


@pytest.mark.parametrize("arch", ["audiounet", "wavenet"])
def test_waveform_segments_leave_no_trace(baselines, arch):
    """Segments on the model's grid with a receptive-field margin equal one pass (exactly)."""
    x = music(3.0, 22050, channels=2)
    sizes = {"segment_samples": 70_000}, {"segment_samples": 3000}
    assert_segments_leave_no_trace(baselines[arch], x, *sizes, atol=1e-5)


@pytest.mark.parametrize("arch", ["audiounet", "wavenet"])
def test_waveform_single_pass_matches_the_model_away_from_the_edges(baselines, arch):
    from spectral_enhance.models.checkpoint import load_model

    x = music(2.0, 22050)
    model, _ = load_model(baselines[arch])
    with torch.no_grad():
        direct = model(torch.from_numpy(x)[None])[0].numpy()
    enhancer = Enhancer.load(baselines[arch], backend="torch", segment_samples=4096)
    got = enhancer.process(x[:, None])[:, 0]
    # Within the receptive field of the ends, the segments see silence where one pass sees the
    # layers' zero padding; everywhere else the two agree.
    edge = model.receptive_field
    np.testing.assert_allclose(got[edge:-edge], direct[edge:-edge], atol=1e-5)


@pytest.mark.parametrize("arch", ["audiounet", "tfilm", "wavenet"])
@pytest.mark.parametrize("length", [1, 1023, 70_001])
def test_waveform_baselines_keep_any_length(baselines, arch, length):
    x = music(length / 22050 + 0.1, 22050, channels=2)[:length]
    y = Enhancer.load(baselines[f"{arch}-onnx"], precision="fp32").process(x)
    assert y.shape == x.shape and np.isfinite(y).all()


@pytest.mark.parametrize("arch", ["audiounet", "tfilm", "wavenet"])
@pytest.mark.parametrize(("precision", "tolerance"), [("fp32", 1e-4), ("int8", 5e-2)])
def test_waveform_onnx_agrees_with_torch(baselines, arch, precision, tolerance):
    x = music(2.0, 22050)[:, None]
    reference = Enhancer.load(baselines[arch], backend="torch").process(x)
    got = Enhancer.load(baselines[f"{arch}-onnx"], precision=precision).process(x)
    assert np.abs(got - reference).max() <= tolerance * np.abs(reference).max()


def test_waveform_card_records_the_block_rule(baselines):
    import json

    from spectral_enhance.models.checkpoint import load_model

    card = json.loads((baselines["wavenet-onnx"] / "card.json").read_text())
    model, _ = load_model(baselines["wavenet"])
    assert card["domain"] == "waveform" and card["context_samples"] == model.receptive_field
    unet = json.loads((baselines["audiounet-onnx"] / "card.json").read_text())
    assert unet["length_multiple"] == 8  # depth 2: 2 ** (depth + 1)
    assert "U-Net" in unet["form"]


@pytest.mark.parametrize("name", ["random", "u5"])
def test_segments_leave_no_trace(models, name):
    """Enhancing in short segments gives what one pass over the whole signal gives."""
    x = music(4.0, 22050, channels=2)
    sizes = {"segment_frames": 1000}, {"segment_frames": 24}
    assert_segments_leave_no_trace(models[name], x, *sizes, atol=2e-5)


def test_single_pass_matches_the_model_on_the_whole_spectrum(models):
    from spectral_enhance.dsp.stft import istft, stft
    from spectral_enhance.models.checkpoint import load_model

    x = music(2.0, 22050)
    model, _ = load_model(models["random"])
    with torch.no_grad():
        direct = istft(model(torch.from_numpy(stft(x))[None])[0].numpy(), len(x))
    got = Enhancer.load(models["random"], backend="torch", segment_frames=16).process(x[:, None])
    # At the very edges the model's per-layer zero padding sees the signal's surroundings
    # differently (silence is analysed as frames there); everywhere else they agree exactly.
    edge = 2 * 1023 + 4 * 248
    np.testing.assert_allclose(got[edge:-edge, 0], direct[edge:-edge], atol=2e-5)


@pytest.mark.parametrize("length", [1023, 5000, 22050 * 3 + 17])
def test_identity_model_returns_the_input_exactly(models, length):
    """An untrained residual model is the identity: proves alignment and exact length."""
    x = music(length / 22050 + 0.1, 22050)[:length]
    enhancer = Enhancer.load(models["identity-onnx"], precision="fp32", segment_frames=8)
    y, rate = enhancer.enhance(x, 22050, output_rate=22050)
    assert rate == 22050 and y.shape == x.shape
    np.testing.assert_allclose(y, x, atol=1e-5)


def test_other_rates_keep_duration_and_alignment(models):
    x = music(2.0, 44100, channels=2)
    enhancer = Enhancer.load(models["identity-onnx"], precision="fp32")
    y, rate = enhancer.enhance(x, 44100, output_rate=22050)
    assert rate == 22050 and y.shape == (44100, 2)
    back, rate = enhancer.enhance(x, 44100)  # the default: 44.1 kHz, or the input's above it
    assert rate == 44100 and back.shape == x.shape
    # The model's change is added to the input at the output rate: an identity model's is
    # nothing, so the input comes back whole, its band above the model's 11 kHz included.
    np.testing.assert_allclose(back, x, atol=1e-5)
    assert enhancer.enhance(x[:, :1], 48000)[1] == 48000
    assert enhancer.enhance(x[:, :1], 16000)[1] == 44100


@pytest.mark.parametrize(
    ("precision", "tolerance"), [("fp32", 1e-4), ("fp16", 1e-2), ("int8", 5e-2)]
)
def test_onnx_agrees_with_torch(models, precision, tolerance):
    x = music(2.0, 22050)[:, None]
    reference = Enhancer.load(models["random"], backend="torch").process(x)
    got = Enhancer.load(models["random-onnx"], precision=precision).process(x)
    assert np.abs(got - reference).max() <= tolerance * np.abs(reference).max()


def test_export_writes_card_and_smaller_int8(models):
    import json

    card = json.loads((models["random-onnx"] / "card.json").read_text())
    assert card["context_frames"] == 4 and card["sample_rate"] == 22050
    # Only the matrix products are int8; in this tiny model the depthwise kernels still weigh.
    assert card["bytes"]["int8"] < card["bytes"]["fp32"]
    assert card["bytes"]["fp16"] < 0.6 * card["bytes"]["fp32"]
    assert all(error < 0.05 for error in card["parity_error"].values())


def _depthwise(path) -> list[int]:
    """The channels of each depthwise convolution of the ONNX file at ``path``."""
    import onnx

    from spectral_enhance.training.export import _depthwise_channels

    graph = onnx.load(str(path)).graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    return [c for node in graph.node if (c := _depthwise_channels(node, initializers))]


def test_a_depthwise_convolution_is_widened_to_onnx_runtimes_block_computing_the_same():
    """ONNX Runtime runs a grouped convolution in its blocked layout only when its channels are
    a multiple of its block (16): 129 bands ran 3.6 times slower. Widened with zero channels
    (one pad for two convolutions of one input) and sliced back, each gives what it gave; a
    grouped convolution that is not depthwise is left alone."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from spectral_enhance.training.export import NCHWC_BLOCK, pad_depthwise

    rng = np.random.default_rng(0)

    def weights(name, *shape):
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    conv = {"kernel_shape": [5, 5], "pads": [2, 2, 2, 2]}
    nodes = [
        helper.make_node("Conv", ["x", "wa", "ba"], ["a"], "with_bias", group=129, **conv),
        helper.make_node("Conv", ["x", "wb"], ["b"], "without", group=129, **conv),
        helper.make_node("Conv", ["z", "wc"], ["c"], "grouped", group=2, kernel_shape=[3, 3]),
    ]
    inputs = [("x", [1, 129, 3, 40]), ("z", [1, 4, 5, 40])]
    outputs = [("a", [1, 129, 3, 40]), ("b", [1, 129, 3, 40]), ("c", [1, 4, 3, 38])]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n, shape in outputs],
        [
            weights("wa", 129, 1, 5, 5),
            weights("ba", 129),
            weights("wb", 129, 1, 5, 5),
            weights("wc", 4, 2, 3, 3),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    feeds = {n: rng.standard_normal(shape).astype(np.float32) for n, shape in inputs}

    def run(m):
        session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        return session.run(None, feeds)

    before = run(model)
    assert pad_depthwise(model) == 2
    onnx.checker.check_model(model)
    convolutions = [node for node in model.graph.node if node.op_type == "Conv"]
    groups = {n.name: next(a.i for a in n.attribute if a.name == "group") for n in convolutions}
    assert groups == {"with_bias": 144, "without": 144, "grouped": 2} and NCHWC_BLOCK == 16
    assert [n.op_type for n in model.graph.node].count("Pad") == 1
    for old, new in zip(before, run(model), strict=True):
        assert new.shape == old.shape
        np.testing.assert_allclose(new, old, rtol=1e-5, atol=1e-5)


def test_the_full_band_models_depthwise_convolutions_fill_onnx_runtimes_blocks(band_model):
    """The bundled model's, and an export's of a band model (129 bands, 8 latent channels)."""
    from spectral_enhance.inference.bundled import PRETRAINED
    from spectral_enhance.training.export import NCHWC_BLOCK

    for path in (PRETRAINED / "full-band" / "model.int8.onnx", f"{band_model}/model.int8.onnx"):
        channels = _depthwise(path)
        assert channels and all(c % NCHWC_BLOCK == 0 for c in channels), (path, channels)


def test_export_can_keep_int8_only(models, tmp_path):
    card = export(models["random"], tmp_path / "m", precisions=("int8",))
    assert card["files"] == {"int8": "model.int8.onnx"}
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["card.json", "model.int8.onnx"]
    assert Enhancer.load(tmp_path / "m").process(np.zeros((3000, 1), np.float32)).shape == (3000, 1)
    with pytest.raises(ValueError, match="no fp32 model"):
        Enhancer.load(tmp_path / "m", precision="fp32")


def test_a_bare_onnx_file_is_of_its_own_precision_and_another_is_refused(models, capsys):
    """``precision`` was ignored for an ``.onnx`` file: asked for int8 (the default) of the
    fp32 file, it ran fp32 without a word, and `evaluate` named the system ``…@int8``."""
    from spectral_enhance.evaluation.systems import load_system

    fp32 = models["random-onnx"] / "model.fp32.onnx"
    x = music(0.5, 22050)
    whole = Enhancer.load(models["random-onnx"], precision="fp32").enhance(x, 22050)[0]
    np.testing.assert_array_equal(Enhancer.load(fp32).enhance(x, 22050)[0], whole)
    with pytest.raises(ValueError, match=r"model\.fp32\.onnx: the fp32 model, not int8: leave"):
        Enhancer.load(fp32, precision="int8")
    assert main(["enhance", "in.wav", "--model", str(fp32), "--precision", "int8"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "the fp32 model, not int8" in line
    assert load_system(str(fp32)).name == f"{fp32}@fp32"


def test_an_evaluated_model_is_named_and_fingerprinted_by_the_file_it_runs(models):
    """`evaluate` takes the file, the precision and the card the enhancer loaded (it read the
    card a second time): an export folder is named for the precision chosen and fingerprinted
    as its card says; a checkpoint by its own bytes."""
    from spectral_enhance.evaluation.systems import load_system
    from spectral_enhance.inference.card import ModelCard, fingerprint

    folder = models["random-onnx"]
    card, _ = ModelCard.locate(folder, "fp32")
    for precision in ("fp32", "int8"):
        system = load_system(f"{folder}@{precision}")
        assert system.fingerprint == card.fingerprint(precision)
        assert system.size_bytes == card.file(precision).stat().st_size
    default = load_system(str(folder))
    assert default.name == f"{folder}@int8"  # the default, said
    assert default.fingerprint == card.fingerprint("int8")
    checkpoint = load_system(str(models["random"]))
    rule = Enhancer.load(models["random"], backend="torch").rule
    assert checkpoint.name == str(models["random"])
    assert checkpoint.fingerprint == fingerprint(models["random"], rule)
    assert card.fingerprint("fp32") != card.fingerprint("int8")


def test_cores_in_parallel_give_what_one_core_gives(models):
    """Segments and channels spread over a thread pool come back in place, unchanged."""
    x = music(6.0, 22050, channels=2)
    x[:, 1] *= -0.5  # channels must not be swapped or mixed
    one = Enhancer.load(models["random-onnx"], precision="fp32", threads=1, segment_frames=64)
    two = Enhancer.load(models["random-onnx"], precision="fp32", threads=2, segment_frames=64)
    assert one.pool is None and two.pool is not None
    expected, got = one.process(x), two.process(x)
    assert np.abs(expected - x).max() > 1e-3
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # Streamed in uneven chunks, as enhance_file feeds it.
    stream = two.stream()
    next(stream)
    parts = [stream.send(x[i : i + 7_777]) for i in range(0, len(x), 7_777)]
    parts.append(stream.send(None))
    np.testing.assert_allclose(np.concatenate(parts), expected, rtol=1e-5, atol=1e-5)
    # Segments run while more are read, but no more than one per core is left for the end.
    assert len(parts[-1]) <= (two.workers + 1) * two.segment < len(x) // 2


def test_export_option_guards_the_band_below_a_bin(models, tmp_path):
    """``correction_from_bin`` at export: below it the output is the input, above it is not."""
    from spectral_enhance.inference.backends import OnnxModel
    from spectral_enhance.training.export import parity_input

    card = export(
        models["random"],
        tmp_path / "g",
        precisions=("fp32",),
        model_options={"correction_from_bin": 100},
    )
    assert card["model_config"]["correction_from_bin"] == 100
    assert card["model_options_at_export"] == {"correction_from_bin": 100}
    x = parity_input(frames=40)
    guarded = OnnxModel(tmp_path / "g" / "model.fp32.onnx")(x)
    plain = OnnxModel(models["random-onnx"] / "model.fp32.onnx")(x)
    np.testing.assert_allclose(guarded[..., :100], x[..., :100], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(guarded[..., 100:], plain[..., 100:], rtol=1e-5, atol=1e-4)
    assert np.abs(plain[..., :100] - x[..., :100]).max() > 1e-2  # unguarded, the band changes


def test_export_refuses_options_that_change_weights(models, tmp_path):
    with pytest.raises(ValueError, match=r"random\.pt: the weights do not fit"):
        export(models["random"], tmp_path / "x", model_options={"latent": 16})
    with pytest.raises(ValueError, match="unknown SpectralConfig keys"):
        export(models["random"], tmp_path / "y", model_options={"no_such_field": 1})


def test_unknown_model_names_the_bundled_ones():
    with pytest.raises(FileNotFoundError, match="no such model") as raised:
        Enhancer.load("no-such-model")
    assert str(raised.value).endswith("(bundled models: full-band, spectral-n1, spectral-n5)")
    # evaluate's NAME@PRECISION given where the precision is an option of its own
    with pytest.raises(FileNotFoundError) as raised:
        Enhancer.load("full-band@fp32")
    assert str(raised.value) == (
        "full-band@fp32: no such model file or folder (its precision is an option here: "
        "--model full-band --precision fp32)"
    )


def test_public_api_with_the_bundled_model():
    from spectral_enhance import Enhancer as Public

    x = music(1.0, 44100, channels=2)
    y, rate = Public.load().enhance(x, 44100)
    assert rate == 44100 and y.shape == (44100, 2)


def test_help_on_the_package_shows_its_lazily_imported_enhancer():
    """``help(spectral_enhance)`` listed no class: `Enhancer` is imported on first use."""
    import pydoc

    import spectral_enhance

    assert "Enhancer" in dir(spectral_enhance)
    shown = pydoc.render_doc(spectral_enhance, renderer=pydoc.plaintext)
    assert "class Enhancer" in shown and "enhance(self, samples" in shown


def test_inference_path_imports_no_torch():
    """The default install has no PyTorch: enhancing must not need it."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from spectral_enhance import Enhancer\n"
        "import spectral_enhance.cli, spectral_enhance.inference.batch\n"
        "Enhancer.load().enhance(np.zeros(30000, np.float32) + 0.01, 22050)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def identity(models):
    return Enhancer.load(models["identity-onnx"], precision="fp32", threads=1)


@pytest.mark.parametrize(
    ("dtype", "offset", "full_scale"),
    [(np.int16, 0, 2**15), (np.int32, 0, 2**31), (np.uint8, 128, 128), (">i2", 0, 2**15)],
)
def test_integer_samples_are_scaled_to_full_scale_one(identity, dtype, offset, full_scale):
    x = music(0.5, 22050, channels=2)
    stored = np.round(x * (full_scale - 1) + offset).astype(dtype)
    y, _ = identity.enhance(stored, 22050, output_rate=22050)
    expected, _ = identity.enhance(
        (stored.astype(np.float64) - offset) / full_scale, 22050, output_rate=22050
    )
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, expected, atol=1e-6)
    np.testing.assert_allclose(y, x, atol=2e-2 if dtype == np.uint8 else 1e-4)  # identity model


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint16, np.complex64, bool, object])
def test_other_sample_types_are_refused_by_name(identity, dtype):
    with pytest.raises(ValueError, match=f"samples of type {np.dtype(dtype)} are not audio"):
        identity.enhance(np.zeros(1000, dtype=dtype), 22050)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_samples_are_refused(identity, bad):
    x = music(0.5, 22050, channels=2)
    x[700, 1] = bad
    with pytest.raises(
        ValueError, match="NaN, infinite or out-of-range values \\(the first at sample 700\\)"
    ):
        identity.enhance(x, 22050)


@pytest.mark.parametrize("shape", [(2, 44100), (8, 9), (1, 5000), (9, 2000), (10, 220500)])
def test_channels_first_arrays_are_refused_with_the_fix(identity, shape):
    with pytest.raises(ValueError, match=r"look like \[channels, samples\].*samples\.T"):
        identity.enhance(np.zeros(shape, np.float32), 22050)


def test_many_channels_or_short_signals_in_samples_first_order_pass(identity):
    rate = {"output_rate": 22050}
    assert identity.enhance(np.zeros((9, 10), np.float32), 22050, **rate)[0].shape == (9, 10)
    assert identity.enhance(np.zeros((5000, 2), np.float32), 22050, **rate)[0].shape == (5000, 2)
    for shape in ((0, 2), (1, 2), (0,)):  # no or one sample: given back, not taken for [ch, n]
        assert identity.enhance(np.zeros(shape, np.float32), 22050, **rate)[0].shape == shape
    with pytest.raises(ValueError, match=r"\[samples\] or \[samples, channels\]"):
        identity.enhance(np.zeros((10, 2, 2), np.float32), 22050)


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        ({"lowpass_hz": float("nan")}, "lowpass_hz must be a number of Hz from 0 on"),
        ({"lowpass_hz": [11000]}, "lowpass_hz must be a number of Hz from 0 on"),
        ({"strength": None}, "strength must be a number from 0 to 1, not None"),
        ({"strength": "0.5"}, "strength must be a number from 0 to 1, not '0.5'"),  # as rates
        ({"samples": np.zeros((100, 0), np.float32)}, r"shape \(100, 0\) have no channel"),
    ],
)
def test_bad_arguments_are_named_not_met_deep_inside(identity, call, problem):
    args = {"samples": np.zeros(4000, np.float32), "sample_rate": 22050} | call
    with pytest.raises(ValueError, match=problem):
        identity.enhance(**args)


def test_find_lowpass_reads_its_samples_as_enhance_does():
    from spectral_enhance.dsp.lowpass import find_lowpass

    with pytest.raises(ValueError, match=r"look like \[channels, samples\]"):
        find_lowpass(np.zeros((2, 44100), np.float32), 44100)
    with pytest.raises(ValueError, match="rate must be from 1,000 to 768,000 Hz, not 0"):
        find_lowpass(np.zeros(44100, np.float32), 0)
    with pytest.raises(ValueError, match="threads must be a whole number"):
        Enhancer.load(threads="2")


@pytest.mark.parametrize(
    ("rate", "problem"),
    [
        (44100.0, "must be an integer, not float"),
        ("44100", "must be an integer, not str"),
        (True, "must be an integer, not bool"),
        (0, "must be from 1,000 to 768,000 Hz, not 0"),
        (-22050, "must be from .* Hz, not -22050"),
        (999, "must be from .* Hz, not 999"),
        (768_001, "must be from .* Hz, not 768001"),
    ],
)
def test_rates_are_checked(identity, rate, problem):
    x = np.zeros(2000, np.float32)
    with pytest.raises(ValueError, match=f"sample_rate {problem}"):
        identity.enhance(x, rate)
    with pytest.raises(ValueError, match=f"output_rate {problem}"):
        identity.enhance(x, 22050, output_rate=rate)


def test_rates_at_the_limits_and_numpy_integers_pass(identity):
    x = np.zeros(1000, np.float32)
    assert identity.enhance(x, np.int64(1000), output_rate=768_000)[1] == 768_000
    assert len(identity.enhance(x, 1000)[0]) == 44100


def test_a_failed_export_leaves_the_earlier_model_as_it_was(models, tmp_path, monkeypatch):
    from spectral_enhance.training import export as exporting

    folder = tmp_path / "m"
    export(models["random"], folder, precisions=("fp32", "int8"))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    monkeypatch.setitem(exporting.TOLERANCES, "int8", -1.0)  # no int8 model can pass
    with pytest.raises(ValueError, match=r"model\.int8\.onnx: differs from PyTorch"):
        export(models["u5"], folder, name="other", precisions=("fp32", "int8"), overwrite=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # no .part files either
    with pytest.raises(ValueError, match=r"model\.int8\.onnx: differs from PyTorch"):
        export(models["u5"], tmp_path / "new", precisions=("int8",))
    assert not (tmp_path / "new").exists()  # nor a folder it made for them


def test_an_export_into_a_models_folder_is_refused_unless_overwrite(models, tmp_path, capsys):
    folder = tmp_path / "m"
    export(models["random"], folder, precisions=("int8",))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert main(["export", str(models["u5"]), "--out", str(folder), "--precisions", "int8"]) == 1
    error = capsys.readouterr().err.strip()
    assert error == (
        f"spectral-enhance export: error: {folder / 'model.int8.onnx'}: exists (--overwrite "
        "replaces it)"
    )
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    args = ["export", str(models["u5"]), "--out", str(folder), "--precisions", "int8"]
    assert main([*args, "--overwrite"]) == 0
    assert (folder / "model.int8.onnx").read_bytes() != before["model.int8.onnx"]


def test_an_export_over_another_leaves_none_of_its_files(models, tmp_path):
    """``--overwrite --precisions int8`` over an export of fp32 and int8: the other model's
    fp32 file goes, so the folder holds one model, the one its card describes."""
    folder = tmp_path / "m"
    export(models["random"], folder, precisions=("fp32", "int8"))
    export(models["u5"], folder, name="other", precisions=("int8",), overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == ["card.json", "model.int8.onnx"]
    assert json.loads((folder / "card.json").read_text())["files"] == {"int8": "model.int8.onnx"}


def _allocator_probe(probe: str, setting: str) -> dict[str, int]:
    """Run ``probe`` (which prints whether the allocator took its setting, then a number) in a
    fresh process with ``setting`` and with ``default``, as an allocator setting is the whole
    process's: each mode's number. Skips where the setting does not take (no glibc)."""
    import subprocess
    import sys

    runs = {}
    for mode in (setting, "default"):
        done = subprocess.run([sys.executable, "-c", probe, mode], capture_output=True, text=True)
        took, number = done.stdout.split()
        if mode == setting and took != "True":
            pytest.skip("not glibc: no mallopt to ask")
        runs[mode] = int(number)
    return runs


def test_keeping_freed_memory_spares_the_page_faults_of_the_next_array():
    """`keep_freed_memory` (the command line's allocator setting): an 8 MB array freed and made
    again reuses its pages instead of faulting in new ones. Measured in fresh processes, as the
    setting is the whole process's."""
    probe = (
        "import resource, sys, numpy as np\n"
        "from spectral_enhance.allocator import keep_freed_memory\n"
        "kept = keep_freed_memory() if sys.argv[1] == 'keep' else False\n"
        "a = np.ones(1 << 21, np.float32); del a\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(20):\n"
        "    a = np.ones(1 << 21, np.float32); del a\n"
        "print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    )
    faults = _allocator_probe(probe, "keep")
    assert faults["keep"] < 200 < faults["default"]  # 20 arrays of 2,048 pages each


def test_capped_arenas_keep_eight_threads_to_two_heaps():
    """`cap_arenas` (the web server's allocator setting): eight threads that each allocate take
    an arena apiece, 64 MB of address space each; capped at two, they share. Measured in fresh
    processes, as the setting is the whole process's."""
    probe = (
        "import sys, threading\n"
        "from spectral_enhance.allocator import cap_arenas\n"
        "capped = cap_arenas(2) if sys.argv[1] == 'cap' else False\n"
        "def size():\n"
        "    line = [s for s in open('/proc/self/status') if s.startswith('VmSize')][0]\n"
        "    return int(line.split()[1]) // 1024\n"
        "barrier, held = threading.Barrier(8), []\n"
        "def work():\n"
        "    barrier.wait()\n"
        "    held.extend(bytearray(1000) for _ in range(2000))\n"
        "before = size()\n"
        "threads = [threading.Thread(target=work) for _ in range(8)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "print(capped, size() - before)\n"
    )
    grown = _allocator_probe(probe, "cap")
    assert grown["cap"] + 256 < grown["default"], grown  # six arenas of 64 MB fewer


@pytest.mark.parametrize(
    ("files", "cores"),
    [
        ({"cpu.max": "200000 100000\n"}, 2.0),  # cgroup v2: docker run --cpus 2
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),  # no quota
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),  # v1
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({"cpu.max": "garbled\n"}, None),
        ({}, None),
    ],
)
def test_a_containers_cpu_quota_is_read(tmp_path, files, cores):
    from spectral_enhance.inference.backends import cpu_quota

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cpu_quota(tmp_path) == cores


def test_usable_cores_stay_within_the_quota(monkeypatch):
    """A container's quota, which the affinity does not show, bounds the segments run at once
    (and the memory they hold): a quota of 1.5 cores is 2 cores, never more than the affinity."""
    import os

    import spectral_enhance.inference.backends as backends

    affinity = len(os.sched_getaffinity(0))
    monkeypatch.setattr(backends, "cpu_quota", lambda: 1.5)
    assert backends.usable_cores() == min(2, affinity)
    monkeypatch.setattr(backends, "cpu_quota", lambda: 0.2)
    assert backends.usable_cores() == 1
    assert Enhancer.load(precision="int8").workers == 1  # one segment at a time, as one core
    monkeypatch.setattr(backends, "cpu_quota", lambda: None)
    assert backends.usable_cores() == affinity


def test_process_and_stream_take_what_enhance_takes_and_refuse_the_rest(identity_model):
    """`process` took a [channels, samples] array as 44,100 channels (7.4 GiB asked of the
    allocator), int16 unscaled and NaN through; a 1-D array, or a chunk of other channels,
    ended in numpy's IndexError or concatenate error."""
    enhancer = Enhancer.load(identity_model)
    with pytest.raises(ValueError, match=r"look like \[channels, samples\]"):
        enhancer.process(np.zeros((2, 44100), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        enhancer.process(np.full((100, 2), np.nan, np.float32))
    loud = enhancer.process(np.full((2205, 2), 16384, np.int16))  # half full scale
    assert loud.dtype == np.float32 and np.abs(loud - 0.5).max() < 1e-3
    assert enhancer.process(np.zeros(2205, np.float32)).shape == (2205,)
    stream = enhancer.stream()
    next(stream)
    stream.send(np.zeros((100, 2), np.float32))
    with pytest.raises(ValueError, match=r"after chunks of 2 channels, not \(100, 3\)"):
        stream.send(np.zeros((100, 3), np.float32))
    stream = enhancer.stream()  # a NaN in a chunk made its whole segment NaN, without a word
    next(stream)
    stream.send(np.zeros((100, 2), np.float32))
    bad = np.zeros((50, 2), np.float32)
    bad[7, 1] = np.inf
    with pytest.raises(ValueError, match=r"NaN or infinite values \(the first at its sample 7\)"):
        stream.send(bad)


def test_a_bare_onnx_file_must_be_one_of_its_cards_models(tmp_path):
    """The bundled model's hole net, loaded as the model, was said to be a model exported
    before its graph took powers, to be exported again."""
    from spectral_enhance.inference.bundled import PRETRAINED

    with pytest.raises(ValueError, match=r"holes\.onnx: not a model of its folder's card\.json "):
        Enhancer.load(PRETRAINED / "full-band" / "holes.onnx")
    assert Enhancer.load(PRETRAINED / "full-band" / "model.int8.onnx").name == "full-band"


@pytest.mark.parametrize("size", [-1000, 0, 2.5, True])
def test_a_segment_size_that_is_not_a_whole_positive_number_is_refused(identity_model, size):
    """-1000 frames made `enhance` loop for ever; 2.5 and -5 failed inside it, in numpy."""
    with pytest.raises(ValueError, match="segment_frames must be a whole number from 1"):
        Enhancer.load(identity_model, segment_frames=size)
