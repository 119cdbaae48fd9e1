"""Figures of section 4: spectrograms side by side (figure 3).

matplotlib comes with the ``[eval]`` extra; it is imported only when a figure is drawn, with the
non-interactive Agg backend so plotting works without a screen.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["spectrogram_db", "spectrograms_figure"]


def spectrogram_db(
    samples: np.ndarray, n_fft: int = 1024, hop: int = 256, floor_db: float = -100.0
) -> np.ndarray:
    """Power spectrogram in dB re full scale: ``[samples]`` -> ``[bins, frames]``."""
    from numpy.lib.stride_tricks import sliding_window_view

    x = np.pad(np.asarray(samples, dtype=np.float64), (n_fft // 2, n_fft // 2))
    frames = sliding_window_view(x, n_fft)[::hop] * np.hanning(n_fft)
    power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2 / (np.hanning(n_fft).sum() / 2) ** 2
    return np.maximum(10 * np.log10(power + 1e-20), floor_db).T


def spectrograms_figure(
    signals: dict[str, np.ndarray],
    sample_rate: int,
    path: str | os.PathLike,
    title: str | None = None,
    cutoff_hz: float | None = None,
) -> Path:
    """Figure 3: the spectrograms of ``signals`` (name -> samples) side by side, in dB, as a PNG.

    ``cutoff_hz`` draws the codec's cutoff as a dashed line on each panel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(signals), figsize=(5 * len(signals), 4.2), sharey=True)
    axes = np.atleast_1d(axes)
    image = None
    for ax, (name, samples) in zip(axes, signals.items(), strict=True):
        spec = spectrogram_db(samples)
        extent = (0.0, len(samples) / sample_rate, 0.0, sample_rate / 2000)
        image = ax.imshow(
            spec, origin="lower", aspect="auto", extent=extent, vmin=-100, vmax=-10, cmap="magma"
        )
        if cutoff_hz:
            ax.axhline(cutoff_hz / 1000, color="white", linestyle="--", linewidth=0.8)
        ax.set_title(name)
        ax.set_xlabel("time (s)")
    axes[0].set_ylabel("frequency (kHz)")
    fig.colorbar(image, ax=list(axes), label="power (dB re full scale)", shrink=0.9)
    if title:
        fig.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
