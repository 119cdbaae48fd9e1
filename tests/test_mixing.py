"""What ``enhance`` writes: the input at the output rate plus ``--strength`` times the model's
change, the default output rate, the band above the model's kept, a model told the file's
low-pass before its first segment, and ``--json``."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from audio_tools import ffmpeg_decode, source, write_wav
from audio_tools import run as audio_run
from conftest import music
from spectral_enhance.cli import main
from spectral_enhance.dsp.lowpass import average_spectrum, lowpass_of_file
from spectral_enhance.dsp.stft import StftConfig
from spectral_enhance.inference.card import BlockRule
from spectral_enhance.inference.enhancer import Enhancer
from spectral_enhance.inference.one_file import enhance_file
from spectral_enhance.training.export import export
from tiny import tiny_checkpoint


def run(args, model, *extra):
    options = ["--model", model, "--precision", "fp32", "-q", *map(str, extra)]
    return main(["enhance", *map(str, args), *options])


@pytest.fixture(scope="module")
def audible_model(tmp_path_factory) -> str:
    """A tiny untrained model whose change is plain to see."""
    root = tmp_path_factory.mktemp("audible")
    export(tiny_checkpoint(root / "tiny.pt"), root / "onnx", precisions=["fp32"])
    return str(root / "onnx")


def noise(seconds: float, rate: int, cutoff: float | None = None, seed: int = 0) -> np.ndarray:
    """Stereo white noise on the 16-bit grid, brick-wall low-passed at ``cutoff`` Hz."""
    x = np.random.default_rng(seed).standard_normal((int(seconds * rate), 2))
    if cutoff is not None:
        spectrum = np.fft.rfft(x, axis=0)
        spectrum[np.fft.rfftfreq(len(x), 1 / rate) > cutoff] = 0
        x = np.fft.irfft(spectrum, len(x), axis=0)
    return (np.round(0.1 * x * 32768) / 32768).astype(np.float32)


@pytest.mark.parametrize(("rate", "expected"), [(22050, 44100), (48000, 48000)])
def test_the_default_output_rate_is_44100_or_the_inputs_above_it(
    tmp_path, identity_model, rate, expected
):
    sf.write(tmp_path / "a.wav", music(1.0, rate), rate)
    assert run([tmp_path / "a.wav"], identity_model) == 0
    info = sf.info(tmp_path / "a.enhanced.wav")
    assert (info.samplerate, info.frames) == (expected, expected)


@pytest.mark.parametrize("model", ["identity", "spectral-n1"])
def test_a_lossless_input_keeps_its_band_above_the_models(tmp_path, identity_model, model):
    """A 44.1 kHz input through a 22,050 Hz model: every kilohertz from 11 to 20 kHz keeps
    its level within 1 dB, the bundled model's as well."""
    x = music(4.0, 44100, channels=2)
    sf.write(tmp_path / "a.flac", x, 44100)
    assert run([tmp_path / "a.flac"], identity_model if model == "identity" else model) == 0
    y, rate = sf.read(tmp_path / "a.enhanced.wav", dtype="float32")
    assert rate == 44100 and y.shape == x.shape
    freqs, before = average_spectrum(x, rate)
    _, after = average_spectrum(y, rate)
    for low in range(11_000, 20_000, 1000):
        band = (freqs >= low) & (freqs < low + 1000)
        change = 10 * np.log10(after[band].sum() / before[band].sum())
        assert abs(change) < 1.0, (low, change)


def test_strength_zero_writes_the_input_itself(tmp_path, audible_model):
    x = noise(3.0, 44100)
    sf.write(tmp_path / "a.wav", x, 44100, subtype="PCM_16")
    assert run([tmp_path / "a.wav"], audible_model, "--strength", "0") == 0
    out = sf.read(tmp_path / "a.enhanced.wav", dtype="float32")[0]
    assert sf.info(tmp_path / "a.enhanced.wav").subtype == "FLOAT"
    np.testing.assert_array_equal(out, x)  # bit for bit
    assert run([tmp_path / "a.wav"], audible_model, "--strength", "0", "--format", "flac") == 0
    np.testing.assert_array_equal(sf.read(tmp_path / "a.enhanced.flac", dtype="float32")[0], x)
    assert run([tmp_path / "a.wav"], audible_model, "--overwrite") == 0  # strength 1 does change
    assert np.abs(sf.read(tmp_path / "a.enhanced.wav", dtype="float32")[0] - x).max() > 1e-3


