"""The wheel must carry the bundled models and the demo excerpt: nothing is downloaded later."""

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
