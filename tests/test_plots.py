import csv

import pytest

from spectral_enhance.cli import main
from spectral_enhance.dataset import read_manifest
from tiny import tiny_checkpoint, tiny_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("plots"), tracks=3, seconds=1.0)


def is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kind", ["spectrograms", "spectra"])
def test_clip_figures(data, tmp_path, kind):
    clip = read_manifest(data, "test")[0]["clip"]
    out = tmp_path / f"{kind}.png"
    assert main(["plot", kind, str(data), "--clip", clip, "--out", str(out)]) == 0
    assert is_png(out)


def test_loss_figure_names_each_model_by_its_loss(data, tmp_path, capsys):
    import torch

    checkpoints = []
    for i, loss in enumerate(["pixel", "mae"]):
        path = tiny_checkpoint(tmp_path / f"{loss}.pt", seed=i)
        state = torch.load(path, weights_only=True)
        state["training"] = {"config": {"loss": loss}}
        torch.save(state, path)
        checkpoints.append(str(path))
    out = tmp_path / "losses.png"
    assert (
        main(["plot", "losses", str(data), "--checkpoints", *checkpoints, "--out", str(out)]) == 0
    )
    assert is_png(out)


def test_curves_from_a_log(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    fields = ["epoch", "step", "train_loss", "lr", "val_loss", "snr", "pesq", "lsd", "lsd_high"]
    fields += ["stoi", "time"]
    with open(run / "log.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerow(dict.fromkeys(fields, "1") | {"epoch": "input", "lr": "nan"})
        for epoch in (1, 2):
            writer.writerow(dict.fromkeys(fields, str(epoch)))
    out = tmp_path / "curves.png"
    assert main(["plot", "curves", str(run), "--out", str(out)]) == 0
    assert is_png(out)


def test_loss_figure_needs_checkpoints(data, tmp_path, capsys):
    assert main(["plot", "losses", str(data), "--out", str(tmp_path / "x.png")]) == 1
    assert "needs --checkpoints" in capsys.readouterr().err
