"""The batch runner as a user meets it: collisions, skipped inputs, signals, disks and clipping."""

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import HUNG, music
from spectral_enhance.audio import open_audio
from spectral_enhance.cli import get_parser, main
from spectral_enhance.inference import one_file


def run(args, model, *extra):
    return main(["enhance", *map(str, args), "--model", model, "--precision", "fp32", "-q", *extra])


def lines(err: str, start: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(start)]


def test_two_inputs_with_one_output_name_never_overwrite(tmp_path, identity_model, capsys):
    """song.flac and song.wav in one folder: the second in name order says its kind in its
    output's name, as `serve` names it (the MP3 beside a lossless copy was left out); two
    song.wav from two folders into one -o: the second is left out, named."""
    sf.write(tmp_path / "song.wav", music(1.0, seed=1), 22050)
    sf.write(tmp_path / "song.flac", music(1.0, seed=2), 22050)
    assert run([tmp_path], identity_model, "--sample-rate", "22050") == 0
    err = capsys.readouterr().err
    assert "2 enhanced, 0 kept (output exists), 0 skipped" in err
    first, _ = sf.read(tmp_path / "song.enhanced.wav", dtype="float32")
    np.testing.assert_allclose(first, music(1.0, seed=2), atol=1e-4)  # song.flac's
    second, _ = sf.read(tmp_path / "song (wav).enhanced.wav", dtype="float32")
    np.testing.assert_allclose(second, music(1.0, seed=1), atol=1e-4)
    assert run([tmp_path], identity_model, "--sample-rate", "22050") == 0  # again: both kept
    err = capsys.readouterr().err
    assert "0 enhanced, 2 kept (output exists), 0 skipped" in err
    assert "is an output of this tool" not in err  # each output named once, as kept
    (tmp_path / "b").mkdir()
    sf.write(tmp_path / "b" / "song.wav", music(1.0, seed=3), 22050)
    sources = [tmp_path / "song.wav", tmp_path / "b" / "song.wav", "-o", tmp_path / "out"]
    assert run(sources, identity_model, "--sample-rate", "22050") == 0
    err = capsys.readouterr().err
    (refused,) = [line for line in err.splitlines() if "b/song.wav: its output" in line]
    assert f"is also {tmp_path / 'song.wav'}'s; skipped" in refused
    kept, _ = sf.read(tmp_path / "out" / "song.enhanced.wav", dtype="float32")
    np.testing.assert_allclose(kept, music(1.0, seed=1), atol=1e-4)


def test_an_input_given_twice_is_enhanced_once_and_named(tmp_path, identity_model, capsys):
    sf.write(tmp_path / "song.wav", music(1.0), 22050)
    assert run([tmp_path / "song.wav", tmp_path / "song.wav", tmp_path], identity_model) == 0
    err = capsys.readouterr().err  # named twice, found a third time: one line
    assert err.count(f"{tmp_path / 'song.wav'}: given more than once; taken once") == 1
    assert "1 enhanced, 0 kept (output exists), 1 skipped" in err


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_a_name_that_is_not_utf8_is_enhanced_under_its_own_name(tmp_path, identity_model, fmt):
    """A Latin-1 ``café.wav`` (the byte 0xE9, not UTF-8; Python holds it as a lone surrogate),
    named and found in a folder: its output keeps the name's bytes (libsndfile's writer takes
    only UTF-8 paths: the temporary file's name leaves the byte out)."""
    sf.write(tmp_path / "x.wav", music(1.0), 22050)
    try:
        os.rename(tmp_path / "x.wav", os.fsencode(tmp_path) + b"/caf\xe9.wav")
    except OSError:
        pytest.skip("this file system takes UTF-8 names only")
    source = tmp_path / os.fsdecode(b"caf\xe9.wav")
    assert run([source], identity_model, "--format", fmt, "--sample-rate", "22050") == 0
    with open(os.fsencode(tmp_path) + b"/caf\xe9.enhanced." + fmt.encode(), "rb") as out:
        np.testing.assert_allclose(sf.read(out)[0], music(1.0), atol=1e-4)
    assert sorted(os.listdir(os.fsencode(tmp_path))) == [
        b"caf\xe9.enhanced." + fmt.encode(),
        b"caf\xe9.wav",
    ]
    assert run([tmp_path, "-o", tmp_path / "out", "--format", fmt], identity_model) == 0
    assert os.listdir(os.fsencode(tmp_path / "out")) == [b"caf\xe9.enhanced." + fmt.encode()]


