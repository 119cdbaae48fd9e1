"""Audio fixtures made inside the tests (music-like signals with a full-band spectrum), and the
bound their waits keep (`HUNG`)."""

from __future__ import annotations

import numpy as np
import pytest

HUNG = 300.0
"""Seconds after which a run, a job or the page a test waits for is taken for hung: a bound,
not a speed test. A fresh clone's CI, its disk cold and another run writing beside it, once
took over 60 s for a run that takes one here."""


def music(seconds: float, rate: int = 22050, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Chords of decaying harmonics plus a little noise: energy across the whole band."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    out = np.zeros((len(t), channels), dtype=np.float64)
    for c in range(channels):
        chord = []  # (f0, the phase of each harmonic under the Nyquist frequency)
        for f0 in rng.uniform(110, 440, size=3):
            chord.append((f0, [rng.uniform(0, 6.28) for k in range(1, 40) if f0 * k < rate / 2]))
        # Each harmonic from the one under it by a complex product, a block at a time: np.sin
        # of every harmonic of every sample made half a minute of music cost seconds.
        for start in range(0, len(t), 8192):
            span = t[start : start + 8192]
            for f0, phases in chord:
                step = np.exp(2j * np.pi * f0 * span)
                harmonic = step.copy()
                for k, phase in enumerate(phases, 1):
                    out[start : start + len(span), c] += (
                        harmonic.imag * np.cos(phase) + harmonic.real * np.sin(phase)
                    ) / k
                    harmonic *= step
        out[:, c] *= 0.5 + 0.5 * np.sin(2 * np.pi * 1.5 * t + c) ** 2
        out[:, c] += 0.02 * rng.standard_normal(len(t))
    out *= 0.3 / np.max(np.abs(out))
    return out.astype(np.float32) if channels > 1 else out[:, 0].astype(np.float32)


@pytest.fixture
def song() -> np.ndarray:
    """Three seconds of mono music at 22,050 Hz."""
    return music(3.0)


@pytest.fixture(scope="session")
def identity_model(tmp_path_factory) -> str:
    """A tiny untrained spectral model exported to ONNX whose output equals its input."""
    from spectral_enhance.training.export import export
    from tiny import tiny_checkpoint

    root = tmp_path_factory.mktemp("identity-model")
    export(tiny_checkpoint(root / "identity.pt", identity=True), root / "onnx")
    return str(root / "onnx")


@pytest.fixture(scope="session")
def band_model(tmp_path_factory) -> str:
    """A tiny untrained full-band model (it takes the low-pass), exported to ONNX."""
    from spectral_enhance.training.export import export
    from tiny import tiny_band_checkpoint

    root = tmp_path_factory.mktemp("band-model")
    export(tiny_band_checkpoint(root / "band.pt"), root / "onnx")
    return str(root / "onnx")
