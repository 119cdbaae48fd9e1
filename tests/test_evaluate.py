import csv
import json
import shutil

import numpy as np
import pytest

from spectral_enhance.cli import main
from spectral_enhance.dataset.manifest import read_manifest
from spectral_enhance.dsp.replication import brick_wall_split
from spectral_enhance.evaluation.evaluate import evaluate, track_lowpass
from spectral_enhance.evaluation.systems import UNLEARNED, Clip, System, load_system
from spectral_enhance.evaluation.tables import LIMITED_INPUT, LOSSLESS_INPUT, worst_change
from spectral_enhance.training.export import export
from tiny import tiny_dataset, tiny_full_band_dataset, tiny_waveform_checkpoint


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("eval"), tracks=6)


def noisy(low: np.ndarray) -> np.ndarray:
    return low + 0.05 * np.random.default_rng(0).standard_normal(len(low)).astype(np.float32)


def test_table_has_every_system_and_metric_and_damage_scores_worse(data, tmp_path):
    summary = evaluate(data, ["mp3", "dsp", System("damaged", noisy)], tmp_path, progress=False)
    report = (tmp_path / "report.md").read_text()
    for name in ["mp3", "dsp", "damaged", "SNR (dB)", "PESQ", "LSD above cutoff", "STOI"]:
        assert name in report
    assert "The paper's Table 1" in report and "Per bitrate" not in report
    assert "| Zimtohrli (MOS) | " in report
    mean = {s: {m: v["mean"] for m, v in summary[s]["metrics"].items()} for s in summary}
    assert mean["damaged"]["snr"] < mean["mp3"]["snr"] - 3
    assert mean["damaged"]["lsd"] > mean["mp3"]["lsd"]
    assert mean["dsp"]["lsd_high"] < mean["mp3"]["lsd_high"]  # it fills the empty band
    assert mean["damaged"]["zimtohrli"] < mean["mp3"]["zimtohrli"] <= 5.0
    clips = len(read_manifest(data, "test"))
    rows = (tmp_path / "results.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3 * clips
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["systems"]["mp3"]["clips"] == clips and "cores" in saved["machine"]


def test_no_progress_bar_is_written_into_a_log(data, tmp_path, capsys):
    """Standard error not a terminal (a log file, here pytest's capture): no bar, as `enhance`."""
    evaluate(data, ["mp3"], tmp_path, limit=2)
    assert "%|" not in capsys.readouterr().err


def test_mp3_against_its_own_reference_is_perfect(data, tmp_path):
    copy = tmp_path / "same"
    shutil.copytree(data, copy)
    for row in read_manifest(copy, "test"):
        shutil.copy(row["high"], row["low"])
    summary = evaluate(copy, ["mp3"], tmp_path / "out", progress=False)
    metrics = summary["mp3"]["metrics"]
    assert metrics["snr"]["mean"] == np.inf
    assert metrics["lsd"]["mean"] == 0.0 and metrics["lsd_high"]["mean"] == 0.0
    assert metrics["stoi"]["mean"] > 0.999


def test_resumes_without_scoring_twice(data, tmp_path):
    calls = []

    def counted(low):
        calls.append(1)
        return low

    evaluate(data, [System("counted", counted)], tmp_path, limit=1, progress=False)
    assert (
        "± –" in (tmp_path / "report.md").read_text()
        and "nan" not in (tmp_path / "report.md").read_text()
    )  # one clip: no interval
    evaluate(data, [System("counted", counted)], tmp_path, progress=False)
    clips = len(read_manifest(data, "test"))
    assert len(calls) == clips
    assert len((tmp_path / "results.csv").read_text().strip().splitlines()) == 1 + clips


def test_a_folder_resumes_only_its_own_dataset_s_scores(data, tmp_path):
    """Two datasets made from the same music share their clips' names: the second, at 48 kbps,
    evaluated into the first's folder, is refused rather than given the first's scores."""
    from spectral_enhance.dataset.build import DatasetConfig, build_dataset
    from spectral_enhance.dataset.recipe import DegradationRecipe

    other = tmp_path / "at-48"
    config = DatasetConfig(clip_samples=20_000, recipe=DegradationRecipe(low_bitrate=48))
    build_dataset([data.parent / "music"], other, config, progress=False)
    assert read_manifest(other, "test")[0]["clip"] == read_manifest(data, "test")[0]["clip"]
    out = tmp_path / "out"
    evaluate(data, ["mp3"], out, limit=1, progress=False)
    with pytest.raises(ValueError, match=r"results.csv: scores of another dataset's clips"):
        evaluate(other, ["mp3"], out, limit=1, progress=False)
    evaluate(data, ["mp3"], out, limit=2, progress=False)  # its own: resumed
    with pytest.raises(ValueError, match="systems given more than once: mp3"):
        evaluate(data, ["mp3", "mp3"], tmp_path / "twice", limit=1, progress=False)
    assert not (tmp_path / "twice").exists()  # a refused run makes no folder


@pytest.mark.parametrize("form", ["onnx", "pt"])
def test_waveform_baseline_is_a_system(data, tmp_path, form):
    """A waveform model (export folder or checkpoint) is scored and timed like the others."""
    checkpoint = tiny_waveform_checkpoint(tmp_path / "wavenet.pt", "wavenet", identity=True)
    if form == "onnx":
        export(checkpoint, tmp_path / "wavenet")
        spec = f"{tmp_path / 'wavenet'}@fp32"
    else:
        spec = str(checkpoint)
    summary = evaluate(data, ["mp3", spec], tmp_path / "out", progress=False)
    name = next(s for s in summary if s != "mp3")
    assert summary[name]["model_ms"] > 0
    for metric in ("snr", "lsd", "stoi"):  # the identity model scores exactly as its input
        got, want = summary[name]["metrics"][metric], summary["mp3"]["metrics"][metric]
        assert got["mean"] == pytest.approx(want["mean"], abs=1e-3)


def damage_truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda path: path.unlink(), "clip missing"),
        (lambda path: path.write_bytes(b"not audio" * 100), "not a readable clip"),
        (damage_truncate, "samples, the manifest says 20000"),
    ],
)
def test_a_missing_or_damaged_clip_is_one_line_naming_it(data, tmp_path, capsys, damage, problem):
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    clip = read_manifest(copy, "test")[-1]["low"]
    damage(clip)
    code = main(["evaluate", str(copy), "--systems", "mp3", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert code == 1 and "Traceback" not in err
    assert len(errors) == 1 and errors[0].startswith("spectral-enhance evaluate: error: ")
    assert f"{clip}: " in errors[0] and problem in errors[0]


def test_export_takes_test_metrics_from_an_evaluation(data, tmp_path):
    from spectral_enhance.training.export import metrics_from_evaluation

    damaged = System("damaged", noisy, fingerprint="f" * 64)  # as a model's, fingerprinted
    evaluate(data, ["mp3", damaged], tmp_path, progress=False)
    metrics = metrics_from_evaluation(tmp_path, "damaged")
    saved = json.loads((tmp_path / "results.json").read_text())
    assert metrics["model"] == saved["systems"]["damaged"]["metrics"]
    assert metrics["input"] == saved["systems"]["mp3"]["metrics"]
    assert (metrics["split"], metrics["dataset"]) == ("test", str(data))
    assert metrics["fingerprint"] == "f" * 64
    with pytest.raises(ValueError, match="no system 'other' in its results"):
        metrics_from_evaluation(tmp_path, "other")
    with pytest.raises(ValueError, match="mp3 was scored as no model file"):
        metrics_from_evaluation(tmp_path, "mp3")  # the input's scores are no model's
    with pytest.raises(FileNotFoundError, match=r"results\.json: missing"):
        metrics_from_evaluation(tmp_path / "nowhere", "damaged")


def test_a_model_exported_again_is_scored_again_and_only_its_scores_go_in_its_card(
    data, tmp_path, capsys
):
    """An evaluation folder kept the first model's scores for a second exported into the same
    folder (the README's export, evaluate, export again): it scores the new one, and says so;
    and `export --evaluation` takes only the scores of the model it writes."""
    first = tiny_waveform_checkpoint(tmp_path / "a.pt", "wavenet", identity=True)
    second = tiny_waveform_checkpoint(tmp_path / "b.pt", "wavenet", seed=1)
    model, ev = tmp_path / "model", tmp_path / "ev"
    export(first, model, precisions=["fp32"])
    spec = f"{model}@fp32"
    before = evaluate(data, ["mp3", spec], ev, progress=False)[spec]["metrics"]["snr"]["mean"]
    export(second, model, precisions=["fp32"], overwrite=True)
    capsys.readouterr()
    after = evaluate(data, ["mp3", spec], ev, progress=False)[spec]["metrics"]["snr"]["mean"]
    assert after < before - 1  # the second's own scores, not the first's kept
    assert f"{ev}: {spec} has changed since it was scored here" in capsys.readouterr().err
    rows = (ev / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * len(read_manifest(data, "test"))  # the old ones dropped
    given = ["--evaluation", str(ev), "--system", spec, "--precisions", "fp32"]
    assert main(["export", str(second), "--out", str(tmp_path / "b"), *given]) == 0
    card = json.loads((tmp_path / "b" / "card.json").read_text())
    assert card["test_metrics"]["model"]["snr"]["mean"] == after
    assert main(["export", str(first), "--out", str(tmp_path / "a"), *given]) == 1
    err = capsys.readouterr().err
    assert f"{ev}: its {spec} is another model than this export of {first}" in err
    assert not (tmp_path / "a").exists()
    mp3 = ["--evaluation", str(ev), "--system", "mp3"]
    assert main(["export", str(second), "--out", str(tmp_path / "c"), *mp3]) == 1
    assert "mp3 was scored as no model file" in capsys.readouterr().err


def test_export_asks_which_system_of_an_evaluation_is_the_model(tmp_path, capsys):
    checkpoint = tiny_waveform_checkpoint(tmp_path / "w.pt", "wavenet")
    args = ["export", str(checkpoint), "--out", str(tmp_path / "m"), "--evaluation", "ev"]
    assert main(args) == 2
    assert "--evaluation needs --system" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_oracles_take_each_side_of_the_cutoff_from_the_right_signal():
    rng = np.random.default_rng(0)
    low, high = rng.standard_normal((2, 30_000, 2)).astype(np.float32)
    clip = Clip(low, high, 44100, 7000.0)
    oracle_high = UNLEARNED["oracle-high"].estimate(clip)
    oracle_low = UNLEARNED["oracle-low"].estimate(clip)
    assert oracle_high.shape == oracle_low.shape == low.shape
    below, above = brick_wall_split(oracle_high, 44100, 7000.0)
    np.testing.assert_allclose(below, brick_wall_split(low, 44100, 7000.0)[0], atol=1e-5)
    np.testing.assert_allclose(above, brick_wall_split(high, 44100, 7000.0)[1], atol=1e-5)
    below, above = brick_wall_split(oracle_low, 44100, 7000.0)
    np.testing.assert_allclose(below, brick_wall_split(high, 44100, 7000.0)[0], atol=1e-5)
    assert np.max(np.abs(above)) < 1e-5
    spectrum = np.abs(np.fft.rfft(oracle_high[:, 0] - high[:, 0]))
    freqs = np.fft.rfftfreq(len(low), 1 / 44100)
    assert spectrum[freqs > 7000].max() < 1e-3 < spectrum[freqs < 7000].min()


def test_the_envelope_oracle_gives_the_copied_band_the_references_level_per_band():
    from conftest import music
    from spectral_enhance.dsp.stft import StftConfig, stft

    high = music(3.0, 44100, channels=2) * np.float32([1.0, 0.3])
    low = brick_wall_split(high, 44100, 7000.0)[0]
    out = UNLEARNED["oracle-envelope"].estimate(Clip(low, high, 44100, 7000.0))
    assert out.shape == high.shape
    config = StftConfig(2048, 1024, 2048)
    for channel in range(2):
        power = [(stft(x[:, channel], config) ** 2).sum(axis=0) for x in (out, high, low)]
        bands = [p[2:-2, 336:1016].reshape(-1, 85, 8).sum(axis=-1) for p in power]
        # the reference's level, up to the spill of overlapping frames: per frame, and per band
        frames = 10 * np.log10(bands[0].sum(axis=1) / bands[1].sum(axis=1))
        assert np.max(np.abs(frames)) < 1.0, channel
        assert np.median(np.abs(10 * np.log10(bands[0] / bands[1]))) < 3.0, channel
        assert bands[2].sum() < 1e-6 * bands[1].sum()  # where the input had nothing
    added = np.abs(np.fft.rfft(out - low, axis=0)) ** 2  # what it adds is above the cutoff
    freqs = np.fft.rfftfreq(len(out), 1 / 44100)
    assert added[freqs < 6500].sum() < 1e-4 * added.sum()


def test_the_envelope_oracle_can_fill_the_band_with_noise_at_the_same_envelope():
    from conftest import music
    from spectral_enhance.dsp.replication import envelope_oracle
    from spectral_enhance.dsp.stft import StftConfig, stft

    high = music(3.0, 44100)
    low = brick_wall_split(high, 44100, 7000.0)[0]
    copied = envelope_oracle(low, high, 44100, 7000.0)
    noise = envelope_oracle(low, high, 44100, 7000.0, noise_seed=0)
    config = StftConfig(2048, 1024, 2048)
    power = [(stft(x, config) ** 2).sum(axis=0)[2:-2, 336:1016].sum(axis=1) for x in (noise, high)]
    assert np.max(np.abs(10 * np.log10(power[0] / power[1]))) < 1.0  # the reference's level
    above = brick_wall_split(noise - copied, 44100, 7200.0)[1]
    assert np.sqrt(np.mean(above**2)) > 0.5 * np.sqrt(
        np.mean(brick_wall_split(high, 44100, 7200.0)[1] ** 2)
    )


def test_worst_clip_is_the_largest_harm_for_each_metric_direction():
    before = [{"clip": c, "snr": v, "lsd": 1.0} for c, v in [("a", 10.0), ("b", 12.0), ("c", 8.0)]]
    after = [
        {"clip": "a", "snr": 11.0, "lsd": 1.5},  # snr +1, lsd +0.5 (worse)
        {"clip": "b", "snr": 9.0, "lsd": 0.2},  # snr -3 (the worst), lsd -0.8
        {"clip": "c", "snr": "nan", "lsd": 1.1},  # snr unscored: left out
        {"clip": "z", "snr": -99.0, "lsd": 99.0},  # not in the input's rows: left out
    ]
    assert worst_change(before, after, "snr") == {"clip": "b", "change": -3.0}
    assert worst_change(before, after, "lsd") == {"clip": "a", "change": 0.5}
    assert worst_change(before, [], "snr") is None


def test_the_clips_of_chosen_bitrates_are_scored_alone(tmp_path):
    """``bitrates``: only those clips, before ``limit`` spreads them; none there is one line."""
    data = tiny_full_band_dataset(tmp_path)
    evaluate(data, ["mp3"], tmp_path / "out", bitrates={"64"}, progress=False)
    with open(tmp_path / "out" / "results.csv", newline="") as handle:
        clips = {row["clip"] for row in csv.DictReader(handle)}
    assert len(clips) == 2 and all(clip.endswith("-64k") for clip in clips)
    with pytest.raises(ValueError, match=r"0 clips in the 'test' split at 96 kbps"):
        evaluate(data, ["mp3"], tmp_path / "none", bitrates={"96"}, progress=False)


def test_several_bitrates_get_a_table_each_with_oracles(tmp_path):
    data = tiny_full_band_dataset(tmp_path)
    evaluate(data, ["oracle-high", "oracle-low"], tmp_path / "out", progress=False)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Per bitrate" in report and "### 32 kbps (2 clips)" in report
    assert "### 64 kbps (2 clips)" in report and "worst clip's change" in report
    assert "The paper's Table 1" not in report  # its GTZAN at 22 kHz is not this setting
    evaluate(data, ["mp3"], tmp_path / "alone", limit=2, progress=False)
    alone = (tmp_path / "alone" / "report.md").read_text()  # one window: a clip of each
    assert "### 32 kbps (1 clip)" in alone and "| worst clip's change |" not in alone
    by_bitrate = json.loads((tmp_path / "out" / "results.json").read_text())["by_bitrate"]
    assert list(by_bitrate) == ["32", "64", "lossless"]
    assert "### lossless input (2 clips)" in report
    intact = by_bitrate.pop("lossless")["systems"]
    assert intact["mp3"]["snr"]["mean"] == np.inf and intact["mp3"]["zimtohrli"]["mean"] == 5.0
    assert intact["oracle-high"]["zimtohrli"]["mean"] == pytest.approx(5.0, abs=1e-3)
    assert intact["oracle-low"]["lsd_high"]["worst"]["change"] > 1  # it removes the top band
    for part in by_bitrate.values():
        systems = part["systems"]
        assert list(systems) == ["mp3", "oracle-high", "oracle-low"]  # the input added first
        mean = {s: {m: v["mean"] for m, v in systems[s].items()} for s in systems}
        assert mean["oracle-high"]["lsd_high"] < 0.1 < mean["mp3"]["lsd_high"]
        assert mean["oracle-low"]["snr"] > mean["mp3"]["snr"] + 3
        assert mean["oracle-high"]["zimtohrli"] > mean["mp3"]["zimtohrli"]
        worst = systems["oracle-high"]["snr"]["worst"]
        assert worst["clip"].endswith("k") and np.isfinite(worst["change"])
    assert (
        by_bitrate["32"]["systems"]["mp3"]["zimtohrli"]["mean"]
        < (by_bitrate["64"]["systems"]["mp3"]["zimtohrli"]["mean"])
    )


def band_limited_noise(top_hz: float, seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """Stereo white noise at 44.1 kHz with nothing above ``top_hz``."""
    noise = np.random.default_rng(seed).standard_normal((int(44100 * seconds), 2)) * 0.1
    return brick_wall_split(noise.astype(np.float32), 44100, top_hz)[0]


def test_a_lossless_input_is_told_its_files_lowpass_not_its_clips(tmp_path):
    # a track whose second clip is a passage with nothing above 12 kHz: the clip alone shows a
    # low-pass there, the file (as enhance measures it) has none; another track ends at 15 kHz,
    # where a codec may have cut it, and a third at 17 kHz, where its master does (`codec_cut`)
    import soundfile as sf

    from spectral_enhance.dsp.lowpass import find_lowpass

    rows = []
    tracks = {"open": (None, 12_000), "limited": (15_000, 15_000), "master": (17_000, 17_000)}
    for track, tops in tracks.items():
        for i, top in enumerate(tops):
            path = tmp_path / f"{track}{i}.high.wav"
            sf.write(path, band_limited_noise(top or 22_050, seed=i), 44100, subtype="FLOAT")
            row = {"track": track, "sample_rate": "44100", "samples": "44100", "channels": "2"}
            rows.append(row | {"high": path})
    told = track_lowpass(rows)
    quiet = sf.read(rows[1]["high"], dtype="float32")[0]
    assert find_lowpass(quiet, 44100) == pytest.approx(12_000, rel=0.03)
    assert told["open"] is None
    assert told["limited"] == pytest.approx(15_000, rel=0.03)
    assert told["master"] is None
    # and a model, or dsp's rule, is told it: none, so the quiet passage is not rebuilt above
    # 12 kHz; told a low-pass there (or, a model, measuring the clip), it is
    for system, told in ((load_system("full-band"), "measure"), (UNLEARNED["dsp"], 12_000.0)):
        for lowpass, rebuilt in ((None, False), (told, True)):
            out = system.estimate(Clip(quiet, quiet, 44100, 16_000, lowpass))
            assert np.allclose(out, quiet, atol=1e-4) != rebuilt, (system.name, lowpass)


def test_a_band_limited_reference_is_scored_apart_as_lossless_input(tmp_path):
    # track0's reference ends 0.5 kHz over 64 kbps's low-pass: too narrow to judge that clip
    # (the dataset would drop it), so as a lossless input it has a table of its own; it joins
    # the test split, beside track1's full-band one
    data = tiny_full_band_dataset(tmp_path)
    manifest = data / "manifest.csv"
    lines = manifest.read_text().splitlines()
    header = lines[0].split(",")
    column = {name: header.index(name) for name in header}
    top = max(float(line.split(",")[column["cutoff_hz"]]) for line in lines[1:])
    kept = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if cells[column["track"]].endswith("track0.flac"):
            if cells[column["low_bitrate"]] == "64":
                continue
            cells[column["reference_band_hz"]] = f"{top + 500:.1f}"
            cells[column["split"]] = "test"
        kept.append(",".join(cells))
    manifest.write_text("\n".join(kept) + "\n")
    for clip in (data / "train").glob("track0-*.wav"):
        shutil.copy(clip, data / "test" / clip.name)
    evaluate(data, ["oracle-high"], tmp_path / "out", progress=False)
    by_bitrate = json.loads((tmp_path / "out" / "results.json").read_text())["by_bitrate"]
    assert list(by_bitrate) == ["32", "64", LOSSLESS_INPUT, LIMITED_INPUT]
    assert by_bitrate[LOSSLESS_INPUT]["clips"] == by_bitrate[LIMITED_INPUT]["clips"] == 2
    report = (tmp_path / "out" / "report.md").read_text()
    assert "### lossless input, band-limited reference" in report


def test_results_from_before_zimtohrli_are_refused_not_mixed(data, tmp_path):
    (tmp_path / "results.csv").write_text("clip,system,snr,pesq,lsd,lsd_high,stoi\n")
    with pytest.raises(ValueError, match=r"not this version's .*new --out folder"):
        evaluate(data, ["mp3"], tmp_path, progress=False)


def test_low_bitrate_rows_keep_whole_spread_windows_at_the_judged_bitrates():
    """Of each window `spread_sample` takes, the MP3 clips at 64 kbps or less, none else (not
    one whose reference is itself an MP3)."""
    from spectral_enhance.evaluation.evaluate import low_bitrate_rows

    rows = [
        {"clip": f"w{w}-{kbps}", "reference": f"w{w}", "low_bitrate": kbps, "high_bitrate": "0"}
        for w in range(10)
        for kbps in ("32", "48", "64", "96", "128")
    ]
    rows.insert(0, {"clip": "x", "reference": "w0", "low_bitrate": "32", "high_bitrate": "128"})
    kept = low_bitrate_rows(rows, 30)  # five whole windows of six, spread over the ten
    assert [r["clip"] for r in kept[:3]] == ["w0-32", "w0-48", "w0-64"]
    assert len(kept) == 15 and {r["low_bitrate"] for r in kept} == {"32", "48", "64"}
    assert len({r["reference"] for r in kept}) == 5 and "w9" in {r["reference"] for r in kept}


def test_export_takes_test_metrics_only_from_its_own_recipe(data, tmp_path, capsys):
    """A card's test metrics are of clips made as its training clips were: another recipe's
    evaluation (here 44.1 kHz stereo against the paper's 22.05 kHz mono) is refused."""
    from tiny import tiny_band_checkpoint

    own = tiny_waveform_checkpoint(tmp_path / "w.pt", "wavenet")  # the paper's recipe, as data
    evaluate(data, ["mp3", str(own)], tmp_path / "ev", progress=False)
    given = ["--evaluation", str(tmp_path / "ev"), "--system", str(own)]
    assert main(["export", str(own), "--out", str(tmp_path / "w"), *given]) == 0
    card = json.loads((tmp_path / "w" / "card.json").read_text())
    assert card["test_metrics"]["recipe"]["sample_rate"] == 22050
    other = tiny_band_checkpoint(tmp_path / "b.pt")
    capsys.readouterr()
    assert main(["export", str(other), "--out", str(tmp_path / "b"), *given]) == 1
    err = capsys.readouterr().err
    assert f"{data}: its test clips were not made by the recipe {other}" in err
    assert "sample_rate 44100, not 22050" in err and "Traceback" not in err
    assert not (tmp_path / "b").exists()
    (tmp_path / "ev" / "dataset.json").unlink()  # an evaluation from before it was kept
    assert main(["export", str(own), "--out", str(tmp_path / "w2"), *given]) == 1
    assert "dataset.json: missing" in capsys.readouterr().err