@pytest.mark.parametrize("stem", ["a" * 250, "音" * 83])
def test_a_name_too_long_for_the_ending_is_cut_to_fit(tmp_path, identity_model, capsys, stem):
    """An input named up to the 255 bytes a file name holds (250 ASCII letters, or 83 CJK
    characters: 249 bytes): its output's name is cut, at a whole character, to fit with
    ``.enhanced.wav``; it failed with 'File name too long'."""
    sf.write(tmp_path / f"{stem}.wav", music(1.0), 22050)
    assert run([tmp_path / f"{stem}.wav"], identity_model) == 0
    (out,) = [p for p in tmp_path.iterdir() if p.name.endswith(".enhanced.wav")]
    assert len(os.fsencode(out.name)) <= 255 and stem.startswith(out.name[: -len(".enhanced.wav")])
    assert f"-> {out}" in capsys.readouterr().err


def test_a_link_at_the_output_leading_nowhere_is_kept(tmp_path, identity_model, capsys):
    sf.write(tmp_path / "song.wav", music(1.0), 22050)
    (tmp_path / "song.enhanced.wav").symlink_to(tmp_path / "gone.wav")
    assert run([tmp_path / "song.wav"], identity_model) == 0
    assert "song.enhanced.wav: exists, kept (use --overwrite" in capsys.readouterr().err
    assert (tmp_path / "song.enhanced.wav").is_symlink()


def test_a_folder_s_other_files_are_named_in_one_line(tmp_path, identity_model, capsys):
    """An album's cover and notes are not tried, and one line says so; an audiobook's ``.m4b``
    (made by FFmpeg) is audio by its name, and enhanced."""
    album = tmp_path / "Album"
    album.mkdir()
    sf.write(album / "01.wav", music(1.0), 22050)
    run_tool = shutil.which("ffmpeg")
    if run_tool is None:
        pytest.skip("Debian ffmpeg is not installed")
    subprocess.run(
        [run_tool, "-v", "error", "-i", album / "01.wav", "-c:a", "aac", album / "book.m4b"],
        check=True,
    )
    for name in ("cover.jpg", "notes.txt", "back.jpg", ".DS_Store"):
        (album / name).write_bytes(b"not audio")
    assert run([album, "-o", tmp_path / "out"], identity_model) == 0
    err = capsys.readouterr().err
    assert f"{album}: 3 file(s) not tried, not audio by their names (.jpg 2, .txt 1)" in err
    assert "2 enhanced, 0 kept (output exists), 0 skipped" in err


def test_same_names_in_two_folders_into_one_output_folder(tmp_path, identity_model, capsys):
    for folder in "ab":
        (tmp_path / folder).mkdir()
        sf.write(tmp_path / folder / "x.wav", music(1.0), 22050)
    assert run([tmp_path / "a", tmp_path / "b", "-o", tmp_path / "out"], identity_model) == 0
    err = capsys.readouterr().err
    assert any("b/x.wav: its output" in line for line in err.splitlines())
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["x.enhanced.wav"]


def test_a_library_keeps_its_tree_in_the_output_folder(tmp_path, identity_model, capsys):
    """Two albums' ``01`` are two outputs: each file keeps its place below the folder given."""
    library = tmp_path / "Music"
    for album, seed in (("Album A", 1), ("Album B/Disc 2", 2)):
        (library / album).mkdir(parents=True)
        sf.write(library / album / "01.wav", music(1.0, seed=seed), 22050)
    sf.write(tmp_path / "single.wav", music(1.0, seed=3), 22050)
    out = tmp_path / "restored"
    args = [library, tmp_path / "single.wav", "-o", out, "--sample-rate", "22050"]
    assert run(args, identity_model) == 0
    assert "3 enhanced, 0 kept (output exists), 0 skipped" in capsys.readouterr().err
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.wav"))
    assert written == [
        "Album A/01.enhanced.wav",
        "Album B/Disc 2/01.enhanced.wav",
        "single.enhanced.wav",
    ]
    second, _ = sf.read(out / "Album B/Disc 2/01.enhanced.wav", dtype="float32")
    np.testing.assert_allclose(second, music(1.0, seed=2), atol=1e-4)


