import csv
import json
import shutil

import pytest

from spectral_enhance.cli import main
from spectral_enhance.dataset.manifest import read_manifest
from tiny import tiny_checkpoint, tiny_dataset, tiny_full_band_dataset


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
    drawn = out.read_bytes()
    out.write_bytes(b"kept")
    assert main(["plot", "curves", str(run), "--out", str(out)]) == 1  # not replaced unasked
    assert out.read_bytes() == b"kept"
    assert main(["plot", "curves", str(run), "--out", str(out), "--overwrite"]) == 0
    assert out.read_bytes()[:8] == drawn[:8]


def test_curves_draw_zimtohrli_per_bitrate_where_the_log_has_it(tmp_path, monkeypatch):
    """A full-band run's log holds Zimtohrli overall and per bitrate, what its checkpoints are
    chosen by: each gets a panel, with the input's as its dashed line; a log without is drawn
    as before."""
    from spectral_enhance.evaluation import plots

    fields = ["epoch", "step", "train_loss", "lr", "val_loss", "snr", "pesq", "lsd", "lsd_high"]
    fields += ["stoi", "zimtohrli", "zimtohrli_32k", "zimtohrli_128k", "time"]
    rows = [dict.fromkeys(fields, "3") | {"epoch": "input", "zimtohrli_32k": "2.5"}]
    rows += [dict.fromkeys(fields, "4") | {"epoch": "1", "zimtohrli_32k": "3.5"}]
    drawn = {}

    def spy(fig, path):
        axes = [ax for ax in fig.axes if ax.get_title()]
        drawn.update(
            titles=[ax.get_title() for ax in axes],
            lines={ax.get_title(): [list(line.get_ydata()) for line in ax.lines] for ax in axes},
            suptitle=fig._suptitle.get_text(),
        )
        return path

    monkeypatch.setattr(plots, "_save", spy)
    plots.curves_figure({"run": rows}, tmp_path / "c.png")
    assert drawn["titles"][7:] == [
        "Zimtohrli",
        "Zimtohrli, 32 kbps input",
        "Zimtohrli, 128 kbps input",
    ]
    assert drawn["lines"]["Zimtohrli, 32 kbps input"] == [[3.5], [2.5, 2.5]]
    assert "32 kbps" not in drawn["suptitle"]
    plain = [{k: v for k, v in row.items() if not k.startswith("zimtohrli")} for row in rows]
    plots.curves_figure({"run": plain}, tmp_path / "c.png")
    assert "Zimtohrli" not in drawn["titles"] and len(drawn["titles"]) == 7


def test_a_figure_of_one_clip_takes_one_dataset(data, tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["plot", "spectrograms", str(data), str(data), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "plot: error: spectrograms draws a clip of one dataset; 2 folders given" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("kind", "option", "value"),
    [("spectrograms", "--checkpoints", "a.pt"), ("losses", "--model", "full-band"),
     ("curves", "--clip", "x"), ("curves", "--model", "full-band")],
)  # fmt: skip
def test_an_option_a_figure_takes_no_part_of_is_refused(
    data, tmp_path, capsys, kind, option, value
):
    """Each was dropped unsaid: a figure drawn by other settings than the command said."""
    out = tmp_path / "x.png"
    assert main(["plot", kind, str(data), "--out", str(out), option, value]) == 2
    assert f"plot: error: plot {kind} takes no {option}" in capsys.readouterr().err
    assert not out.exists()


def test_loss_figure_needs_checkpoints(data, tmp_path, capsys):
    assert main(["plot", "losses", str(data), "--out", str(tmp_path / "x.png")]) == 1
    assert "needs --checkpoints" in capsys.readouterr().err


def test_spectrograms_mark_the_cutoff_of_the_datasets_recipe(data, tmp_path, monkeypatch):
    """The dashed line and the labels come from the dataset (the clip's bitrate in its manifest
    row; the recipe's cutoff, as the manifest has no cutoff column), not from constants."""
    from spectral_enhance.evaluation import plots

    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    settings = json.loads((copy / "recipe.json").read_text())
    settings["recipe"] |= {"low_bitrate": 24, "cutoff_hz": 5860.0}
    (copy / "recipe.json").write_text(json.dumps(settings))
    manifest = copy / "manifest.csv"
    manifest.write_text(manifest.read_text().replace(",32,128", ",24,128"))
    drawn = {}

    def spy(signals, rate, path, title=None, cutoff_hz=None, columns=3):
        drawn.update(names=list(signals), cutoff_hz=cutoff_hz, rate=rate)
        return path

    monkeypatch.setattr(plots, "spectrograms_figure", spy)
    assert main(["plot", "spectrograms", str(copy), "--out", str(tmp_path / "x.png")]) == 0
    assert drawn["cutoff_hz"] == 5860.0 and drawn["rate"] == 22050
    assert drawn["names"][:2] == ["24 kbps (input)", "128 kbps (reference)"]


def test_spectrograms_of_a_full_band_clip_mark_its_own_bitrates_cutoff(tmp_path, monkeypatch):
    from spectral_enhance.evaluation import plots

    data = tiny_full_band_dataset(tmp_path)
    row = next(r for r in read_manifest(data, "test") if r["low_bitrate"] == "64")
    drawn = {}

    def spy(signals, rate, path, title=None, cutoff_hz=None, columns=3):
        drawn.update(
            names=list(signals), cutoff_hz=cutoff_hz, shapes=[s.shape for s in signals.values()]
        )
        return path

    monkeypatch.setattr(plots, "spectrograms_figure", spy)
    args = [
        "plot",
        "spectrograms",
        str(data),
        "--clip",
        row["clip"],
        "--out",
        str(tmp_path / "x.png"),
    ]
    assert main(args) == 0
    assert drawn["cutoff_hz"] == float(row["cutoff_hz"]) == 10890.0
    assert drawn["names"][:2] == ["64 kbps (input)", "lossless (reference)"]
    assert drawn["shapes"][0] == (20_000,)  # the stereo clip drawn as its channels' mean


def test_curves_of_a_folder_without_a_log_is_one_line(tmp_path, capsys):
    assert main(["plot", "curves", str(tmp_path), "--out", str(tmp_path / "c.png")]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'log.csv'}: missing" in err and "Traceback" not in err
