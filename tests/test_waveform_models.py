"""Tests of the waveform baselines of Table 1: AudioUNet, TFiLM and WaveNet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from spectral_enhance.models import (
    ARCHITECTURES,
    UNBOUNDED,
    AudioUNet,
    AudioUNetConfig,
    TemporalFiLM,
    TFiLM,
    TFiLMConfig,
    WaveNet,
    WaveNetConfig,
    build_model,
    pixel_shuffle_1d,
)
from tiny import TINY_WAVEFORM, overfit

NAMES = ("audiounet", "tfilm", "wavenet")
UNETS = ("audiounet", "tfilm")

TINY = TINY_WAVEFORM  # a few channels and short kernels: each test runs in well under 1 s


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread, and far slower when other jobs hold the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_model(name: str, seed: int = 0, **kwargs: object) -> nn.Module:
    """The tiny model ``name``; keyword arguments override its config."""
    torch.manual_seed(seed)
    return build_model(name, TINY[name] | kwargs)


def waveform(samples: int, batch: int = 1, seed: int = 1) -> torch.Tensor:
    """A music-like test signal ``[batch, samples]``: a few sines plus a little noise."""
    generator = torch.Generator().manual_seed(seed)
    t = torch.arange(samples, dtype=torch.float32)
    freqs = 0.01 + 0.2 * torch.rand(batch, 4, 1, generator=generator)
    tones = torch.sin(2 * torch.pi * freqs * t).sum(1) / 4
    return 0.5 * tones + 0.05 * torch.randn(batch, samples, generator=generator)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("samples", [1, 7, 1000, 1024, 1537])
def test_output_shape_equals_input_shape(name: str, samples: int) -> None:
    model = make_model(name).eval()
    x = waveform(samples, batch=2)
    with torch.no_grad():
        y = model(x)
    assert y.shape == x.shape
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", NAMES)
def test_default_models_keep_shape(name: str) -> None:
    model = build_model(name, {}).eval()
    x = waveform(1000)
    with torch.no_grad():
        assert model(x).shape == (1, 1000)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_every_parameter(name: str) -> None:
    model = make_model(name).train()
    model(waveform(1000, batch=2)).pow(2).mean().backward()
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None, parameter_name
        assert torch.isfinite(parameter.grad).all(), parameter_name
        assert parameter.grad.abs().sum() > 0, parameter_name


def test_dropout_is_active_in_training_only() -> None:
    model = make_model("audiounet")
    x = waveform(256)
    with torch.no_grad():
        model.train()
        assert not torch.equal(model(x), model(x))
        model.eval()
        assert torch.equal(model(x), model(x))


@pytest.mark.parametrize("name", NAMES)
def test_overfits_one_example(name: str) -> None:
    model = make_model(name, dropout=0.0) if name in UNETS else make_model(name)
    x = waveform(512)
    # A fixed low-pass filter: the network must learn to subtract the input's high band.
    target = F.conv1d(x.unsqueeze(1), torch.full((1, 1, 5), 0.2), padding=2).squeeze(1)
    initial, final = overfit(model, x, target)
    identity = (x - target).pow(2).mean().item()
    assert final < initial / 10
    assert final < identity / 4  # learned the filter, not merely to silence its correction


@pytest.mark.parametrize("name", NAMES)
def test_residual_from_input_to_output(name: str) -> None:
    model = make_model(name).eval()
    x = waveform(1537)
    with torch.no_grad():
        assert not torch.allclose(model(x), x, atol=1e-3)  # the network adds a correction
        nn.init.zeros_(model.last_layer.weight)
        nn.init.zeros_(model.last_layer.bias)
        assert torch.equal(model(x), x)  # ...to the input itself


def reach(model: nn.Module, samples: int, positions: list[int]) -> tuple[int, int]:
    """Farthest output changed by perturbing each input position, to the left and the right."""
    model = model.double().eval()
    x = waveform(samples).double()
    left = right = 0
    with torch.no_grad():
        y = model(x)
        for position in positions:
            perturbed = x.clone()
            perturbed[0, position] += 1.0
            changed = torch.nonzero(model(perturbed)[0] != y[0])[:, 0] - position
            assert changed.numel() > 0
            left, right = max(left, -int(changed.min())), max(right, int(changed.max()))
    return left, right


@pytest.mark.parametrize("name", ["audiounet", "wavenet"])
def test_receptive_field_is_honest(name: str) -> None:
    model = make_model(name)
    field = model.receptive_field
    # Every phase of the U-Net's down-sampling grid (multiple of 8 for the tiny config).
    left, right = reach(model, 4 * field, list(range(2 * field, 2 * field + 8)))
    assert max(left, right) <= field
    if name == "wavenet":  # one tap per layer at the full dilation on each side: exact
        assert left == right == field
    else:  # attained after the perturbation: each shuffle takes sample p from p // 2
        assert right == field


def test_receptive_fields_of_the_default_models() -> None:
    assert AudioUNet().receptive_field == 743
    assert WaveNet().receptive_field == 1023
    assert WaveNet(WaveNetConfig(stacks=3, kernel_size=5)).receptive_field == 3 * 2 * 1023
    assert TFiLM().receptive_field == UNBOUNDED


def test_tfilm_reaches_far_into_the_future_of_a_perturbation() -> None:
    # The LSTMs carry an input sample to every later block, beyond the plain U-Net's reach.
    model = make_model("tfilm")
    unet_field = AudioUNet(AudioUNetConfig(**TINY["audiounet"])).receptive_field
    _, right = reach(model, 2000, [100])
    assert right > 10 * unet_field
    assert model.receptive_field == UNBOUNDED


def test_temporal_film_modulates_each_block_with_its_own_affine_map() -> None:
    torch.manual_seed(0)
    layer = TemporalFiLM(channels=3, block_size=4)
    x = torch.randn(2, 3, 10)  # blocks 0-3, 4-7 and a short last block 8-9
    with torch.no_grad():
        state, _ = layer.lstm(F.max_pool1d(x, 4, ceil_mode=True).transpose(1, 2))
        gamma, beta = layer.film(state).chunk(2, dim=-1)  # [2, 3 blocks, 3 channels]
        expected = torch.cat(
            [
                x[..., block * 4 : block * 4 + 4] * (1 + gamma[:, block, :, None])
                + beta[:, block, :, None]
                for block in range(3)
            ],
            dim=-1,
        )
        assert torch.allclose(layer(x), expected, atol=1e-6)
        # The last block's max ignores the padding: large negative inputs stay negative maxima.
        assert torch.equal(layer.pool(-torch.ones(1, 3, 10) - 1)[..., -1], torch.full((1, 3), -2.0))


def test_tfilm_is_the_unet_plus_temporal_film_layers() -> None:
    unet, tfilm = make_model("audiounet"), make_model("tfilm")
    films = [m for m in tfilm.modules() if isinstance(m, TemporalFiLM)]
    assert len(films) == 2 * 2 + 1  # after each down block, the bottleneck and each up block
    assert not any(isinstance(m, TemporalFiLM) for m in unet.modules())
    unet_keys = set(unet.state_dict())
    assert unet_keys < set(tfilm.state_dict())
    assert all(".modulation." in key for key in set(tfilm.state_dict()) - unet_keys)


def test_unet_structure_follows_the_config() -> None:
    model = AudioUNet(AudioUNetConfig(depth=4, base_filters=32, max_filters=256))
    assert [b.conv.out_channels for b in model.down_blocks] == [32, 64, 128, 256]
    assert [b.conv.kernel_size[0] for b in model.down_blocks] == [65, 33, 17, 9]
    assert all(b.conv.stride[0] == 2 for b in model.down_blocks)
    assert model.bottleneck.conv.out_channels == 256
    assert model.bottleneck.conv.stride[0] == 2
    assert [b.conv.out_channels for b in model.up_blocks] == [512, 256, 128, 64]
    assert [b.conv.in_channels for b in model.up_blocks] == [256, 512, 256, 128]
    assert model.output_conv.in_channels == 64
    assert model.output_conv.out_channels == 2
    assert model.length_multiple == 32


def test_pixel_shuffle_1d_interleaves_channel_groups() -> None:
    # Two output channels, factor 2: input channels (0, 1) -> output channel 0, (2, 3) -> 1.
    x = torch.tensor([[[1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [4.0, 5.0, 6.0], [40.0, 50.0, 60.0]]])
    expected = torch.tensor(
        [[[1.0, 10.0, 2.0, 20.0, 3.0, 30.0], [4.0, 40.0, 5.0, 50.0, 6.0, 60.0]]]
    )
    assert torch.equal(pixel_shuffle_1d(x), expected)
    # Inverted by the matching unshuffle (time split into phases, phases moved to channels).
    y = torch.randn(2, 6, 7)
    shuffled = pixel_shuffle_1d(y, factor=3)
    assert shuffled.shape == (2, 2, 21)
    unshuffled = shuffled.reshape(2, 2, 7, 3).transpose(2, 3).reshape(2, 6, 7)
    assert torch.equal(unshuffled, y)


@pytest.mark.parametrize(
    ("name", "model_cls", "config_cls"),
    [
        ("audiounet", AudioUNet, AudioUNetConfig),
        ("tfilm", TFiLM, TFiLMConfig),
        ("wavenet", WaveNet, WaveNetConfig),
    ],
)
def test_build_model_round_trips_config(
    name: str, model_cls: type[nn.Module], config_cls: type
) -> None:
    assert ARCHITECTURES[name] == (model_cls, config_cls)
    model = make_model(name).eval()
    assert isinstance(model, model_cls)
    assert model.config == config_cls(**TINY[name])
    assert config_cls.from_dict(model.config.to_dict()) == model.config
    assert config_cls.from_dict({}) == config_cls()
    rebuilt = build_model(name, model.config.to_dict()).eval()
    rebuilt.load_state_dict(model.state_dict())
    x = waveform(300)
    with torch.no_grad():
        assert torch.equal(model(x), rebuilt(x))
    with pytest.raises(ValueError, match=f"unknown {config_cls.__name__} keys"):
        build_model(name, {"n_blocks": 1})


@pytest.mark.parametrize(
    ("config_cls", "bad"),
    [
        (AudioUNetConfig, {"depth": 0}),
        (AudioUNetConfig, {"base_filters": 512}),
        (AudioUNetConfig, {"first_kernel_size": 8}),
        (AudioUNetConfig, {"dropout": 1.0}),
        (TFiLMConfig, {"block_size": 0}),
        (WaveNetConfig, {"layers": 0}),
        (WaveNetConfig, {"kernel_size": 2}),
    ],
)
def test_config_validation(config_cls: type, bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        config_cls(**bad)