def test_an_output_folder_inside_the_library_is_not_searched(tmp_path, identity_model, capsys):
    """``enhance ~/Music -o ~/Music/restored``, run again: the outputs' folder is one line, not
    a line for each earlier output found in it."""
    library = tmp_path / "Music"
    (library / "Album").mkdir(parents=True)
    for n in (1, 2):
        sf.write(library / "Album" / f"0{n}.wav", music(1.0, seed=n), 22050)
    out = library / "restored"
    for _ in ("first run", "second run"):
        assert run([library, "-o", out, "--sample-rate", "22050"], identity_model) == 0
        err = capsys.readouterr().err
    assert err.count("is an output of this tool") == 0
    assert f"{out}: the folder the outputs go to; not searched" in err
    assert "0 enhanced, 2 kept (output exists), 1 skipped" in err
    assert sorted(p.name for p in out.rglob("*.wav")) == ["01.enhanced.wav", "02.enhanced.wav"]


def test_hidden_files_in_a_folder_are_named_and_left_out(tmp_path, identity_model, capsys):
    """A library copied from a Mac holds ``._NAME.mp3`` (AppleDouble metadata, not audio) beside
    each file; they are skipped by name, not failed, and a hidden file named directly is tried."""
    album = tmp_path / "Music" / "Album"
    (tmp_path / "Music" / ".Trash-1000").mkdir(parents=True)
    album.mkdir()
    sf.write(album / "01.wav", music(1.0, seed=1), 22050)
    (album / "._01.wav").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    sf.write(tmp_path / "Music" / ".Trash-1000" / "old.wav", music(1.0, seed=2), 22050)
    sf.write(tmp_path / ".named.wav", music(1.0, seed=3), 22050)
    assert run([tmp_path / "Music", tmp_path / ".named.wav"], identity_model) == 0
    err = capsys.readouterr().err
    hidden = [line for line in err.splitlines() if ": a hidden file" in line]
    assert sorted(hidden) == [
        f"{tmp_path / 'Music' / '.Trash-1000' / 'old.wav'}: a hidden file (a name starting "
        "with '.'); skipped",
        f"{album / '._01.wav'}: a hidden file (a name starting with '.'); skipped",
    ]
    assert "2 enhanced, 0 kept (output exists), 2 skipped, 0 failed" in err
    assert (album / "01.enhanced.wav").exists() and (tmp_path / ".named.enhanced.wav").exists()


def test_an_output_expected_past_a_wavs_4_gib_is_written_as_rf64(
    tmp_path, identity_model, monkeypatch
):
    """``enhance`` tells the writer the container's length (here over a 64 KiB limit: see
    test_audio), so the output is written as RF64, a WAV with the same samples under 4 GiB."""
    from spectral_enhance.audio import write

    monkeypatch.setattr(write, "WAV_LIMIT", 1 << 16)
    x = music(1.0, 44100, channels=2)
    sf.write(tmp_path / "long.wav", x, 44100, subtype="FLOAT")
    assert run([tmp_path / "long.wav"], identity_model) == 0
    output = tmp_path / "long.enhanced.wav"
    assert b"JUNK" in output.read_bytes()[:64]
    np.testing.assert_allclose(sf.read(output, dtype="float32")[0], x, atol=1e-4)


def test_linked_folders_are_searched_once_and_broken_links_named(tmp_path, identity_model, capsys):
    """A library's album linked in from elsewhere is enhanced; a link back up does not loop and
    a second way to the same album is named, as is a link to a file that is gone."""
    (tmp_path / "disk" / "Album").mkdir(parents=True)
    sf.write(tmp_path / "disk" / "Album" / "01.wav", music(1.0, seed=1), 22050)
    library = tmp_path / "Music"
    library.mkdir()
    (library / "Album").symlink_to(tmp_path / "disk" / "Album")
    (library / "Same album").symlink_to(tmp_path / "disk" / "Album")
    (library / "Up").symlink_to(library)
    (library / "gone.wav").symlink_to(tmp_path / "nowhere.wav")
    out = tmp_path / "out"
    assert run([library, "-o", out, "--sample-rate", "22050"], identity_model) == 0
    err = capsys.readouterr().err
    album = tmp_path / "disk" / "Album"
    assert f"{library / 'Same album'}: the folder {album}, searched already; skipped" in err
    assert f"{library / 'Up'}: the folder {library}, searched already; skipped" in err
    assert f"{library / 'gone.wav'}: a broken link; skipped" in err
    assert "1 enhanced, 0 kept (output exists), 3 skipped, 0 failed" in err
    assert [str(p.relative_to(out)) for p in out.rglob("*.wav")] == ["Album/01.enhanced.wav"]


