"""The full-band model (issue 12): the paper's separable block steering a band copied up.

A codec's low-pass leaves nothing above a cutoff, and nothing in the input says what phase the
lost band had. A network that regresses the real and imaginary STFT values there learns to output
little (the loss is least for a faint band). This model gives the band a phase source instead, as
spectral band replication in HE-AAC does: the spectrum just below the cutoff is copied up, patch
after patch, to the top of the band, and the network only decides its level, a gain per band and
frame. The copy shifts each bin by a multiple of four, and the hop is a quarter or a half of the
FFT, so a copied partial keeps a consistent phase from frame to frame.

Below the cutoff the input passes unchanged: whatever the input had is kept, and a lossless
input (no cutoff) comes back exactly. The cutoff is told, not found: ``enhance`` measures it over
the whole file (:mod:`spectral_enhance.dsp.lowpass`), which a network seeing a few frames cannot do
as reliably. The copy is made by one rule (:func:`spectral_enhance.dsp.copy_rule.copy_map`, which
the ``dsp`` system copies by too), in training, export and inference alike.

The network is the paper's block (:class:`~spectral_enhance.models.spectral.SeparableBlock`) on a
coarse view of the spectrum: ``bands`` bands of ``band_bins`` bins (172 Hz at 44.1 kHz), three
rows (the input's level, the copy's level, where the copy is), frames along time. With
``envelope`` (the bundled model) it predicts the band's own log power per band and frame, and
the copy is divided by its own power there, as SBR's envelope does; a file's channels (the
batch, at inference) then share one envelope, from their summed power, and one gain, so the
rebuilt band keeps the image of the band it was copied from. Without, its output is a log gain
per band on the copy. Every operation follows the input's shape, so any number of frames
exports to one ONNX graph.

Shapes: spectrum and its copied band ``[batch, 2, frames, bins]``, and ``[bins]`` 0/1 above the
low-pass (:func:`spectral_enhance.dsp.copy_rule.band_copy`,
:func:`spectral_enhance.dsp.copy_rule.copy_map`) -> spectrum. The copy is made outside the graph:
ONNX Runtime gathers along the last axis ten times slower than numpy indexing does. With noise
under the envelope (``fill=noise``, the bundled model) the graph returns each channel's
amplitude per band instead, ``[batch, frames, bands]`` (`BandExtender.band_scale`), and the
enhancer lays it over noise itself: then the graph writes no full spectrum at all, and the
noise costs only the bins above the low-pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..dsp.copy_rule import PATCH_MULTIPLE
from ..dsp.holes import hole_frames
from ..dsp.noise import lay_over_noise
from ..dsp.stft import StftConfig
from ..dsp.tilt import EPS, TILT, band_prior
from .config import ModelConfig
from .interface import EnhancementModel
from .spectral import SeparableBlock

__all__ = ["BandConfig", "BandExtender", "BandScale"]

MAX_LOG_GAIN = 3.0  # e^3: +26 dB over the copied level at most
MIN_LOG_GAIN = -12.0  # e^-12: -104 dB
ENVELOPE_START = -4.0  # a predicted band starts 17 dB under the frame's mean power
FILLS = ("copy", "noise")
CALM_SECONDS = 0.5  # the band's course, about which `BandConfig.calm` scales its swing


@dataclass(frozen=True)
class BandConfig(ModelConfig):
    """Hyper-parameters of `BandExtender` (defaults: 2,048-point STFT at 44.1 kHz).

    Attributes:
        fft_length: points of the STFT's FFT and window (2,048: 21.5 Hz at 44.1 kHz).
        hop_length: its hop; ``fft_length`` over it must divide `PATCH_MULTIPLE`, so copies
            stay in phase (512: 11.6 ms at 44.1 kHz, the paper's time resolution).
        band_bins: bins per band of the network's view (8: 172 Hz at 44.1 kHz).
        latent: channels between the block's two separable convolutions.
        kernel_size: side of the block's depthwise kernels (frames x rows).
        n_blocks: blocks in series, each adding to the log gain.
        envelope: the network predicts the band's own level (relative to the frame's loudness)
            and the copy is divided by its level, as SBR's envelope does; otherwise it predicts
            a gain on the copy's level.
        tilt_prior: (with ``envelope``) the network predicts the envelope's difference from
            the ``dsp`` system's, the spectrum's own slope under the low-pass continued above it
            (:func:`spectral_enhance.dsp.replication.band_replication`), instead of from a constant.
        fill: (with ``envelope``) what the predicted envelope is laid over: ``copy``, the band
            copied up, or ``noise`` (:func:`spectral_enhance.dsp.noise.noise_frames`) at each
            channel's copied level, which the enhancer lays the model's `band_scale` over.
            Changes no weight: training judges the envelope alone, so a model trained on the
            copy can be exported with noise.
        sample_rate: the rate the model runs at (``train`` sets its data's), which turns the
            prior's smoothing, set in seconds, into frames.
        calm: (with ``fill=noise``) the share of its swing about its course over
            `CALM_SECONDS` that the rebuilt band's level keeps, per 2.8 kHz and frame, where
            the enhancer lays it over noise (:func:`spectral_enhance.dsp.band_level.calm_band`; at
            most half under a 32 kbps low-pass, `calm_share`); 1 leaves it as predicted.
            Changes no weight: an export option. The network's level from frame to frame
            follows the reference's only roughly (a correlation of 0.56 to 0.71), and a
            calmer band scored higher on validation (docs/full-band.md).
        holes: (with ``fill=noise``) the enhancer also fills the codec's holes in the octave
            under the low-pass with noise (:func:`spectral_enhance.dsp.holes.hole_scale`), found
            and levelled by a small net fitted apart (`spectral-enhance train-holes`), no weight of
            this model: an export option (docs/full-band.md).
    """

    fft_length: int = 2048
    hop_length: int = 512
    band_bins: int = 8
    latent: int = 256
    kernel_size: int = 5
    n_blocks: int = 1
    envelope: bool = False
    tilt_prior: bool = False
    fill: str = "copy"
    sample_rate: int = 44_100
    calm: float = 1.0
    holes: bool = False

    def __post_init__(self) -> None:
        if min(self.band_bins, self.latent, self.n_blocks, self.sample_rate) < 1:
            raise ValueError(
                f"band_bins, latent, n_blocks and sample_rate must be positive: {self}"
            )
        if self.tilt_prior and not self.envelope:
            raise ValueError(f"tilt_prior needs envelope: {self}")
        if self.fill not in FILLS or (self.fill == "noise" and not self.envelope):
            raise ValueError(f"fill must be one of {FILLS} ('noise' needs envelope): {self}")
        if not 0.0 <= self.calm <= 2.0 or (self.calm != 1.0 and self.fill != "noise"):
            raise ValueError(f"calm must be from 0 to 2 (not 1 only with fill 'noise'): {self}")
        if self.holes and self.fill != "noise":
            raise ValueError(f"holes needs fill 'noise': {self}")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive, got {self.kernel_size}")
        if self.fft_length < 16 or self.hop_length < 1 or PATCH_MULTIPLE % self.overlap:
            raise ValueError(
                f"fft_length / hop_length must divide {PATCH_MULTIPLE}, not "
                f"{self.fft_length} / {self.hop_length}"
            )

    @property
    def overlap(self) -> int:
        """Frames overlapping each sample (``fft_length / hop_length``, rounded up)."""
        return -(-self.fft_length // self.hop_length)

    @property
    def bins(self) -> int:
        """Frequency bins of the STFT (1,025 for 2,048 points)."""
        return self.fft_length // 2 + 1

    def stft(self) -> StftConfig:
        """The STFT the model runs on (a periodic Hann window of ``fft_length``)."""
        return StftConfig(self.fft_length, self.hop_length, self.fft_length)

    @property
    def tilt_frames(self) -> int:
        """Frames (odd) the prior's slope is measured over: about ``TILT.smooth_seconds``; 1
        without a prior."""
        if not self.tilt_prior:
            return 1
        return 2 * round(TILT.smooth_seconds * self.sample_rate / self.hop_length / 2) + 1

    @property
    def calm_frames(self) -> int:
        """Frames (odd) the band's course is taken over for ``calm``: about `CALM_SECONDS`; 1
        when the level is left as predicted."""
        if self.calm == 1.0:
            return 1
        return 2 * round(CALM_SECONDS * self.sample_rate / self.hop_length / 2) + 1

    @property
    def holes_frames(self) -> int:
        """Frames (odd) a band's loudest is taken over to find the codec's holes
        (`dsp.holes.hole_frames`); 0 when they are left."""
        return hole_frames(self.sample_rate, self.hop_length) if self.holes else 0

    @property
    def bands(self) -> int:
        """Bands of the network's view: the bins, ``band_bins`` at a time (the last may hold
        fewer)."""
        return -(-self.bins // self.band_bins)


class BandExtender(EnhancementModel):
    """Copy the band under the cutoff up, and set its level per band and frame (module doc)."""

    takes_lowpass = True

    def __init__(self, config: BandConfig = BandConfig()) -> None:
        super().__init__()
        self.config = config
        self.stft = config.stft()
        self.blocks = nn.ModuleList(
            SeparableBlock(config.bands, config.latent, config.kernel_size)
            for _ in range(config.n_blocks)
        )
        for block in self.blocks:  # each block starts by adding nothing
            nn.init.zeros_(block.from_latent.pointwise.weight)
        self.rows = nn.Parameter(torch.full((3,), 1.0 / 3.0))
        # a fixed log gain (or, predicting the envelope, log level) per band, learned
        start = ENVELOPE_START if config.envelope and not config.tilt_prior else 0.0
        self.level = nn.Parameter(torch.full((config.bands,), start))
        # the batch is one file's channels, which share one envelope; training turns it off,
        # its batches holding different clips
        self.link_channels = True

    @property
    def noise_band_bins(self) -> int:
        """Bins per band of the `band_scale` a noise-filling model (``fill=noise``) returns as
        its output, for the enhancer to lay over noise; 0: it returns the spectrum."""
        return self.config.band_bins if self.config.fill == "noise" else 0

    @property
    def joint_channels(self) -> bool:
        """Whether a file's channels must come as one batch: they share one envelope."""
        return self.config.envelope and self.link_channels

    @property
    def reach(self) -> int:
        """Frames on each side that one output frame depends on."""
        config = self.config
        blocks = (config.kernel_size // 2) * 2 * config.n_blocks
        # the holes are judged on the input alone
        band = blocks + config.tilt_frames // 2 + config.calm_frames // 2
        return max(band, config.holes_frames // 2)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """Mean of each band's bins over the last axis (a last band of fewer bins over
        ``band_bins`` too, as if padded with zeros).

        Reshapes, not a matrix product: int8 quantization, which is for the weights of matrix
        products, would round these powers of a wide range to zero. The whole bands and the
        last are pooled apart: padding the spectrum first costs a copy of it.
        """
        config = self.config
        whole = config.bins // config.band_bins * config.band_bins
        head = x[..., :whole].reshape(*x.shape[:-1], whole // config.band_bins, config.band_bins)
        if whole == config.bins:
            return head.mean(dim=-1)
        tail = x[..., whole:].sum(dim=-1, keepdim=True) / config.band_bins
        return torch.cat([head.mean(dim=-1), tail], dim=-1)

    def spread(self, x: torch.Tensor) -> torch.Tensor:
        """Bands back to bins over the last axis: each band's value on each of its bins."""
        config, shape = self.config, x.shape
        repeated = x.unsqueeze(-1).expand(*shape, config.band_bins)
        return repeated.reshape(*shape[:-1], shape[-1] * config.band_bins)[..., : config.bins]

    @property
    def calm(self) -> float:
        """The share of the rebuilt band's swing the enhancer keeps (`BandConfig.calm`)."""
        return self.config.calm

    @property
    def calm_frames(self) -> int:
        """The frames the band's course is taken over, for `calm`; 1 when it is 1."""
        return self.config.calm_frames

    @property
    def holes_frames(self) -> int:
        """The frames the codec's holes are judged over (`BandConfig.holes_frames`); 0: none."""
        return self.config.holes_frames

    @property
    def prior_frames(self) -> int:
        """Frames the tilt prior's slope is smoothed over, for a model that starts from it
        (`told_inputs` makes it, `band_prior`, and its graph takes it last); 0: none."""
        return self.config.tilt_frames if self.config.tilt_prior else 0

    @property
    def prior_band_bins(self) -> int:
        """Bins per band of the tilt prior (the network's bands); 0: no prior."""
        return self.config.band_bins if self.config.tilt_prior else 0

    def tilt_prior(self, power: torch.Tensor, above: torch.Tensor) -> torch.Tensor:
        """The ``dsp`` system's envelope in this model's view, ``[batch, frames, bands]``, from
        the spectrum's power ``[batch, frames, bins]`` and the copied band's bins ``above``
        (:func:`~spectral_enhance.dsp.tilt.band_prior`: the rule is written once, in numpy;
        it has nothing to learn, so training computes it there and an exported graph is given
        it as an input)."""
        prior = band_prior(
            power.detach().cpu().double().numpy(),
            above.detach().cpu().numpy(),
            self.prior_frames,
            self.config.band_bins,
        )
        return torch.from_numpy(prior).to(power.device, power.dtype)

    def gain(
        self,
        power: torch.Tensor,
        power_copy: torch.Tensor,
        above: torch.Tensor,
        prior: torch.Tensor | None = None,
        linked: bool = False,
    ) -> torch.Tensor:
        """The gain on the copy per band and frame, ``[batch, frames, bands]`` (``[1, ...]`` for
        all of a file's channels when they share one envelope, `link_channels`), from the
        spectrum's power per bin ``[batch, frames, bins]`` and the copy's per band and frame
        of each channel, ``[batch, frames, bands]`` (`band_powers`); with ``tilt_prior``, the
        prior (`tilt_prior` of the power the envelope is made from, if not given). ``linked``:
        the power per bin is the channels' sum already (`BandScale`'s, from
        :func:`spectral_enhance.dsp.model_inputs.told_inputs`)."""
        if self.joint_channels:
            # one envelope from the channels' summed power, one gain for all: each channel's band
            # keeps its copy's level against the others', the image of the band it came from
            if not linked:
                power = power.sum(dim=0, keepdim=True)
            power_copy = power_copy.sum(dim=0, keepdim=True)
        power_in = self.pool(power)  # [batch, frames, bands]
        level = torch.log(power_in.mean(dim=2, keepdim=True) + EPS)  # the frame's loudness
        where = self.pool(above).expand_as(power_in)
        rows = torch.stack(
            [
                0.1 * (torch.log(power_in + EPS) - level),
                0.1 * (torch.log(power_copy + EPS) - level) * where,
                where,
            ],
            dim=1,
        )
        gain = self.level.expand_as(power_in)
        if self.config.tilt_prior:
            prior = self.tilt_prior(power, above) if prior is None else prior
            gain = gain + prior - level
        for block in self.blocks:
            gain = gain + (block(rows) * self.rows[None, :, None, None]).sum(dim=1)
        if self.config.envelope:  # the band's log power, less the copy's: half of it on amplitude
            gain = 0.5 * (gain + level - torch.log(power_copy + EPS))
        return torch.exp(torch.clamp(gain, MIN_LOG_GAIN, MAX_LOG_GAIN))

    def band_powers(
        self, spectrum: torch.Tensor, copy: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """What `gain` takes: the spectrum's power per bin and the copy's per band, of
        ``[batch, 2, frames, bins]`` each. (A noise-filling model's graph is given these, made
        outside it by :func:`spectral_enhance.dsp.model_inputs.noise_inputs`.)"""
        return _power(spectrum), self.pool(_power(copy))

    def band_scale(
        self,
        power: torch.Tensor,
        power_copy: torch.Tensor,
        above: torch.Tensor,
        prior: torch.Tensor | None = None,
        linked: bool = False,
    ) -> torch.Tensor:
        """Each channel's amplitude per band and frame for noise of a mean power of 1 per bin,
        ``[batch, frames, bands]``: its copy's level times the gain on it, so each channel's band
        gets the level its copy would have had and a panned source keeps its balance. A
        noise-filling model's graph returns this (`noise_band_bins`) from the powers `gain`
        takes (``linked`` as there); laid over noise by
        :func:`spectral_enhance.dsp.noise.lay_over_noise`, outside it, where only the bins above
        the low-pass cost anything."""
        return self.gain(power, power_copy, above, prior, linked) * torch.sqrt(power_copy)

    def forward(
        self,
        spectrum: torch.Tensor,
        copy: torch.Tensor,
        above: torch.Tensor,
        prior: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The input with the rebuilt band added above the low-pass: same shape.

        ``copy`` is the input's band under the low-pass copied above it and ``above`` (``[bins]``)
        where that is (:func:`spectral_enhance.dsp.copy_rule.band_copy` and `copy_map`); one
        low-pass for the whole batch, as a file's channels share theirs. ``noise`` (complex ``[1,
        frames, bins]``, :func:`spectral_enhance.dsp.noise.noise_frames`) replaces the copy under
        the envelope, at `band_scale`. ``prior``: with ``tilt_prior``, `tilt_prior`'s (made here
        if not given; an exported graph is given it).
        """
        powers = self.band_powers(spectrum, copy)
        if noise is not None:
            scale = self.band_scale(*powers, above, prior)
            laid = lay_over_noise(noise, scale, above, self.config.band_bins)  # complex
            return spectrum + torch.stack([laid.real, laid.imag], dim=1)
        return spectrum + copy * self.spread(self.gain(*powers, above, prior))[:, None]


class BandScale(nn.Module):
    """A noise-filling model's graph: its band amplitudes (`BandExtender.band_scale`), which the
    enhancer lays over noise, from the spectrum's power per bin and the copy's per band
    (:func:`spectral_enhance.dsp.model_inputs.noise_inputs`). Given powers, not the spectrum and its
    copy, the graph neither squares two spectra nor is sent a copy: a fifth of a segment's
    time end to end. Linked channels' power per bin comes summed (`told_inputs`), and the graph
    does not sum it again: a sixth of the graph's time, in ONNX Runtime, went to that."""

    def __init__(self, model: BandExtender) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        power: torch.Tensor,
        power_copy: torch.Tensor,
        above: torch.Tensor,
        prior: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return self.model.band_scale(power, power_copy, above, prior, linked=True)


def _power(spectrum: torch.Tensor) -> torch.Tensor:
    """Power per bin of ``[batch, 2, frames, bins]``: ``[batch, frames, bins]``. (Written out
    over the two parts it ran a little faster in ONNX Runtime, but held a copy of each part:
    40 MB more at an hour's peak.)"""
    return (spectrum * spectrum).sum(dim=1)
