import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from conftest import music
from spectral_enhance.audio import read_audio, resample
from spectral_enhance.audio.mp3 import encode_mp3
from spectral_enhance.cli import main
from spectral_enhance.training.export import export
from tiny import tiny_waveform_checkpoint


def run(args, model, *extra):
    return main(["enhance", *map(str, args), "--model", model, "--precision", "fp32", "-q", *extra])


def test_mp3_output_is_aligned_and_exactly_as_long(tmp_path, identity_model):
    song = tmp_path / "song.mp3"
    song.write_bytes(encode_mp3(music(3.0, 22050), 22050, 32))
    assert run([song], identity_model) == 0
    out, rate = sf.read(tmp_path / "song.enhanced.wav", dtype="float32")
    decoded, _ = read_audio(song)
    assert rate == 44100 and len(out) == 2 * len(decoded)  # the default output rate
    np.testing.assert_allclose(out, resample(decoded, 22050, 44100)[:, 0], atol=2e-4)


@pytest.mark.parametrize("arch", ["audiounet", "wavenet"])
def test_waveform_baseline_output_is_aligned_and_exactly_as_long(tmp_path, arch):
    export(tiny_waveform_checkpoint(tmp_path / "m.pt", arch, identity=True), tmp_path / "onnx")
    song = tmp_path / "song.mp3"
    song.write_bytes(encode_mp3(music(5.0, 22050, channels=2), 22050, 32))
    assert run([song], str(tmp_path / "onnx")) == 0
    out, rate = sf.read(tmp_path / "song.enhanced.wav", dtype="float32")
    decoded, _ = read_audio(song)
    assert rate == 44100 and out.shape == (2 * len(decoded), 2)
    np.testing.assert_allclose(out, resample(decoded, 22050, 44100), atol=2e-4)


def test_folders_stereo_rates_and_output_folder(tmp_path, identity_model):
    src = tmp_path / "in" / "sub"
    src.mkdir(parents=True)
    x = music(1.5, 44100, channels=2)
    sf.write(src / "a.flac", x, 44100)
    out = tmp_path / "made" / "here"
    assert run([tmp_path / "in", "-o", out, "--format", "flac"], identity_model) == 0
    y, rate = sf.read(out / "sub" / "a.enhanced.flac")  # where it lies below the folder given
    assert rate == 44100 and y.shape == x.shape
    assert (
        run([src / "a.flac", "-o", out, "--sample-rate", "22050", "--overwrite"], identity_model)
        == 0
    )
    assert sf.info(out / "a.enhanced.wav").frames == len(x) // 2


def test_existing_output_is_kept_without_overwrite(tmp_path, identity_model, capsys):
    sf.write(tmp_path / "a.wav", music(1.0), 22050)
    target = tmp_path / "a.enhanced.wav"
    target.write_bytes(b"keep me")
    assert run([tmp_path / "a.wav"], identity_model) == 0
    assert target.read_bytes() == b"keep me"
    assert "exists" in capsys.readouterr().err
    assert run([tmp_path / "a.wav", "--overwrite"], identity_model) == 0
    assert sf.info(target).frames == 44100  # one second at the default output rate


def test_outputs_of_earlier_runs_are_not_inputs(tmp_path, identity_model):
    sf.write(tmp_path / "a.wav", music(1.0), 22050)
    assert run([tmp_path], identity_model) == 0
    assert run([tmp_path], identity_model) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.enhanced.wav", "a.wav"]