def test_nothing_is_silent(tmp_path, identity_model, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "covers").mkdir()
    (tmp_path / "covers" / "front.jpg").write_bytes(b"\xff\xd8 not audio")
    sf.write(tmp_path / "old.enhanced.wav", music(1.0), 22050)
    sources = [tmp_path / "empty", tmp_path / "covers", tmp_path / "old.enhanced.wav"]
    assert run(sources, identity_model) == 1  # nothing given could be enhanced
    err = capsys.readouterr().err
    assert any(
        "empty: no audio files in this folder (nothing)" in line for line in err.splitlines()
    )
    assert any(
        "covers: no audio files in this folder (1 other" in line for line in err.splitlines()
    )
    assert any("old.enhanced.wav: is an output of this tool" in line for line in err.splitlines())
    assert "nothing enhanced: 0 enhanced, 0 kept (output exists), 3 skipped" in err


def test_a_rerun_that_finds_every_output_done_succeeds_and_says_so(
    tmp_path, identity_model, capsys
):
    sf.write(tmp_path / "a.wav", music(1.0), 22050)
    assert run([tmp_path / "a.wav"], identity_model) == 0
    assert run([tmp_path / "a.wav"], identity_model) == 0
    assert "0 enhanced, 1 kept (output exists)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["--sample-rate", "0"],
        ["--sample-rate", "44.1k"],
        ["--jobs", "0"],
        ["--threads", "-1"],
        ["--bit-depth", "12"],
        ["--strength", "1.5"],
        ["--strength", "-0.1"],
        ["--strength", "nan"],
        ["--strength", "full"],
        ["--lowpass", "-1"],
        ["--lowpass", "nan"],
        ["--lowpass", "7.6k"],
    ],
)
def test_numeric_options_are_checked_when_parsed(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        get_parser().parse_args(["enhance", "a.mp3", *args])
    assert exit_info.value.code == 2
    assert args[0] in capsys.readouterr().err


def test_version_and_help_list_the_bundled_models(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("spectral-enhance ")
    with pytest.raises(SystemExit):
        main(["enhance", "--help"])
    out = capsys.readouterr().out
    assert "spectral-n1" in out and "spectral-n5" in out and "--bit-depth" in out


def test_float_output_keeps_peaks_and_integer_output_says_it_clipped(
    tmp_path, identity_model, capsys
):
    loud = music(1.0) * (1.6 / 0.3)  # peaks at 1.6: over full scale after the identity model
    sf.write(tmp_path / "loud.wav", loud, 22050, subtype="FLOAT")
    assert run([tmp_path / "loud.wav"], identity_model) == 0
    kept, _ = sf.read(tmp_path / "loud.enhanced.wav", dtype="float32")
    assert np.max(np.abs(kept)) > 1.5 and not lines(capsys.readouterr().err, "warning:")
    assert run([tmp_path / "loud.wav", "--bit-depth", "16", "--overwrite"], identity_model) == 0
    (warning,) = lines(capsys.readouterr().err, "warning:")
    assert "loud.enhanced.wav" in warning and "clipped" in warning
    assert warning.endswith("; --bit-depth float keeps them")
    assert sf.info(tmp_path / "loud.enhanced.wav").subtype == "PCM_16"
    assert run([tmp_path / "loud.wav", "--format", "flac"], identity_model) == 0
    (warning,) = lines(capsys.readouterr().err, "warning:")  # advice FLAC can take
    assert warning.endswith(
        "; FLAC holds no float samples: a WAV (--format wav, float by default) keeps them"
    )


def test_16_bit_output_is_dithered_so_a_quiet_tone_leaves_noise_not_harmonics(
    tmp_path, identity_model
):
    """A 1 kHz tone of 0.7 of a 16-bit step, written at 16 bits: rounded as it is it would
    become a three-level wave whose 3rd harmonic stands 9 dB under it; dithered, the tone
    stays over a flat noise floor with no harmonic above it. The same input, the same bytes."""
    rate, n = 44100, 4 * 44100
    tone = (0.7 / 32767 * np.sin(2 * np.pi * 1000 * np.arange(n) / rate)).astype(np.float32)
    sf.write(tmp_path / "quiet.wav", tone, rate, subtype="FLOAT")
    args = [tmp_path / "quiet.wav", "-o", tmp_path / "out", "--bit-depth", "16"]
    assert run(args, identity_model) == 0
    output = tmp_path / "out" / "quiet.enhanced.wav"
    written = output.read_bytes()
    out, _ = sf.read(output, dtype="float64")

    def level(x, hz):  # power at ``hz`` over the median of the bins around it
        spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
        at = round(hz * len(x) / rate)
        return spectrum[at - 2 : at + 3].max() / np.median(spectrum[at - 200 : at + 200])

    rounded = np.round(tone * 32767) / 32767
    assert level(rounded, 3000) > 1e3  # what rounding alone leaves: a harmonic
    assert level(out, 1000) > 1e3 and level(out, 3000) < 30
    assert run([*args, "--overwrite"], identity_model) == 0
    assert output.read_bytes() == written


def test_a_16_bit_file_kept_as_it_is_comes_back_bit_for_bit(tmp_path, capsys):
    """A 16-bit lossless file with nothing to rebuild, written at 16 bits: no sample needs
    rounding, so none is dithered; the output's samples are the input's."""
    x = np.random.default_rng(0).integers(-32768, 32767, (3 * 44100, 2), dtype=np.int16)
    sf.write(tmp_path / "full.flac", x, 44100, subtype="PCM_16")
    args = ["enhance", str(tmp_path / "full.flac"), "-q", "--format", "flac", "--bit-depth", "16"]
    assert main(args) == 0
    assert "no low-pass found: kept as it is" in capsys.readouterr().err
    out, _ = sf.read(tmp_path / "full.enhanced.flac", dtype="int16")
    np.testing.assert_array_equal(out, x)


def test_the_line_says_what_limits_the_band_and_what_strength_0_writes(
    tmp_path, identity_model, capsys
):
    sf.write(tmp_path / "low.wav", _lowpassed_noise(5, 22050, 6000), 22050)
    source = [tmp_path / "low.wav"]

    def line(*extra: str) -> tuple[str, dict]:
        assert run(source, identity_model, "--overwrite", "--json", *extra) == 0
        captured = capsys.readouterr()
        (done,) = [line for line in captured.err.splitlines() if " -> " in line]
        return done, json.loads(captured.out)["files"][0]

    done, entry = line("--strength", "0")
    assert done.endswith("(cut at 6.0 kHz: --strength 0 writes the input as it is)")
    assert entry["rebuilt_hz"] is None and entry["lowpass_hz"] is not None
    done, _ = line("--sample-rate", "8000")
    assert done.endswith("(cut at 6.0 kHz, above the 4.0 kHz the output holds: nothing to rebuild)")
    done, _ = line("--lowpass", "30000")
    assert done.endswith(
        "(cut given at 11.0 kHz, at the 11.0 kHz the model reaches: nothing to rebuild)"
    )


def test_m4a_input(tmp_path, identity_model):
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("Debian ffmpeg is not installed")
    sf.write(tmp_path / "src.wav", music(2.0, 44100, channels=2), 44100)
    m4a = tmp_path / "song.m4a"
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", tmp_path / "src.wav", "-c:a", "aac", "-b:a", "96k", m4a],
        check=True,
    )
    assert run([m4a], identity_model) == 0
    out, rate = sf.read(tmp_path / "song.enhanced.wav")
    assert rate == 44100 and out.shape[1] == 2 and abs(len(out) - 88200) <= 2048


def test_a_name_at_the_file_system_limit_gets_a_temporary_name_that_fits(tmp_path, identity_model):
    stem = "x" * (255 - len(".enhanced.wav"))
    sf.write(tmp_path / f"{stem}.wav"[-255:], music(1.0), 22050)
    source = next(tmp_path.iterdir())
    assert run([source], identity_model) == 0
    assert (tmp_path / (source.stem + ".enhanced.wav")).exists()


def _mount_tiny_disk(folder) -> bool:
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True
    )
    return done.returncode == 0


