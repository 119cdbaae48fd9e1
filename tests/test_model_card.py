import json
import shutil

import pytest
import soundfile as sf

from conftest import music
from spectral_enhance.cli import main
from spectral_enhance.inference.card import ModelCard
from spectral_enhance.inference.enhancer import DEFAULT_MODEL, PRETRAINED


@pytest.mark.parametrize(
    ("name", "rate", "joint"),
    [("spectral-n1", 22050, False), ("spectral-n5", 22050, False), ("full-band", 44100, True)],
)
def test_bundled_cards_read_and_write_back_unchanged(name, rate, joint, tmp_path):
    """The reader keeps every field the writer writes: a bundled card round-trips exactly."""
    card = ModelCard.read(PRETRAINED / name)
    assert card.name == name and card.sample_rate == rate and card.rule.domain == "spectrum"
    assert card.rule.takes_lowpass == card.rule.joint_channels == joint  # full-band: told, linked
    assert card.rule.noise_band_bins == (8 if joint else 0)  # full-band: laid over noise
    assert card.file("int8") == PRETRAINED / name / "model.int8.onnx"
    original = json.loads((PRETRAINED / name / "card.json").read_text())
    assert card.to_dict() == original
    card.write(tmp_path)
    assert json.loads((tmp_path / "card.json").read_text()) == original
    assert [p.name for p in tmp_path.iterdir()] == ["card.json"]  # no temporary left


@pytest.fixture
def model(tmp_path):
    """A copy of the bundled default model (card, int8 file and hole net) to damage."""
    folder = tmp_path / "model"
    shutil.copytree(PRETRAINED / DEFAULT_MODEL, folder)
    return folder


def edit_card(folder, change):
    card = json.loads((folder / "card.json").read_text())
    change(card)
    (folder / "card.json").write_text(json.dumps(card))


def enhance_error(folder, tmp_path, capsys) -> str:
    """Run ``enhance`` with the model in ``folder``; it must fail with one line on stderr."""
    song = tmp_path / "song.wav"
    sf.write(song, music(0.5), 22050)
    code = main(["enhance", str(song), "--model", str(folder), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert not (tmp_path / "song.enhanced.wav").exists()
    return lines[0]


def test_an_intact_copy_enhances(model, tmp_path):
    song = tmp_path / "song.wav"
    sf.write(song, music(0.5), 22050)
    assert main(["enhance", str(song), "--model", str(model), "-q"]) == 0


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda c: c.pop("sample_rate"), "field 'sample_rate' missing"),
        (
            lambda c: c.update(sample_rate="22050"),
            "field 'sample_rate' must be an integer, not str",
        ),
        (lambda c: c.update(sample_rate=True), "field 'sample_rate' must be an integer, not bool"),
        (lambda c: c.update(sample_rate=5), "field 'sample_rate' must be from 1,000 to 768,000"),
        (lambda c: c.pop("files"), "field 'files' missing"),
        (lambda c: c.update(files=["model.int8.onnx"]), "field 'files' must be an object"),
        (lambda c: c["files"].update(int8=8), "field 'files' entry 'int8' must be a string"),
        (lambda c: c["stft"].update(hop_length=-248), "field 'stft' entry 'hop_length' must be"),
        (lambda c: c["stft"].update(hop=248), "field 'stft' has unknown entries ['hop']"),
        (lambda c: c.pop("context_frames"), "field 'context_frames' missing"),
        (lambda c: c.update(domain="time"), "field 'domain' must be 'spectrum' or 'waveform'"),
        (lambda c: c.update(joint_channels=1), "field 'joint_channels' must be true or false"),
        (
            lambda c: c.pop("takes_lowpass"),  # its band laid over noise, but above what?
            "field 'noise_band_bins' must be 0, or positive with takes_lowpass",
        ),
        (
            lambda c: c.update(noise_band_bins=-8),
            "field 'noise_band_bins' must be 0, or positive with takes_lowpass",
        ),
        (lambda c: c.update(name=None), "field 'name' must be a string, not NoneType"),
        (lambda c: c.pop("hole_net"), "fills the codec's holes but names no hole net"),
        (lambda c: c.update(hole_net="../holes.onnx"), "field 'hole_net' ('../holes.onnx') points"),
    ],
)
def test_a_damaged_card_field_is_one_line_naming_it(model, tmp_path, capsys, change, problem):
    edit_card(model, change)
    line = enhance_error(model, tmp_path, capsys)
    assert f"{model / 'card.json'}: {problem}" in line