def test_bad_inputs_fail_alone_with_one_line_each(tmp_path, identity_model, capsys):
    good = tmp_path / "good.wav"
    sf.write(good, music(1.0), 22050)
    tagged = encode_mp3(music(2.0), 22050, 128)
    (tmp_path / "truncated.mp3").write_bytes(tagged[: len(tagged) // 2])
    bad = {
        "empty.wav": b"",
        "corrupt.flac": b"fLaC" + bytes(range(256)) * 4,
        "notes.mp3": b"these are my notes, not audio\n" * 40,
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    missing = tmp_path / "missing.wav"
    code = run([tmp_path, missing], identity_model)
    err = capsys.readouterr().err
    assert code == 1
    assert (tmp_path / "good.enhanced.wav").exists()
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    for name in [*bad, "missing.wav"]:
        assert sum(name in line for line in errors) == 1, (name, err)
    assert "Traceback" not in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert "2 enhanced, 0 kept (output exists), 0 skipped, 4 failed" in err
    # A file that ends early is enhanced as far as it goes, and says so.
    (early,) = [line for line in err.splitlines() if "truncated.mp3: ends early" in line]
    assert early.startswith("warning:") and "missing" in early


def test_silent_input_warns_and_succeeds(tmp_path, identity_model, capsys):
    sf.write(tmp_path / "quiet.wav", np.zeros(22050), 22050)
    assert run([tmp_path / "quiet.wav"], identity_model) == 0
    assert "quiet.wav: is silent" in capsys.readouterr().err
    assert not sf.read(tmp_path / "quiet.enhanced.wav")[0].any()


def test_unwritable_output_folder(tmp_path, identity_model, capsys):
    sf.write(tmp_path / "a.wav", music(1.0), 22050)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    assert run([tmp_path / "a.wav", "-o", blocker / "out"], identity_model) == 1
    err = capsys.readouterr().err
    assert "cannot write" in err and "Traceback" not in err


def test_parallel_jobs_give_the_same_output(tmp_path, identity_model):
    for i in range(3):
        sf.write(tmp_path / f"t{i}.wav", music(1.0, seed=i), 22050)
    assert run([tmp_path, "-o", tmp_path / "one"], identity_model) == 0
    assert (
        run(
            [tmp_path / f"t{i}.wav" for i in range(3)] + ["-o", tmp_path / "two", "--jobs", "2"],
            identity_model,
        )
        == 0
    )
    for i in range(3):
        a, _ = sf.read(tmp_path / "one" / f"t{i}.enhanced.wav")
        b, _ = sf.read(tmp_path / "two" / f"t{i}.enhanced.wav")
        np.testing.assert_array_equal(a, b)


def test_bad_model_is_one_line(tmp_path, capsys):
    sf.write(tmp_path / "a.wav", music(1.0), 22050)
    assert main(["enhance", str(tmp_path / "a.wav"), "--model", "nope"]) == 1
    err = capsys.readouterr().err
    assert "nope: no such model" in err and len(err.strip().splitlines()) == 1
    assert main(["enhance", str(tmp_path / "a.wav"), "--model", str(tmp_path / "a.wav")]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert f"{tmp_path / 'a.wav'}: not a model (a bundled name, an export folder" in line
    (tmp_path / "run.pt").write_bytes(b"")
    assert main(["enhance", str(tmp_path / "a.wav"), "--model", str(tmp_path / "run.pt")]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "run.pt: a training checkpoint: run it with --backend torch, or export it" in line
    (tmp_path / "alone.onnx").write_bytes(b"")
    assert main(["enhance", str(tmp_path / "a.wav"), "--model", str(tmp_path / "alone.onnx")]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "alone.onnx: no card.json beside it (an export folder holds both)" in line


def test_an_output_folder_that_is_a_file_and_a_device_as_input_are_one_line_each(
    tmp_path, identity_model, capsys
):
    sf.write(tmp_path / "a.wav", music(1.0), 22050)
    (tmp_path / "taken").write_bytes(b"a file")
    assert run([tmp_path / "a.wav", "-o", tmp_path / "taken"], identity_model) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.endswith(
        f"{tmp_path / 'taken'}: is a file, not a folder (the outputs go in a folder)"
    )
    assert (tmp_path / "taken").read_bytes() == b"a file"
    assert run(["/dev/zero", "-o", tmp_path / "out"], identity_model) == 1
    (error,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert "/dev/zero: not a regular file but a device or a pipe" in error


def test_warns_only_when_the_output_rate_loses_the_input_band(tmp_path, identity_model, capsys):
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "wide.wav", 0.1 * rng.standard_normal((44100, 2)), 44100)
    sf.write(tmp_path / "narrow.wav", music(1.0, 22050), 22050)
    inputs = [tmp_path / "wide.wav", tmp_path / "narrow.wav"]
    assert run(inputs, identity_model) == 0  # 44.1 kHz out: a band above the model's is kept
    assert "warning:" not in capsys.readouterr().err
    assert run(inputs, identity_model, "--sample-rate", "22050", "--overwrite") == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "wide.wav" in warnings[0] and "11.0 kHz" in warnings[0]


def test_a_high_rate_file_warns_by_where_its_band_ends(tmp_path, identity_model, capsys):
    """A 96 kHz FLAC made from a 44.1 kHz master loses nothing at 48 kHz; one whose band
    reaches 48 kHz does."""
    noise = 0.1 * np.random.default_rng(0).standard_normal((3 * 44100, 2))
    for name, band in (("upsampled", soxr.resample(noise, 44100, 96000)), ("wide", None)):
        wide = 0.1 * np.random.default_rng(1).standard_normal((3 * 96000, 2))
        sf.write(tmp_path / f"{name}.flac", wide if band is None else band, 96000)
    inputs = [tmp_path / "upsampled.flac", tmp_path / "wide.flac"]
    assert run(inputs, identity_model, "--sample-rate", "48000") == 0
    (warning,) = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
    assert "wide.flac: has content up to 48.0 kHz" in warning and "band is lost" in warning


def test_read_ahead_keeps_order_and_raises_where_the_error_was():
    from spectral_enhance.inference.read_ahead import ReadAhead

    def items():
        yield from range(5)
        raise ValueError("damaged at 5")

    got = []
    with pytest.raises(ValueError, match="damaged at 5"):
        for item in ReadAhead(items(), depth=2):
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_read_ahead_stops_its_thread_when_closed_early():
    import threading

    from spectral_enhance.inference.read_ahead import ReadAhead

    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    reader = ReadAhead(endless(), depth=2)
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    reader.close()
    assert closed.wait(2.0)  # the source was closed, so its file would be too
    assert not any(t.name == "read-ahead" for t in threading.enumerate())


def test_read_ahead_fetches_before_the_first_item_is_asked_for():
    """The caller's work before its first item (the low-pass measured) overlaps the decode: a
    thread started only at the first item, as a generator's would be, fetches nothing until
    then."""
    import threading

    from spectral_enhance.inference.read_ahead import ReadAhead

    fetched = threading.Event()

    def items():
        fetched.set()
        yield "first block"

    reader = ReadAhead(items())
    try:
        assert fetched.wait(2.0)  # no item asked for yet
        assert list(reader) == ["first block"]
    finally:
        reader.close()
    assert not any(t.name == "read-ahead" for t in threading.enumerate())


@pytest.mark.skipif(not shutil.which("lame"), reason="needs Debian's lame")
def test_a_lame_file_cut_short_is_enhanced_with_the_bundled_model_and_named(tmp_path, capsys):
    """A download cut short: Debian's ``lame`` file, its first 40 % kept, its Info tag still
    promising the whole. The default model measures the low-pass on what is there (seeks past
    the end give nothing), enhances all of it and names what is missing."""
    from audio_tools import run as run_tool

    wav, whole, cut = tmp_path / "in.wav", tmp_path / "whole.mp3", tmp_path / "cut.mp3"
    sf.write(wav, np.tile(music(2.0, 44100, channels=2), (7, 1)), 44100, subtype="PCM_16")
    run_tool("lame", "--quiet", "-b", "64", "--resample", "44.1", wav, whole)
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 5])
    assert main(["enhance", str(cut)]) == 0
    err = capsys.readouterr().err
    assert "cut.mp3: ends early" in err and "rebuilding" in err
    out, rate = sf.read(tmp_path / "cut.enhanced.wav", dtype="float32")
    assert rate == 44100 and out.shape == read_audio(cut)[0].shape


@pytest.mark.skipif(not shutil.which("lame"), reason="needs Debian's lame")
def test_a_low_pass_given_replaces_the_one_measured(tmp_path, capsys):
    """``--lowpass`` tells every input where its band ends, for a file the meter misjudges: the
    bundled model rebuilds from there, and the line and ``--json`` say it was given. 0 rebuilds
    nothing (the input, as ``--strength 0`` writes it); over the input's Nyquist frequency, its
    Nyquist frequency."""
    import json

    from audio_tools import run as run_tool

    wav, mp3 = tmp_path / "in.wav", tmp_path / "a.mp3"
    sf.write(wav, music(3.0, 44100, channels=2), 44100, subtype="PCM_16")
    run_tool("lame", "--quiet", "-b", "48", wav, mp3)  # at LAME's 22.05 kHz, cut near 7.6 kHz
    entries, lines, outputs = {}, {}, {}
    for name, extra in {
        "measured": [],
        "5000": ["--lowpass", "5000"],
        "0": ["--lowpass", "0"],
        "30000": ["--lowpass", "30000"],
        "strength 0": ["--strength", "0"],
    }.items():
        out = tmp_path / name
        assert main(["enhance", str(mp3), "-o", str(out), "-q", "--json", *extra]) == 0
        captured = capsys.readouterr()
        entries[name], lines[name] = json.loads(captured.out)["files"][0], captured.err
        outputs[name] = sf.read(out / "a.enhanced.wav", dtype="float32")[0]
    measured, given = entries["measured"], entries["5000"]
    assert not measured["lowpass_given"] and 6_500 < measured["lowpass_hz"] < 8_500
    assert given["lowpass_given"] and given["lowpass_hz"] == 5000.0
    assert given["rebuilt_hz"][0] == 5000.0
    assert "cut given at 5.0 kHz, rebuilding 5.0-" in lines["5000"]
    assert np.abs(outputs["5000"] - outputs["measured"]).max() > 1e-3
    assert entries["0"]["lowpass_hz"] is None and entries["0"]["rebuilt_hz"] is None
    assert "no low-pass given: kept as it is" in lines["0"]
    np.testing.assert_array_equal(outputs["0"], outputs["strength 0"])
    assert entries["30000"]["lowpass_hz"] == 11025.0 and entries["30000"]["lowpass_given"]


def test_standard_input_to_standard_output(tmp_path, identity_model):
    """``ffmpeg ... -f wav - | spectral-enhance enhance - > out.wav``: FFmpeg's streamed WAV (no
    sizes in its header) in, the same bytes out as enhancing those bytes from a file."""
    import subprocess
    import sys

    from audio_tools import run as tool
    from audio_tools import source, write_wav

    wav = write_wav(tmp_path / "source.wav", source(2.0, 44100, 2), 44100)
    mp3 = tmp_path / "source.mp3"
    tool("lame", "--quiet", "-b", "64", wav, mp3)
    piped = tool("ffmpeg", "-v", "error", "-i", mp3, "-f", "wav", "-")
    command = [sys.executable, "-m", "spectral_enhance", "enhance", "-", "--model"]
    done = subprocess.run(
        [*command, identity_model, "--precision", "fp32", "-q"], input=piped, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.decode().splitlines()
    assert lines[0].startswith("- -> (standard output) (cut at 10.9 kHz")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "piped.wav").write_bytes(piped)
    assert run([tmp_path / "in" / "piped.wav"], identity_model) == 0
    assert done.stdout == (tmp_path / "in" / "piped.enhanced.wav").read_bytes()


def test_one_file_to_standard_output(tmp_path, identity_model):
    """``enhance song.mp3 -o - > out.wav``: the bytes that enhancing it into a folder writes,
    the line naming standard output, and no folder named ``-``."""
    import subprocess
    import sys

    from audio_tools import run as tool
    from audio_tools import source, write_wav

    wav = write_wav(tmp_path / "source.wav", source(2.0, 44100, 2), 44100)
    mp3 = tmp_path / "song.mp3"
    tool("lame", "--quiet", "-b", "64", wav, mp3)
    command = [sys.executable, "-m", "spectral_enhance", "enhance", mp3, "-o", "-", "--model"]
    done = subprocess.run(
        [*command, identity_model, "--precision", "fp32", "-q"], capture_output=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode().startswith(f"{mp3} -> (standard output) (cut at 10.9 kHz")
    assert not (tmp_path / "-").exists() and not (tmp_path / "song.enhanced.wav").exists()
    assert run([mp3], identity_model, "-o", str(tmp_path / "out")) == 0
    assert done.stdout == (tmp_path / "out" / "song.enhanced.wav").read_bytes()


def test_a_closed_standard_error_changes_nothing_written(tmp_path, identity_model):
    """``2>&-``: Python has no standard error then, and the lines went to standard output (or
    nowhere, the run failing): the output is written as with it, and standard output is the
    audio alone."""
    import shlex
    import subprocess
    import sys

    wav = tmp_path / "in.wav"
    sf.write(wav, music(1.0), 22050)
    command = shlex.join([sys.executable, "-m", "spectral_enhance", "enhance", "-", "--model",
                          identity_model, "--precision", "fp32"])  # fmt: skip
    done = subprocess.run(
        ["sh", "-c", f"exec 2>&-; {command}"], input=wav.read_bytes(), capture_output=True
    )
    assert done.returncode == 0
    assert done.stdout[:4] == b"RIFF" and b"(standard output)" not in done.stdout
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "in.wav").write_bytes(wav.read_bytes())
    assert run([tmp_path / "in" / "in.wav"], identity_model) == 0
    assert done.stdout == (tmp_path / "in" / "in.enhanced.wav").read_bytes()


def test_standard_output_that_cannot_be_written_is_one_line(tmp_path, identity_model):
    """``... | spectral-enhance enhance - > /dev/full``: one line naming standard output and the
    problem, exit code 1, no traceback (Python's own last flush included)."""
    import subprocess
    import sys

    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    wav = tmp_path / "in.wav"
    sf.write(wav, music(1.0), 22050)
    command = [sys.executable, "-m", "spectral_enhance", "enhance", "-", "--model"]
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [*command, identity_model, "--precision", "fp32"],
            input=wav.read_bytes(),
            stdout=full,
            stderr=subprocess.PIPE,
        )
    err = done.stderr.decode()
    assert done.returncode == 1
    assert err.strip().endswith("error: (standard output): cannot write (No space left on device)")
    assert "Traceback" not in err and "Exception ignored" not in err
    assert "(standard output) (" not in err  # no line saying it was written, before it failed


@pytest.mark.parametrize(
    ("inputs", "extra", "problem"),
    [
        (["-", "other.mp3"], [], "'-' (standard input) must be the only INPUT"),
        (["-"], ["-o", "out"], "'-' writes to standard output: -o does not apply"),
        (["-"], ["--json"], "'-' writes the audio to standard output: --json cannot share it"),
        (
            ["a.mp3", "b.mp3"],
            ["-o", "-"],
            "-o - writes one file to standard output: give one INPUT file",
        ),
        (["."], ["-o", "-"], "-o - writes one file to standard output: give one INPUT file"),
        (
            ["a.mp3"],
            ["-o", "-", "--json"],
            "'-' writes the audio to standard output: --json cannot share it",
        ),
    ],
)
def test_standard_input_refuses_what_cannot_go_with_it(
    identity_model, capsys, inputs, extra, problem
):
    assert run(inputs, identity_model, *extra) == 2  # a usage error, as argparse gives
    assert capsys.readouterr().err.strip().endswith(f"error: {problem}")


@pytest.mark.parametrize("closed", ["stdin", "stdout"])
def test_a_closed_standard_stream_is_one_line(identity_model, capsys, monkeypatch, closed):
    """A shell's ``<&-`` or ``>&-`` leaves Python no such stream (None): one line, no
    traceback."""
    import sys

    monkeypatch.setattr(sys, closed, None)
    assert run(["-"], identity_model) == 1
    err = capsys.readouterr().err
    assert err.strip().endswith("'-' needs standard input and output, and one of them is closed")
    assert "Traceback" not in err


def test_standard_output_that_is_a_terminal_is_refused(identity_model, capsys, monkeypatch):
    """A usage error, exit 2, as ``-`` with ``-o`` or ``--json`` is."""
    import sys

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert run(["-"], identity_model) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("error: standard output is a terminal: redirect it (> out.wav) or pipe it")
    )


def test_a_file_shorter_than_one_stft_frame_is_enhanced_to_its_own_length(tmp_path, capsys):
    """30 ms of 96 kHz noise (SoX's), under the model's 46 ms frame, and a file of one sample:
    each comes out as long as it went in, at its own rate, its band rebuilt above a given cut;
    they were refused as "too short", where `Enhancer.enhance` took them."""
    import subprocess

    short = tmp_path / "short.wav"
    subprocess.run(["sox", "-n", "-r", "96000", "-c", "2", short, "synth", "0.03", "pinknoise",
                    "sinc", "-4k"], check=True)  # fmt: skip
    assert main(["enhance", str(short), "--lowpass", "4000", "-q"]) == 0
    out, rate = sf.read(tmp_path / "short.enhanced.wav", dtype="float32")
    assert rate == 96000 and out.shape == (2880, 2)
    spectrum = np.abs(np.fft.rfft(out[:, 0]))
    hz = np.fft.rfftfreq(len(out), 1 / rate)
    above, below = (hz > 6000) & (hz < 12000), (hz > 1000) & (hz < 3000)
    gained = spectrum[above].mean() / spectrum[below].mean()
    assert gained > 0.02  # the band above the cut rebuilt: SoX's filter leaves it at 0.006
    one = tmp_path / "one.wav"
    sf.write(one, np.full((1, 2), 0.1, np.float32), 44100)
    assert main(["enhance", str(one), "-q"]) == 0
    assert sf.read(tmp_path / "one.enhanced.wav")[0].shape == (1, 2)
    assert "error" not in capsys.readouterr().err


def test_a_cut_given_just_under_the_models_floor_is_told_apart_from_it(tmp_path, capsys):
    """--lowpass 2200 is under the 2.22 kHz the full-band model rebuilds from: the line gives
    both to 10 Hz, where "2.2 kHz, below the 2.2 kHz" read as a contradiction."""
    sf.write(tmp_path / "a.wav", music(1.0, 44100), 44100)
    assert main(["enhance", str(tmp_path / "a.wav"), "-q", "--lowpass", "2200"]) == 0
    err = capsys.readouterr().err
    assert "(cut given at 2.20 kHz, below the 2.22 kHz the model rebuilds from: kept" in err
    assert main(["enhance", str(tmp_path / "a.wav"), "-q", "--lowpass", "1500", "--overwrite"]) == 0
    assert "(cut given at 1.5 kHz, below the 2.2 kHz the model" in capsys.readouterr().err


def test_a_name_holding_a_newline_is_named_on_one_line(tmp_path, identity_model, capsys):
    """A file's name may hold any byte but / and NUL: a newline in one (made here by the shell's
    way, os.rename) is written as \\n, so its line, and a missing one's error, stay one line."""
    sf.write(tmp_path / "x.wav", music(1.0, 44100), 44100)
    odd = tmp_path / "two\nlines.wav"
    (tmp_path / "x.wav").rename(odd)
    assert run([odd, tmp_path / "gone\tnow.wav"], identity_model) == 1
    lines = capsys.readouterr().err.splitlines()
    (missing,) = [line for line in lines if line.startswith("error:")]
    assert missing == f"error: {tmp_path}/gone\\tnow.wav: no such file or folder"
    assert any(
        line.startswith(f"{tmp_path}/two\\nlines.wav -> {tmp_path}/two\\nl") for line in lines
    )
    assert not any(line.startswith("lines.") for line in lines)
    assert (tmp_path / "two\nlines.enhanced.wav").is_file()  # the file's own name, unescaped
    assert main(["enhance", str(tmp_path / "bad\x1b[31m.wav"), "--model", identity_model]) == 1
    assert "bad\\x1b[31m.wav: no such file" in capsys.readouterr().err


def test_more_threads_than_cores_is_said(tmp_path, identity_model, capsys, monkeypatch):
    """--threads past the cores this process may use still runs, but not silently: each
    thread holds a segment, so it takes more memory, and they take turns on the cores."""
    import spectral_enhance.inference.backends as backends
    import spectral_enhance.inference.enhancer as enhancer

    # at its home, where the command line reads it, and where `Enhancer.load` does
    for module in (backends, enhancer):
        monkeypatch.setattr(module, "usable_cores", lambda: 2)
    sf.write(tmp_path / "a.wav", music(1.0, 44100), 44100)
    assert run([tmp_path / "a.wav", "--threads", "9"], identity_model) == 0
    err = capsys.readouterr().err
    assert "warning: --threads 9 runs 9 threads at once on the 2 cores" in err
    assert run([tmp_path / "a.wav", "--threads", "2", "--overwrite"], identity_model) == 0
    assert run([tmp_path / "a.wav", "--overwrite"], identity_model) == 0
    assert "warning:" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("raised", "said"),
    [
        (KeyboardInterrupt("SIGTERM"), "interrupted by SIGTERM"),
        (KeyboardInterrupt("runs/x/last.pt: saved after step 2"), "interrupted: runs/x/last"),
        (KeyboardInterrupt(), "interrupted"),
        ("import", "interrupted by SIGINT"),  # ONNX Runtime's import, cut: an ImportError
    ],
)
def test_an_interrupted_command_says_by_what_and_what_it_kept(monkeypatch, capsys, raised, said):
    import spectral_enhance.inference.batch as batch

    if raised == "import":
        raised = ImportError("initialization failed")
        raised.__cause__ = KeyboardInterrupt("SIGINT")

    def interrupted(*args, **kwargs):
        raise raised

    monkeypatch.setattr(batch, "enhance_files", interrupted)
    assert main(["enhance", "x.wav"]) == 130
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(said) and (said != "interrupted" or line == said)


@pytest.mark.parametrize("depth", ["float", "32"])
def test_options_that_cannot_go_together_are_a_usage_error(tmp_path, identity_model, capsys, depth):
    sf.write(tmp_path / "a.wav", music(1.0), 22050)
    assert run([tmp_path / "a.wav", "--format", "flac", "--bit-depth", depth], identity_model) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"spectral-enhance enhance: error: FLAC holds 16 or 24-bit samples, not {depth}"
    assert not list(tmp_path.glob("a.enhanced.*"))


def test_a_run_leaves_nothing_of_onnx_runtimes_telemetry(tmp_path):
    """ONNX Runtime 1.29 on starts telemetry on import (a device id and a database under
    ~/.cache/Microsoft, a ".ses" in TMPDIR, uploads): a run of `enhance` writes none of it."""
    import os
    import subprocess
    import sys

    home, temporary = tmp_path / "home", tmp_path / "tmp"
    home.mkdir(), temporary.mkdir()
    sf.write(tmp_path / "a.wav", music(0.5, 44100), 44100)
    env = {
        k: v for k, v in os.environ.items() if k not in ("ORT_DISABLE_TELEMETRY", "XDG_CACHE_HOME")
    }
    env |= {"HOME": str(home), "TMPDIR": str(temporary)}
    command = [sys.executable, "-m", "spectral_enhance", "enhance", "a.wav", "--lowpass", "5000"]
    subprocess.run([*command, "-q"], cwd=tmp_path, env=env, check=True, capture_output=True)
    assert (tmp_path / "a.enhanced.wav").exists()
    assert not list(home.rglob("*")) and not list(temporary.rglob("*"))
