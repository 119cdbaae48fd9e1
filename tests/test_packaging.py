"""The wheel must carry the bundled models and the demo excerpt: nothing is downloaded later;
and the README's Python example must run as it is written."""

import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "spectral_enhance"


def matches(path: Path, glob: str) -> bool:
    """setuptools' package-data rule: ``*`` stays within one folder."""
    parts = Path(glob).parts
    return len(path.parts) == len(parts) and all(map(fnmatchcase, path.parts, parts))


def test_package_data_globs_cover_every_bundled_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["spectral_enhance"]
    bundled = [
        p
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    files = [p.relative_to(PACKAGE) for p in bundled]
    assert any(str(f).endswith("model.int8.onnx") for f in files)
    assert Path("pretrained/full-band/holes.onnx") in files  # its hole net
    missed = [f for f in files if not any(matches(f, g) for g in globs)]
    assert not missed, f"not in the wheel: {missed}"


def test_the_readme_s_python_example_runs_as_written(tmp_path, monkeypatch):
    """The README's ``python`` block, run as it stands, on a ``lame`` file of its own name."""
    import re
    import shutil
    import subprocess

    import numpy as np
    import pytest
    import soundfile as sf

    from conftest import music

    if shutil.which("lame") is None:
        pytest.skip("needs Debian's lame (.ci/run installs it)")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    monkeypatch.chdir(tmp_path)
    sf.write("song.wav", music(3.0, 44100, channels=2), 44100, subtype="PCM_16")
    subprocess.run(["lame", "--quiet", "-b", "64", "song.wav", "song.mp3"], check=True)
    samples = sf.read("song.wav", dtype="float32")[0]
    scope = {"samples": samples}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["rate"] == 44100 and scope["out"].shape == samples.shape
    assert 10_000 < scope["cut"] < 12_000  # LAME's 64 kbps low-pass, as `enhance` prints it
    result = scope["result"]  # the file, enhanced as `enhance` does it: what its line says
    assert result.lowpass_hz == scope["cut"] and result.rebuilt() == (scope["cut"], 22050.0)
    assert sf.info("song.enhanced.wav").frames == len(samples) and result.warnings == []
    assert np.isfinite(scope["out"]).all()
