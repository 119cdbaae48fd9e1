"""The paper's learned waveform baselines (section 1, section 3, Table 1) in PyTorch.

Table 1 compares the spectral autoencoder with three networks that work on the waveform itself:

- `AudioUNet`, the audio super-resolution U-Net of Kuleshov, Enam and Ermon (2017), cited in
  section 1 (the "Audio-SR-Net" column; section 3 names it with Sulun and Davies, 2021, who
  train the same kind of 1-D U-Net);
- `TFiLM`, the same U-Net with Temporal FiLM layers (Birnbaum, Kuleshov et al., 2019);
- `WaveNet`, a non-causal WaveNet (van den Oord et al., 2016) as used for enhancement by Rethage,
  Pons and Serra (2018).

All three map the decoded 32 kbps waveform to the 128 kbps one at the same rate (22,050 Hz; the
codec removed the high band but kept the sample rate, so nothing is up-sampled): ``[batch,
samples]`` in, ``[batch, samples]`` out, for any number of samples, and each predicts a correction
added to its input (Kuleshov et al.'s additive residual). Widths are scaled down from the papers'
so the models train on a CPU. Every model has ``config`` (a frozen dataclass whose ``to_dict`` is
stored in checkpoints) and ``receptive_field``, the number of input samples on each side that one
output sample can depend on, for processing long audio in overlapping patches.

Every operation exports to ONNX (opset 17, TorchScript exporter) with the batch and the number of
samples as dynamic axes; `TFiLM` becomes ONNX ``LSTM`` and ``MaxPool`` nodes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .interface import EnhancementModel

__all__ = [
    "UNBOUNDED",
    "AudioUNet",
    "AudioUNetConfig",
    "TFiLM",
    "TFiLMConfig",
    "TemporalFiLM",
    "WaveNet",
    "WaveNetConfig",
    "pixel_shuffle_1d",
]

UNBOUNDED = sys.maxsize
"""`TFiLM.receptive_field`: the output depends on all of the input before it."""


def _require_odd(name: str, value: int) -> None:
    if value < 1 or value % 2 == 0:
        raise ValueError(f"{name} must be odd and positive, got {value}")


@dataclass(frozen=True)
class AudioUNetConfig(ModelConfig):
    """Hyper-parameters of `AudioUNet`, Kuleshov et al.'s design scaled down for a CPU.

    Down-sampling block ``i`` (0-based) has ``min(base_filters * 2**i, max_filters)`` filters and
    a kernel of ``2 * max(h >> i, m) + 1`` samples, where ``first_kernel_size = 2h + 1`` and
    ``min_kernel_size = 2m + 1``: the paper's ``min(2**(6+b), 512)`` filters and
    ``max(2**(7-b) + 1, 9)`` kernels (b = i + 1) with 128 and 512 replaced by 32 and 256. The
    bottleneck is level ``i = depth``; the output convolution has ``min_kernel_size``.

    Attributes:
        depth: number of down-sampling blocks (and of up-sampling blocks); the paper uses 4.
        base_filters: filters of the first block (paper: 128).
        max_filters: cap on the filters of any block, the bottleneck included (paper: 512).
        first_kernel_size: kernel of the first block, odd (65 as in the paper).
        min_kernel_size: smallest kernel, odd (9 as in the paper).
        dropout: dropout rate after the bottleneck and up-sampling convolutions (0.5).
    """

    depth: int = 4
    base_filters: int = 32
    max_filters: int = 256
    first_kernel_size: int = 65
    min_kernel_size: int = 9
    dropout: float = 0.5

    def __post_init__(self) -> None:
        if self.depth < 1:
            raise ValueError(f"depth must be at least 1, got {self.depth}")
        if not 1 <= self.base_filters <= self.max_filters:
            raise ValueError(
                f"need 1 <= base_filters <= max_filters, got {self.base_filters}, "
                f"{self.max_filters}"
            )
        _require_odd("first_kernel_size", self.first_kernel_size)
        _require_odd("min_kernel_size", self.min_kernel_size)
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def filters(self, level: int) -> int:
        """Filters of down-sampling block ``level`` (``level = depth``: the bottleneck)."""
        return min(self.base_filters * 2**level, self.max_filters)

    def half_width(self, level: int) -> int:
        """Half the kernel of block ``level``: the kernel is ``2 * half_width + 1`` samples."""
        return max((self.first_kernel_size // 2) >> level, self.min_kernel_size // 2)


@dataclass(frozen=True)
class TFiLMConfig(AudioUNetConfig):
    """Hyper-parameters of `TFiLM`: those of `AudioUNetConfig` plus the TFiLM block length.

    Attributes:
        block_size: samples of a feature map that share one (gamma, beta) pair, at every level of
            the U-Net (so a block spans ``block_size * 2**level`` input samples at level
            ``level``). Birnbaum et al. fix the number of blocks instead, which ties the model to
            one input length.
    """

    block_size: int = 32

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.block_size < 1:
            raise ValueError(f"block_size must be positive, got {self.block_size}")


@dataclass(frozen=True)
class WaveNetConfig(ModelConfig):
    """Hyper-parameters of `WaveNet`; the defaults are small enough to train on a CPU.

    Attributes:
        residual_channels: channels of the residual stream and of each gate (Rethage et al.: 128).
        skip_channels: channels of the skip connections and the output head (Rethage et al.: 128).
        layers: dilated layers per stack, with dilations ``1, 2, 4, ..., 2**(layers - 1)``.
        stacks: how many times the dilation pattern repeats (Rethage et al.: 3 stacks of 10).
        kernel_size: taps of each dilated convolution, odd so it can be centred (3).
    """

    residual_channels: int = 32
    skip_channels: int = 32
    layers: int = 10
    stacks: int = 1
    kernel_size: int = 3

    def __post_init__(self) -> None:
        for name in ("residual_channels", "skip_channels", "layers", "stacks"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        _require_odd("kernel_size", self.kernel_size)

    @property
    def dilations(self) -> list[int]:
        """Dilation of every layer in data order."""
        return [2**layer for _ in range(self.stacks) for layer in range(self.layers)]


def pixel_shuffle_1d(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Sub-pixel up-sampling in time (Shi et al., 2016; Kuleshov et al.'s "SubPixel1D").

    Channel ``c * factor + k`` at time ``t`` becomes channel ``c`` at time ``t * factor + k``,
    the 1-D form of ``torch.nn.PixelShuffle``.

    Shape: ``[batch, channels * factor, time]`` -> ``[batch, channels, time * factor]``.
    """
    batch, channels, time = x.shape
    grouped = x.reshape(batch, channels // factor, factor, time)
    return grouped.transpose(2, 3).reshape(batch, channels // factor, time * factor)


class TemporalFiLM(nn.Module):
    """Temporal feature-wise linear modulation (Birnbaum et al., 2019, section 3).

    Time is cut into blocks of ``block_size`` samples (the last block may be shorter); each block
    is max-pooled to one vector, an LSTM runs over the blocks in time order, and a linear layer
    turns its state into per-channel ``(gamma, beta)`` for that block, applied as
    ``x * (1 + gamma) + beta`` to every sample of the block. The authors' code multiplies by the
    LSTM output alone; the paper's affine form is used here, offset by 1 so an untrained layer is
    close to the identity instead of shrinking its input.

    Shape: ``[batch, channels, time]`` -> ``[batch, channels, time]``.
    """

    def __init__(self, channels: int, block_size: int = 32) -> None:
        super().__init__()
        self.block_size = block_size
        self.pool = nn.MaxPool1d(block_size, ceil_mode=True)
        self.lstm = nn.LSTM(channels, channels, batch_first=True)
        self.film = nn.Linear(channels, 2 * channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time = x.shape[-1]
        state, _ = self.lstm(self.pool(x).transpose(1, 2))  # [batch, blocks, channels]
        gamma, beta = self.film(state).transpose(1, 2).unsqueeze(-1).chunk(2, dim=1)
        blocks = F.pad(x, (0, (-time) % self.block_size))
        blocks = blocks.reshape(x.shape[0], x.shape[1], -1, self.block_size)
        return (blocks * (1.0 + gamma) + beta).flatten(2)[..., :time]


class DownBlock(nn.Module):
    """Down-sampling block: convolution with stride 2, optional dropout, LeakyReLU(0.2).

    ``modulation`` (identity by default; `TemporalFiLM` in `TFiLM`) follows the activation.

    Shape: ``[batch, in_channels, 2 * time]`` -> ``[batch, out_channels, time]``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dropout: float = 0.0,
        modulation: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            in_channels, out_channels, kernel_size, stride=2, padding=kernel_size // 2
        )
        self.dropout = nn.Dropout(dropout)
        self.activation = nn.LeakyReLU(0.2)
        self.modulation = nn.Identity() if modulation is None else modulation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.modulation(self.activation(self.dropout(self.conv(x))))


class UpBlock(nn.Module):
    """Up-sampling block: convolution to twice the channels, dropout, ReLU, `pixel_shuffle_1d`.

    ``modulation`` (identity by default; `TemporalFiLM` in `TFiLM`) follows the shuffle.

    Shape: ``[batch, in_channels, time]`` -> ``[batch, out_channels, 2 * time]``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dropout: float = 0.5,
        modulation: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, 2 * out_channels, kernel_size, padding=kernel_size // 2)
        self.dropout = nn.Dropout(dropout)
        self.activation = nn.ReLU()
        self.modulation = nn.Identity() if modulation is None else modulation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.modulation(pixel_shuffle_1d(self.activation(self.dropout(self.conv(x)))))


class WaveformModel(EnhancementModel):
    """What every waveform baseline says about itself (`EnhancementModel`): samples in and
    out, no STFT; ``length_multiple`` and ``reach`` from its strided layers."""

    domain = "waveform"

    @property
    def reach(self) -> int:
        """Input samples on each side that one output sample depends on (`UNBOUNDED` for
        TFiLM)."""
        return self.receptive_field


class AudioUNet(WaveformModel):
    """Kuleshov, Enam and Ermon's (2017) audio U-Net with stacked skip connections.

    ``depth`` `DownBlock` s (``down_blocks``), a ``bottleneck`` `DownBlock` with dropout (it
    halves the length once more, as in the authors' code), ``depth`` `UpBlock` s
    (``up_blocks``, the mirror order) each followed by concatenation with the output of its
    mirror down block, then ``output_conv`` to 2 channels and `pixel_shuffle_1d` to 1 channel,
    added to the input. The input is zero-padded on the right to a multiple of
    ``length_multiple`` = ``2**(depth + 1)`` and the output cropped back to the input's length.

    Shape: ``[batch, samples]`` -> ``[batch, samples]`` for any ``samples >= 1``.
    """

    def __init__(self, config: AudioUNetConfig = AudioUNetConfig()) -> None:
        super().__init__()
        self.config = config
        depth = config.depth
        channels = [1] + [config.filters(level) for level in range(depth + 1)]
        kernels = [2 * config.half_width(level) + 1 for level in range(depth + 1)]
        self.down_blocks = nn.ModuleList(
            DownBlock(
                channels[i], channels[i + 1], kernels[i], 0.0, self.modulation(channels[i + 1])
            )
            for i in range(depth)
        )
        self.bottleneck = DownBlock(
            channels[depth],
            channels[depth + 1],
            kernels[depth],
            config.dropout,
            self.modulation(channels[depth + 1]),
        )
        self.up_blocks = nn.ModuleList(
            UpBlock(
                channels[i + 2] * (1 if i == depth - 1 else 2),
                channels[i + 1],
                kernels[i],
                config.dropout,
                self.modulation(channels[i + 1]),
            )
            for i in reversed(range(depth))
        )
        self.output_conv = nn.Conv1d(
            2 * channels[1], 2, config.min_kernel_size, padding=config.min_kernel_size // 2
        )

    def modulation(self, channels: int) -> nn.Module | None:
        """The layer after each block's activation; none in the plain U-Net."""
        return None

    @property
    def last_layer(self) -> nn.Conv1d:
        """The layer producing the network's output (before the residual sum)."""
        return self.output_conv

    @property
    def length_multiple(self) -> int:
        """Inputs are padded to a multiple of this; patches of such lengths need no padding."""
        return 2 ** (self.config.depth + 1)

    @property
    def receptive_field(self) -> int:
        """Input samples on each side that one output sample can depend on (743 by default).

        A sample of a feature map at level ``l`` (``2**l`` input samples per sample) stands at
        input position ``n * 2**l``. A stride-2 convolution with half-width ``h`` from level
        ``l`` reaches ``h * 2**l`` further on both sides; an up-sampling convolution at level
        ``l + 1`` reaches ``h * 2**(l + 1)``, and its shuffle to level ``l`` takes sample ``p``
        from ``p // 2``, up to ``2**l`` samples further left. The past side is thus the longer
        one, and the bound is attained there.
        """
        config = self.config
        reach = sum(config.half_width(level) * 2**level for level in range(config.depth + 1))
        left = right = reach
        up_half_widths = [config.half_width(level) for level in reversed(range(config.depth))]
        up_half_widths.append(config.min_kernel_size // 2)  # the output convolution, at level 1
        for level, half_width in zip(range(config.depth, -1, -1), up_half_widths, strict=True):
            left += half_width * 2 ** (level + 1) + 2**level
            right += half_width * 2 ** (level + 1)
        return max(left, right)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Enhance waveforms: ``[batch, samples]`` -> ``[batch, samples]``."""
        samples = x.shape[-1]
        padded = F.pad(x, (0, (-samples) % self.length_multiple)).unsqueeze(1)
        kept = []
        h = padded
        for block in self.down_blocks:
            h = block(h)
            kept.append(h)
        h = self.bottleneck(h)
        for block, skip in zip(self.up_blocks, reversed(kept), strict=True):
            h = torch.cat([block(h), skip], dim=1)
        out = padded + pixel_shuffle_1d(self.output_conv(h))
        return out[:, 0, :samples]


class TFiLM(AudioUNet):
    """`AudioUNet` with a `TemporalFiLM` layer after every block (Birnbaum et al., 2019).

    As in the authors' code, the layer follows each down block's activation, the bottleneck's,
    and each up block's shuffle (before the concatenation). The LSTMs run forward in time, so an
    output sample depends on all the input before it: ``receptive_field`` is `UNBOUNDED` and long
    audio should be processed whole (or in patches with a generous overlap, approximately).

    Shape: ``[batch, samples]`` -> ``[batch, samples]`` for any ``samples >= 1``.
    """

    config: TFiLMConfig

    def __init__(self, config: TFiLMConfig = TFiLMConfig()) -> None:
        super().__init__(config)

    def modulation(self, channels: int) -> nn.Module:
        """A `TemporalFiLM` layer over ``channels`` with the configured block size."""
        return TemporalFiLM(channels, self.config.block_size)

    @property
    def receptive_field(self) -> int:
        """`UNBOUNDED`: each LSTM carries every earlier block forward."""
        return UNBOUNDED


class GatedLayer(nn.Module):
    """One WaveNet layer: dilated convolution, gate ``tanh(a) * sigmoid(b)``, 1x1 outputs.

    The dilated convolution is non-causal ("same" padding), as in Rethage et al. (2018). The
    gate feeds a 1x1 ``skip`` convolution and, unless this is the last layer (whose residual
    output nothing would read), a 1x1 ``residual`` convolution added to the layer's input.

    Shape: ``[batch, residual_channels, time]`` -> (``[batch, residual_channels, time]``,
    ``[batch, skip_channels, time]``).
    """

    def __init__(
        self,
        residual_channels: int,
        skip_channels: int,
        kernel_size: int,
        dilation: int,
        last: bool = False,
    ) -> None:
        super().__init__()
        self.dilated = nn.Conv1d(
            residual_channels,
            2 * residual_channels,
            kernel_size,
            dilation=dilation,
            padding=dilation * (kernel_size // 2),
        )
        self.residual = None if last else nn.Conv1d(residual_channels, residual_channels, 1)
        self.skip = nn.Conv1d(residual_channels, skip_channels, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self.dilated(x).chunk(2, dim=1)
        gated = torch.tanh(a) * torch.sigmoid(b)
        out = x if self.residual is None else x + self.residual(gated)
        return out, self.skip(gated)


class WaveNet(WaveformModel):
    """Non-causal WaveNet for enhancement (van den Oord et al., 2016; Rethage et al., 2018).

    ``input_conv`` (1x1, 1 -> ``residual_channels``), ``layers * stacks`` `GatedLayer` s with
    dilations ``1, 2, ..., 2**(layers - 1)`` per stack, the sum of their skip outputs -> ReLU ->
    1x1 ``hidden_conv`` -> ReLU -> 1x1 ``output_conv`` to one channel, added to the input.

    Shape: ``[batch, samples]`` -> ``[batch, samples]`` for any ``samples >= 1``.
    """

    def __init__(self, config: WaveNetConfig = WaveNetConfig()) -> None:
        super().__init__()
        self.config = config
        dilations = config.dilations
        self.input_conv = nn.Conv1d(1, config.residual_channels, 1)
        self.layers = nn.ModuleList(
            GatedLayer(
                config.residual_channels,
                config.skip_channels,
                config.kernel_size,
                dilation,
                last=i == len(dilations) - 1,
            )
            for i, dilation in enumerate(dilations)
        )
        self.hidden_conv = nn.Conv1d(config.skip_channels, config.skip_channels, 1)
        self.output_conv = nn.Conv1d(config.skip_channels, 1, 1)

    @property
    def last_layer(self) -> nn.Conv1d:
        """The layer producing the network's output (before the residual sum)."""
        return self.output_conv

    @property
    def receptive_field(self) -> int:
        """Input samples on each side that one output sample depends on (1,023 by default)."""
        return (self.config.kernel_size // 2) * sum(self.config.dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Enhance waveforms: ``[batch, samples]`` -> ``[batch, samples]``."""
        h, skips = self.layers[0](self.input_conv(x.unsqueeze(1)))
        for layer in self.layers[1:]:
            h, skip = layer(h)
            skips = skips + skip
        out = self.output_conv(torch.relu(self.hidden_conv(torch.relu(skips))))
        return x + out[:, 0]
