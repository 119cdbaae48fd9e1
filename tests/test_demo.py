import re

from spectral_enhance.cli import main
from spectral_enhance.inference import bundled_models


def test_bundled_models_ship_with_cards():
    assert "spectral-n1" in bundled_models()


def test_demo_writes_everything_and_enhancement_helps(tmp_path, capsys):
    from spectral_enhance.demo import FILES

    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert set(FILES) <= {p.name for p in tmp_path.iterdir()}
    assert (tmp_path / "spectrograms.png").read_bytes()[:4] == b"\x89PNG"
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    rows = {
        line.split()[0]: line.split() for line in out.splitlines() if re.match(r"^(48|enh)", line)
    }
    low = dict(zip(header, map(float, rows["48"][3:]), strict=True))
    enhanced = dict(zip(header, map(float, rows["enhanced"][1:]), strict=True))
    assert enhanced["LSD"] < low["LSD"] and enhanced["LSD>cut"] < low["LSD>cut"]
    assert enhanced["Zimtohrli"] > low["Zimtohrli"]
