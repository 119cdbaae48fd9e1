"""One segment through the model and back to samples, apart from the stream that cuts it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..dsp.band_level import calm_band, fill_dips, lead_cap
from ..dsp.coherence import channel_coherence, channels_mixing
from ..dsp.copy_rule import copy_start
from ..dsp.holes import HoleNet, hole_scale
from ..dsp.model_inputs import told_inputs
from ..dsp.noise import lay_over_noise, noise_frames
from ..dsp.stft import StftConfig, istft, spectrum, stft
from ..dsp.stft import power as stft_power
from .card import BlockRule

__all__ = ["SegmentSynthesis"]


@dataclass(frozen=True)
class _Job:
    """What one stream asks of every segment: the input's low-pass (for a model told it; None:
    nothing to rebuild), whether to return the model's change rather than its output, whether
    to fill the codec's holes under the low-pass (`Enhancer.mended_band`), the share of the
    rebuilt band's swing to keep (`dsp.band_level.calm_share`) and the amplitude it is laid at
    against the model's (`dsp.band_level.band_share`)."""

    lowpass_hz: float | None
    change: bool
    mends: bool = False
    calm: float = 1.0
    share: float = 1.0


class SegmentSynthesis:
    """What the `Enhancer` does to one padded segment: its spectrum (or waveform) through the
    model, for a noise-filling model the rebuilt band laid over noise and the codec's holes
    filled, back to samples, and only its middle kept. A base of the `Enhancer`, which sets the
    attributes below."""

    rule: BlockRule
    stft: StftConfig
    sample_rate: int
    margin: int  # samples of real signal on each side of a segment's middle
    coherence_frames: int
    hole_net: HoleNet | None

    def _segment(
        self,
        window: np.ndarray,
        job: _Job,
        model: Callable[..., np.ndarray],
        first: int,
        fft_workers: int = -1,
    ) -> np.ndarray:
        """Enhance one padded segment ``[2 * margin + segment, channels]`` (a last one may be
        shorter) that starts at the stream's sample ``first``; return its middle."""
        middle = slice(self.margin, len(window) - self.margin)
        if self.rule.takes_lowpass and job.lowpass_hz is None:  # nothing to rebuild
            return np.zeros_like(window[middle]) if job.change else window[middle]
        channels_first = window.T  # a view: the STFT's padding copies it channels first
        if self.rule.domain == "waveform":
            enhanced = model(np.ascontiguousarray(channels_first)).T
        else:
            # [channels, 2, frames, bins], or complex [channels, frames, bins] for a graph that
            # takes powers: the noise is laid over it, and the inverse takes it, as it is
            analyse = spectrum if self.rule.noise_band_bins else stft
            spec = analyse(channels_first, self.stft, workers=fft_workers)
            if self.rule.takes_lowpass:
                cutoff = job.lowpass_hz * self.stft.fft_length / self.sample_rate
                per_bin = stft_power(spec) if job.mends else None
                inputs = told_inputs(spec, cutoff, self.rule, per_bin)
                if self.rule.noise_band_bins:  # the band's amplitudes, laid over noise here
                    rule = self.rule
                    scale = calm_band(
                        model(*inputs),
                        inputs[2],
                        rule.noise_band_bins,
                        job.calm,
                        rule.calm_frames,
                        inputs[0],
                    )
                    scale = fill_dips(scale, copy_start(inputs[2]) // rule.noise_band_bins)
                    scale = lead_cap(scale, inputs[2], rule.noise_band_bins, inputs[0])
                    if job.share != 1.0:
                        scale = scale * np.float32(job.share)
                    # Laid and synthesised only in the frames that make the middle: the
                    # margins' are for the model's reach, 15 % of a segment's frames.
                    kept = self._kept_frames(len(window))
                    change = self._lay_over_noise(scale, spec, inputs, first, cutoff, per_bin, kept)
                    length = len(window) - 2 * self.margin
                    added = istft(change, length, self.stft, workers=fft_workers).T
                    return added if job.change else window[middle] + added
                spec = model(*inputs)
            else:
                spec = model(spec)
            enhanced = istft(spec, len(window), self.stft, workers=fft_workers).T
        enhanced = enhanced[middle]
        return enhanced - window[middle] if job.change else enhanced

    def _kept_frames(self, length: int) -> slice:
        """The frames of a window of ``length`` samples whose STFT windows reach its middle (all
        but the margins): `istft` of these alone gives the middle's samples."""
        hop, middle = self.stft.hop_length, length - 2 * self.margin
        first = self.margin // hop  # the margin is a whole number of hops
        return slice(first, first - (-(self.stft.pad + middle) // hop))

    def _lay_over_noise(
        self,
        scale: np.ndarray,
        spec: np.ndarray,
        inputs: tuple,
        first: int,
        cutoff: float,
        per_bin: np.ndarray | None = None,
        kept: slice = slice(None),
    ) -> np.ndarray:
        """The rebuilt band of a segment starting at sample ``first`` (a whole number of hops, as
        margins and segments are), in its frames ``kept``: a noise-filling model's amplitudes
        ``scale`` over the noise frames from there on, above the low-pass at bin ``cutoff``:
        complex ``[channels, frames, bins]``; given each channel's power per bin ``per_bin`` (a
        stream that mends them), the codec's holes in the octave under it too (`hole_scale`).
        Two channels (``spec``, the segment's complex spectrum, and the model's ``inputs``) get
        a second noise mixed in, as far as they differ under the low-pass
        (`channel_coherence`); more, a noise each, mixed so that each pair is as alike as
        under it (`channels_mixing`). What a frame kept takes from those around it (the
        channels' likeness, the holes' loudest) is taken as over the whole segment."""
        bins, (power, _, above) = self.rule.noise_band_bins, inputs[:3]
        kept = slice(*kept.indices(scale.shape[1]))
        start = (first - self.stft.pad) // self.stft.hop_length + kept.start
        coherence = None
        if scale.shape[0] == 2:
            coherence = channel_coherence(spec, power, above, self.coherence_frames)[kept]
        elif scale.shape[0] > 2:
            coherence = channels_mixing(spec, above, self.coherence_frames)[kept]
        out = self._noise_band(scale[:, kept], above, start, coherence)
        if per_bin is not None:
            # a frame's holes are judged by the loudest of half their span either side
            reach = self.rule.holes_frames // 2
            low_frame = max(kept.start - reach, 0)
            around = per_bin[:, low_frame : kept.stop + reach]
            holes, low = hole_scale(around, cutoff, bins, self.rule.holes_frames, self.hole_net)
            holes = holes[:, kept.start - low_frame : kept.stop - low_frame]
            found = np.flatnonzero(holes.any(axis=(0, 1)))
            if len(found):  # laid from the first band with a hole to the last under the cut
                holes, low = holes[..., found[0] :], low + found[0]
                span = slice(low * bins, (low + holes.shape[-1]) * bins)
                where = np.ones(span.stop - span.start, np.float32)
                out[..., span] = self._noise_band(holes, where, start, coherence, span.start)
        return out

    def _noise_band(
        self,
        scale: np.ndarray,
        where: np.ndarray,
        start: int,
        coherence: np.ndarray | None,
        offset: int = 0,
    ) -> np.ndarray:
        """The noise frames from frame ``start`` on, in the bins from ``offset`` on, at ``scale``
        (per band of the model's bins, from ``offset`` on) where ``where`` (`lay_over_noise`):
        one noise for one channel, two mixed by ``coherence`` for two (`channel_coherence`),
        and for more as many by its mixing (`channels_mixing`), each orthogonal to the others
        band by band and frame by frame (`noise_frames`' ``apart``)."""
        bins, frames = self.rule.noise_band_bins, scale.shape[1]
        band, to = offset + copy_start(where), offset + len(where)  # the noise's bins used

        def noise(apart: int = 0) -> np.ndarray:
            return noise_frames(
                self.stft, start, frames, bins, apart=apart, from_bin=band, to_bin=to
            )

        if coherence is None:
            return lay_over_noise(noise(), scale, where, bins)
        if coherence.ndim == 1:
            return lay_over_noise(noise(), scale, where, bins, coherence, noise(apart=1))
        noises = np.concatenate([noise(apart) for apart in range(len(scale))])
        mixed = np.einsum("fcj,jfk->cfk", coherence, noises, optimize=True)
        return lay_over_noise(mixed, scale, where, bins)
