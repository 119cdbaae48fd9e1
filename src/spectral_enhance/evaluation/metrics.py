"""The paper's evaluation metrics (section 4.2): SNR, wide-band PESQ, LSD and STOI; and Zimtohrli.

Every function takes two 1-D float signals of the same length, the reference ``y`` (the 128 kbps
target) first and the estimate ``y_hat`` second, both ``[samples]`` at one sample rate.

PESQ wide-band works at 16 kHz and STOI at 10 kHz, so neither hears anything above 8 kHz; the
rebuilt high band shows only in LSD, hence ``lsd_above`` for the band the codec removed
(REFERENCE-NOTES.md, "What the paper's metrics can and cannot see").

Zimtohrli (issue 12) is Google's psychoacoustic metric for codecs and music, scored at 48 kHz over
the whole audible band: the metric that hears the band this project rebuilds, which PESQ and STOI
cannot.

``pesq``, ``pystoi`` and ``zimtohrli`` belong to the ``eval`` extra, so they are imported inside the
functions that need them: SNR and LSD work without them.
"""

from __future__ import annotations

import math

import numpy as np
import soxr
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "log_power_frames",
    "log_spectral_distance",
    "lsd_above",
    "pesq_wb",
    "score",
    "snr",
    "stoi",
    "zimtohrli_mos",
]

PESQ_SAMPLE_RATE = 16000
"""Wide-band PESQ (ITU-T P.862.2) is defined at 16 kHz only (section 4.2, eq. 5)."""
ZIMTOHRLI_SAMPLE_RATE = 48000
"""Zimtohrli's model of the ear takes 48 kHz input only."""


