"""Figures of section 4: spectrograms side by side (figure 3), spectra (figure 4), the losses'
spectrograms (figure 2), and training curves; `plot_clip` and `plot_curves` make them from a
dataset's clip and from run folders, as ``spectral-enhance plot`` does.

matplotlib comes with the ``[eval]`` extra; it is imported only when a figure is drawn, with the
non-interactive Agg backend so plotting works without a screen.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..inference.bundled import DEFAULT_MODEL

__all__ = [
    "CLIP_FIGURES",
    "curves_figure",
    "plot_clip",
    "plot_curves",
    "read_log",
    "spectra_figure",
    "spectrogram_db",
    "spectrograms_figure",
]

CLIP_FIGURES = ("spectrograms", "spectra", "losses")


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
    columns: int = 3,
) -> Path:
    """Figure 3 (and 2): spectrograms of ``signals`` (name -> samples) side by side, in dB.

    ``cutoff_hz`` draws the codec's cutoff as a dashed line on each panel; more than ``columns``
    signals wrap onto further rows.
    """
    plt = _pyplot()
    cols = min(columns, len(signals))
    rows = -(-len(signals) // cols)
    fig, grid = plt.subplots(
        rows, cols, figsize=(5 * cols, 4.2 * rows), squeeze=False, layout="constrained"
    )
    axes = grid.flat[: len(signals)]
    for extra in grid.flat[len(signals) :]:
        extra.axis("off")
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
    for row in grid:
        row[0].set_ylabel("frequency (kHz)")
    fig.colorbar(image, ax=list(grid.flat), label="power (dB re full scale)", shrink=0.9)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    with atomic_path(path) as temp:
        fig.savefig(temp, dpi=90, format=path.suffix[1:].lower() or "png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def spectra_figure(
    reference: np.ndarray,
    estimate: np.ndarray,
    sample_rate: int,
    path: str | os.PathLike,
    labels: tuple[str, str] = ("128 kbps (reference)", "reconstructed"),
) -> Path:
    """Figure 4: magnitude, power and two-sided phase spectra of two signals, overlaid.

    The spectra are of the whole signal (one FFT), in dB for magnitude and power; the phase
    spectrum runs from -fs/2 to fs/2 in radians.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2), layout="constrained")
    n = len(reference)
    freqs = np.fft.rfftfreq(n, 1 / sample_rate) / 1000
    two_sided = np.fft.fftshift(np.fft.fftfreq(n, 1 / sample_rate)) / 1000
    for samples, label, alpha in ((reference, labels[0], 0.8), (estimate, labels[1], 0.6)):
        spectrum = np.fft.rfft(samples) / n
        axes[0].plot(
            freqs, 20 * np.log10(np.abs(spectrum) + 1e-12), label=label, alpha=alpha, lw=0.6
        )
        axes[1].plot(
            freqs, 10 * np.log10(np.abs(spectrum) ** 2 + 1e-24), label=label, alpha=alpha, lw=0.6
        )
        phase = np.angle(np.fft.fftshift(np.fft.fft(samples)))
        axes[2].plot(two_sided, phase, ",", label=label, alpha=0.4)
    titles = ("magnitude spectrum", "power spectrum", "two-sided phase spectrum")
    units = ("magnitude (dB)", "power (dB)", "phase (rad)")
    for ax, title, unit in zip(axes, titles, units, strict=True):
        ax.set_title(title)
        ax.set_xlabel("frequency (kHz)")
        ax.set_ylabel(unit)
        ax.legend(loc="upper right", fontsize=8, markerscale=20)
    return _save(fig, path)


