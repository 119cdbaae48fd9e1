"""Training losses of section 3.2 on stacked STFT tensors, and their weighted sums.

Every loss takes ``(prediction, target)`` in that order, both shaped ``[batch, 2, frames, bins]``
(2 = real/imaginary), and returns a scalar tensor averaged over the batch. The paper's objective
(eq. 3) is ``parse_loss("pixel+0.5*ssim")``; the other four are the alternatives of figure 2.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = [
    "LOSSES",
    "WeightedLoss",
    "band_loss",
    "kl_loss",
    "log_spectral_loss",
    "mae_loss",
    "magnitude",
    "mse_loss",
    "parse_loss",
    "pixel_loss",
    "ssim_loss",
]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# Added under square roots so their gradient stays finite where a magnitude or distance is zero.
_SQRT_FLOOR = 1e-12


def magnitude(spectrum: torch.Tensor) -> torch.Tensor:
    """Magnitude ``sqrt(re^2 + im^2 + 1e-12)``: ``[batch, 2, frames, bins]`` -> ``[batch, 1, ...]``.

    The tiny floor keeps the gradient finite at zero-valued bins.
    """
    return (spectrum.pow(2).sum(dim=1, keepdim=True) + _SQRT_FLOOR).sqrt()


def pixel_loss(prediction: torch.Tensor, target: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Pixel loss, eq. 1: ``sum((y - y_hat)^2) / sum((y - mean(y))^2)``, i.e. ``1 - R^2``.

    Sums and the mean run over the whole batch tensor, as in the authors' code; ``eps`` guards a
    constant target. Invariant to scaling prediction and target together. 0 for a perfect
    prediction, 1 for predicting the target's mean.

    Shape: ``[batch, 2, frames, bins]`` twice -> scalar.
    """
    residual = (target - prediction).pow(2).sum()
    variance = (target - target.mean()).pow(2).sum()
    return residual / (variance + eps)


def ssim_loss(
    prediction: torch.Tensor,
    target: torch.Tensor,
    k1: float = 0.01,
    k2: float = 0.03,
    max_val: float = 1.0,
    window: int = 3,
) -> torch.Tensor:
    """``1 - mean SSIM`` (eq. 2, Wang et al. 2004) of the STFT magnitudes.

    Magnitudes are single-channel images ``[batch, 1, frames, bins]``. Local means, variances and
    the covariance use a uniform ``window x window`` average (3 x 3 in section 3.2) over the valid
    region only (no padding), with population (biased) moments: ``sigma_xy = E[xy] - E[x]E[y]``.
    ``C1 = (k1 L)^2`` and ``C2 = (k2 L)^2`` with ``L = max_val``; the paper advises k1 in
    [0.005, 0.01] and k2 in [0.01, 0.03]. The map is averaged over windows and the batch.

    Shape: ``[batch, 2, frames, bins]`` twice, ``frames, bins >= window`` -> scalar.
    """
    if min(target.shape[-2:]) < window:
        raise ValueError(f"ssim_loss needs at least {window} frames and bins, got {target.shape}")
    x, y = magnitude(prediction), magnitude(target)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2

    def local_mean(image: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(image, window, stride=1)

    mu_x, mu_y = local_mean(x), local_mean(y)
    var_x = local_mean(x * x) - mu_x.pow(2)
    var_y = local_mean(y * y) - mu_y.pow(2)
    cov_xy = local_mean(x * y) - mu_x * mu_y
    ssim = ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) / (
        (mu_x.pow(2) + mu_y.pow(2) + c1) * (var_x + var_y + c2)
    )
    return 1.0 - ssim.mean()


def mse_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over every element of ``[batch, 2, frames, bins]`` (figure 2)."""
    return (prediction - target).pow(2).mean()


def mae_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over every element of ``[batch, 2, frames, bins]`` (figure 2)."""
    return (prediction - target).abs().mean()


