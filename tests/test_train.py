import csv
import os
import shutil
import socket

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from spectral_enhance.dataset.manifest import read_manifest
from spectral_enhance.models import build_model
from spectral_enhance.models.checkpoint import load_checkpoint, load_model
from spectral_enhance.training.train import TrainConfig, epoch_batches, train
from spectral_enhance.training.validation import selection_score
from tiny import TINY_WAVEFORM, tiny_dataset, tiny_full_band_dataset

TINY = {"latent": 8}
FAST = TrainConfig(batch_size=4, epochs=2, crop_frames=16, val_clips=2, lr_cycle_steps=3)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("train"), tracks=8)


def weights(path):
    return load_checkpoint(path)["state_dict"]


def test_trains_logs_and_keeps_a_loadable_best(data, tmp_path):
    best = train(data, tmp_path / "run", FAST, progress=False, model_config=TINY)
    assert set(best) >= {"snr", "pesq", "lsd", "lsd_high", "stoi", "loss"}
    with open(tmp_path / "run" / "log.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["epoch"] for r in rows] == ["input", "1", "2"]
    model, checkpoint = load_model(tmp_path / "run" / "best.pt")
    assert checkpoint["model_config"]["latent"] == 8
    assert checkpoint["stft"]["hop_length"] == 248
    assert checkpoint["training"]["config"]["loss"] == "pixel+0.5*ssim"
    assert model(torch.zeros(1, 2, 5, 512)).shape == (1, 2, 5, 512)


def test_training_changes_the_weights(data, tmp_path):
    train(data, tmp_path / "run", FAST, progress=False, model_config=TINY)
    trained = weights(tmp_path / "run" / "last.pt")
    assert trained["middle_block.from_latent.pointwise.weight"].abs().sum() > 0  # starts at 0


def test_resume_continues_exactly(data, tmp_path):
    train(data, tmp_path / "straight", FAST, progress=False, model_config=TINY)
    half = TrainConfig(**{**FAST.__dict__, "epochs": 1})
    train(data, tmp_path / "resumed", half, progress=False, model_config=TINY)
    train(data, tmp_path / "resumed", FAST, resume=True, progress=False)
    a, b = weights(tmp_path / "straight" / "last.pt"), weights(tmp_path / "resumed" / "last.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert load_checkpoint(tmp_path / "resumed" / "last.pt")["training"]["step"] == 2 * (
        load_checkpoint(tmp_path / "straight" / "last.pt")["training"]["step"] // 2
    )


def test_time_budget_ends_the_run_cleanly(data, tmp_path):
    budget = TrainConfig(**{**FAST.__dict__, "epochs": 50, "max_minutes": 1e-9})
    train(data, tmp_path / "run", budget, progress=False, model_config=TINY)
    state = load_checkpoint(tmp_path / "run" / "last.pt")["training"]
    assert (state["epoch"], state["step_in_epoch"], state["step"]) == (0, 1, 1)


def _interrupt_at_step(monkeypatch, step: int, times: int = 1, name: str = "SIGINT"):
    """Send signal ``name`` (Ctrl-C's) ``times`` to this process as training's step ``step``
    takes its batch."""
    import signal

    import spectral_enhance.training.train as training

    batch, calls = training._training_batch, []

    def interrupting(*args, **kwargs):
        calls.append(1)
        if len(calls) == step:
            for _ in range(times):
                os.kill(os.getpid(), getattr(signal, name))
        return batch(*args, **kwargs)

    monkeypatch.setattr(training, "_training_batch", interrupting)
    return lambda: monkeypatch.setattr(training, "_training_batch", batch)


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_ctrl_c_saves_the_run_where_it_stopped(data, tmp_path, monkeypatch, capsys, name):
    """A first Ctrl-C (or a kill's SIGTERM) ends the step in hand and saves it: --resume then
    ends where an uninterrupted run ends, to the bit (before, the epoch's steps were lost)."""
    import signal

    train(data, tmp_path / "straight", FAST, progress=False, model_config=TINY)
    undo = _interrupt_at_step(monkeypatch, 2, name=name)
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt, match="saved after step 2") as stopped:
        train(data, tmp_path / "run", FAST, progress=False, model_config=TINY)
    assert f"{name}: stopping after this step" in capsys.readouterr().err
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    state = load_checkpoint(tmp_path / "run" / "last.pt")["training"]
    assert (state["epoch"], state["step_in_epoch"], state["step"]) == (0, 2, 2)
    assert "--resume goes on from there" in str(stopped.value)
    undo()
    train(data, tmp_path / "run", FAST, resume=True, progress=False)
    a, b = weights(tmp_path / "straight" / "last.pt"), weights(tmp_path / "run" / "last.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_second_ctrl_c_stops_at_once(data, tmp_path, monkeypatch):
    import signal

    before = signal.getsignal(signal.SIGINT)
    _interrupt_at_step(monkeypatch, 2, times=2)
    with pytest.raises(KeyboardInterrupt) as stopped:
        train(data, tmp_path / "run", FAST, progress=False, model_config=TINY)
    assert "saved" not in str(stopped.value) and not (tmp_path / "run" / "last.pt").exists()
    assert signal.getsignal(signal.SIGINT) == before


def test_selection_never_trades_pesq_or_stoi():
    base = {"snr": 18.0, "lsd": 2.0, "pesq": 4.0, "stoi": 0.95}
    big_gain_worse_pesq = {"snr": 21.0, "lsd": 1.0, "pesq": 3.9, "stoi": 0.95}
    small_gain_all_better = {"snr": 18.1, "lsd": 1.9, "pesq": 4.0, "stoi": 0.95}
    assert selection_score(small_gain_all_better, base) > selection_score(big_gain_worse_pesq, base)


def _worker(rank, world, port, data, out):
    import spectral_enhance.training.train as training

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    built = []
    original = training.build_model
    training.build_model = lambda *args: built.append(original(*args)) or built[-1]
    try:
        config = TrainConfig(**{**FAST.__dict__, "epochs": 1})
        train(data, out / "run", config, progress=False, model_config=TINY)
        torch.save(built[0].state_dict(), out / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_processes_keep_identical_replicas(data, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mp.spawn(_worker, args=(2, port, data, tmp_path), nprocs=2, join=True)
    a = torch.load(tmp_path / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert a["middle_block.from_latent.pointwise.weight"].abs().sum() > 0  # they did train
    assert torch.equal(
        weights(tmp_path / "run" / "last.pt")["middle_block.to_latent.depthwise.weight"],
        a["middle_block.to_latent.depthwise.weight"],
    )


@pytest.mark.parametrize("arch", ["audiounet", "tfilm", "wavenet"])
def test_waveform_baselines_train_on_crops_with_mse(data, tmp_path, arch):
    config = TrainConfig(**{**FAST.__dict__, "arch": arch, "epochs": 1, "crop_samples": 512})
    best = train(data, tmp_path / "run", config, progress=False, model_config=TINY_WAVEFORM[arch])
    assert set(best) >= {"snr", "pesq", "lsd", "lsd_high", "stoi", "loss"}
    first = load_checkpoint(tmp_path / "run" / "last.pt")
    assert first["arch"] == arch
    assert first["training"]["config"]["loss"] == "mse"  # the baselines' papers' loss
    untrained = build_model(arch, TINY_WAVEFORM[arch]).state_dict()
    assert any(not torch.equal(first["state_dict"][k], untrained[k]) for k in untrained)
    model, _ = load_model(tmp_path / "run" / "best.pt")
    assert model(torch.zeros(2, 1001)).shape == (2, 1001)


def test_unknown_architecture_is_refused_clearly(data, tmp_path):
    with pytest.raises(ValueError, match="unknown architecture 'unet'"):
        train(data, tmp_path / "run", TrainConfig(arch="unet"), progress=False)


def cli_train(data, run, *flags):
    """``spectral-enhance train`` with the tiny settings of ``FAST`` (one epoch)."""
    from spectral_enhance.cli import main

    settings = ["--batch-size", "4", "--epochs", "1", "--crop-frames", "16", "--val-clips", "2"]
    settings += ["--lr-cycle-steps", "3", "--model-option", "latent=8", "--threads", "1"]
    return main(["train", str(data), "--out", str(run), *settings, *flags])


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("met", [True, False])
def test_the_run_says_when_its_best_met_no_selection_rule(data, tmp_path, capsys, monkeypatch, met):
    """``best.pt`` is the nearest validation when none met the rule: the last line says which
    epoch it is, and a warning says it met none (it said nothing, and looked chosen)."""
    import spectral_enhance.training.train as training

    monkeypatch.setattr(training, "selection_score", lambda metrics, baseline: (int(met), 0.0))
    assert cli_train(data, tmp_path / "run") == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1].startswith("best (epoch 1): snr ")
    warned = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert warned == ([] if met else [
        f"warning: {tmp_path / 'run' / 'best.pt'}: no validation met the selection rule (at "
        "least the input's SNR, LSD, PESQ and STOI): it is the nearest; check it before "
        "exporting it"
    ])  # fmt: skip


def test_a_folder_holding_a_run_is_refused_unless_resume_or_overwrite(data, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli_train(data, run) == 0
    first = weights(run / "last.pt")
    capsys.readouterr()
    assert cli_train(data, run) == 1
    line = one_error_line(capsys)
    assert line.startswith("spectral-enhance train: error: ") and str(run) in line
    assert "--resume" in line and "--overwrite" in line
    assert all(torch.equal(first[k], weights(run / "last.pt")[k]) for k in first)  # untouched
    assert cli_train(data, run, "--resume", "--overwrite") == 2  # a usage error, as the others
    assert "--resume and --overwrite exclude each other" in one_error_line(capsys)

    (run / "best.pt").write_bytes(b"an old run's best")
    assert cli_train(data, run, "--overwrite", "--seed", "1") == 0
    with open(run / "log.csv") as handle:
        assert [r["epoch"] for r in csv.DictReader(handle)] == ["input", "1"]  # not appended
    assert load_checkpoint(run / "best.pt")["training"]["config"]["seed"] == 1
    assert load_checkpoint(run / "last.pt")["training"]["step"] == 3  # a fresh count


def test_resume_without_a_run_names_the_missing_checkpoint(data, tmp_path, capsys):
    assert cli_train(data, tmp_path / "empty", "--resume") == 1
    line = one_error_line(capsys)
    assert str(tmp_path / "empty" / "last.pt") in line
    assert not (tmp_path / "empty").exists()


def test_a_resumed_run_keeps_its_data_and_settings_and_says_so(data, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli_train(data, run) == 0
    capsys.readouterr()
    assert cli_train(data, run, "--resume", "--epochs", "2", "--lr", "0.5") == 0
    (warning,) = [line for line in capsys.readouterr().err.splitlines() if " not used" in line]
    unused = warning.split(" not used")[0]
    assert "--lr" in unused and "--batch-size" in unused and "--model-option" in unused
    assert "--epochs" not in unused
    assert load_checkpoint(run / "last.pt")["training"]["config"]["lr"] != 0.5
    assert cli_train(data, run, "--resume", "--epochs", "2") == 0
    assert "has done 2 epochs already, as --epochs 2 asks: nothing to do" in capsys.readouterr().out
    other = tiny_full_band_dataset(tmp_path / "full-band", tracks=3)
    assert cli_train(other, run, "--resume", "--epochs", "3") == 1
    line = one_error_line(capsys)
    assert f"{other}: not the dataset the run in {run} was trained on" in line
    assert "sample_rate 22050, not 44100" in line


def test_a_run_stopped_in_its_first_epoch_and_bad_options_are_one_line(data, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.csv").write_text("epoch,step\ninput,0\n")  # as a Ctrl-C in epoch 1 leaves it
    assert cli_train(data, run, "--resume") == 1
    assert "stopped before its first epoch ended" in one_error_line(capsys)
    assert cli_train(data, tmp_path / "new", "--model-option", "latent=abc") == 1
    assert "latent must be a whole number, not 'abc'" in one_error_line(capsys)
    (tmp_path / "bad.pt").write_text("garbage")
    from spectral_enhance.cli import main

    assert main(["export", str(tmp_path / "bad.pt"), "--out", str(tmp_path / "x")]) == 1
    assert "bad.pt: not a checkpoint (not the zip archive torch.save writes)" in one_error_line(
        capsys
    )
    # a missing file, or the run's folder, named as such: it was "not a spectral-enhance
    # checkpoint ([Errno 2] No such file or directory: ...)"
    assert main(["export", str(tmp_path / "none.pt"), "--out", str(tmp_path / "x")]) == 1
    assert one_error_line(capsys).endswith("none.pt: no such checkpoint")
    assert main(["export", str(run), "--out", str(tmp_path / "x")]) == 1
    assert one_error_line(capsys).endswith(
        f"{run}: a folder, not a checkpoint (a run's best.pt or last.pt)"
    )


def test_epoch_batches_keep_every_clip_even_when_fewer_than_a_batch():
    sizes = lambda n, batch, world=1: [len(b) for b in epoch_batches(np.arange(n), batch, world)]  # noqa: E731
    assert sizes(28, 32) == [28]
    assert sizes(12, 5) == [5, 5, 2]
    assert sizes(13, 4, world=2) == [4, 4, 4]  # the 13th clip cannot be split over 2 processes
    assert sizes(1, 4, world=2) == []
    order = np.random.default_rng(0).permutation(12)
    assert sorted(np.concatenate(epoch_batches(order, 5))) == list(range(12))


def test_a_dataset_smaller_than_a_batch_still_trains(data, tmp_path):
    clips = len(read_manifest(data, "train"))
    config = TrainConfig(**{**FAST.__dict__, "batch_size": clips + 20})
    train(data, tmp_path / "run", config, progress=False, model_config=TINY)
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    assert state["training"]["step"] == 2  # one step an epoch, not none
    assert state["state_dict"]["middle_block.from_latent.pointwise.weight"].abs().sum() > 0


def test_nothing_to_train_on_is_refused_with_the_counts(data, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    rows = (copy / "manifest.csv").read_text().splitlines()
    kept = [row for row in rows if ",train," not in row]
    (copy / "manifest.csv").write_text("\n".join(kept) + "\n")
    counts = (
        f"train 0, val {len(read_manifest(data, 'val'))}, test {len(read_manifest(data, 'test'))}"
    )
    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(b"an old run")
    with pytest.raises(ValueError, match=f"0 clips in the 'train' split \\({counts}\\); nothing"):
        train(copy, run, FAST, progress=False, model_config=TINY, overwrite=True)
    assert (run / "last.pt").read_bytes() == b"an old run"  # refused before anything was removed


def test_trains_on_a_stereo_dataset_of_several_bitrates_with_each_clips_cutoff(tmp_path):
    """Issue 12's datasets: each channel is a pair, validated at its own bitrate's cutoff."""
    from spectral_enhance.dataset.manifest import read_recipe
    from spectral_enhance.training.clips import ClipPairs

    data = tiny_full_band_dataset(tmp_path, tracks=4)
    recipe = read_recipe(data)
    val = ClipPairs(data, "val")
    rows = read_manifest(data, "val")
    assert len(val) == 2 * len(rows) and val.low[0].shape == (20_000,)
    assert val.counted() == f"{len(rows)} ({2 * len(rows)} channels)"  # clips, as the run says
    assert sorted(set(val.cutoffs)) == [recipe.cutoff_for(32), recipe.cutoff_for(64)]
    best = train(data, tmp_path / "run", FAST, progress=False, model_config=TINY)
    assert np.isfinite(best["snr"])
    assert load_checkpoint(tmp_path / "run" / "best.pt")["recipe"]["bitrates"] == [32, 64]


def test_the_full_band_model_trains_on_batches_of_one_bitrate_and_exports(tmp_path):
    """`--arch band`: its own STFT in the checkpoint, Zimtohrli per clip and bitrate in the
    log, batches that share one low-pass, an export whose card says it takes the low-pass, and
    ONNX that agrees with PyTorch; --resume continues it."""
    from spectral_enhance.inference.card import ModelCard
    from spectral_enhance.training.clips import ClipPairs
    from spectral_enhance.training.export import export
    from spectral_enhance.training.train import bitrate_batches

    data = tiny_full_band_dataset(tmp_path, tracks=4)
    clips = ClipPairs(data, "train")
    for batch in bitrate_batches(np.arange(len(clips)), clips.bitrates, 3, 1, (0, 0)):
        assert len({clips.bitrates[i] for i in batch}) == 1
    config = TrainConfig(arch="band", epochs=1, batch_size=4, crop_frames=16)
    band = {"latent": 8, "envelope": True}  # the bundled form: the envelope predicted
    best = train(data, tmp_path / "run", config, progress=False, model_config=band)
    assert 1.0 <= best["zimtohrli"] <= 5.0
    checkpoint = load_checkpoint(tmp_path / "run" / "best.pt")
    assert checkpoint["stft"] == {"window_length": 2048, "hop_length": 512, "fft_length": 2048}
    assert checkpoint["model_config"]["sample_rate"] == 44100  # its data's, for the prior
    with open(tmp_path / "run" / "log.csv") as handle:
        header = next(csv.reader(handle))
    assert {"zimtohrli", "zimtohrli_32k", "zimtohrli_64k"} <= set(header)
    again = TrainConfig(epochs=2)  # as `train --resume` gives it: the run's own settings rule
    train(data, tmp_path / "run", again, resume=True, progress=False)
    assert load_checkpoint(tmp_path / "run" / "last.pt")["training"]["epoch"] == 2
    export(tmp_path / "run" / "last.pt", tmp_path / "onnx")
    card = ModelCard.read(tmp_path / "onnx")
    assert card.rule.takes_lowpass and card.stft.fft_length == 2048 and card.sample_rate == 44100
    assert card.rule.joint_channels  # trained clip by clip, run with a file's channels together


def test_full_band_selection_keeps_every_bitrate_and_every_clip():
    """No bitrate worse than its input on Zimtohrli, no clip down by more than 0.1."""
    base = {"per_clip": [3.0, 3.0, 4.0, 4.0], "bitrates": [32, 32, 64, 64]}
    good = {"per_clip": [3.5, 3.4, 4.05, 3.95], "bitrates": [32, 32, 64, 64]}
    bitrate_worse = {"per_clip": [3.9, 3.9, 3.98, 3.98], "bitrates": [32, 32, 64, 64]}
    clip_dropped = {"per_clip": [3.9, 3.9, 4.3, 3.85], "bitrates": [32, 32, 64, 64]}
    assert selection_score(good, base)[0] == 1
    assert selection_score(bitrate_worse, base)[0] == 0  # the mean gain is higher, still out
    assert selection_score(clip_dropped, base)[0] == 0
    assert selection_score(bitrate_worse, base) < selection_score(good, base)


def test_the_band_loss_judges_the_model_s_bands_or_those_asked_for(tmp_path, monkeypatch):
    """The full-band model is judged per band of its own width (``band_bins``), or of
    ``--band-width`` when given (a broad level, say, beside a finer envelope)."""
    import spectral_enhance.training.train as training

    data = tiny_full_band_dataset(tmp_path, tracks=4)
    seen: list[int] = []
    loss = training.band_loss

    def recording(*args, band_bins=8, **kwargs):
        if "overshoot" in kwargs:  # a training step's (validation's reports the model's bands)
            seen.append(band_bins)
        return loss(*args, band_bins=band_bins, **kwargs)

    monkeypatch.setattr(training, "band_loss", recording)
    band = {"latent": 8, "envelope": True, "band_bins": 16}
    for width, expected in ((0, 16), (64, 64)):
        seen.clear()
        config = TrainConfig(arch="band", epochs=1, batch_size=4, crop_frames=16, band_width=width)
        train(data, tmp_path / f"run{width}", config, progress=False, model_config=band)
        assert seen and set(seen) == {expected}


def cli_resume(data, run, *flags):
    """``spectral-enhance train --resume`` with no settings but ``flags``."""
    from spectral_enhance.cli import main

    return main(["train", str(data), "--out", str(run), "--resume", "--threads", "1", *flags])


def test_a_bare_resume_keeps_the_saved_epochs_and_time_budget(data, tmp_path, capsys, monkeypatch):
    """``--resume`` without --epochs or --max-minutes keeps the run's own (before, it trained on
    to --epochs' default, 200, with no time limit)."""
    import spectral_enhance.training.train as training

    done, budget = tmp_path / "done", tmp_path / "budget"
    assert cli_train(data, done) == 0  # --epochs 1
    assert cli_train(data, budget, "--epochs", "3", "--max-minutes", "1e-9") == 0  # one step
    batch, allowed = training._training_batch, []

    def counted(*args, **kwargs):
        assert allowed, "trained past the run's saved --epochs or --max-minutes"
        allowed.pop()
        return batch(*args, **kwargs)

    monkeypatch.setattr(training, "_training_batch", counted)
    capsys.readouterr()
    assert cli_resume(data, done) == 0
    assert "has done 1 epochs already, as --epochs 1 asks: nothing to do" in capsys.readouterr().out
    allowed.append(1)  # the time budget, kept, ends it after one more step
    assert cli_resume(data, budget) == 0
    state = load_checkpoint(budget / "last.pt")["training"]
    assert state["step"] == 2 and (state["config"]["epochs"], state["config"]["max_minutes"]) == (
        3,
        1e-9,
    )


def test_a_loss_for_the_full_band_model_is_refused(data, tmp_path, capsys):
    """`--arch band` trains with its band loss alone: a --loss is refused (as an unknown one is
    for the spectral model), not ignored and recorded."""
    for arch, loss, said in (
        ("band", "foo", "--loss 'foo': --arch band trains with its own loss (band)"),
        ("band", "mse", "--loss 'mse': --arch band trains with its own loss (band)"),
        ("spectral", "foo", "unknown loss 'foo'"),
    ):
        assert cli_train(data, tmp_path / "run", "--arch", arch, "--loss", loss) == 2
        assert said in one_error_line(capsys)
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="--arch band trains with its own loss"):
        train(data, tmp_path / "run", TrainConfig(arch="band", loss="mse"), progress=False)


def test_a_setting_the_architecture_takes_no_part_of_is_refused(data, tmp_path, capsys):
    """Each was recorded in the checkpoint and its card as if it had shaped the model."""
    for arch, flag, said in (
        ("wavenet", "--n-blocks 3", "--n-blocks is for --arch spectral or band"),
        ("spectral", "--crop-samples 4096", "--crop-samples is for --arch audiounet, tfilm or"),
        ("band", "--plain", "--plain is for --arch spectral: --arch band takes no part of it"),
        ("spectral", "--overshoot 2", "--overshoot is for --arch band"),
    ):
        assert cli_train(data, tmp_path / "run", "--arch", arch, *flag.split()) == 2
        assert said in one_error_line(capsys)
    assert not (tmp_path / "run").exists()


def test_a_model_setting_given_twice_is_refused_and_the_run_records_the_model(
    data, tmp_path, capsys
):
    """--n-blocks and --model-option n_blocks (or --plain and residual) that disagree are
    refused; one given alone is what the model and its checkpoint's settings both say."""
    run = tmp_path / "run"
    assert cli_train(data, run, "--n-blocks", "3", "--model-option", "n_blocks=2") == 2
    assert "--n-blocks 3 and --model-option n_blocks=2 disagree" in one_error_line(capsys)
    assert cli_train(data, run, "--plain", "--model-option", "residual=true") == 2
    assert "--plain and --model-option residual=true disagree" in one_error_line(capsys)
    assert not run.exists()
    assert cli_train(data, run, "--model-option", "n_blocks=2") == 0
    checkpoint = load_checkpoint(run / "last.pt")
    assert checkpoint["model_config"]["n_blocks"] == 2
    assert checkpoint["training"]["config"]["n_blocks"] == 2


def test_a_resume_names_a_flag_given_at_its_default(data, tmp_path, capsys):
    """A flag given at its default value, unlike the run's saved one, is named as unused too."""
    run = tmp_path / "run"
    assert cli_train(data, run, "--seed", "1") == 0
    capsys.readouterr()
    assert cli_resume(data, run, "--seed", "0", "--epochs", "1") == 0
    (warning,) = [line for line in capsys.readouterr().err.splitlines() if "--seed" in line]
    assert warning.startswith("warning: --seed not used: --resume continues the run")
    assert load_checkpoint(run / "last.pt")["training"]["config"]["seed"] == 1


def test_a_dataset_folder_is_refused_as_the_run_folder(data, tmp_path, capsys):
    """A run is never written among a dataset's files: its own, another's, or its clips."""
    copy, other = tmp_path / "data", tmp_path / "other"
    shutil.copytree(data, copy)
    other.mkdir()
    shutil.copy(copy / "recipe.json", other)
    (copy / "runs" / "a").mkdir(parents=True)
    for out, said in (
        (copy, "is the dataset it trains on"),
        (other, "is a dataset folder (it holds recipe.json)"),
        (copy / "train", "is a dataset's folder of clips"),
        (copy / "runs" / "a", "is inside the dataset it trains on"),
    ):
        assert cli_train(copy, out) == 1
        assert f"{out}: {said}; write the run to another folder" in one_error_line(capsys)
        assert not {"best.pt", "last.pt", "log.csv"} & {path.name for path in out.iterdir()}