def test_a_full_disk_names_the_output_and_leaves_nothing(tmp_path, identity_model, capsys):
    sf.write(tmp_path / "a.wav", music(3.0), 22050)
    disk = tmp_path / "disk"
    mounted = os.geteuid() == 0 and _mount_tiny_disk(disk)
    try:
        if not mounted:  # no tmpfs to fill: make the disk look full as libsndfile reports it
            pytest.MonkeyPatch().setattr(
                shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, 0)
            )
            disk.mkdir(exist_ok=True)
            original = sf.SoundFile.write

            def full(self, data):
                if str(self.name).startswith(str(disk)):
                    raise OSError(errno.ENOSPC, "No space left on device")
                return original(self, data)

            pytest.MonkeyPatch().setattr(sf.SoundFile, "write", full)
        assert run([tmp_path / "a.wav", "-o", disk], identity_model) == 1
        (error,) = lines(capsys.readouterr().err, "error:")
        assert "a.enhanced.wav: the disk is full" in error
        assert list(disk.iterdir()) == []
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], check=False)


@pytest.fixture(scope="module")
def long_input(tmp_path_factory):
    """15 minutes of noise at 8 kHz: a couple of seconds of work, a wide window to signal in."""
    path = tmp_path_factory.mktemp("long") / "long.wav"
    noise = 0.1 * np.random.default_rng(0).standard_normal(900 * 8000)
    sf.write(path, noise.astype(np.float32), 8000, subtype="PCM_16")
    return path


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_leaves_no_partial_file(tmp_path, identity_model, long_input, signum):
    out = tmp_path / "out"
    command = [sys.executable, "-X", "faulthandler", "-m", "spectral_enhance", "enhance"]
    command += [str(long_input), "-o", str(out), "--model", identity_model, "-q"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + HUNG
    while not (out.exists() and any(out.glob("*.part"))) and time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"finished before the signal: {process.stderr.read()}")
        time.sleep(0.01)
    process.send_signal(signum)
    _, err = process.communicate(timeout=HUNG)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(out.iterdir()) == []


