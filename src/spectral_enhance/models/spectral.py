"""The paper's spectral autoencoder (section 3.1, figure 1) in PyTorch.

The model maps the stacked STFT of the 32 kbps decode to that of the 128 kbps decode, both shaped
``[batch, 2, frames, 512]`` (2 = real/imaginary). Following the authors' Keras code (channels-last,
REFERENCE-NOTES.md "Model"), the 512 frequency bins are the channels: each 5 x 5 depthwise kernel
runs over the (real/imag, time) plane of one bin and the pointwise 1 x 1 convolutions mix bins.
The tensor stays channels-last, ``[batch, 2, frames, bins]``: the pointwise convolutions are then
matrix products over the last axis, which ONNX Runtime runs fastest and quantizes to int8
(section 3.4), and only the depthwise convolutions see a channels-first view.

Every operation is a convolution, matrix product, PReLU, product, sum or permutation whose shape
follows the input, so one model serves any number of frames (one frame included) and exports to
ONNX as is.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..dsp.stft import StftConfig
from .config import ModelConfig
from .interface import EnhancementModel

__all__ = [
    "SeparableBlock",
    "SeparableConv2d",
    "SpectralAutoencoder",
    "SpectralConfig",
    "count_parameters",
    "float32_bytes",
    "unit_variance_scale",
]


@dataclass(frozen=True)
class SpectralConfig(ModelConfig):
    """Hyper-parameters of `SpectralAutoencoder`; defaults are the paper's single block.

    Attributes:
        n_blocks: N, the number of separable blocks (section 3.1); N > 1 builds the U shape.
        bins: frequency bins of the STFT, the channels of every block (512).
        latent: channels between the two separable convolutions of a block (256, "latent space").
        kernel_size: side of the square depthwise kernels (5).
        residual: if True the network predicts a correction added to its input,
            ``output = input + net(input)``; the paper's plain form is ``residual=False``.
        scale: the input is multiplied by ``scale`` before the network and the output divided by
            it after, so the values inside are near unit variance (see `unit_variance_scale`).
            The STFT values themselves are not rescaled by the authors (REFERENCE-NOTES.md "STFT").
        bias: pointwise layers with biases, as the authors' Keras layers. Off by default: without
            biases the network maps silence to silence and (for N = 1) a louder input to a
            proportionally louder output, so quiet passages are not given a constant spectral
            floor, which PESQ hears as added noise.
        input_gain: with ``residual``, a learned gain per frequency bin on the input path
            (``output = gain * input + net(input)``), initialised to 1: the codec's level and
            tilt errors are linear and this corrects them everywhere at no risk.
        correction_from_bin: with ``residual``, the network's correction is zero below this bin
            (0, the default: the whole band). 372, the first bin at or above 8.0 kHz (22,050 Hz,
            1,023-point FFT, just under LAME's 8.27 kHz low-pass at 32 kbps), leaves the band
            PESQ and STOI hear to the linear gain and gives the network only the band the codec
            removed. Both were compared on the validation split (docs/training.md): trained for
            3 epochs the full band lowered PESQ; trained for 13 it beat the band-limited form on
            SNR, PESQ, LSD and STOI, so it is the default.
    """

    n_blocks: int = 1
    bins: int = 512
    latent: int = 256
    kernel_size: int = 5
    residual: bool = True
    scale: float = 1.0
    bias: bool = False
    input_gain: bool = True
    correction_from_bin: int = 0

    def __post_init__(self) -> None:
        if self.n_blocks < 1:
            raise ValueError(f"n_blocks must be at least 1, got {self.n_blocks}")
        if self.bins < 1 or self.latent < 1:
            raise ValueError(f"bins and latent must be positive, got {self.bins}, {self.latent}")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive, got {self.kernel_size}")
        if not self.scale > 0.0:
            raise ValueError(f"scale must be positive, got {self.scale}")


class SeparableConv2d(nn.Module):
    """Depthwise separable convolution, like Keras ``SeparableConv2D`` (Sifre and Mallat, 2014).

    A ``kernel_size`` x ``kernel_size`` depthwise convolution per input channel (no bias, stride 1,
    zero "same" padding) followed by a pointwise (1 x 1) layer, computed as a matrix product over
    the channel axis. Weights get He-uniform initialisation (He et al., 2015; section 3.1):
    uniform in ``±sqrt(6 / fan_in)`` with PyTorch's fan-in (``k * k`` for the depthwise kernel,
    ``in_channels`` for the pointwise one); biases, if any, zero. (Keras would count
    ``k * k * in_channels`` as the depthwise fan-in, giving far smaller kernels.)

    Shape: ``[batch, height, width, in_channels]`` -> ``[batch, height, width, out_channels]``.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int = 5, bias: bool = False
    ) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(
            in_channels,
            in_channels,
            kernel_size,
            padding=kernel_size // 2,
            groups=in_channels,
            bias=False,
        )
        self.pointwise = nn.Linear(in_channels, out_channels, bias=bias)
        for layer in (self.depthwise, self.pointwise):
            nn.init.kaiming_uniform_(layer.weight, mode="fan_in", nonlinearity="relu")
        if bias:
            nn.init.zeros_(self.pointwise.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))


class PReLU(nn.Module):
    """Parametric ReLU with one slope per channel of the last axis (He et al., 2015).

    ``relu(x) - alpha * relu(-x)``: the same function as ``torch.nn.PReLU`` for channels-last
    tensors, written with elementwise operations that ONNX Runtime runs quickly.
    """

    def __init__(self, channels: int, init: float = 0.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x) - self.weight * torch.relu(-x)