@pytest.mark.parametrize(
    "escape",
    [
        "../model.int8.onnx",
        "/etc/passwd",
        "sub/../../x.onnx",
        "",
        "C:model.int8.onnx",
        "\\\\x.onnx",
    ],
)
def test_a_file_outside_the_model_folder_is_refused(model, tmp_path, capsys, escape):
    shutil.copy(model / "model.int8.onnx", tmp_path / "model.int8.onnx")  # a real file there
    edit_card(model, lambda card: card["files"].update(int8=escape))
    line = enhance_error(model, tmp_path, capsys)
    assert f"{model / 'card.json'}: field 'files' entry 'int8'" in line
    assert "points outside the model's folder" in line


@pytest.mark.parametrize("text", ['{"name": "x",', "[1, 2]", "\xff\xfe not utf-8"])
def test_a_card_that_is_not_json_is_one_line(model, tmp_path, capsys, text):
    (model / "card.json").write_bytes(text.encode("latin-1"))
    line = enhance_error(model, tmp_path, capsys)
    assert f"{model / 'card.json'}: not " in line  # not valid JSON / not a model card


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("model.int8.onnx", b"not an onnx model at all" * 10, "not a valid ONNX model ("),
        ("model.int8.onnx", None, "model file missing"),
        ("holes.onnx", b"not a net" * 10, "not a hole net ("),
        ("holes.onnx", None, "hole net missing"),
    ],
)
def test_a_broken_model_file_is_one_line_naming_it(model, tmp_path, capsys, name, content, problem):
    """The model's graph or its hole net, missing or not what it should be."""
    broken = model / name
    if content is None:
        broken.unlink()
    else:
        broken.write_bytes(content)
    line = enhance_error(model, tmp_path, capsys)
    assert f"{broken}: {problem}" in line


def test_a_truncated_model_file_is_one_line(model, tmp_path, capsys):
    onnx_file = model / "model.int8.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes()[:5000])
    line = enhance_error(model, tmp_path, capsys)
    assert f"{onnx_file}: not a valid ONNX model (" in line


def test_extras_cannot_replace_the_cards_own_fields():
    card = ModelCard.read(PRETRAINED / "spectral-n1")
    with pytest.raises(ValueError, match=r"would replace its own fields: \['sample_rate'\]"):
        ModelCard(**{**card.__dict__, "extra": {"sample_rate": 44100}})


def test_a_noise_model_exported_before_its_graph_took_powers_is_one_line(model, tmp_path, capsys):
    """An export of the first noise-filling graph, which took the spectrum and its copy, does
    not fit the enhancer's inputs: refused by name, not by ONNX Runtime's traceback."""
    import onnx

    assert ModelCard.read(model).rule.noise_band_bins  # the default is a noise-filling model
    graph = onnx.load(model / "model.int8.onnx")
    first = graph.graph.input[0].name
    assert first == "power"
    for node in graph.graph.node:
        node.input[:] = ["spectrum" if name == first else name for name in node.input]
    graph.graph.input[0].name = "spectrum"
    onnx.save(graph, model / "model.int8.onnx")
    line = enhance_error(model, tmp_path, capsys)
    assert f"{model / 'model.int8.onnx'}: a noise-filling model exported before" in line
    assert "first input is 'spectrum'); export its checkpoint again" in line