def test_a_temporary_output_swept_before_its_lock_is_made_again(tmp_path, monkeypatch):
    """`atomic_path`: another run's sweep (`remove_leftovers`) that comes between the temporary
    file's making and its lock takes it for a dead run's and removes it; the maker, finding its
    file gone once it holds the lock, makes another, which the next sweep leaves alone."""
    from spectral_enhance import atomic

    target, real_lock, swept = tmp_path / "out.wav", atomic._lock, []

    def lock(handle: int, wait: bool) -> bool:
        if wait and not swept:  # the maker's first lock: another run sweeps just before it
            swept.append(atomic.remove_leftovers(target))
        return real_lock(handle, wait)

    monkeypatch.setattr(atomic, "_lock", lock)
    with atomic.atomic_path(target) as temp:
        atomic.remove_leftovers(target)  # a sweep while it is written
        assert temp.exists()
        temp.write_bytes(b"data")
    assert swept and target.read_bytes() == b"data"
    assert list(tmp_path.iterdir()) == [target]


def test_a_run_killed_outright_leaves_what_the_next_run_removes(
    tmp_path, identity_model, long_input
):
    """SIGKILL, which no handler sees, leaves the temporary output behind: the next run that
    writes the same output removes it, but not the one another run still writes."""
    out = tmp_path / "out"

    def start(source: Path) -> subprocess.Popen:
        command = [sys.executable, "-m", "spectral_enhance", "enhance", str(source), "-o"]
        command += [str(out), "--model", identity_model, "-q", "--overwrite"]
        return subprocess.Popen(command, stderr=subprocess.PIPE, text=True)

    def written(path: Path) -> bool:
        with contextlib.suppress(FileNotFoundError):
            return path.stat().st_size > 0
        return False

    def writing(besides: set[Path] = set()) -> list[Path]:  # noqa: B006  read only
        # a run's temporary output once it has data: it holds its lock from before the first
        # byte (stopped between making the file and locking it, it would not)
        deadline = time.monotonic() + HUNG
        while time.monotonic() < deadline:
            if parts := {p for p in out.glob(".*.part") if written(p)} - besides:
                return list(parts)
            time.sleep(0.01)
        return []

    (short := tmp_path / "short" / long_input.name).parent.mkdir()
    sf.write(short, music(0.5, 8000), 8000)  # another file whose output is the same
    killed = start(long_input)
    (left,) = writing()
    killed.kill()
    killed.wait()
    assert left.exists()
    running = start(long_input)
    (theirs,) = writing({left})
    assert not left.exists()  # the live run's start removed the dead one's
    running.send_signal(signal.SIGSTOP)  # still writing, and holding its lock, however long
    short_run = start(short)  # the same output, written meanwhile
    _, err = short_run.communicate(timeout=HUNG)
    assert short_run.returncode == 0, err
    assert theirs.exists()  # another run's, still being written: kept
    running.terminate()
    running.send_signal(signal.SIGCONT)
    running.communicate(timeout=HUNG)
    assert [p.name for p in out.iterdir()] == [f"{long_input.stem}.enhanced.wav"]