def _check_pair(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both signals as float64 ``[samples]``; ValueError unless 1-D, non-empty, equal length."""
    y = np.asarray(reference, dtype=np.float64)
    y_hat = np.asarray(estimate, dtype=np.float64)
    if y.ndim != 1 or y_hat.ndim != 1:
        raise ValueError(
            f"metrics take 1-D signals; got reference shape {y.shape}, estimate shape {y_hat.shape}"
        )
    if len(y) != len(y_hat):
        raise ValueError(
            f"reference and estimate must have the same length; got {len(y)} and {len(y_hat)}"
        )
    if len(y) == 0:
        raise ValueError("reference and estimate are empty")
    return y, y_hat


def snr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Signal-to-noise ratio in dB, eq. 4: ``10 log10(||y||^2 / ||y - y_hat||^2)``.

    Identical signals return ``math.inf``; a silent reference with a non-silent error returns
    ``-math.inf``.
    """
    y, y_hat = _check_pair(reference, estimate)
    signal = float(np.sum(np.square(y)))
    noise = float(np.sum(np.square(y - y_hat)))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def pesq_wb(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Wide-band PESQ (P.862.2, MOS-LQO from about 1.0 to 4.64), eq. 5 with the default a0, a1, a2.

    Both signals are resampled to 16 kHz with ``soxr.resample`` first when ``sample_rate`` differs,
    as the paper does (section 4.2). Needs the ``pesq`` package (the ``eval`` extra).

    Raises ValueError when PESQ cannot score the pair, e.g. a silent reference, no utterances
    found by its voice activity detector, or a signal too short (about a quarter of a second).
    """
    from pesq import PesqError, pesq  # optional extra: imported only when PESQ is asked for

    y, y_hat = _check_pair(reference, estimate)
    if sample_rate != PESQ_SAMPLE_RATE:
        y = soxr.resample(y, sample_rate, PESQ_SAMPLE_RATE)
        y_hat = soxr.resample(y_hat, sample_rate, PESQ_SAMPLE_RATE)
    # the pesq wrapper divides by the peak, so an all-zero pair would silently become NaN
    if not np.any(y):
        raise ValueError("PESQ cannot score a silent reference")
    try:
        return float(pesq(PESQ_SAMPLE_RATE, y, y_hat, "wb"))
    except PesqError as error:
        raise ValueError(
            f"PESQ failed on {len(y)} samples at {PESQ_SAMPLE_RATE} Hz "
            f"({type(error).__name__}: {error}); is the signal silent or too short?"
        ) from error


def log_power_frames(x: np.ndarray, n_fft: int, hop: int, eps: float) -> np.ndarray:
    """``log10(|STFT|^2 + eps)`` with a periodic Hann window, ``[frames, n_fft // 2 + 1]``.

    No centering; zeros are appended so that there is at least one frame and the last frame
    reaches the last sample.
    """
    frames = 1 + max(0, math.ceil((len(x) - n_fft) / hop))
    padded = np.zeros((frames - 1) * hop + n_fft)
    padded[: len(x)] = x
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)
    windowed = sliding_window_view(padded, n_fft)[::hop] * window
    power = np.square(np.abs(np.fft.rfft(windowed, axis=-1)))
    return np.log10(power + eps)


def log_spectral_distance(
    reference: np.ndarray,
    estimate: np.ndarray,
    sample_rate: float | None = None,
    n_fft: int = 2048,
    hop: int = 512,
    min_hz: float = 0.0,
    eps: float = 1e-10,
    max_hz: float | None = None,
) -> float:
    """Log-spectral distance, eq. 6: the mean over frames of the RMS over bins of ``S - S_hat``.

    Definitions in the literature differ by about 2x on the same audio (log base, order of the
    averages, floor), so ours is exactly:

    - STFT with a periodic Hann window of 2,048 samples (``n_fft``), hop 512 (``hop``; the paper
      gives only the window length), no centering, zeros appended to fill the last frame;
      ``[frames, 1025]`` bins, unnormalised ``numpy.fft.rfft``.
    - ``S = log10(P + eps)`` with power ``P = |STFT|^2`` and ``eps = 1e-10`` (log10 of the power,
      not of the magnitude, not the natural log, no factor 10 or 20).
    - Per frame ``sqrt(mean over bins k of (S - S_hat)^2)``, then the mean over frames.

    Only bins whose centre frequency ``k * sample_rate / n_fft`` is ``>= min_hz`` (and
    ``< max_hz`` when given) count; ``sample_rate`` is needed only when the band is restricted.
    A gain ``a`` on the estimate gives ``|2 log10(a)|`` wherever ``P`` dwarfs ``eps``.
    Compare only numbers made by this function.
    """
    y, y_hat = _check_pair(reference, estimate)
    s = log_power_frames(y, n_fft, hop, eps)
    s_hat = log_power_frames(y_hat, n_fft, hop, eps)
    if min_hz > 0.0 or max_hz is not None:
        if sample_rate is None:
            raise ValueError("log_spectral_distance needs sample_rate to restrict the band")
        centres = np.arange(s.shape[1]) * sample_rate / n_fft
        keep = centres >= min_hz
        if max_hz is not None:
            keep &= centres < max_hz
        if not np.any(keep):
            raise ValueError(
                f"no STFT bin centre in [{min_hz}, {max_hz}) Hz at {sample_rate} Hz, n_fft {n_fft}"
            )
        s, s_hat = s[:, keep], s_hat[:, keep]
    per_frame = np.sqrt(np.mean(np.square(s - s_hat), axis=1))
    return float(np.mean(per_frame))


def lsd_above(
    reference: np.ndarray, estimate: np.ndarray, sample_rate: float, cutoff_hz: float
) -> float:
    """LSD (eq. 6) over the bins whose centre frequency is ``>= cutoff_hz`` only.

    This is the band the codec removed (about 8.3 to 11.0 kHz for 32 kbps LAME at 22,050 Hz), where
    a rebuilt high band shows; same definition as ``log_spectral_distance``.
    """
    return log_spectral_distance(reference, estimate, sample_rate, min_hz=cutoff_hz)


def stoi(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Short-time objective intelligibility (Taal et al., 2011), section 4.2; from 0 to 1.

    Classic STOI (not extended) from ``pystoi``, which resamples to 10 kHz itself.
    Needs the ``pystoi`` package (the ``eval`` extra).
    """
    from pystoi import stoi as pystoi_stoi  # optional extra: imported only when STOI is asked for

    y, y_hat = _check_pair(reference, estimate)
    return float(pystoi_stoi(y, y_hat, sample_rate, extended=False))


def zimtohrli_mos(reference: np.ndarray, degraded: np.ndarray, sample_rate: int) -> float:
    """Zimtohrli's mean opinion score of ``degraded`` against ``reference``: 1 (bad) to 5 (same).

    Both are float signals in [-1, 1] (Zimtohrli maps full scale to 80 dB SPL, so the level
    matters), ``[samples]`` or ``[samples, channels]`` of the same shape, at ``sample_rate``.
    They are resampled to 48 kHz with :func:`spectral_enhance.audio.resample` (soxr, very high
    quality). A stereo pair is scored channel by channel and the channels' MOS averaged (the
    library compares one channel at a time). Needs the ``zimtohrli`` package (the ``eval`` extra).
    """
    try:
        import zimtohrli  # optional extra: imported only when Zimtohrli is asked for
    except ImportError as error:
        raise ImportError(
            "the Zimtohrli metric needs the zimtohrli package: pip install 'spectral-enhance[eval]'"
        ) from error
    from ..audio import resample

    y = np.asarray(reference, dtype=np.float32)
    y_hat = np.asarray(degraded, dtype=np.float32)
    if y.shape != y_hat.shape or y.ndim not in (1, 2) or len(y) == 0:
        raise ValueError(
            "Zimtohrli takes two non-empty [samples] or [samples, channels] signals of one shape; "
            f"got {y.shape} and {y_hat.shape}"
        )
    y, y_hat = y.reshape(len(y), -1), y_hat.reshape(len(y_hat), -1)
    y = resample(y, sample_rate, ZIMTOHRLI_SAMPLE_RATE)
    y_hat = resample(y_hat, sample_rate, ZIMTOHRLI_SAMPLE_RATE)
    ear = zimtohrli.Pyohrli()
    scores = [
        zimtohrli.mos_from_zimtohrli(ear.distance(y[:, c], y_hat[:, c])) for c in range(y.shape[1])
    ]
    return float(np.mean(scores))


def score(
    reference: np.ndarray,
    estimate: np.ndarray,
    sample_rate: int,
    cutoff_hz: float,
    with_zimtohrli: bool = False,
) -> dict[str, float]:
    """All section 4.2 metrics of one pair: keys ``snr``, ``pesq``, ``lsd``, ``lsd_high``, ``stoi``,
    and ``zimtohrli`` (:func:`zimtohrli_mos`) when ``with_zimtohrli``.

    ``lsd`` is over the whole band and ``lsd_high`` over the bins at or above ``cutoff_hz``.
    PESQ is NaN where its voice-activity detector finds nothing to score in the reference (quiet
    or sparse music), so averages must skip it (``numpy.nanmean``).
    """
    try:
        pesq_value = pesq_wb(reference, estimate, sample_rate)
    except ValueError:
        pesq_value = math.nan
    scores = {
        "snr": snr(reference, estimate),
        "pesq": pesq_value,
        "lsd": log_spectral_distance(reference, estimate, sample_rate),
        "lsd_high": lsd_above(reference, estimate, sample_rate, cutoff_hz),
        "stoi": stoi(reference, estimate, sample_rate),
    }
    if with_zimtohrli:
        scores["zimtohrli"] = zimtohrli_mos(reference, estimate, sample_rate)
    return scores