def kl_loss(prediction: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Kullback-Leibler divergence ``KL(target || prediction)`` on scaled magnitudes (figure 2).

    The paper applies KL to "scaled data" without saying how; here each example's magnitude map
    is scaled to a distribution over its ``frames x bins`` cells (divided by its sum), then
    ``sum p log((p + eps) / (q + eps))`` with ``p`` from the target and ``q`` from the prediction,
    averaged over the batch. 0 when the magnitudes are proportional, positive otherwise.

    Shape: ``[batch, 2, frames, bins]`` twice -> scalar.
    """
    p = magnitude(target).flatten(1)
    q = magnitude(prediction).flatten(1)
    p = p / p.sum(dim=1, keepdim=True)
    q = q / q.sum(dim=1, keepdim=True)
    return (p * ((p + eps) / (q + eps)).log()).sum(dim=1).mean()


def log_spectral_loss(
    prediction: torch.Tensor, target: torch.Tensor, eps: float = 1e-8
) -> torch.Tensor:
    """Log-spectral distance of the power spectra as a loss (Hu and Loizou 2008; eq. 6 form).

    Per frame ``sqrt(mean over bins of (log10(|Y|^2 + eps) - log10(|Y_hat|^2 + eps))^2)``, then
    the mean over frames and the batch. The square root's argument is floored at 1e-12 so the
    gradient stays finite where prediction equals target (the loss there is 1e-6, not 0).

    Shape: ``[batch, 2, frames, bins]`` twice -> scalar.
    """
    log_target = torch.log10(target.pow(2).sum(dim=1) + eps)
    log_prediction = torch.log10(prediction.pow(2).sum(dim=1) + eps)
    per_frame = (log_target - log_prediction).pow(2).mean(dim=-1)
    return per_frame.clamp_min(_SQRT_FLOOR).sqrt().mean()


LOSSES: dict[str, LossFn] = {
    "pixel": pixel_loss,
    "ssim": ssim_loss,
    "mse": mse_loss,
    "mae": mae_loss,
    "kl": kl_loss,
    "log_spectral": log_spectral_loss,
}

_TERM = re.compile(r"^(?:(?P<weight>[0-9.eE+-]+)\s*\*\s*)?(?P<name>[A-Za-z_]\w*)$")


class WeightedLoss:
    """A weighted sum of named losses from `LOSSES`, e.g. eq. 3's ``pixel + 0.5 * ssim``.

    ``terms`` lists ``(weight, name)`` pairs in the order given; ``str()`` is the canonical spec
    (``"pixel+0.5*ssim"``), which `parse_loss` reads back. Call it as ``loss(prediction, target)``
    for the scalar total, or use `evaluate` to also get each unweighted term for logging.
    """

    def __init__(
        self, terms: list[tuple[float, str]], options: dict[str, dict] | None = None
    ) -> None:
        if not terms:
            raise ValueError("a loss needs at least one term")
        for weight, name in terms:
            if name not in LOSSES:
                raise ValueError(f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
            if not (math.isfinite(weight) and weight > 0.0):
                raise ValueError(f"weight of {name!r} must be positive and finite, got {weight}")
        names = [name for _, name in terms]
        if len(set(names)) != len(names):
            raise ValueError(f"a loss appears twice in {names}")
        self.terms = list(terms)
        self.options = options or {}

    def evaluate(
        self, prediction: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The weighted total and each term's unweighted value, keyed by name."""
        parts = {
            name: LOSSES[name](prediction, target, **self.options.get(name, {}))
            for _, name in self.terms
        }
        total = sum(weight * parts[name] for weight, name in self.terms)
        return total, parts

    def __call__(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.evaluate(prediction, target)[0]

    def __str__(self) -> str:
        return "+".join(
            name if weight == 1.0 else f"{weight:.12g}*{name}" for weight, name in self.terms
        )

    def __repr__(self) -> str:
        return f"WeightedLoss({str(self)!r})"


def parse_loss(spec: str, **options: dict) -> WeightedLoss:
    """Parse a loss spec such as ``"pixel+0.5*ssim"``, ``"mse"`` or ``"0.3*mae+log_spectral"``.

    Terms are joined by ``+``; each is a name from `LOSSES`, optionally preceded by ``weight*``.
    Whitespace is ignored. Raises ValueError for malformed terms and unknown names. ``options``
    gives keyword arguments per loss, e.g. ``ssim={"k1": 0.005, "max_val": 0.5}``.
    """
    terms = []
    # A "+" right after a number's "e" belongs to an exponent ("1e+3*mse"), not between terms.
    for raw in re.split(r"(?<![0-9.][eE])\+", "".join(spec.split())):
        match = _TERM.match(raw)
        if match is None:
            raise ValueError(f"cannot parse loss term {raw!r} in {spec!r}; expected [weight*]name")
        weight_text = match.group("weight")
        try:
            weight = 1.0 if weight_text is None else float(weight_text)
        except ValueError:
            raise ValueError(f"bad weight {weight_text!r} in {spec!r}") from None
        terms.append((weight, match.group("name")))
    return WeightedLoss(terms, options)


def band_loss(
    prediction: torch.Tensor,
    target: torch.Tensor,
    cutoff: torch.Tensor,
    top: torch.Tensor,
    band_bins: int = 8,
    overshoot: float = 1.0,
    fine: float = 1.0,
    loudness: float = 0.0,
) -> torch.Tensor:
    """The full-band model's loss: how far the rebuilt band's magnitudes are from the
    reference's, judged on magnitude only (its phase comes from the copied band, not learned).

    Over the bins from ``cutoff`` up to ``top`` (both ``[batch]``, in bins; ``top`` is where the
    reference's own band ends, so a band-limited reference teaches nothing above it): the mean
    absolute difference of log power per bin (the LSD's fine structure) plus that of log power
    per band of ``band_bins`` bins (the level the model sets). Log powers are floored 100 dB
    below each clip's loudest bin, so silence does not dominate. ``overshoot`` weighs a band
    louder than the reference's against 1 for a quieter one: an invented band that is too loud
    is heard as noise, one too quiet only as less brightness. ``fine`` weighs the per-bin term
    against 1 for the per-band one. ``loudness`` above 0 compares the bands' powers raised to
    it (0.15 to 0.3: loudness, roughly), each clip's divided by its reference's mean band power,
    instead of their logs: a loud band then counts more than a quiet one, as it does to a listener.
    """

    def weighted(difference: torch.Tensor) -> torch.Tensor:
        return torch.where(difference > 0, overshoot * difference, -difference)

    power_p = prediction.pow(2).sum(dim=1)  # [batch, frames, bins]
    power_t = target.pow(2).sum(dim=1)
    floor = power_t.amax(dim=(1, 2), keepdim=True) * 1e-10 + 1e-12
    bins = torch.arange(power_t.shape[-1], dtype=cutoff.dtype)
    mask = ((bins >= cutoff[:, None]) & (bins < top[:, None])).to(power_t.dtype)[:, None, :]
    per_bin = weighted(torch.log(power_p + floor) - torch.log(power_t + floor))
    per_bin_mean = (per_bin * mask).sum() / (mask.sum() * power_t.shape[1]).clamp(min=1)
    usable = power_t.shape[-1] // band_bins * band_bins

    def bands(x: torch.Tensor) -> torch.Tensor:
        return x[..., :usable].unflatten(-1, (-1, band_bins)).mean(dim=-1)

    band_mask = bands(mask.expand_as(power_t)) >= 1.0  # bands wholly inside the span
    band_p, band_t = bands(power_p), bands(power_t)
    if loudness > 0:
        inside = band_mask.to(band_t.dtype)
        norm = (band_t * inside).sum(dim=(1, 2), keepdim=True) / inside.sum(
            dim=(1, 2), keepdim=True
        ).clamp(min=1)
        norm = norm + floor

        def loud(x: torch.Tensor) -> torch.Tensor:  # floored: a finite slope at silence
            return ((x + floor) / norm).pow(loudness)

        level = weighted(loud(band_p) - loud(band_t))
    else:
        level = weighted(torch.log(band_p + floor) - torch.log(band_t + floor))
    coarse = (level * band_mask).sum() / band_mask.sum().clamp(min=1)
    return fine * per_bin_mean + coarse