@pytest.mark.parametrize("to_group", [True, False], ids=["ctrl-c", "main-only"])
def test_an_interrupt_stops_every_job_and_names_what_is_undone(
    tmp_path, identity_model, long_input, to_group
):
    """``--jobs 2``: the two files in hand stop, the third is not begun, and each is named; a
    terminal's Ctrl-C reaches the workers too, a ``kill`` only the main process."""
    sources = [shutil.copy(long_input, tmp_path / f"{n}.wav") for n in "abc"]
    out = tmp_path / "out"
    command = [sys.executable, "-m", "spectral_enhance", "enhance", *sources, "-o", str(out)]
    command += ["--model", identity_model, "-q", "--jobs", "2", "--json"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + HUNG
    while len(list(out.glob(".*.part"))) < 2 and time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"finished before the signal: {process.stderr.read()}")
        time.sleep(0.01)
    if to_group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGINT)
    printed, err = process.communicate(timeout=HUNG)
    assert process.returncode == 130, err
    assert list(out.iterdir()) == []  # nothing finished after the signal, nothing left over
    statuses = [entry["status"] for entry in json.loads(printed)["files"]]
    assert statuses == ["interrupted", "interrupted", "not begun"]
    assert len(lines(err, str(tmp_path / "a.wav") + ": interrupted before it was finished")) == 1
    assert f"interrupted: 1 more not begun, from {tmp_path / 'c.wav'} on" in err
    assert "3 not done" in err and "Traceback" not in err


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux's /proc), a worker pool's among them."""
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_a_ctrl_c_while_the_workers_import_stops_the_run_in_its_lines(tmp_path, identity_model):
    """A terminal's Ctrl-C in the second the two spawned workers take to import: the run stops
    with its own lines and no worker prints a traceback (each did, 3 times in 3), and no
    semaphore is left to the resource tracker's warning."""
    for n in "abc":
        sf.write(tmp_path / f"{n}.wav", music(0.5), 22050)
    command = [sys.executable, "-m", "spectral_enhance", "enhance", str(tmp_path), "-o"]
    command += [str(tmp_path / "out"), "--model", identity_model, "-q", "--jobs", "2"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + HUNG  # the resource tracker, then two workers
    while len(_children(process.pid)) < 3 and time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"finished before the signal: {process.stderr.read()}")
        time.sleep(0.002)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=HUNG)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "leaked" not in err, err
    assert "interrupted: 3 more not begun" in err


def test_the_progress_bar_shows_percent_and_time_left(
    tmp_path, identity_model, capsys, monkeypatch
):
    """On a terminal; into a log file (standard error not a terminal) none is written."""
    sf.write(tmp_path / "a.wav", music(3.0), 22050)
    args = ["enhance", str(tmp_path / "a.wav"), "--model", identity_model, "--overwrite"]
    assert main(args) == 0
    assert "%|" not in capsys.readouterr().err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(args) == 0
    bar = capsys.readouterr().err.replace("\r", "\n")
    assert re.search(r"a\.wav: +\d+%\|.*\| \d+/3 s \[\d\d:\d\d<", bar), bar


def test_the_progress_bar_counts_a_file_that_states_no_length(
    tmp_path, identity_model, capsys, monkeypatch
):
    """Debian ``lame -t``'s VBR MP3 (no Xing tag), 6 s of silence then 3 s of music: FFmpeg
    guesses 15 s from its first frames' bit rate, and the bar said "/15 s". On a terminal its
    packets are counted for the bar (9 s); into a log file, with no bar, they are not."""
    source = np.concatenate([np.zeros(6 * 44100, np.float32), music(3.0, 44100)])
    sf.write(tmp_path / "t.wav", np.stack([source, source], 1), 44100)
    mp3 = tmp_path / "t.mp3"
    subprocess.run(["lame", "--quiet", "-t", "-V2", tmp_path / "t.wav", mp3], check=True)
    with open_audio(mp3) as reader:
        assert reader.info.expected is None and reader.info.estimated_samples > 14 * 44100
    args = ["enhance", str(mp3), "--model", identity_model, "-o"]

    def not_counted(*_):
        raise AssertionError("counted with no bar to show")

    with monkeypatch.context() as patched:
        patched.setattr(one_file, "counted_length", not_counted)
        assert main([*args, str(tmp_path / "log")]) == 0
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main([*args, str(tmp_path / "terminal")]) == 0
    bar = capsys.readouterr().err.replace("\r", "\n")
    totals = set(re.findall(r"t\.mp3: +\d+%\|.*\| [\d.]+/([\d.]+) s", bar))
    assert totals == {"9"}, bar


