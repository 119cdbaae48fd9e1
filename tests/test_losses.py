"""Tests of the section 3.2 losses: direct numpy computations and defining properties."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spectral_enhance.training.losses import (
    LOSSES,
    WeightedLoss,
    kl_loss,
    log_spectral_loss,
    mae_loss,
    mse_loss,
    parse_loss,
    pixel_loss,
    ssim_loss,
)


def make_pair(shape: tuple[int, ...] = (2, 2, 8, 16), seed: int = 0) -> tuple[torch.Tensor, ...]:
    """A (prediction, target) pair of random STFT-like tensors, float64 for exact comparisons."""
    generator = torch.Generator().manual_seed(seed)
    target = torch.randn(shape, generator=generator, dtype=torch.float64)
    prediction = target + 0.5 * torch.randn(shape, generator=generator, dtype=torch.float64)
    return prediction, target


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_minimum_at_identical_inputs_and_positive_otherwise(name: str) -> None:
    loss = LOSSES[name]
    prediction, target = make_pair()
    same = loss(target.clone(), target).item()
    different = loss(prediction, target).item()
    assert same == pytest.approx(0.0, abs=1e-5)
    assert different > 1e-2
    assert loss(prediction, target).dim() == 0


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradients_are_finite(name: str) -> None:
    _, target = make_pair()
    for prediction in (make_pair(seed=1)[0], target.clone()):
        prediction = prediction.float().requires_grad_(True)
        LOSSES[name](prediction, target.float()).backward()
        assert torch.isfinite(prediction.grad).all()


def test_gradient_points_towards_the_target() -> None:
    prediction, target = make_pair()
    for name, loss in LOSSES.items():
        p = prediction.clone().requires_grad_(True)
        value = loss(p, target)
        value.backward()
        with torch.no_grad():
            stepped = loss(p - 1e-3 * p.grad / p.grad.norm(), target)
        assert stepped < value, name


def test_pixel_loss_is_one_minus_r_squared() -> None:
    prediction, target = make_pair((2, 2, 5, 7), seed=3)
    y, y_hat = target.numpy(), prediction.numpy()
    r_squared = 1.0 - ((y - y_hat) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert pixel_loss(prediction, target).item() == pytest.approx(1.0 - r_squared, rel=1e-10)
    mean_prediction = torch.full_like(target, target.mean().item())
    assert pixel_loss(mean_prediction, target).item() == pytest.approx(1.0, rel=1e-10)


def test_pixel_loss_is_scale_invariant() -> None:
    prediction, target = make_pair(seed=4)
    assert pixel_loss(10 * prediction, 10 * target).item() == pytest.approx(
        pixel_loss(prediction, target).item(), rel=1e-9
    )


def numpy_ssim_loss(
    prediction: np.ndarray, target: np.ndarray, k1: float, k2: float, max_val: float
) -> float:
    """1 - mean SSIM over every 3 x 3 window of the magnitudes, written out loop by loop."""
    x = np.sqrt(prediction[:, 0] ** 2 + prediction[:, 1] ** 2 + 1e-12)
    y = np.sqrt(target[:, 0] ** 2 + target[:, 1] ** 2 + 1e-12)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    values = []
    for b in range(x.shape[0]):
        for i in range(x.shape[1] - 2):
            for j in range(x.shape[2] - 2):
                wx, wy = x[b, i : i + 3, j : j + 3], y[b, i : i + 3, j : j + 3]
                mx, my = wx.mean(), wy.mean()
                vx, vy = ((wx - mx) ** 2).mean(), ((wy - my) ** 2).mean()
                cxy = ((wx - mx) * (wy - my)).mean()
                values.append(
                    ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
                )
    return 1.0 - float(np.mean(values))


@pytest.mark.parametrize(("k1", "k2", "max_val"), [(0.01, 0.03, 1.0), (0.005, 0.01, 0.5)])
def test_ssim_loss_matches_numpy_formula(k1: float, k2: float, max_val: float) -> None:
    prediction, target = make_pair((2, 2, 5, 6), seed=5)
    expected = numpy_ssim_loss(prediction.numpy(), target.numpy(), k1, k2, max_val)
    actual = ssim_loss(prediction, target, k1=k1, k2=k2, max_val=max_val).item()
    assert actual == pytest.approx(expected, rel=1e-9)


def test_ssim_loss_rejects_inputs_smaller_than_the_window() -> None:
    prediction, target = make_pair((1, 2, 2, 6))
    with pytest.raises(ValueError, match="frames"):
        ssim_loss(prediction, target)


def test_mse_and_mae_are_plain_means() -> None:
    prediction, target = make_pair(seed=6)
    diff = (prediction - target).numpy()
    assert mse_loss(prediction, target).item() == pytest.approx((diff**2).mean(), rel=1e-12)
    assert mae_loss(prediction, target).item() == pytest.approx(np.abs(diff).mean(), rel=1e-12)


def test_kl_loss_matches_numpy_and_ignores_overall_gain() -> None:
    prediction, target = make_pair((2, 2, 4, 5), seed=7)
    p = np.sqrt((target.numpy() ** 2).sum(axis=1) + 1e-12).reshape(2, -1)
    q = np.sqrt((prediction.numpy() ** 2).sum(axis=1) + 1e-12).reshape(2, -1)
    p, q = p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)
    expected = (p * np.log((p + 1e-8) / (q + 1e-8))).sum(axis=1).mean()
    assert kl_loss(prediction, target).item() == pytest.approx(expected, rel=1e-9)
    assert kl_loss(3.0 * target, target).item() == pytest.approx(0.0, abs=1e-9)


def test_log_spectral_loss_matches_numpy() -> None:
    prediction, target = make_pair((2, 2, 4, 5), seed=8)
    power = (target.numpy() ** 2).sum(axis=1)
    power_hat = (prediction.numpy() ** 2).sum(axis=1)
    diff = np.log10(power + 1e-8) - np.log10(power_hat + 1e-8)
    expected = np.sqrt((diff**2).mean(axis=-1)).mean()
    assert log_spectral_loss(prediction, target).item() == pytest.approx(expected, rel=1e-9)
    # A gain of 10 in amplitude is 2 in log10 power at every bin.
    assert log_spectral_loss(10 * target, target).item() == pytest.approx(2.0, rel=1e-6)


def test_parse_loss_weighted_sum() -> None:
    prediction, target = make_pair(seed=9)
    loss = parse_loss("pixel+0.5*ssim")
    assert isinstance(loss, WeightedLoss)
    assert loss.terms == [(1.0, "pixel"), (0.5, "ssim")]
    expected = pixel_loss(prediction, target) + 0.5 * ssim_loss(prediction, target)
    assert loss(prediction, target).item() == pytest.approx(expected.item(), rel=1e-12)
    total, parts = loss.evaluate(prediction, target)
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    assert parts["ssim"].item() == pytest.approx(ssim_loss(prediction, target).item(), rel=1e-12)


@pytest.mark.parametrize(
    ("spec", "canonical", "terms"),
    [
        ("pixel+0.5*ssim", "pixel+0.5*ssim", [(1.0, "pixel"), (0.5, "ssim")]),
        ("mse", "mse", [(1.0, "mse")]),
        (
            " 0.3 * mae + log_spectral ",
            "0.3*mae+log_spectral",
            [(0.3, "mae"), (1.0, "log_spectral")],
        ),
        ("1e+3*kl+1.0*mse", "1000*kl+mse", [(1000.0, "kl"), (1.0, "mse")]),
    ],
)
def test_parse_loss_terms_and_canonical_spec(
    spec: str, canonical: str, terms: list[tuple[float, str]]
) -> None:
    loss = parse_loss(spec)
    assert loss.terms == terms
    assert str(loss) == canonical
    assert parse_loss(str(loss)).terms == terms


def test_parse_loss_unknown_name_lists_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown loss 'l1'.*pixel.*ssim.*log_spectral"):
        parse_loss("pixel+0.5*l1")


@pytest.mark.parametrize("spec", ["", "pixel+", "x*mse", "0*mse", "-1*mse", "mse+mse"])
def test_parse_loss_rejects_malformed_specs(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_loss(spec)


def test_parse_loss_passes_options_to_its_loss() -> None:
    from spectral_enhance.training.losses import parse_loss, ssim_loss

    torch.manual_seed(3)
    a, b = torch.randn(1, 2, 6, 8), torch.randn(1, 2, 6, 8)
    tuned = parse_loss("ssim", ssim={"k1": 0.005, "max_val": 0.5})
    assert torch.allclose(tuned(a, b), ssim_loss(a, b, k1=0.005, max_val=0.5))
    assert not torch.allclose(tuned(a, b), ssim_loss(a, b))
