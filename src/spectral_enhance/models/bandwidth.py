"""The full-band model (issue 12): the paper's separable block steering a band copied up.

A codec's low-pass leaves nothing above a cutoff, and nothing in the input says what phase the
lost band had. A network that regresses the real and imaginary STFT values there learns to output
little (the loss is least for a faint band). This model gives the band a phase source instead, as
spectral band replication in HE-AAC does: the spectrum just below the cutoff is copied up, patch
after patch, to the top of the band, and the network only decides its level, a gain per band and
frame. The copy shifts each bin by a multiple of four, and the hop is a quarter of the FFT, so a
copied partial keeps a consistent phase from frame to frame.

Below the cutoff the input passes unchanged: whatever the input had is kept, and a lossless
input (no cutoff) comes back exactly. The cutoff is told, not found: ``enhance`` measures it over
the whole file (:mod:`spectral_enhance.lowpass`), which a network seeing a few frames cannot do
as reliably.

The network is the paper's block (:class:`~spectral_enhance.models.spectral.SeparableBlock`) on a
coarse view of the spectrum: ``bands`` bands of ``band_bins`` bins (172 Hz at 44.1 kHz), three
rows (the input's level, the copy's level, where the copy is), frames along time. Its output is a
log gain per band, interpolated over the bins, on the copy. Every operation follows the input's
shape, so any number of frames exports to one ONNX graph with the cutoff as its second input.

Shapes: spectrum ``[batch, 2, frames, bins]``, cutoff ``[batch]`` (in bins, float) -> spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..stft import StftConfig
from .config import ModelConfig
from .spectral import SeparableBlock

__all__ = ["BandConfig", "BandExtender", "band_matrix", "copy_index"]

PATCH_MULTIPLE = 4  # bins a copy moves by are a multiple of fft_length / hop (module doc)
EPS = 1e-10
MAX_LOG_GAIN = 3.0  # e^3: +26 dB over the copied level at most
MIN_LOG_GAIN = -12.0  # e^-12: -104 dB


@dataclass(frozen=True)
class BandConfig(ModelConfig):
    """Hyper-parameters of `BandExtender` (defaults: 2,048-point STFT at 44.1 kHz).

    Attributes:
        bins: frequency bins of the STFT (1,025).
        band_bins: bins per band of the network's view (8: 172 Hz at 44.1 kHz).
        latent: channels between the block's two separable convolutions.
        kernel_size: side of the block's depthwise kernels (frames x rows).
        n_blocks: blocks in series, each adding to the log gain.
    """

    bins: int = 1025
    band_bins: int = 8
    latent: int = 256
    kernel_size: int = 5
    n_blocks: int = 1

    def __post_init__(self) -> None:
        if self.bins < 2 or self.band_bins < 1 or self.latent < 1 or self.n_blocks < 1:
            raise ValueError(f"bins, band_bins, latent and n_blocks must be positive: {self}")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive, got {self.kernel_size}")

    @property
    def bands(self) -> int:
        """Bands of the network's view: the bins, ``band_bins`` at a time (the last may hold
        fewer)."""
        return -(-self.bins // self.band_bins)


def band_matrix(bins: int, band_bins: int) -> torch.Tensor:
    """``[bins, bands]``: each bin's share of each band's mean (pooling bins into bands)."""
    bands = -(-bins // band_bins)
    member = torch.zeros(bins, bands)
    member[torch.arange(bins), torch.arange(bins) // band_bins] = 1.0
    return member / member.sum(dim=0, keepdim=True)


def spread_matrix(bins: int, band_bins: int) -> torch.Tensor:
    """``[bands, bins]``: linear interpolation from band centres back to every bin."""
    bands = -(-bins // band_bins)
    centres = torch.tensor(
        [min(b * band_bins + (band_bins - 1) / 2, bins - 1) for b in range(bands)]
    )
    position = torch.arange(bins, dtype=torch.float32)
    lower = torch.clamp(torch.searchsorted(centres, position, right=True) - 1, 0, bands - 1)
    upper = torch.clamp(lower + 1, max=bands - 1)
    span = torch.clamp(centres[upper] - centres[lower], min=1.0)
    weight = torch.clamp((position - centres[lower]) / span, 0.0, 1.0)
    spread = torch.zeros(bands, bins)
    spread[lower, torch.arange(bins)] += 1.0 - weight
    spread[upper, torch.arange(bins)] += weight
    return spread


def copy_index(cutoff: torch.Tensor, bins: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each bin's copy comes from, and whether it is above the cutoff: two ``[batch,
    bins]`` tensors (long source bins; float 0/1).

    The patch is the ``width`` bins just under the cutoff, ``width`` half the cutoff rounded
    down to a multiple of `PATCH_MULTIPLE`, repeated upward to the top of the band.
    """
    start = torch.ceil(cutoff).clamp(min=2 * PATCH_MULTIPLE)[:, None]  # [batch, 1]
    width = torch.clamp(
        torch.floor(start / (2 * PATCH_MULTIPLE)) * PATCH_MULTIPLE, min=PATCH_MULTIPLE
    )
    position = torch.arange(bins, dtype=cutoff.dtype)[None, :]
    above = (position >= start).to(cutoff.dtype)
    offset = torch.remainder(position - start, width)
    source = torch.where(above > 0, start - width + offset, position)
    return source.to(torch.int64), above


