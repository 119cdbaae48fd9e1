import csv
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import music
from spectral_enhance.cli import main
from spectral_enhance.dataset.build import DatasetConfig, build_dataset
from spectral_enhance.dataset.manifest import read_manifest
from spectral_enhance.dataset.recipe import DegradationRecipe, degrade, transcode


def make_tracks(folder, count=6, seconds=2.0):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        sf.write(folder / f"track{i}.flac", music(seconds, 44100, channels=2, seed=i), 44100)
    return folder


def test_recipe_pair_is_aligned_and_low_lacks_the_high_band():
    x = music(3.0, 22050, seed=3)
    low, high = degrade(x, 22050)
    assert low.shape == high.shape == x.shape
    snr = 10 * np.log10(np.sum(high**2) / np.sum((high - low) ** 2))
    assert snr > 8  # aligned; misaligned pairs score below 0 dB
    spectrum = lambda s: np.abs(np.fft.rfft(s)) ** 2  # noqa: E731
    top = slice(int(len(x) * 9500 / 22050), None)
    assert spectrum(low)[top].sum() < 0.01 * spectrum(high)[top].sum()


def test_degrade_resamples_and_downmixes():
    x = music(1.0, 44100, channels=2)
    low, _ = degrade(x, 44100, DegradationRecipe())
    assert low.ndim == 1 and len(low) == 22050


def test_build_splits_by_track_and_resumes(tmp_path):
    src = make_tracks(tmp_path / "music", count=8, seconds=2.5)
    (src / "broken.wav").write_bytes(b"RIFF not really")
    config = DatasetConfig(clip_samples=20_000)
    report = build_dataset([src], tmp_path / "ds", config, progress=False)
    assert report.tracks_done == 8
    assert len(report.failed) == 1 and "broken.wav" in report.failed[0]
    rows = read_manifest(tmp_path / "ds")
    assert len(rows) == 8 * 2  # 2.5 s at 22,050 Hz holds two 20,000-sample clips
    assert sum(report.clips.values()) == len(rows)
    tracks = {}
    for row in rows:
        tracks.setdefault(row["track"], set()).add(row["split"])
        low, rate = sf.read(row["low"])
        high, _ = sf.read(row["high"])
        assert rate == 22050 and len(low) == len(high) == 20_000
    assert all(len(splits) == 1 for splits in tracks.values())
    assert {s for splits in tracks.values() for s in splits} == {"train", "val", "test"}

    again = build_dataset([src], tmp_path / "ds", config, progress=False)
    assert again.tracks_done == 0 and again.tracks_skipped == 8
    assert read_manifest(tmp_path / "ds") == rows
    assert not any("not among the sources" in warning for warning in again.warnings)

    (src / "track3.flac").rename(tmp_path / "track3.flac")  # its clips were dropped unnamed
    fewer = build_dataset([src], tmp_path / "ds", config, progress=False)
    (warning,) = [w for w in fewer.warnings if "not among the sources" in w]
    assert f"1 track(s) converted before are not among the sources now ({src / 'track3.flac'})" in (
        warning
    )
    assert read_manifest(tmp_path / "ds") == [r for r in rows if "track3" not in r["track"]]
    (tmp_path / "track3.flac").rename(src / "track3.flac")
    back = build_dataset([src], tmp_path / "ds", config, progress=False)
    assert back.tracks_skipped == 8 and read_manifest(tmp_path / "ds") == rows


def test_split_is_deterministic_under_seed(tmp_path):
    src = make_tracks(tmp_path / "music", count=6, seconds=1.0)
    splits = []
    for name, seed in [("a", 1), ("b", 1), ("c", 2)]:
        build_dataset(
            [src], tmp_path / name, DatasetConfig(clip_samples=10_000, seed=seed), progress=False
        )
        with open(tmp_path / name / "manifest.csv") as handle:
            splits.append(sorted((r["track"], r["split"]) for r in csv.DictReader(handle)))
    assert splits[0] == splits[1]
    assert splits[0] != splits[2]


def test_silent_clips_are_dropped(tmp_path):
    src = tmp_path / "music"
    src.mkdir()
    x = np.concatenate([music(1.0, 22050), np.zeros(2 * 22050, dtype=np.float32)])
    sf.write(src / "half_silent.wav", x, 22050)
    build_dataset([src], tmp_path / "ds", DatasetConfig(clip_samples=10_000), progress=False)
    starts = [int(r["start"]) for r in read_manifest(tmp_path / "ds")]
    assert starts == [0, 10_000, 20_000]  # of six clips, the last three are silent


