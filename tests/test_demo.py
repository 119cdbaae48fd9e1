import re

from spectral_enhance.cli import main
from spectral_enhance.inference import bundled_models


def test_bundled_models_ship_with_cards():
    assert "spectral-n1" in bundled_models()


def test_demo_writes_everything_and_enhancement_helps(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "excerpt.32kbps.mp3",
        "excerpt.32kbps.wav",
        "excerpt.32kbps.enhanced.wav",
        "excerpt.reference-128kbps.wav",
        "spectrograms.png",
    } <= names
    assert (tmp_path / "spectrograms.png").read_bytes()[:4] == b"\x89PNG"
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if re.match(r"^(32|enhanced)", line)}
    low = [float(v) for v in rows["32"].split()[3:]]
    enhanced = [float(v) for v in rows["enhanced"].split()[1:]]
    assert enhanced[0] > low[0]  # SNR
    assert enhanced[1] < low[1] and enhanced[2] < low[2]  # LSD, LSD above the cutoff