class BandExtender(nn.Module):
    """Copy the band under the cutoff up, and set its level per band and frame (module doc)."""

    domain = "spectrum"
    takes_lowpass = True
    length_multiple = 1
    # 21.5 Hz and 11.6 ms at 44.1 kHz, the paper's resolution; a hop of a quarter frame keeps
    # copies in phase (module doc).
    stft = StftConfig(window_length=2048, hop_length=512, fft_length=2048)

    def __init__(self, config: BandConfig = BandConfig()) -> None:
        super().__init__()
        self.config = config
        self.blocks = nn.ModuleList(
            SeparableBlock(config.bands, config.latent, config.kernel_size)
            for _ in range(config.n_blocks)
        )
        for block in self.blocks:  # each block starts by adding nothing
            nn.init.zeros_(block.from_latent.pointwise.weight)
        self.rows = nn.Parameter(torch.full((3,), 1.0 / 3.0))
        self.level = nn.Parameter(torch.zeros(config.bands))  # a fixed gain per band, learned
        self.register_buffer("pool", band_matrix(config.bins, config.band_bins), persistent=False)
        self.register_buffer(
            "spread", spread_matrix(config.bins, config.band_bins), persistent=False
        )

    @property
    def reach(self) -> int:
        """Frames on each side that one output frame depends on."""
        return (self.config.kernel_size // 2) * 2 * self.config.n_blocks

    def log_gain(self, spectrum: torch.Tensor, cutoff: torch.Tensor) -> torch.Tensor:
        """The copy and its log gain per bin: ``([batch, 2, frames, bins], [batch, frames,
        bins])``."""
        source, above = copy_index(cutoff, self.config.bins)
        index = source[:, None, None, :].expand_as(spectrum)
        copy = torch.gather(spectrum, 3, index) * above[:, None, None, :]
        power_in = (spectrum * spectrum).sum(dim=1) @ self.pool  # [batch, frames, bands]
        power_copy = (copy * copy).sum(dim=1) @ self.pool
        level = torch.log(power_in.mean(dim=2, keepdim=True) + EPS)  # the frame's loudness
        where = (above @ self.pool)[:, None, :].expand_as(power_in)
        rows = torch.stack(
            [
                0.1 * (torch.log(power_in + EPS) - level),
                0.1 * (torch.log(power_copy + EPS) - level) * where,
                where,
            ],
            dim=1,
        )
        gain = self.level.expand_as(power_in)
        for block in self.blocks:
            gain = gain + (block(rows) * self.rows[None, :, None, None]).sum(dim=1)
        gain = torch.clamp(gain, MIN_LOG_GAIN, MAX_LOG_GAIN) @ self.spread
        return copy, gain

    def forward(self, spectrum: torch.Tensor, cutoff: torch.Tensor) -> torch.Tensor:
        """The input with the rebuilt band added above ``cutoff`` (bins): same shape."""
        copy, gain = self.log_gain(spectrum, cutoff)
        return spectrum + copy * torch.exp(gain)[:, None, :, :]