def test_cli_reports_failures_in_exit_code(tmp_path, capsys):
    src = make_tracks(tmp_path / "music", count=3, seconds=1.0)
    assert main(["dataset", str(src), "--out", str(tmp_path / "ds"), "--clip-samples", "8000"]) == 0
    (src / "bad.ogg").write_bytes(b"OggS garbage")
    code = main(["dataset", str(src), "--out", str(tmp_path / "ds"), "--clip-samples", "8000"])
    out = capsys.readouterr()
    assert code == 1
    assert "3 already done, 1 failed" in out.out
    assert "bad.ogg" in out.err + out.out


def test_a_dataset_inside_its_music_takes_in_no_clip_of_its_own(tmp_path, capsys):
    """``dataset lib --out lib/ds``, run twice: its clips are not tracks; a track given again
    is taken once; a track too short for a clip, and the split it leaves empty, are named."""
    lib = make_tracks(tmp_path / "lib", count=4, seconds=2.5)
    sf.write(lib / "short.wav", music(0.3, 44100), 44100)
    args = ["dataset", str(lib), str(lib / "track0.flac"), "--out", str(lib / "ds")]
    args += ["--clip-samples", "20000"]
    assert main(args) == 0
    err = capsys.readouterr().out
    assert f"{lib / 'track0.flac'}: given more than once; taken once" in err
    assert f"{lib / 'short.wav'}: no clip (shorter than 20000 samples at 22050 Hz" in err
    assert "5 tracks converted" in err
    rows = read_manifest(lib / "ds")
    assert len(rows) == 4 * 2 and len({row["track"] for row in rows}) == 4
    assert main(args) == 0
    err = capsys.readouterr().out
    assert f"{lib / 'ds'}: the folder the outputs go to; not searched" in err
    assert "0 tracks converted, 5 already done" in err and read_manifest(lib / "ds") == rows
    assert main(["dataset", str(lib), "--out", str(lib)]) == 1
    assert f"{lib}: is also a source folder" in capsys.readouterr().err


def test_a_dataset_of_nothing_fails_and_bad_recipes_are_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["dataset", str(tmp_path / "empty"), "--out", str(tmp_path / "ds")]) == 1
    assert f"{tmp_path / 'ds'}: no clips made" in capsys.readouterr().err
    src = make_tracks(tmp_path / "music", count=1, seconds=1.0)
    for option, value, problem in [
        ("--bitrates", "32,32", "bitrates given more than once"),
        ("--bitrates", "0", "a low bitrate must be 8 to 320 kbps, not 0"),
        ("--cutoff-hz", "15000", "the cutoff must lie under the clips' 11025 Hz band"),
    ]:
        assert main(["dataset", str(src), "--out", str(tmp_path / "x"), option, value]) == 1
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert problem in line
    both = ["--bitrates", "32,64", "--low-bitrate", "48"]  # the second was dropped unsaid
    assert main(["dataset", str(src), "--out", str(tmp_path / "x"), *both]) == 2
    assert "--low-bitrate and --bitrates cannot go together" in capsys.readouterr().err
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "recipe.json").write_text("{bad")
    assert main(["dataset", str(src), "--out", str(tmp_path / "x")]) == 1
    assert "x/recipe.json: not a dataset's recipe" in capsys.readouterr().err
    (tmp_path / "taken").write_text("a file")
    assert main(["dataset", str(src), "--out", str(tmp_path / "taken")]) == 1
    assert "taken: is a file, not a folder" in capsys.readouterr().err


def test_parallel_build_matches_serial(tmp_path):
    src = make_tracks(tmp_path / "music", count=4, seconds=1.0)
    config = DatasetConfig(clip_samples=10_000)
    build_dataset([src], tmp_path / "one", config, jobs=1, progress=False)
    build_dataset([src], tmp_path / "two", config, jobs=2, progress=False)
    one, two = read_manifest(tmp_path / "one"), read_manifest(tmp_path / "two")
    assert [r["clip"] for r in one] == [r["clip"] for r in two]
    for a, b in zip(one, two, strict=True):
        assert sf.read(a["low"])[0].tolist() == sf.read(b["low"])[0].tolist()


