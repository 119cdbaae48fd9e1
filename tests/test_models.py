"""Tests of the spectral autoencoder (section 3.1): shapes, structure, parameters, training."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from spectral_enhance.models import (
    ARCHITECTURES,
    SeparableBlock,
    SeparableConv2d,
    SpectralAutoencoder,
    SpectralConfig,
    build_model,
    count_parameters,
    float32_bytes,
    unit_variance_scale,
)
from tiny import overfit

# One default block as Keras counts it: sep. conv 512->256, PReLU(256), sep. conv 256->512.
KERAS_BLOCK_PARAMETERS = 512 * 25 + 512 * 256 + 256 + 256 + 256 * 25 + 256 * 512 + 512


def make_config(**kwargs: object) -> SpectralConfig:
    """A small config for fast tests; keyword arguments override its fields."""
    defaults: dict[str, object] = {
        "bins": 16,
        "latent": 8,
        "input_gain": False,
        "correction_from_bin": 0,
    }
    defaults.update(kwargs)
    return SpectralConfig(**defaults)  # type: ignore[arg-type]


def make_model(seed: int = 0, **kwargs: object) -> SpectralAutoencoder:
    torch.manual_seed(seed)
    return SpectralAutoencoder(make_config(**kwargs))


@pytest.mark.parametrize("n_blocks", [1, 2, 3, 5])
@pytest.mark.parametrize("frames", [1, 7, 400])
def test_output_shape_equals_input_shape(n_blocks: int, frames: int) -> None:
    model = make_model(n_blocks=n_blocks)
    x = torch.randn(2, 2, frames, 16)
    with torch.no_grad():
        y = model(x)
    assert y.shape == x.shape
    assert torch.isfinite(y).all()


def test_full_size_model_keeps_shape() -> None:
    model = SpectralAutoencoder(SpectralConfig(n_blocks=1))
    x = torch.randn(1, 2, 12, 512)
    with torch.no_grad():
        assert model(x).shape == (1, 2, 12, 512)


def test_prelu_alpha_starts_at_zero_per_latent_channel() -> None:
    block = SeparableBlock()
    alpha = block.activation.weight
    assert alpha.shape == (256,)
    assert torch.equal(alpha, torch.zeros(256))


def test_block_parameter_count_matches_keras() -> None:
    assert KERAS_BLOCK_PARAMETERS == 282368
    assert count_parameters(SeparableBlock(bias=True)) == 282368
    model = SpectralAutoencoder(SpectralConfig(n_blocks=1, bias=True, input_gain=False))
    assert model.parameters_per_block() == {"middle_block": 282368}
    assert count_parameters(model) == 282368
    assert float32_bytes(model) == 4 * 282368
    # Without the pointwise biases (our default) a block has 256 + 512 fewer.
    assert count_parameters(SeparableBlock()) == 282368 - 256 - 512


def test_parameters_per_block_of_u_shape_sum_to_total() -> None:
    model = SpectralAutoencoder(SpectralConfig(n_blocks=3, bias=True, input_gain=False))
    counts = model.parameters_per_block()
    assert list(counts) == ["encoder_blocks.0", "middle_block", "decoder_blocks.0", "output_layer"]
    assert counts["output_layer"] == 512 * 25 + 512 * 512 + 512
    assert sum(counts.values()) == count_parameters(model)


def test_he_uniform_init_bounds_and_zero_bias() -> None:
    torch.manual_seed(0)
    conv = SeparableConv2d(64, 32, 5, bias=True)
    depthwise_bound = (6.0 / 25) ** 0.5
    pointwise_bound = (6.0 / 64) ** 0.5
    assert conv.depthwise.bias is None
    assert conv.depthwise.weight.abs().max() <= depthwise_bound
    assert conv.depthwise.weight.abs().max() > 0.9 * depthwise_bound
    assert conv.pointwise.weight.abs().max() <= pointwise_bound
    assert conv.pointwise.weight.abs().max() > 0.9 * pointwise_bound
    assert torch.equal(conv.pointwise.bias, torch.zeros(32))
    assert SeparableConv2d(64, 32, 5).pointwise.bias is None


def test_without_bias_silence_stays_silent_and_scale_carries_through() -> None:
    model = make_model(n_blocks=1, residual=False)
    with torch.no_grad():
        model.middle_block.activation.weight.uniform_(0.0, 0.5)
        x = torch.randn(1, 2, 9, 16)
        assert torch.equal(model(torch.zeros_like(x)), torch.zeros_like(x))
        assert torch.allclose(model(3.0 * x), 3.0 * model(x), atol=1e-5)


@pytest.mark.parametrize(
    ("n_blocks", "encoder", "middle", "decoder"),
    [(1, 0, True, 0), (2, 1, False, 1), (3, 1, True, 1), (5, 2, True, 2)],
)
def test_u_shape_structure(n_blocks: int, encoder: int, middle: bool, decoder: int) -> None:
    model = make_model(n_blocks=n_blocks)
    assert len(model.encoder_blocks) == encoder
    assert (model.middle_block is not None) == middle
    assert len(model.decoder_blocks) == decoder
    assert len(model.blocks) == n_blocks
    assert sum(isinstance(m, SeparableBlock) for m in model.modules()) == n_blocks
    assert (model.output_layer is not None) == (n_blocks > 1)


def test_single_block_without_residual_is_the_block() -> None:
    model = make_model(n_blocks=1, residual=False, scale=1.0)
    x = torch.randn(1, 2, 9, 16)
    with torch.no_grad():
        expected = model.middle_block(x)
        assert torch.allclose(model(x), expected, atol=1e-6)


def test_skip_connections_are_products_with_mirror_blocks() -> None:
    model = make_model(n_blocks=2, residual=False)
    x = torch.randn(1, 2, 6, 16)
    with torch.no_grad():
        kept = model.encoder_blocks[0](x)
        expected = model.output_layer(model.decoder_blocks[0](kept) * kept)
        assert torch.allclose(model.net(x), expected, atol=1e-6)


@pytest.mark.parametrize("n_blocks", [1, 2, 5])
@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_residual_model_starts_as_the_identity(n_blocks: int, scale: float) -> None:
    model = make_model(n_blocks=n_blocks, residual=True, scale=scale)
    assert torch.equal(
        model.last_layer.pointwise.weight, torch.zeros_like(model.last_layer.pointwise.weight)
    )
    with torch.no_grad():
        x = torch.randn(2, 2, 11, 16)
        y = model(x)
    if scale == 1.0:
        assert torch.equal(y, x)
    else:
        assert torch.allclose(y, x, rtol=1e-6, atol=0.0)


def test_scale_is_undone_at_the_output() -> None:
    # With PReLU alpha at 1 and the biases still zero, one block is linear in its input, so the
    # output must not depend on the internal scale if the model divides by it again.
    model = make_model(n_blocks=1, residual=False, scale=1.0)
    with torch.no_grad():
        model.middle_block.activation.weight.fill_(1.0)
    scaled = SpectralAutoencoder(dataclasses.replace(model.config, scale=7.0))
    scaled.load_state_dict(model.state_dict())
    x = torch.randn(1, 2, 5, 16)
    with torch.no_grad():
        assert torch.allclose(model(x), scaled(x), atol=1e-5)


@pytest.mark.parametrize("n_blocks", [1, 2, 3])
def test_gradients_reach_every_parameter(n_blocks: int) -> None:
    model = make_model(n_blocks=n_blocks, residual=False)
    x = torch.randn(2, 2, 6, 16)
    model(x).pow(2).mean().backward()
    for name, parameter in model.named_parameters():
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_overfits_one_example() -> None:
    model = make_model(seed=0, n_blocks=1)
    torch.manual_seed(1)
    x = torch.randn(1, 2, 12, 16)
    target = 0.5 * x.flip(-1)  # a fixed mixing of frequency bins, the pointwise layers' job
    initial, final = overfit(model, x, target)
    assert final < initial / 10


@pytest.mark.parametrize("n_blocks", [1, 3])
def test_time_translation_equivariance_in_the_interior(n_blocks: int) -> None:
    model = make_model(n_blocks=n_blocks, residual=False)
    # Each separable conv reaches kernel_size // 2 = 2 frames further: 2 per conv, 2 convs a block.
    reach = 2 * (2 * n_blocks + (n_blocks > 1))
    shift, frames = 3, 2 * reach + 10
    torch.manual_seed(2)
    x = torch.randn(1, 2, frames, 16)
    shifted = torch.cat([torch.randn(1, 2, shift, 16), x[:, :, : frames - shift]], dim=2)
    with torch.no_grad():
        y, y_shifted = model(x), model(shifted)
    interior = y[:, :, reach : frames - shift - reach]
    interior_shifted = y_shifted[:, :, reach + shift : frames - reach]
    assert interior.shape[2] == 10 - shift
    assert torch.allclose(interior, interior_shifted, atol=1e-5)
    # The edges do see the zero padding, so the check above is not vacuous.
    assert not torch.allclose(y[:, :, :1], y_shifted[:, :, shift : shift + 1], atol=1e-5)


def test_config_dict_round_trip_and_validation() -> None:
    config = SpectralConfig(n_blocks=3, bins=16, latent=8, residual=False, scale=2.5)
    assert SpectralConfig.from_dict(config.to_dict()) == config
    assert SpectralConfig.from_dict({}) == SpectralConfig()
    with pytest.raises(ValueError, match="unknown SpectralConfig keys"):
        SpectralConfig.from_dict({"blocks": 2})
    with pytest.raises(ValueError, match="scale"):
        SpectralConfig(scale=0.0)
    with pytest.raises(ValueError, match="n_blocks"):
        SpectralConfig(n_blocks=0)


def test_build_model_round_trips_config() -> None:
    config = make_config(n_blocks=2, scale=4.0)
    model = build_model("spectral", config.to_dict())
    assert isinstance(model, SpectralAutoencoder)
    assert model.config == config
    assert ARCHITECTURES["spectral"] == (SpectralAutoencoder, SpectralConfig)
    rebuilt = build_model("spectral", model.config.to_dict())
    rebuilt.load_state_dict(model.state_dict())
    x = torch.randn(1, 2, 4, 16)
    with torch.no_grad():
        assert torch.equal(model(x), rebuilt(x))
    with pytest.raises(ValueError, match="spectral"):
        build_model("no-such-arch", {})


def test_every_architecture_says_how_it_runs_through_the_one_interface() -> None:
    """The enhancer's rule comes from the same attributes for every architecture; a spectral
    model has an STFT, a waveform model none, and only the band model is told the low-pass."""
    from spectral_enhance.inference.card import block_rule
    from spectral_enhance.models import EnhancementModel

    for name, (model_cls, config_cls) in ARCHITECTURES.items():
        model = model_cls(config_cls())
        assert isinstance(model, EnhancementModel), name
        rule = block_rule(model)
        assert rule.context > 0, name
        assert (model.stft is None) == (rule.domain == "waveform"), name
        assert rule.takes_lowpass == (name == "band"), name


def test_a_model_that_says_nothing_runs_by_the_cards_default_rule() -> None:
    """Every field of the card's rule but the model's reach is an attribute of every model,
    and a model that overrides none of them gives the rule a card would read without them: the
    defaults are the rule's, not a second list of them."""
    from dataclasses import fields

    from spectral_enhance.inference.card import BlockRule, block_rule
    from spectral_enhance.models import EnhancementModel

    class Plain(EnhancementModel):
        reach = 3

    assert block_rule(Plain()) == BlockRule(context=3)
    for field in fields(BlockRule):
        if field.name != "context":
            assert getattr(EnhancementModel, field.name) == field.default, field.name


def test_unit_variance_scale() -> None:
    torch.manual_seed(3)
    spectra = 40.0 * torch.randn(4, 2, 50, 16)
    scale = unit_variance_scale(spectra)
    assert (spectra * scale).pow(2).mean().sqrt().item() == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(ValueError):
        unit_variance_scale(torch.zeros(1, 2, 3, 4))


def test_correction_is_confined_to_the_band_above_the_cutoff_bin() -> None:
    model = make_model(n_blocks=1, input_gain=True, correction_from_bin=10)
    with torch.no_grad():
        model.last_layer.pointwise.weight.normal_()
        model.gain.fill_(2.0)
        x = torch.randn(1, 2, 7, 16)
        y = model(x)
    assert torch.allclose(y[..., :10], 2.0 * x[..., :10])  # below: the linear gain alone
    assert not torch.allclose(y[..., 10:], 2.0 * x[..., 10:])  # above: the network's correction
