import re

from spectral_enhance.cli import main
from spectral_enhance.inference.enhancer import bundled_models


def test_bundled_models_ship_with_cards():
    assert "spectral-n1" in bundled_models()


def test_demo_writes_everything_and_enhancement_helps(tmp_path, capsys):
    from spectral_enhance.demo import FILES

    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert set(FILES) <= {p.name for p in tmp_path.iterdir()}
    assert (tmp_path / "spectrograms.png").read_bytes()[:4] == b"\x89PNG"
    out = capsys.readouterr().out
    header = [name for name in out.splitlines()[0].split() if name != "dB"]  # "SNR dB"
    rows = {
        line.split()[0]: line.split() for line in out.splitlines() if re.match(r"^(48|enh)", line)
    }
    low = dict(zip(header, map(float, rows["48"][3:]), strict=True))
    enhanced = dict(zip(header, map(float, rows["enhanced"][1:]), strict=True))
    assert enhanced["LSD"] < low["LSD"] and enhanced["LSD>cut"] < low["LSD>cut"]
    assert 1.0 <= enhanced["Zimtohrli"] <= 5.0  # scored; on this excerpt it falls (README)


def test_a_second_demo_into_the_same_folder_is_refused_unless_overwrite(tmp_path, capsys):
    from spectral_enhance.demo import FILES

    mp3 = tmp_path / FILES[0]
    mp3.write_bytes(b"an earlier demo's")
    assert main(["demo", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"spectral-enhance demo: error: {mp3}: exists (--overwrite replaces it)"
    )
    assert mp3.read_bytes() == b"an earlier demo's" and len(list(tmp_path.iterdir())) == 1


def test_an_interrupted_demo_leaves_nothing_to_block_the_next(tmp_path, monkeypatch):
    """Ctrl-C while the figure is drawn (the last file): the four files made are removed, so
    the same command runs again without --overwrite."""
    import spectral_enhance.evaluation.plots as plots

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "spectrograms_figure", interrupted)
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 130  # as `main` says it
    assert list((tmp_path / "demo").iterdir()) == []
    monkeypatch.undo()
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