@pytest.mark.parametrize(("made_by", "quality"), [("lame", "HQ"), ("sox", "VHQ")])
def test_an_input_reaches_the_output_rate_as_its_codec_asks(
    tmp_path, identity_model, made_by, quality
):
    """A lossy input is carried to the output rate by soxr at "HQ" (SoX's own default, 20-bit
    precision, far under an MP3's error: less work), a lossless one at "VHQ": `lame`'s 32 kHz
    MP3 and `sox`'s FLAC, written at strength 0, are FFmpeg's decode of them resampled so,
    exactly, and not the other way."""
    wav = write_wav(tmp_path / "a.wav", source(2.0, 32000, channels=2), 32000)
    if made_by == "lame":
        audio_run("lame", "--quiet", "-b", "96", wav, tmp_path / "a.mp3")  # with its LAME tag
        made = tmp_path / "a.mp3"
    else:
        audio_run("sox", wav, tmp_path / "a.flac")
        made = tmp_path / "a.flac"
    assert run([made, "-o", tmp_path / "out"], identity_model, "--strength", "0") == 0
    y = sf.read(tmp_path / "out" / "a.enhanced.wav", dtype="float32")[0]
    decoded = ffmpeg_decode(made, 2)
    other = "VHQ" if quality == "HQ" else "HQ"
    assert np.abs(y - soxr.resample(decoded, 32000, 44100, quality)).max() < 1e-6
    assert np.abs(y - soxr.resample(decoded, 32000, 44100, other)).max() > 1e-5


def test_the_change_grows_with_strength_in_proportion(tmp_path, audible_model):
    sf.write(tmp_path / "a.wav", music(2.0, 22050), 22050)
    outputs = {}
    for strength in (0.0, 0.25, 0.5, 1.0):
        out = tmp_path / str(strength)
        assert run([tmp_path / "a.wav"], audible_model, "--strength", strength, "-o", out) == 0
        outputs[strength] = sf.read(out / "a.enhanced.wav", dtype="float32")[0]
    changes = {strength: y - outputs[0.0] for strength, y in outputs.items()}  # 0: the input
    distances = [float(np.linalg.norm(changes[s])) for s in (0.0, 0.25, 0.5, 1.0)]
    assert distances[0] == 0 and distances == sorted(set(distances))  # strictly growing
    # The output is linear in strength: at 0.5, half the change of 1.
    np.testing.assert_allclose(changes[0.5], 0.5 * changes[1.0], atol=1e-6)


def test_a_streamed_file_equals_the_whole_array_enhanced(tmp_path, audible_model):
    """``enhance`` streams a file through FIFOs and three resamplers; ``Enhancer.enhance``
    does the same sum on whole arrays. They agree, so the change is added where it belongs."""
    x = music(3.0, 44100, channels=2)
    sf.write(tmp_path / "a.wav", x, 44100, subtype="FLOAT")
    enhancer = Enhancer.load(audible_model, precision="fp32")
    enhance_file(enhancer, tmp_path / "a.wav", tmp_path / "a.out.wav", output_rate=48000)
    streamed, rate = sf.read(tmp_path / "a.out.wav", dtype="float32")
    whole, whole_rate = enhancer.enhance(x, 44100, output_rate=48000)
    assert rate == whole_rate == 48000 and streamed.shape == whole.shape
    assert np.abs(whole - enhancer.enhance(x, 44100, 48000, strength=0)[0]).max() > 1e-3
    np.testing.assert_allclose(streamed, whole, atol=1e-5)


class LowpassModel:
    """A stand-in for the full-band model (its call: spectrum, the copied band, where it is):
    records the first bin it is told to fill and adds, there and above, a faint click in the
    middle of each frame."""

    def __init__(self) -> None:
        self.cutoffs: list[int] = []

    def __call__(self, spectrum: np.ndarray, copy: np.ndarray, above: np.ndarray) -> np.ndarray:
        assert copy.shape == spectrum.shape and not copy[..., above == 0].any()
        self.cutoffs.append(int(np.argmax(above)))
        bins = np.arange(spectrum.shape[-1])
        click = np.where(above > 0, 1e-2 * (-1.0) ** bins, 0.0)  # at the frame's centre
        out = spectrum.copy()
        out[:, 0] += click.astype(np.float32)
        return out