def curves_figure(logs: dict[str, list[dict]], path: str | os.PathLike) -> Path:
    """Training curves: loss and each validation metric per epoch, one line per run.

    ``logs`` maps a run's name to the rows of its ``log.csv`` (the ``input`` row, the decoded
    input's metrics, is drawn as a dashed line). Zimtohrli, overall and per bitrate, is drawn
    where a log has it (a full-band run's: what its checkpoints are chosen by).
    """
    plt = _pyplot()
    panels = [("train_loss", "training loss"), ("val_loss", "validation loss"), ("snr", "SNR (dB)")]
    panels += [("pesq", "PESQ"), ("lsd", "LSD"), ("lsd_high", "LSD above cutoff"), ("stoi", "STOI")]
    columns = list(dict.fromkeys(key for rows in logs.values() for key in (rows[:1] or [{}])[0]))
    for key in columns:
        if key == "zimtohrli":
            panels.append((key, "Zimtohrli"))
        elif key.startswith("zimtohrli_") and key.endswith("k"):
            panels.append((key, f"Zimtohrli, {key.removeprefix('zimtohrli_')[:-1]} kbps input"))
    rows_of_panels = -(-len(panels) // 4)
    fig, axes = plt.subplots(
        rows_of_panels, 4, figsize=(18, 3.75 * rows_of_panels), layout="constrained", squeeze=False
    )
    for ax, (key, title) in zip(axes.flat, panels, strict=False):
        for name, rows in logs.items():
            epochs = [r for r in rows if r["epoch"] != "input" and r.get(key) not in (None, "")]
            x = [float(r["step"]) for r in epochs]
            ax.plot(x, [float(r[key]) for r in epochs], marker=".", label=name)
            base = [r for r in rows if r["epoch"] == "input" and r.get(key) not in (None, "")]
            if base and key not in ("train_loss", "val_loss"):
                ax.axhline(float(base[0][key]), linestyle="--", color="grey", linewidth=0.8)
        ax.set_title(title)
        ax.set_xlabel("step")
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("training curves (dashed: the decoded input's)")
    return _save(fig, path)


def read_log(run: str | os.PathLike) -> list[dict]:
    """The rows of a training run's ``log.csv``."""
    path = Path(run) / "log.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (is {run} a training run folder?)")
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def plot_curves(runs: Sequence[str | os.PathLike], path: str | os.PathLike) -> Path:
    """Training curves of run folders (each named by its folder) into the PNG ``path``."""
    return curves_figure({Path(run).name: read_log(run) for run in runs}, path)


def plot_clip(
    kind: str,
    dataset: str | os.PathLike,
    path: str | os.PathLike,
    clip: str | None = None,
    split: str = "test",
    model: str | os.PathLike = DEFAULT_MODEL,
    checkpoints: Sequence[str | os.PathLike] = (),
) -> Path:
    """Figure 3 (``spectrograms``), 4 (``spectra``) or 2 (``losses``) of one clip of a dataset.

    ``clip`` is a clip id (None: the first of ``split``); ``model`` enhances it for figures 3
    and 4 (a ``.pt`` on PyTorch); ``checkpoints``, one per loss, for figure 2. The spectrograms
    mark the clip's cutoff (its bitrate's; the recipe's in a dataset made before issue 12). A
    stereo clip is drawn as its channels' mean.
    """
    from ..audio import to_mono
    from ..dataset.manifest import clip_cutoff_hz, load_clip, read_recipe
    from ..inference.enhancer import Enhancer

    if kind not in CLIP_FIGURES:
        raise ValueError(f"figure kind must be one of {', '.join(CLIP_FIGURES)}, not {kind!r}")
    if kind == "losses" and not checkpoints:
        raise ValueError("plot losses needs --checkpoints (one .pt per loss)")
    row, recipe = load_clip(dataset, clip, split), read_recipe(dataset)
    low, high = to_mono(row["low_samples"]), to_mono(row["high_samples"])
    rate = int(row["sample_rate"])
    title = f"{row['clip']} ({Path(row['track']).name})"
    source = f"{recipe.high_bitrate} kbps" if recipe.high_bitrate else "lossless"
    reference = f"{source} (reference)"
    if kind == "losses":
        signals = {reference: high}
        for checkpoint in checkpoints:
            enhancer = Enhancer.load(checkpoint, backend="torch")
            loss = enhancer.model.checkpoint["training"]["config"]["loss"]
            signals[loss] = enhancer.enhance(low, rate, output_rate=rate)[0]
        return spectrograms_figure(signals, rate, path, title=title, columns=4)
    backend = "torch" if str(model).endswith(".pt") else "onnx"
    enhancer = Enhancer.load(model, backend=backend)
    enhanced = enhancer.enhance(low, rate, output_rate=rate)[0]
    if kind == "spectra":
        return spectra_figure(high, enhanced, rate, path, labels=(reference, "reconstructed"))
    signals = {f"{row['low_bitrate']} kbps (input)": low, reference: high}
    signals[f"enhanced ({enhancer.name})"] = enhanced
    cutoff = clip_cutoff_hz(row, recipe)
    return spectrograms_figure(signals, rate, path, title=title, cutoff_hz=cutoff)
