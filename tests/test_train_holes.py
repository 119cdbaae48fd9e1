"""`train-holes`: the hole net fitted at a model's STFT, as `export --hole-net` takes it."""

from __future__ import annotations

import numpy as np
import pytest

from spectral_enhance.cli import main
from spectral_enhance.dsp.holes import HoleGeometry, HoleNet
from spectral_enhance.models.checkpoint import load_model
from spectral_enhance.training.holes import HoleCells, fit_hole_net, hole_geometry
from tiny import tiny_band_checkpoint, tiny_full_band_dataset


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A tiny full-band checkpoint, a 32 kbps dataset, and the net `train-holes` fits for it."""
    root = tmp_path_factory.mktemp("holes")
    data = tiny_full_band_dataset(root, tracks=4, bitrates=(32,))
    checkpoint = tiny_band_checkpoint(
        root / "band.pt", options={"hop_length": 1024, "envelope": True}
    )
    out = root / "holes.onnx"
    args = ["train-holes", str(data), "--out", str(out), "--model", str(checkpoint)]
    assert main([*args, "--epochs", "2"]) == 0
    return args, checkpoint, out


def test_the_net_is_fitted_at_the_checkpoints_stft(fitted):
    _, checkpoint, out = fitted
    config = load_model(checkpoint)[0].config
    assert (config.hop_length, config.band_bins) == (1024, 8)  # not the default 512
    net = HoleNet.load(out)
    net.check(HoleGeometry.of(config.sample_rate, config.stft(), config.band_bins))
    assert hole_geometry(checkpoint).hop_length == 1024


def test_an_existing_net_is_kept_unless_overwrite_and_refitting_gives_the_same_bytes(
    fitted, capsys
):
    args, _, out = fitted
    first = out.read_bytes()
    capsys.readouterr()
    assert main([*args, "--epochs", "2"]) == 1
    error = capsys.readouterr().err.strip()
    assert error == f"spectral-enhance train-holes: error: {out}: exists (--overwrite replaces it)"
    assert out.read_bytes() == first
    assert main([*args, "--epochs", "2", "--overwrite"]) == 0
    assert out.read_bytes() == first  # from a fixed seed: the same data, the same net
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary left


def test_export_ships_the_fitted_net(fitted, tmp_path, capsys):
    from spectral_enhance.inference.enhancer import Enhancer

    _, checkpoint, out = fitted
    folder = tmp_path / "model"
    gone = tmp_path / "gone.onnx"
    assert main(["export", str(checkpoint), "--out", str(folder), "--hole-net", str(gone)]) == 1
    error = capsys.readouterr().err.strip()  # named by its command (its --command is the card's)
    assert error.startswith(f"spectral-enhance export: error: {checkpoint}: holes needs fill")
    assert main(["export", str(checkpoint), "--out", str(folder), "--hole-net", str(gone),
                 "--model-option", "fill=noise"]) == 1  # fmt: skip
    assert capsys.readouterr().err.strip().endswith(f"{gone}: hole net missing")
    assert main(["export", str(checkpoint), "--out", str(folder), "--precisions", "int8",
                 "--model-option", "fill=noise", "--hole-net", str(out)]) == 0  # fmt: skip
    assert (folder / "holes.onnx").read_bytes() == out.read_bytes()
    assert Enhancer.load(folder).hole_net is not None


def test_a_dataset_with_no_low_pass_under_the_mended_ones_is_refused(
    fitted, tmp_path, capsys, monkeypatch
):
    import spectral_enhance.training.holes as holes

    args, _, _ = fitted
    monkeypatch.setattr(holes, "TOP_HZ", 1000.0)  # no 32 kbps clip's low-pass is under 1 kHz
    out = tmp_path / "holes.onnx"
    assert main([*args[:2], "--out", str(out), *args[4:]]) == 1
    error = capsys.readouterr().err
    assert "no MP3 clip of the training split has a low-pass under 1 kHz" in error
    assert not out.exists()


def test_a_model_without_bands_is_refused(tmp_path):
    from tiny import tiny_checkpoint

    with pytest.raises(ValueError, match=r"spectral.pt: not a full-band model"):
        hole_geometry(tiny_checkpoint(tmp_path / "spectral.pt"))


def test_the_fit_learns_the_level_from_the_features():
    """On cells whose level is a function of their features, the fitted net predicts it far
    better than their mean does."""
    rng = np.random.default_rng(1)
    features = rng.uniform(-1, 1, (40_000, 11)).astype(np.float32)
    level = (20 * features[:, 0] - 10 * np.abs(features[:, 3]) + 5).astype(np.float32)
    cells = HoleCells(features, level, level, np.full(len(level), 32))
    layers = fit_hole_net(cells, hidden=16, epochs=80)  # 400 steps of 8,192 cells
    hidden = np.maximum(features @ layers[0][0].T + layers[0][1], 0)
    hidden = np.maximum(hidden @ layers[1][0].T + layers[1][1], 0)
    predicted = 10 * (hidden @ layers[2][0].T + layers[2][1])[:, 0]
    assert np.sqrt(np.mean((predicted - level) ** 2)) < 0.15 * level.std()