def test_a_model_that_takes_the_lowpass_is_told_it_from_the_first_segment(tmp_path):
    model = LowpassModel()
    stft = StftConfig(window_length=2048, hop_length=512, fft_length=2048)
    enhancer = Enhancer(
        model, 44100, stft, BlockRule("spectrum", 2, takes_lowpass=True), name="band"
    )
    sf.write(tmp_path / "cut.wav", noise(20.0, 44100, 7600), 44100, subtype="FLOAT")
    result = enhance_file(enhancer, tmp_path / "cut.wav", tmp_path / "cut.out.wav")
    cut = lowpass_of_file(tmp_path / "cut.wav")
    assert 7600 <= cut <= 7700 and result.lowpass_hz == cut
    assert len(model.cutoffs) >= 2 and set(model.cutoffs) == {int(np.ceil(cut * 2048 / 44100))}
    assert result.band() == f"cut at {cut / 1000:.1f} kHz, rebuilding {cut / 1000:.1f}-22.1 kHz"
    assert result.rebuilt() == (cut, 22050.0)
    x = sf.read(tmp_path / "cut.wav", dtype="float32")[0]
    y = sf.read(tmp_path / "cut.out.wav", dtype="float32")[0]
    freqs, before = average_spectrum(x, 44100)
    _, after = average_spectrum(y, 44100)
    below, above = freqs < 7000, freqs > 8000
    np.testing.assert_allclose(after[below], before[below], rtol=1e-3)
    assert after[above].mean() > 100 * before[above].mean()  # the band is rebuilt
    _, start = average_spectrum(y[:44100], 44100)
    assert start[above].mean() > 100 * before[above].mean()  # from the first second on
    # No low-pass: such a model changes nothing, and is not even called.
    model.cutoffs.clear()
    sf.write(tmp_path / "full.wav", noise(20.0, 44100), 44100, subtype="FLOAT")
    result = enhance_file(enhancer, tmp_path / "full.wav", tmp_path / "full.out.wav")
    assert result.lowpass_hz is None and result.band() == "no low-pass found: kept as it is"
    assert model.cutoffs == []
    np.testing.assert_array_equal(
        sf.read(tmp_path / "full.out.wav", dtype="float32")[0],
        sf.read(tmp_path / "full.wav", dtype="float32")[0],
    )


def test_json_gives_every_input_and_the_summary(tmp_path, identity_model, capsys):
    sf.write(tmp_path / "low.wav", noise(2.0, 22050, 6000), 22050)
    sf.write(tmp_path / "kept.wav", music(1.0), 22050)
    (tmp_path / "kept.enhanced.wav").write_bytes(b"an earlier output")
    (tmp_path / "notes.mp3").write_bytes(b"these are my notes, not audio\n" * 40)
    sources = [tmp_path / name for name in ("low.wav", "kept.wav", "notes.mp3")]
    assert run(sources, identity_model, "--json") == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "1 enhanced" in captured.err  # the usual lines go to standard error
    files = {Path(entry["input"]).name: entry for entry in report["files"]}
    done = files["low.wav"]
    assert done["status"] == "done" and done["output"] == str(tmp_path / "low.enhanced.wav")
    assert (done["input_rate"], done["channels"], done["output_rate"]) == (22050, 2, 44100)
    assert done["seconds"] == 2.0 and done["wall_seconds"] > 0 and done["warnings"] == []
    assert 6000 <= done["lowpass_hz"] <= 6200
    assert done["rebuilt_hz"] == [done["lowpass_hz"], 11025.0]
    assert files["kept.wav"]["status"] == "kept" and "exists" in files["kept.wav"]["reason"]
    assert files["notes.mp3"]["status"] == "failed"
    assert "not an audio file" in files["notes.mp3"]["reason"]
    every = {"input", "output", "status", "reason", "warnings"}  # one schema, whatever came of it
    assert all(every <= set(entry) for entry in report["files"]) and done["reason"] is None
    summary = report["summary"]
    assert (summary["done"], summary["kept"], summary["skipped"], summary["failed"]) == (1, 1, 0, 1)
    assert summary["seconds_of_audio"] == 2.0