@pytest.mark.parametrize(
    "args",
    [
        ["train", "data", "--out", "run", "--batch-size", "0"],
        ["train", "data", "--out", "run", "--lr", "fast"],
        ["dataset", "music", "--out", "data", "--jobs", "0"],
        ["dataset", "music", "--out", "data", "--sample-rate", "100"],
        ["evaluate", "data", "--limit", "-1"],
    ],
)
def test_other_commands_check_numbers_when_parsed(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        get_parser().parse_args(args)
    assert exit_info.value.code == 2
    (err,) = capsys.readouterr().err.splitlines()  # one line: no usage block above it
    assert args[-2] in err and ("must be" in err or "not a number" in err)
    assert err.endswith(f"(`spectral-enhance {args[0]} --help` lists the options)")


def _lowpassed_noise(seconds: float, rate: int, cutoff: float | None, seed: int = 0):
    """White noise, brick-wall low-passed at ``cutoff`` Hz (None: full band)."""
    noise = np.random.default_rng(seed).standard_normal(int(seconds * rate))
    if cutoff is not None:
        spectrum = np.fft.rfft(noise)
        spectrum[np.fft.rfftfreq(len(noise), 1 / rate) > cutoff] = 0
        noise = np.fft.irfft(spectrum, len(noise))
    return (0.1 * noise).astype(np.float32)


def test_the_band_is_measured_over_the_whole_file(tmp_path, identity_model, capsys):
    """A silent intro longer than a read block hides nothing; each file's line says what is
    rebuilt; the band above the model's is kept at the default rate, and only an output rate
    too low for the input's band loses it, with a warning."""
    rate = 44100
    intro = np.zeros(30 * rate, np.float32)  # longer than a read block (2^20 samples)
    sf.write(tmp_path / "late.wav", np.concatenate([intro, _lowpassed_noise(3, rate, None)]), rate)
    sf.write(tmp_path / "narrow.wav", _lowpassed_noise(5, rate, 13000), rate)
    sf.write(tmp_path / "low.wav", _lowpassed_noise(5, 22050, 6000), 22050)
    paths = [tmp_path / name for name in ("late.wav", "narrow.wav", "low.wav")]
    assert run(paths, identity_model) == 0
    err = capsys.readouterr().err
    assert not lines(err, "warning:"), err
    done = {
        line.split(" -> ")[0].split("/")[-1]: line for line in err.splitlines() if " -> " in line
    }
    assert done["late.wav"].endswith("(no low-pass found: nothing to rebuild)")
    assert done["narrow.wav"].endswith(
        "(cut at 13.0 kHz, above the 11.0 kHz the model reaches: nothing to rebuild)"
    )
    assert done["low.wav"].endswith("(cut at 6.0 kHz, rebuilding 6.0-11.0 kHz)")
    assert run(paths, identity_model, "--sample-rate", "22050", "--overwrite") == 0
    err = capsys.readouterr().err
    warned = {line.split(":")[1].strip().split("/")[-1] for line in lines(err, "warning:")}
    assert warned == {"late.wav", "narrow.wav"}, err
    assert "narrow.wav: has content up to 13.0 kHz, above the 11.0 kHz an output at 22050 Hz" in err


def test_a_file_that_kills_its_worker_fails_alone(tmp_path, identity_model):
    """With --jobs, a worker that dies (here killed outright with one file in hand, as a crash
    in a library would end it) broke the pool, and every file of the run failed. Now the files
    after go to a new pool and the one in hand is tried again alone: only the file that kills
    its process fails, the others are enhanced, and no temporary output is left."""
    import subprocess
    import sys

    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import os, signal\n"
        "import spectral_enhance.inference.batch as batch\n"
        "real = batch._enhance_one\n"
        "def dying(job):\n"
        "    if job[0].name.startswith('dies'):\n"
        "        open(job[1].parent / ('.' + job[1].name + '.xxxxxxxx.part'), 'w').close()\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return real(job)\n"
        "batch._enhance_one = dying\n"
    )
    names = ["a.wav", "b.wav", "dies.wav", "e.wav", "f.wav"]
    for i, name in enumerate(names):
        sf.write(tmp_path / name, music(1.0, 22050, seed=i), 22050)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "spectral_enhance", "enhance", "--jobs", "2", "-o", str(out)]
    command += ["--model", identity_model, "--precision", "fp32", "-q"]
    env = {**os.environ, "PYTHONPATH": f"{hook}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(
        [*command, *(str(tmp_path / n) for n in names)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {tmp_path / 'dies.wav'}: the process enhancing it ended abruptly (a crash in a "
        "library it uses); nothing written"
    ]
    made = sorted(path.name for path in out.iterdir())
    assert made == [n.replace(".wav", ".enhanced.wav") for n in names if n != "dies.wav"]
    assert "4 enhanced" in done.stderr and "1 failed" in done.stderr