class SeparableBlock(nn.Module):
    """One autoencoder block B of figure 1: separable conv -> PReLU -> separable conv.

    ``bins -> latent`` channels, PReLU with one alpha per latent channel initialised to 0
    (section 3.1), then ``latent -> bins``. Keras' default per-element alpha would tie the model to
    400 frames; per-channel alpha keeps it length-agnostic (REFERENCE-NOTES.md "Model").

    Shape: ``[batch, 2, frames, bins]`` -> ``[batch, 2, frames, bins]``.
    """

    def __init__(
        self, bins: int = 512, latent: int = 256, kernel_size: int = 5, bias: bool = False
    ) -> None:
        super().__init__()
        self.to_latent = SeparableConv2d(bins, latent, kernel_size, bias)
        self.activation = PReLU(latent, init=0.0)
        self.from_latent = SeparableConv2d(latent, bins, kernel_size, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.from_latent(self.activation(self.to_latent(x)))


class SpectralAutoencoder(EnhancementModel):
    """N separable blocks arranged as in figure 1 and REFERENCE-NOTES.md "Model".

    N = 1: the single block (``middle_block``), no output layer. N > 1: a U shape of
    ``floor(N/2)`` ``encoder_blocks`` whose outputs are kept, a ``middle_block`` if N is odd,
    ``floor(N/2)`` ``decoder_blocks`` each followed by an elementwise product with the kept
    output of its mirror encoder block (the paper's skip connections), then ``output_layer``, a
    ``bins -> bins`` separable convolution. With ``config.residual`` the (scaled) input is added to
    the network's output.

    Shape: ``[batch, 2, frames, bins]`` -> ``[batch, 2, frames, bins]`` for any ``frames >= 1``.
    """

    stft = StftConfig()  # the paper's (one config field could change it: none does)

    def __init__(self, config: SpectralConfig = SpectralConfig()) -> None:
        super().__init__()
        self.config = config
        half = config.n_blocks // 2

        def block() -> SeparableBlock:
            return SeparableBlock(config.bins, config.latent, config.kernel_size, config.bias)

        self.encoder_blocks = nn.ModuleList(block() for _ in range(half))
        self.middle_block = block() if config.n_blocks % 2 == 1 else None
        self.decoder_blocks = nn.ModuleList(block() for _ in range(half))
        self.output_layer = (
            SeparableConv2d(config.bins, config.bins, config.kernel_size, config.bias)
            if config.n_blocks > 1
            else None
        )
        if config.residual:
            # Start as the identity: no correction until training finds one.
            nn.init.zeros_(self.last_layer.pointwise.weight)
        self.gain = nn.Parameter(torch.ones(config.bins)) if config.input_gain else None
        mask = (torch.arange(config.bins) >= config.correction_from_bin).float()
        self.register_buffer("correction_mask", mask, persistent=False)

    @property
    def reach(self) -> int:
        """Frames on each side that one output frame depends on (each kernel reaches
        ``kernel_size // 2``; two per block, one more for the output layer)."""
        n, kernel = self.config.n_blocks, self.config.kernel_size
        return (kernel // 2) * (2 * n + (n > 1))

    @property
    def blocks(self) -> list[SeparableBlock]:
        """All N blocks in the order the data passes through them."""
        middle = [] if self.middle_block is None else [self.middle_block]
        return [*self.encoder_blocks, *middle, *self.decoder_blocks]

    @property
    def last_layer(self) -> SeparableConv2d:
        """The layer producing the network's output (before the residual sum)."""
        if self.output_layer is not None:
            return self.output_layer
        assert self.middle_block is not None
        return self.middle_block.from_latent

    def parameters_per_block(self) -> dict[str, int]:
        """Trainable parameters of each block and of the output layer, in data order.

        Keys are module names as in the state dict (``encoder_blocks.0``, ``middle_block``,
        ``decoder_blocks.0``, ``output_layer``).
        """
        names = [f"encoder_blocks.{i}" for i in range(len(self.encoder_blocks))]
        names += ["middle_block"] if self.middle_block is not None else []
        names += [f"decoder_blocks.{i}" for i in range(len(self.decoder_blocks))]
        names += ["output_layer"] if self.output_layer is not None else []
        return {name: count_parameters(self.get_submodule(name)) for name in names}

    def net(self, x: torch.Tensor) -> torch.Tensor:
        """The blocks without scaling or residual: ``[batch, 2, frames, bins]`` in and out."""
        kept = []
        for block in self.encoder_blocks:
            x = block(x)
            kept.append(x)
        if self.middle_block is not None:
            x = self.middle_block(x)
        for block, skip in zip(self.decoder_blocks, reversed(kept), strict=True):
            x = block(x) * skip
        if self.output_layer is not None:
            x = self.output_layer(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Enhance stacked STFTs: ``[batch, 2, frames, bins]`` -> same shape."""
        scaled = x * self.config.scale
        out = self.net(scaled)
        if self.config.residual:
            if self.config.correction_from_bin:
                out = out * self.correction_mask
            out = out + (scaled * self.gain if self.gain is not None else scaled)
        return out / self.config.scale


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (282,368 for one default block)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def float32_bytes(model: nn.Module) -> int:
    """Size of the trainable parameters stored as float32, in bytes."""
    return 4 * count_parameters(model)


def unit_variance_scale(spectra: torch.Tensor) -> float:
    """The `SpectralConfig.scale` that brings ``spectra`` to unit root-mean-square.

    ``spectra`` is any batch of training inputs, e.g. ``[batch, 2, frames, bins]``; STFT values
    have mean near zero, so unit RMS is unit variance.
    """
    rms = float(spectra.detach().double().pow(2).mean().sqrt())
    if not rms > 0.0:
        raise ValueError("spectra are all zero; cannot choose a scale")
    return 1.0 / rms