def test_truncated_and_lying_mp3s_are_decoded_as_far_as_they_go(tmp_path, capsys):
    """A cut-off MP3 gives clips of real audio only, with a warning; a tag claiming 2^31 frames
    allocates nothing from that claim."""
    import struct

    from spectral_enhance.audio.mp3 import encode_mp3

    src = make_tracks(tmp_path / "music", count=3, seconds=2.0)
    whole = encode_mp3(music(4.0, 22050, seed=9), 22050, 128)
    (src / "cut.mp3").write_bytes(whole[: len(whole) // 2])
    lying = bytearray(whole)
    count_at = lying.index(b"Info") + 8
    lying[count_at : count_at + 4] = struct.pack(">I", 0x7FFFFFFF)
    (src / "lying.mp3").write_bytes(bytes(lying))
    report = build_dataset(
        [src], tmp_path / "ds", DatasetConfig(clip_samples=20_000), progress=False
    )
    assert report.tracks_done == 5 and not report.failed
    warned = [w for w in report.warnings if "ends early" in w]
    assert len(warned) == 2 and any("cut.mp3" in w for w in warned)
    rows = [r for r in read_manifest(tmp_path / "ds") if "cut" in r["track"]]
    assert len(rows) == 2  # 2 s of 4 s: two whole clips, none half zeros
    for row in rows:
        high, _ = sf.read(row["high"])
        assert np.sqrt(np.mean(high[-2000:] ** 2)) > 0.01


def level_db(samples, rate, freqs, n=8192):
    """Mean power (channels averaged) at ``freqs`` relative to the 0.5 to 3 kHz median, in dB."""
    power = 0.0
    for channel in samples.reshape(len(samples), -1).T:
        frames = np.lib.stride_tricks.sliding_window_view(channel, n)[::1024] * np.hanning(n)
        power = power + (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(0)
    bins = np.fft.rfftfreq(n, 1 / rate)
    ref = np.median(power[(bins > 500) & (bins < 3000)])
    return 10 * np.log10(np.interp(freqs, bins, power) / ref)


@pytest.mark.parametrize(
    ("rate", "channels", "lame_rate", "bitrate"),
    [(22050, 1, False, 24), (22050, 1, False, 32)]
    + [(44100, 2, True, b) for b in (32, 48, 64, 96, 128)]
    + [(44100, 1, False, 48), (44100, 2, False, 96)],
)
def test_the_recipes_cutoff_follows_the_bitrate_to_where_lame_cuts(
    rate, channels, lame_rate, bitrate
):
    """Noise through the codec keeps its level (within 10 dB: LAME starves low-bitrate stereo's
    upper passband) 300 Hz below the cutoff and loses it (20 dB down) 200 Hz above."""
    recipe = DegradationRecipe(rate, 0, bitrate, channels=channels, lame_rate=lame_rate)
    noise = 0.2 * np.random.default_rng(5).standard_normal((4 * rate, channels))
    noise = noise.astype(np.float32)[:, 0] if channels == 1 else noise.astype(np.float32)
    decoded = transcode(noise, rate, bitrate, lame_rate)
    below, above = level_db(decoded, rate, [recipe.cutoff_hz - 300, recipe.cutoff_hz + 200])
    assert below > -10 and above < -20


# What `lame -b N` chooses for a 44.1 kHz stereo source (issue 12), and for mono.
LAME_RATES = {
    2: {32: 16000, 48: 22050, 64: 24000, 96: 32000, 128: 44100},
    1: {32: 22050, 48: 32000},
}


@pytest.mark.parametrize(
    ("channels", "bitrate"), [(c, b) for c, rates in LAME_RATES.items() for b in rates]
)
def test_lames_own_rate_is_the_lame_commands_and_stays_aligned(tmp_path, channels, bitrate):
    """lameenc left without an output rate picks what Debian's lame CLI picks; the decode,
    resampled back to 44.1 kHz, keeps the source's length and lags it by 0 samples."""
    from audio_tools import lag, run, source, write_wav
    from spectral_enhance.audio import decode
    from spectral_enhance.audio.mp3 import encode_mp3, mp3_sample_rate

    x = source(1.5, 44100, channels, seed=bitrate)
    wav = write_wav(tmp_path / "x.wav", x, 44100)
    run("lame", "--quiet", "-b", str(bitrate), wav, tmp_path / "x.mp3")
    by_cli = decode(tmp_path / "x.mp3").sample_rate
    ours = mp3_sample_rate(encode_mp3(x, 44100, bitrate, lame_rate=True))
    assert ours == by_cli == LAME_RATES[channels][bitrate]
    y = transcode(x, 44100, bitrate, lame_rate=True)
    assert y.shape == x.shape
    assert [lag(y[:, c], x[:, c]) for c in range(channels)] == [0] * channels
    assert mp3_sample_rate(encode_mp3(x, 44100, bitrate)) == 44100  # the paper's: forced


def brick_wall(x, rate, cutoff_hz):
    """``x`` ``[n, channels]`` with every FFT bin above ``cutoff_hz`` zeroed."""
    spectrum = np.fft.rfft(x, axis=0)
    spectrum[np.fft.rfftfreq(len(x), 1 / rate) > cutoff_hz] = 0
    return np.fft.irfft(spectrum, len(x), axis=0).astype(np.float32)


def test_reference_band_finds_a_band_limited_tracks_edge():
    from spectral_enhance.dataset.build import reference_band_hz

    x = music(3.0, 44100, channels=2, seed=1)
    assert reference_band_hz(x, 44100) > 20_000
    for edge in (6000, 9000, 15000):
        assert abs(reference_band_hz(brick_wall(x, 44100, edge), 44100) - edge) <= 200


def test_several_bitrates_in_stereo_drop_what_a_narrow_reference_lacks(tmp_path, capsys):
    """Two bitrates per window, one shared stereo reference, each clip aligned to it with its
    bitrate's cutoff; a track band-limited at 9 kHz keeps its 32 kbps clips (cutoff 5.4 kHz) and
    loses its 64 kbps ones (10.9 kHz), counted."""
    from audio_tools import lag
    from spectral_enhance.dataset.build import FULL_BAND_FIELDS
    from spectral_enhance.dataset.manifest import read_clip, read_recipe

    src = make_tracks(tmp_path / "music", count=2, seconds=1.0)
    narrow = brick_wall(music(1.0, 44100, channels=2, seed=7), 44100, 9000)
    sf.write(src / "narrow.flac", narrow + 0.0001, 44100)
    out = tmp_path / "ds"
    args = ["dataset", str(src), "--out", str(out), "--clip-samples", "20000"]
    args += ["--sample-rate", "44100", "--bitrates", "32,64", "--channels", "2", "--lame-rate"]
    assert main(args) == 0
    assert "2 dropped (reference band" in capsys.readouterr().out
    recipe = read_recipe(out)
    assert (recipe.low_bitrates, recipe.high_bitrate, recipe.channels) == ((32, 64), 0, 2)
    with open(out / "manifest.csv") as handle:
        assert tuple(next(csv.reader(handle))) == FULL_BAND_FIELDS
    rows = read_manifest(out)
    by_track = {}
    for row in rows:
        by_track.setdefault(Path(row["track"]).stem, []).append(row)
    assert sorted(r["clip"][-3:] for r in by_track["narrow"]) == ["32k", "32k"]
    assert abs(float(by_track["narrow"][0]["reference_band_hz"]) - 9000) <= 200
    for name in ("track0", "track1"):
        assert sorted(r["low_bitrate"] for r in by_track[name]) == ["32", "32", "64", "64"]
        assert float(by_track[name][0]["reference_band_hz"]) > 18_000
    for row in rows:
        assert float(row["cutoff_hz"]) == recipe.cutoff_for(int(row["low_bitrate"]))
        assert row["high"].name == f"{row['reference']}.high.wav"
        low, high = read_clip(row, "low"), read_clip(row, "high")
        assert low.shape == high.shape == (20_000, 2)
        assert lag(low[:, 1], high[:, 1], search=500) == 0
    assert len({r["high"] for r in rows}) == 6  # one reference per window, not per bitrate


def test_the_papers_manifest_and_settings_keep_their_old_columns(tmp_path):
    from spectral_enhance.dataset.manifest import clip_cutoff_hz, read_recipe

    src = make_tracks(tmp_path / "music", count=3, seconds=0.5)
    build_dataset([src], tmp_path / "ds", DatasetConfig(clip_samples=10_000), progress=False)
    with open(tmp_path / "ds" / "manifest.csv") as handle:
        header = next(csv.reader(handle))
    assert header == [
        *["clip", "split", "track", "start", "samples", "sample_rate"],
        "low_bitrate",
        "high_bitrate",
    ]
    settings = json.loads((tmp_path / "ds" / "recipe.json").read_text())["recipe"]
    assert settings == {
        "sample_rate": 22050,
        "high_bitrate": 128,
        "low_bitrate": 32,
        "cutoff_hz": 8270.0,
    }
    row = read_manifest(tmp_path / "ds")[0]  # no cutoff column: the recipe's cutoff serves
    assert "cutoff_hz" not in row
    assert clip_cutoff_hz(row, read_recipe(tmp_path / "ds")) == 8270.0


def test_a_recipe_without_a_known_cutoff_asks_for_one(tmp_path, capsys):
    with pytest.raises(ValueError, match="no measured LAME cutoff for 32 kbps at 32,000 Hz"):
        DegradationRecipe(sample_rate=32000)
    assert DegradationRecipe(sample_rate=32000, cutoff_hz=11_000.0).cutoff_hz == 11_000.0
    src = make_tracks(tmp_path / "music", count=1, seconds=0.5)
    args = ["dataset", str(src), "--out", str(tmp_path / "ds"), "--sample-rate", "32000"]
    assert main(args) == 1
    assert "give the cutoff in Hz" in capsys.readouterr().err


def test_a_recipe_of_several_bitrates_takes_the_source_as_reference_and_round_trips():
    recipe = DegradationRecipe(44100, None, bitrates=[32, 64, 128], channels=2, lame_rate=True)
    assert (recipe.high_bitrate, recipe.low_bitrate, recipe.low_bitrates) == (0, 32, (32, 64, 128))
    assert [recipe.cutoff_for(b) for b in (32, 64, 128)] == [5540.0, 10890.0, 16620.0]
    assert recipe.cutoff_hz == recipe.cutoff_for(32) and not recipe.is_paper
    assert DegradationRecipe(**recipe.to_dict()) == recipe
    assert DegradationRecipe(**DegradationRecipe().to_dict()) == DegradationRecipe()
    assert DegradationRecipe(high_bitrate=None).high_bitrate == 128  # one bitrate: the paper's
    with pytest.raises(ValueError, match="not below the reference's 128 kbps"):
        DegradationRecipe(44100, 128, bitrates=(32, 128), channels=2, lame_rate=True)
    with pytest.raises(ValueError, match="cannot be given for several bitrates"):
        DegradationRecipe(44100, None, cutoff_hz=9000.0, bitrates=(32, 64), channels=2)
    with pytest.raises(ValueError, match="no measured LAME cutoff for 40 kbps at 44,100 Hz stereo"):
        DegradationRecipe(44100, None, bitrates=(32, 40), channels=2)


def test_a_changed_track_is_converted_again_its_old_clips_replaced_in_its_split(tmp_path):
    """A file replaced since its clips were made (issue: a truncated FLAC fixed) is converted
    again and its old clips removed; the unchanged ones come from the cache, and the changed
    one keeps its split though a track added since would shuffle it into another."""
    from spectral_enhance.dataset.build import assign_splits, track_id

    src = make_tracks(tmp_path / "music", count=3, seconds=1.0)
    fixed = src / "short.flac"
    sf.write(fixed, music(0.2, 44100, channels=2, seed=9), 44100)  # the truncated file
    out, config = tmp_path / "ds", DatasetConfig(clip_samples=10_000, seed=2)
    first = build_dataset([src], out, config, progress=False)
    assert first.empty == [fixed]
    split = assign_splits(sorted(src.iterdir()), config.split, config.seed)[fixed]

    sf.write(src / "new.flac", music(1.0, 44100, channels=2, seed=5), 44100)
    assert assign_splits(sorted(src.iterdir()), config.split, config.seed)[fixed] != split
    sf.write(fixed, music(2.0, 44100, channels=2, seed=9), 44100)  # the whole file
    again = build_dataset([src], out, config, progress=False)
    assert (again.tracks_done, again.tracks_skipped, again.empty) == (2, 3, [])
    assert not any("short.flac: no clip" in warning for warning in again.warnings)
    mine = [row for row in read_manifest(out) if row["track"] == str(fixed)]
    assert len(mine) == 4 and {row["split"] for row in mine} == {split}

    older = fixed.stat().st_mtime_ns - 10**9
    sf.write(fixed, music(1.0, 44100, channels=2, seed=8), 44100)  # two clips now, and dated
    os.utime(fixed, ns=(older, older))  # before its rows, as `cp -p` of an older copy would
    assert build_dataset([src], out, config, progress=False).tracks_done == 1
    mine = [row for row in read_manifest(out) if row["track"] == str(fixed)]
    assert [row["clip"][-4:] for row in mine] == ["0000", "0001"]
    assert sorted(p.name for p in (out / split).glob(f"{track_id(fixed)}-*")) == [
        f"{track_id(fixed)}-000{i}.{kind}.wav" for i in (0, 1) for kind in ("high", "low")
    ]
    for stamp in (out / ".tracks").glob("*.json"):  # rows made before stamps were kept
        stamp.unlink()
    assert build_dataset([src], out, config, progress=False).tracks_skipped == 5


def test_a_dataset_run_that_makes_nothing_writes_nothing(tmp_path, capsys):
    """An empty folder, a mistyped path or a track too short leave no folder and no recipe,
    so the corrected command runs; a real change of settings is refused naming it."""
    (tmp_path / "empty").mkdir()
    src = make_tracks(tmp_path / "music", count=1, seconds=0.5)
    out = tmp_path / "ds"
    rate = ["--sample-rate", "44100", "--clip-samples", "8000"]
    for source in (tmp_path / "empty", tmp_path / "musik", src):
        assert main(["dataset", str(source), "--out", str(out), "--clip-samples", "20000"]) == 1
        assert f"{out}: no clips made" in capsys.readouterr().err
        assert not out.exists()
    out.mkdir()
    assert main(["dataset", str(tmp_path / "musik"), "--out", str(out)]) == 1
    assert list(out.iterdir()) == []  # a folder already there is kept, and left empty
    assert main(["dataset", str(src), "--out", str(out), *rate]) == 0
    capsys.readouterr()
    assert main(["dataset", str(src), "--out", str(out), "--clip-samples", "8000"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert f"{out} was built with other settings (sample_rate 44100, not 22050" in line


def test_bitrates_without_a_measured_cutoff_get_a_short_message_and_a_way_that_works(
    tmp_path, capsys
):
    src = make_tracks(tmp_path / "music", count=1, seconds=0.5)
    args = ["dataset", str(src), "--sample-rate", "44100", "--clip-samples", "8000"]
    assert main([*args, "--out", str(tmp_path / "a"), "--bitrates", "32,40,56"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "no measured LAME cutoff for 40, 56 kbps at 44,100 Hz mono" in line
    assert "--bitrates 40 --cutoff-hz HZ" in line and len(line) < 300
    way = ["--bitrates", "40", "--cutoff-hz", "9000"]  # the way the message gives
    assert main([*args, "--out", str(tmp_path / "b"), *way]) == 0
    assert {row["cutoff_hz"] for row in read_manifest(tmp_path / "b")} == {"9000.0"}


def test_a_split_without_clips_is_named_with_the_counts_of_each(tmp_path, capsys):
    from spectral_enhance.dataset.manifest import load_clip

    src = make_tracks(tmp_path / "music", count=2, seconds=0.5)  # too few tracks for a test split
    build_dataset([src], tmp_path / "ds", DatasetConfig(clip_samples=10_000), progress=False)
    counts = "(train 2, val 0, test 0)"
    with pytest.raises(ValueError, match=re.escape(f"0 clips in the 'test' split {counts}")):
        load_clip(tmp_path / "ds")
    args = ["plot", "spectrograms", str(tmp_path / "ds"), "--out", str(tmp_path / "x.png")]
    assert main(args) == 1
    assert f"{tmp_path / 'ds'}: 0 clips in the 'test' split {counts}" in capsys.readouterr().err


def test_the_dataset_help_describes_the_bitrates_it_takes(capsys):
    with pytest.raises(SystemExit):
        main(["dataset", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "128 kbps (high) / 32 kbps (low)" not in text
    assert (
        "one MP3-decoded input (low) per bitrate (--low-bitrate 32, or each of --bitrates)" in text
    )
    assert "the source itself with two or more --bitrates" in text
