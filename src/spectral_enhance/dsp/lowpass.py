"""Where a file's spectrum ends: the low-pass an encoder (or a filter) left in it.

A lossy encoder at a low bitrate removes everything above a cutoff (LAME: about 11 kHz at
64 kbps, 16 to 17 kHz at 128 kbps for 44.1 kHz input). The cutoff shows in the long-term average
power spectrum of the whole signal as a sharp drop of tens of dB after which nothing returns.
Averaging power over the whole signal lets the loud passages dominate, so a quiet intro or a
silent gap does not move the estimate; the level a drop is measured against is a median over a
kilohertz, which single tones do not move.

Not every encoder filters: FFmpeg's libshine (and LAME told ``--lowpass -1``) codes what its
bits allow, granule by granule, so above where its band really ends a trace of it comes back in
a few granules, up to 17 kHz or more at 96 kbps, and the drop lies at the trace's end. Where
the band under a cut so found was coded (held within `CODED_DB` of its frame's loudest) in
fewer than `SOFT_SHARE` of the sounding frames, the cut is taken down to where it was
(`SpectrumMeter.soft_cut`): the band the model rebuilds then starts where the file's band does
most of the time. In an MP3 the traces can be too loud for any drop to show (libshine at
80 kbps), and the soft cut is taken there too; in any other file no drop means no cut. Not in
an MP3 at a variable bitrate (`soft_applies`): LAME's VBR and ABR leave bands empty in most
frames of a quiet or sparse passage under their own filter, where the masking threshold, not
the bits, said so, and the band rebuilt from there is loud noise.

A file is measured before it is enhanced (the full-band model needs its low-pass from the first
segment on): :func:`lowpass_of_file` averages short excerpts from places spread over it, which
cost 21 to 23 ms for a 3-minute MP3 where its decode takes 0.3 s (``benchmarks/lowpass_speed.py``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import uniform_filter1d

from ..audio.arrays import checked_rate, float_frames
from ..audio.mp3 import LAME_FILTER_HZ, lame_cut_hz, lame_rate

if TYPE_CHECKING:
    from ..audio.packets import PacketSizes
    from ..audio.probe import AudioInfo

__all__ = [
    "ASSUMED_SHARE",
    "FileCuts",
    "SpectrumMeter",
    "assumed_filter",
    "average_spectrum",
    "codec_cut",
    "cuts_of_file",
    "expected_cut",
    "file_cut",
    "filter_reached",
    "find_lowpass",
    "kept_reason",
    "lowpass_of_file",
    "lowpass_of_frames",
    "lowpass_of_spectrum",
    "soft_applies",
]

N_FFT = 4096  # about 11 Hz per bin at 44.1 kHz
CHUNK_FRAMES = 256  # frames transformed at once, so memory stays bounded at any length
EXCERPTS = 32  # places a file is sampled at
EXCERPT = 2 * N_FFT  # samples decoded at each: three frames of Welch's grid
LOUDEST_LEFT_OUT = 2
"""Each bin's loudest frames left out of the average where the whole average finds no cut
(`SpectrumMeter.lowpass`): a damaged frame decoded to noise, or the click where damage was made
silence, lifts the band above a low-pass in every bin at once, and one in the hundred-odd
frames a file is measured on hides the cut. Two cover a burst of a frame or less at a hop of a
whole FFT (what a whole decode is measured at); content that lasts longer, or comes back,
still counts. With the excerpts ending at damage (`audio.read_excerpts`), 127 of 127 damaged
lossy copies had their low-pass found, against 117 before (``python
scripts/damaged_enhance.py``, docs/runs/damaged-enhance.txt). Not always: leaving them out of
every file moved the cut of intact clips by tens of hertz and cost 0.012 of Zimtohrli at
64 kbps on validation."""
LEFT_OUT_FROM = 8 * LOUDEST_LEFT_OUT
"""Frames a signal needs before any are left out."""
ANTI_ALIAS = 0.95
"""A cut over this share of Nyquist is the anti-aliasing filter of the rate, not a low-pass."""
CODED_DB = 120.0
"""A bin more than this under its frame's loudest was not coded: a band an MP3 encoder zeroed
decodes to its filter bank's leakage alone, mostly more than 120 dB down (FFmpeg's decodes of
libshine's files), where a master's treble, even faint, lies 60 to 90 dB down. (16-bit dither
lies about 130 dB under a full-scale peak: a lossless file is judged only under a cut its
spectrum shows, `SOFT_BELOW`.)"""
SILENT_POWER = 1e-10
"""A frame whose loudest bin is under this share of a full-scale sine's (about -100 dBFS) is
silence, and says nothing of what was coded."""
SOFT_SHARE = 0.75
"""An encoder without a low-pass filter (libshine; LAME told ``--lowpass -1``) leaves the band
it could not afford coded in a few frames only: above where each bin is coded in fewer than
this share of the sounding frames (and stays so up to Nyquist), the band is taken as cut
(`SpectrumMeter.soft_cut`)."""
SOFT_BELOW = 0.9
"""The soft cut replaces the spectrum's own only when it lies under this share of it: LAME's
low-pass at its own rate, over a band coded in most frames, stays where it is (at 44.1 kHz and
32 to 64 kbps, as FFmpeg writes LAME's files, bits run out under it, and it comes down too).
Where the spectrum shows no cut, an MP3's is taken under this share of the anti-aliasing edge
(`ANTI_ALIAS`): libshine's traces can reach Nyquist too loud for the spectrum to show its cut
(at 80 kbps on the bundled excerpt). Any other file's is not: treble in a few frames of a
lossless file is music, not a trace."""
SOFT_SMOOTH_HZ = 500.0
"""Bins' coded shares are averaged over this much before they are compared."""
CANCELLED = 0.1
"""Under this share of the channels' power, their mean signal is taken to cancel (`SpectrumMeter`):
on issue 12's validation clips an ordinary mix's mean keeps 0.39 of it or more
(`scripts/opposed_check.py`)."""


class SpectrumMeter:
    """The long-term average power spectrum of a signal that arrives in blocks (Hann frames of
    ``n_fft`` every ``hop`` samples, of the channels' mean signal), so a streamed file is
    measured whole without being held whole.

    Where the channels cancel in their mean (its power under `CANCELLED` of theirs: a stereo
    file with one channel's polarity inverted), the mean is no measure and the channels' own
    powers, averaged, are taken instead. Not always: on ordinary files they move the cut
    (of 3 to 13 of each bitrate's 24 validation clips, by up to 270 Hz).

    ``hop`` defaults to half a frame (Welch's 50 % overlap); a longer hop measures a sample of
    the frames, which is enough for a cutoff and costs ``hop / (n_fft / 2)`` times less.

    Its `lowpass` leaves each bin's `LOUDEST_LEFT_OUT` loudest frames out where the whole
    average finds none: damage's clicks would otherwise hide the cut.
    """

    def __init__(self, rate: int, n_fft: int = N_FFT, hop: int | None = None) -> None:
        self.rate, self.n_fft = rate, n_fft
        self.hop = hop or n_fft // 2
        self.window = np.hanning(n_fft).astype(np.float32)
        self.total = np.zeros(n_fft // 2 + 1)  # of the channels' mean signal
        self.apart_total = np.zeros(n_fft // 2 + 1)  # of each channel less the mean, averaged
        self.loudest = np.zeros((LOUDEST_LEFT_OUT, n_fft // 2 + 1))  # each bin's, of the mean
        self.apart_loudest = np.zeros_like(self.loudest)  # and of what is apart from it
        # frames' powers not yet in ``loudest`` (mean, apart): folded in a chunk at a time, so
        # a file's hundred-odd excerpt frames cost one fold, and only if asked for
        self.pending: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
        self.frames = 0
        self.coded = np.zeros(n_fft // 2 + 1)  # frames each bin was coded in (`soft_cut`)
        self.sounding = 0  # frames with any sound, of which those
        self.carry = np.zeros((0, 1), np.float32)  # samples from the next frame's start on
        self.skip = 0  # samples to pass over before the next frame starts (hop > n_fft)

    def add(self, block: np.ndarray) -> None:
        """Take ``[samples]`` or ``[samples, channels]`` more of the signal (none: an excerpt
        from past the end of a file cut short, whose header promised more)."""
        x = np.asarray(block, dtype=np.float32)
        x = x[:, None] if x.ndim == 1 else x
        if not len(x):
            return
        if len(self.carry) == 0:
            self.carry = self.carry.reshape(0, x.shape[1])
        passed = min(self.skip, len(x))
        x, self.skip = np.concatenate([self.carry, x[passed:]]), self.skip - passed
        starts = np.arange(0, len(x) - self.n_fft + 1, self.hop)
        if len(starts):
            mean, apart = _mean_and_apart(x[: starts[-1] + self.n_fft])
            for first in range(0, len(starts), CHUNK_FRAMES):
                index = starts[first : first + CHUNK_FRAMES, None] + np.arange(self.n_fft)
                power = self._power(mean[index])
                self.total += power.sum(axis=0)
                self.pending[0].append(power)
                if apart:  # each channel's power is the mean's plus its own part
                    own = sum(self._power(signal[index]) for signal in apart) / len(apart)
                    self.apart_total += own.sum(axis=0)
                    self.pending[1].append(own)
                    power = power + own
                self._count_coded(power)
                if sum(map(len, self.pending[0])) >= CHUNK_FRAMES:
                    self._fold()
        self.frames += len(starts)
        after = len(starts) * self.hop  # where the next frame starts
        self.carry = x[after:]
        self.skip += max(0, after - len(x))

    def _fold(self) -> None:
        """Take the pending frames' powers into each bin's loudest."""
        means, aparts = self.pending
        if means:
            self.loudest = _loudest(self.loudest, np.concatenate(means))
        if aparts:
            self.apart_loudest = _loudest(self.apart_loudest, np.concatenate(aparts))
        self.pending = ([], [])

    def _count_coded(self, power: np.ndarray) -> None:
        """Count, per bin, the frames of ``[frames, bins]`` (each channel's power) that hold it
        within `CODED_DB` of their loudest bin: what an encoder zeroed lies below."""
        peak = power.max(axis=1, keepdims=True)
        sounding = peak > SILENT_POWER * self.window.sum() ** 2
        self.coded += ((power >= peak * 10 ** (-CODED_DB / 10)) & sounding).sum(axis=0)
        self.sounding += int(sounding.sum())

    def _power(self, frames: np.ndarray) -> np.ndarray:
        """The Hann-windowed power per bin of ``[frames, n_fft]``, ``[frames, bins]``."""
        spectrum = np.fft.rfft(frames * self.window, axis=-1)
        return spectrum.real**2 + spectrum.imag**2

    def gap(self) -> None:
        """Say that the next block does not follow the last one (an excerpt from elsewhere in
        a file), so no frame spans the two: the jump would spread its click over every bin."""
        self.carry = self.carry[:0]
        self.skip = 0

    def spectrum(self, left_out: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(frequencies in Hz, mean power per bin), each ``[n_fft // 2 + 1]``; a signal shorter
        than one frame is zero-padded to one. With ``left_out``, each bin's `LOUDEST_LEFT_OUT`
        loudest frames are left out (of at least `LEFT_OUT_FROM`)."""
        if self.frames == 0:
            padded = np.zeros((self.n_fft, self.carry.shape[1]), np.float32)
            padded[: len(self.carry)] = self.carry
            meter = SpectrumMeter(self.rate, self.n_fft)
            meter.add(padded)
            return meter.spectrum()
        total, apart, frames = self.total, self.apart_total, self.frames
        if left_out and frames >= LEFT_OUT_FROM:
            self._fold()
            total = total - self.loudest.sum(axis=0)
            apart = apart - self.apart_loudest.sum(axis=0)
            frames -= LOUDEST_LEFT_OUT
        channels = total + apart  # each channel's own power, averaged
        total = channels if total.sum() < CANCELLED * channels.sum() else total
        return np.fft.rfftfreq(self.n_fft, 1.0 / self.rate), np.maximum(total, 0.0) / frames

    def lowpass(self, soft: bool = True, mp3: bool = False) -> float | None:
        """The low-pass of what the meter has taken, in Hz (`lowpass_of_spectrum`), or None;
        where the whole average finds none, with each bin's loudest frames left out; with
        ``soft``, taken down to the `soft_cut` where that lies under `SOFT_BELOW` of it, and
        for an ``mp3``'s decode under `SOFT_BELOW` of the anti-aliasing edge where the spectrum
        shows no cut (`SOFT_BELOW`)."""
        return self.cuts(soft, mp3)[0]

    def cuts(self, soft: bool = True, mp3: bool = False) -> tuple[float | None, float | None]:
        """`lowpass` (``soft`` as it takes it), and the cut without the soft cut, from one
        look at the spectrum."""
        cut = lowpass_of_spectrum(*self.spectrum(), self.rate)
        if cut is None and self.frames >= LEFT_OUT_FROM:
            cut = lowpass_of_spectrum(*self.spectrum(left_out=True), self.rate)
        top = ANTI_ALIAS * self.rate / 2 if cut is None and mp3 else cut
        under = self.soft_cut() if soft and top is not None else None
        return (under if under is not None and under < SOFT_BELOW * top else cut), cut

    def soft_cut(self, share: float | None = None) -> float | None:
        """The lowest frequency in Hz from which every bin, up to Nyquist, was coded in fewer
        than ``share`` (default `SOFT_SHARE`) of the sounding frames (`CODED_DB`), or None:
        where an encoder with no low-pass filter (libshine) stopped coding most of the band."""
        share = SOFT_SHARE if share is None else share
        if not self.sounding:
            return None
        coded = uniform_filter1d(
            self.coded / self.sounding, max(1, round(SOFT_SMOOTH_HZ * self.n_fft / self.rate))
        )
        above = np.maximum.accumulate(coded[::-1])[::-1]
        under = np.nonzero(above < share)[0]
        if not len(under):
            return None
        cut = under[0] * self.rate / self.n_fft
        return None if cut >= ANTI_ALIAS * self.rate / 2 else float(cut)


def _loudest(kept: np.ndarray, power: np.ndarray) -> np.ndarray:
    """The ``len(kept)`` largest of ``kept`` (ascending) and ``power`` in each bin (``[n,
    bins]`` each), ascending: each of the chunk's loudest in turn takes the smallest kept one's
    place if louder, and rises to its own (no sort along frames: a third of the time)."""
    kept = kept.copy()
    for turn in range(len(kept)):
        top = power.max(axis=0)
        if turn < len(kept) - 1:
            power = np.where(power >= top, -np.inf, power)
        kept[0] = np.maximum(kept[0], top)
        for j in range(len(kept) - 1):
            low, high = kept[j], kept[j + 1]
            kept[j], kept[j + 1] = np.minimum(low, high), np.maximum(low, high)
    return kept


def _mean_and_apart(x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The channels' mean signal of ``[samples, channels]`` and what each channel holds apart
    from it: for two channels one signal (the two are equal and opposite), none for one."""
    mean = x[:, 0].copy()  # column by column: 5x faster than mean(axis=1)
    for channel in range(1, x.shape[1]):
        mean += x[:, channel]
    if x.shape[1] == 1:
        return mean, []
    mean /= np.float32(x.shape[1])
    apart = [x[:, channel] - mean for channel in range(1 if x.shape[1] == 2 else x.shape[1])]
    return mean, apart


def soft_applies(codec: str, sizes: PacketSizes) -> bool:
    """Whether the soft cut (`SpectrumMeter.soft_cut`) may apply to a file of FFmpeg's decoder
    ``codec`` whose packets were ``sizes``: not to an MP3 at a variable bitrate (nor, by
    `file_cut`, to one whose LAME tag records a filter of `FILTER_FROM_HZ` or more). On issue 12's
    validation clips made into VBR MP3s (LAME's ``-V0`` to ``-V9``, FFmpeg's ``-q:a``), the soft
    cut took a clip's Zimtohrli down by up to 1.25, where without it none lost more than 0.19
    (``scripts/vbr_check.py``, docs/full-band.md)."""
    from ..audio import is_mp3

    return sizes.constant or not is_mp3(codec)


def average_spectrum(
    samples: np.ndarray, rate: int, n_fft: int = N_FFT, hop: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Long-term average power spectrum of a whole signal: see :class:`SpectrumMeter`."""
    meter = SpectrumMeter(rate, n_fft, hop)
    meter.add(samples)
    return meter.spectrum()


def find_lowpass(
    samples: np.ndarray, rate: int, soft: bool = True, mp3: bool = False
) -> float | None:
    """The low-pass cutoff of a whole signal in Hz, or None: see `SpectrumMeter.lowpass`.
    ``samples`` as `Enhancer.enhance` takes them (`float_frames`), at ``rate`` Hz."""
    return lowpass_of_frames(float_frames(samples)[0], checked_rate(rate, "rate"), soft, mp3)


def lowpass_of_frames(
    frames: np.ndarray, rate: int, soft: bool = True, mp3: bool = False
) -> float | None:
    """`find_lowpass` of float32 ``[samples, channels]`` that `float_frames` has made already
    (`Enhancer.enhance`'s), so the signal is not checked and copied a second time."""
    meter = SpectrumMeter(rate)
    meter.add(frames)
    return meter.lowpass(soft, mp3)


MASTER_BAND_HZ = 16_000.0
"""A lossless file whose band ends at or above this ends where its master does, not where a
codec cut it (`codec_cut`): nothing is rebuilt over it. Rebuilt above such an end, every lossless
clip lost or tied against its reference, which ends there too: on validation the 8 of a master
ending at 16.6 kHz lost 0.02 to 0.08 Zimtohrli, the others ending at 18 kHz and up 0.003 at
most, and none gained; on the test split (16.6 kHz) up to 0.008; on music never heard (16.0 to
16.7 kHz) up to 0.15 (`evaluate`'s band-limited lossless input, docs/full-band.md). Under it lie
the cuts of the MP3s of 96 kbps and less that a WAV or FLAC may have been decoded from (LAME's
15.1 kHz at 96 kbps), which are rebuilt; an MP3 of 128 kbps (16.6 kHz) so decoded is kept, as
its own MP3 would have gained 0.017 on the test split."""


HIGH_BITRATE = 192_000
"""An MP3 of this many bits per second or more (its stream's mean: a VBR file's from its Xing
tag) is kept as it is (`codec_cut`). Its encoder had the bits to keep its band to its filter
(LAME's 18.6 kHz at 192 kbps, higher above), over which a rebuilt band adds next to nothing
(`oracle-high` over the MP3 at 128 kbps: +0.04); a cut under that is its master's or a
granule's choice, and the band the model rebuilt above it lost on average at every mode of
192 kbps and more on validation (LAME's CBR at 192 to 320 kbps -0.014 to -0.016, `-V0` and
FFmpeg's `-q:a 0` -0.012, libshine at 192 to 320 kbps -0.011 to -0.016; worst clips -0.09 to
-0.14), where at 160 kbps libshine's files gained 0.022 (`scripts/vbr_check.py`,
docs/runs/vbr/val-rule.txt, val-cbr-high.txt)."""


FILTER_SHARE = 0.9
"""An MP3 whose band, measured without the soft cut, ends under this share of the low-pass
filter its LAME tag records (`audio.AudioInfo.encoder_lowpass`: Debian's ``lame`` writes it,
17 kHz at 128 kbps, 18.5 kHz at ``-V2``) ended so in its master, not at its encoder's cut
(`kept_reason`): nothing is rebuilt over it. Over it, LAME's own cut reads 0.94 to 1.0 of its
filter on full-band music and noise, and where VBR runs short of bits at ``-V4`` (17.5 kHz) a
full-band master's cut and one ending at 16.6 kHz both read 16.0 kHz, which 0.92 would have
kept, losing a clip's +0.09. On validation (``python scripts/vbr_check.py data/full --split val
--filter-shares 0.86 0.9 0.92 --modes ...``, docs/runs/vbr/val-filter.txt) ``-V2`` and ``-V3``
go from -0.009 and -0.003 to +0.002 and +0.005, their worst clips (``frantic_old``, whose
master ends at 16.6 kHz) from -0.08 and -0.09 to 0.00. FFmpeg's libmp3lame records no
filter; of its stereo CBR files it is LAME's own choice (`audio.mp3.LAME_CBR_FILTER`)."""
FILTER_FROM_HZ = 17_000.0
"""`FILTER_SHARE` applies to a recorded filter of this or more (and under it to LAME's CBR at
its own rate, `filter_reached`): LAME's filter falls with the bits it has, and under 17 kHz
(``-V6``'s 16.5 kHz and lower) VBR runs out of them under the filter too, where a rebuild from
its cut gains (validation: ``-V6`` +0.008, +0.004 had the share applied; ``-V5``, 17 kHz,
+0.001 and +0.003)."""


def filter_reached(filter_hz: float, constant: bool = False, rate: int | None = None) -> bool:
    """Whether an MP3 whose encoder recorded a low-pass filter of ``filter_hz`` coded its band up
    to it on any music, so that a band ending well under it is the master's (`FILTER_SHARE`):
    from `FILTER_FROM_HZ` up; under it, a stream at a constant bitrate (``constant``: its tag
    names it CBR, or its packets are of one size) at no more than the rate LAME itself chooses
    for that filter (`audio.mp3.lame_rate`: 24 kHz for 64 kbps' 11 kHz, 32 kHz for 96 kbps'
    15.1 kHz). On validation (``scripts/bitrate_cut_check.py --against filter``,
    docs/runs/full-band/cbr-filter-val.txt) LAME's CBR at 64 to 112 kbps
    read 0.97 to 1.0 of their filters on full-band masters, and masters made dark at 0.6 to
    0.86 of it gained 0.08 to 0.75 kept; resampled to 44.1 kHz (``--resample``) the same bits
    fell short, a 64 kbps file at 0.73 and a 96 kbps one at 0.87 of its filter, which kept
    would have lost 0.67 and 0.24 (``cbr-filter-val-44k.txt``)."""
    if filter_hz >= FILTER_FROM_HZ:
        return True
    return constant and rate is not None and rate <= lame_rate(filter_hz)


BITRATE_SHARE = 0.4
"""An MP3 whose band, measured without the soft cut, ends under this share of where LAME cuts
at its mean bitrate (`expected_cut`: 10.9 kHz at 64 kbps in stereo) ended so in its master
(`kept_reason`): no encoder leaves that much of its bits unspent. A dark passage's band end
read as a cut had the band over it rebuilt from the level under it, far over what the master
holds (a 2.3 s bass jingle whose master ends at 2.4 kHz: 4.40 to 2.30 Zimtohrli at 64 kbps,
docs/runs/unseen-more/bitrate-cut.txt).
Chosen on validation (``scripts/bitrate_cut_check.py``, docs/runs/full-band/bitrate-cut-val.txt,
16 references of 4 validation tracks): the largest share of 0.35 to 0.5 under which no file of
the encoders that cut lowest (libshine and FFmpeg's libmp3lame at 44.1 kHz, ``lame --lowpass
-1``, LAME's CBR, ``-V9`` and ``-V7``, MPEG-2.5 at 8 and 11.025 kHz) changes; 0.45 kept a
libshine file at 64 kbps (0.45 of LAME's cut) and one of FFmpeg's libmp3lame at 32 kbps,
which lost 0.73 and 0.66. Masters made dark by SoX, 2.5 kHz at 64 kbps and 4 kHz at 96 kbps,
gain 1.97 and 1.59 (all 16 kept); 2.5 kHz at 32 kbps and 4 kHz at 48 kbps (0.44 and 0.53 of
LAME's cut) stay rebuilt by this rule (made by ``lame``, `assumed_filter` keeps them). An AAC,
Vorbis or Opus file's band end is weighed so too (`LOSSY_CODECS`)."""


LOSSY_CODECS = {"aac": "an AAC", "vorbis": "a Vorbis", "opus": "an Opus"}
"""FFmpeg's decoders (by their names' start) of the lossy files other than MP3s that two rules
weigh, and what the file's line calls such a file. Their encoders reach further than LAME's at
the same bits, so `BITRATE_SHARE` weighs their band end against LAME's cut at their bitrate
(`audio.AudioInfo.bit_rate`: an Opus file's mean); and they reach 16 kHz only with bits to
spare, so a band end at `MASTER_BAND_HZ` or above is their master's, as a lossless file's is.

On validation (``scripts/bitrate_cut_check.py --modes aac-32 ... dark-4k-opus-128``,
docs/runs/full-band/other-codecs-val.txt and opus-val.txt, 16 references) FFmpeg's AAC at 32
to 128 kbps read 0.41 to 1.04 of LAME's cut, libvorbis at ``-q:a -1`` to ``4`` and 48 kbps
0.96 and up and libopus at 16 to 128 kbps 1.2 and up (but for a window ending at 1 to 2 kHz,
kept either way), and none of them changes; masters made dark by SoX at 2.5 and 4 kHz read
0.06 to 0.26 and gain 1.42 to 2.12 kept. Not MPEG-1 layer II: FFmpeg's ``mp2`` ends at 0.37
of LAME's cut at 96 kbps, whatever the music.

Over a cut from 16 kHz up (FFmpeg's AAC at 128 kbps cuts at 17.3 kHz, libvorbis at ``-q:a 4``
at 18.3, libopus at 20) the band the model rebuilt lost at every mode measured on validation
(``python scripts/vbr_check.py data/val6 --split train --modes ...``,
docs/runs/vbr/other-codecs-own-band-val.txt): FFmpeg's AAC at 128 to 256 kbps, libvorbis at
``-q:a 4`` to ``8`` and libopus at 160 kbps, -0.015 to -0.022, the most from a master whose own
band ends at 16.5 kHz. An MP3's rules are its own (`HIGH_BITRATE`, `FILTER_SHARE`): LAME's
cut at 128 kbps, 16.6 kHz, is over it, and there the band gains on the test split."""


ASSUMED_SHARE = 0.8
"""An MP3 whose band, without the soft cut, ends under this share of its `assumed_filter`
ended so in its master (`kept_reason`). Chosen on validation (``scripts/bitrate_cut_check.py
--against lame-filter``, docs/runs/full-band/lame-filter-val.txt): the largest of 0.8 to 0.95
with a margin under which no file of a full-band master from ``lame`` at 32 and 48 kbps changes
(at 0.9 one 32 kbps file, 0.85 to 0.9 of its filter, was kept and lost 0.63); masters made dark
at 0.44 to 0.67 of the filter gain 1.25 to 2.05 kept, one at 0.87 is still rebuilt."""


def assumed_filter(bit_rate: int | None, constant: bool, rate: int | None) -> float | None:
    """The filter of an MP3 with no Xing header, where LAME's is assumed: at a constant bitrate
    (``constant``, its packets of one size) and an MPEG-2 rate (16 to 24 kHz: LAME's own for 32
    to 64 kbps, where its frames at 32 and 48 kbps are too short for its tag, and libshine does
    not encode), LAME's filter for its bitrate (`audio.mp3.LAME_FILTER_HZ`: 5.5 kHz at 32 kbps);
    else None. Not at MPEG-2.5's 8 to 12 kHz, where LAME's own files fall short of it: at
    16 kbps and 8 kHz, 6 of 16 read under 0.8 of it on validation (worst -0.38 had they been
    kept)."""
    if not constant or not bit_rate or not rate or not 16_000 <= rate < 32_000:
        return None
    return LAME_FILTER_HZ.get(round(bit_rate / 1000))


def kept_reason(
    cut: float | None,
    lossless: bool,
    mp3_bit_rate: int | None = None,
    filter_hz: float | None = None,
    without: float | None = None,
    channels: int = 2,
    rate: int | None = None,
    constant: bool = False,
    untagged: bool = False,
    bit_rate: int | None = None,
    own_band: str | None = None,
) -> str | None:
    """Why ``cut``, a file's low-pass as its spectrum shows it (`lowpass_of_file`), is where its
    master's band ends and not a codec's cut, worded for the file's line; None: a codec's cut, the
    band above which is rebuilt. A ``lossless`` file's (`audio.is_lossless`) at or above
    `MASTER_BAND_HZ`, and so a lossy file's that ``own_band`` names (`LOSSY_CODECS`); any in an
    MP3 of `HIGH_BITRATE` or more (``mp3_bit_rate``, bits per second; None: not an MP3, or unknown);
    one whose cut ``without`` the soft cut lies under `FILTER_SHARE` of the filter its encoder
    recorded (``filter_hz``; None: none recorded, and then for an MP3 with no Xing header,
    ``untagged``, `ASSUMED_SHARE` of the `assumed_filter`), where `filter_reached` by a stream at
    ``rate``, ``constant`` if its bitrate is; and one whose cut without it lies under
    `BITRATE_SHARE` of where LAME cuts at its bitrate (of ``channels``; at a ``rate`` whose
    anti-aliasing edge lies under that, the edge), an MP3's or (``bit_rate``) another lossy
    file's."""
    if cut is None:
        return None
    if (lossless or own_band) and cut >= MASTER_BAND_HZ:
        return f"{own_band or 'a lossless'} file's own"
    if mp3_bit_rate is not None and mp3_bit_rate >= HIGH_BITRATE:
        return f"a {mp3_bit_rate / 1000:.0f} kbps MP3's own"
    known = filter_hz or (untagged and assumed_filter(mp3_bit_rate, constant, rate))
    weighed = known and filter_reached(known, constant, rate)
    share = FILTER_SHARE if filter_hz else ASSUMED_SHARE
    if weighed and without is not None and without < share * known:
        if filter_hz:
            return f"its master's own, under its encoder's {known / 1000:.1f} kHz filter"
        kbps = round(mp3_bit_rate / 1000)  # an assumed filter is LAME's at its bitrate
        return f"its master's own, under the {known / 1000:.1f} kHz filter LAME sets at {kbps} kbps"
    bit_rate = mp3_bit_rate or bit_rate
    if bit_rate and without is not None:
        lame = expected_cut(bit_rate, channels, rate)
        if without < BITRATE_SHARE * lame:
            kbps = bit_rate / 1000
            return (
                f"its master's own, far under the {lame / 1000:.1f} kHz of LAME at {kbps:.0f} kbps"
            )
    return None


def expected_cut(bit_rate: float, channels: int, rate: int | None = None) -> float:
    """Where LAME would cut an MP3 of ``bit_rate`` bits per second (its mean) and ``channels``
    (`audio.mp3.lame_cut_hz`), or the anti-aliasing edge of its ``rate`` under that (an 8 kHz
    MPEG-2.5 file at 16 kbps ends at its rate's edge, not at LAME's 5.5 kHz): what
    `BITRATE_SHARE` is a share of."""
    lame = lame_cut_hz(bit_rate / 1000, channels)
    return min(lame, ANTI_ALIAS * rate / 2) if rate else lame


def codec_cut(cut: float | None, lossless: bool, **weighed: float | None) -> float | None:
    """``cut`` as a codec's cut, the band above which is rebuilt, or None where `kept_reason`
    (``weighed``: its other arguments) finds it the master's own band end."""
    return None if kept_reason(cut, lossless, **weighed) else cut


class FileCuts(NamedTuple):
    """What `cuts_of_file` measures of a file: its cut with the soft cut where it applies (what
    ``enhance`` takes), its cut without it (what `kept_reason` weighs against an encoder's
    filter), and whether the packets measured were of one size (a constant bitrate)."""

    found: float | None
    without: float | None
    constant: bool


def file_cut(cuts: FileCuts, info: AudioInfo) -> tuple[float | None, str | None]:
    """The cut of the file ``info`` describes (`audio.AudioInfo`), from its ``cuts`` as
    `cuts_of_file` measures them; and, where its band ends there at its master's, not at a
    codec's cut to rebuild above, why (`kept_reason`; None: rebuilt). Of a lossy file other
    than an MP3, only an AAC, Vorbis or Opus file is weighed, by its bitrate and by its band end
    from `MASTER_BAND_HZ` up (`LOSSY_CODECS`). An MP3 whose LAME tag records a filter from
    `FILTER_FROM_HZ` up had the bits to code its band to it: its soft cut is not taken. LAME's
    CBR at 128 and 160 kbps
    (``scripts/vbr_check.py``, docs/runs/vbr/*-cbr-filter.txt) go so from +0.002 and -0.002 to
    +0.004 and +0.000 on validation, from -0.009 and -0.016 to -0.002 and -0.009 on the
    unheard music (worst clips -0.25 and -0.22 to -0.21 and -0.16), +0.001 each on the test
    split."""
    from ..audio import is_lossless, is_mp3

    found, without = cuts.found, cuts.without
    if is_lossless(info.codec):
        return found, kept_reason(found, True)
    if not is_mp3(info.codec):
        name = next((n for c, n in LOSSY_CODECS.items() if info.codec.startswith(c)), None)
        return found, kept_reason(
            found,
            False,
            without=without,
            channels=info.channels,
            rate=info.sample_rate,
            bit_rate=info.bit_rate if name else None,
            own_band=name,
        )
    if info.encoder_lowpass and info.encoder_lowpass >= FILTER_FROM_HZ:
        found = without
    return found, kept_reason(
        found,
        False,
        info.bit_rate,
        info.encoder_lowpass,
        without,
        info.channels,
        info.sample_rate,
        info.mp3_tag == "Info" or (info.mp3_tag is None and cuts.constant),
        info.mp3_tag is None,
    )


def lowpass_of_file(
    source: str | os.PathLike | bytes, excerpts: int = EXCERPTS, soft: bool = True
) -> float | None:
    """The low-pass cutoff of a whole file (a path or its bytes) in Hz, or None, before it is
    decoded: from ``excerpts`` excerpts of `EXCERPT` samples spread evenly over it
    (:func:`~spectral_enhance.audio.excerpts.read_excerpts`), each its own stretch of the meter
    (``soft``: see `SpectrumMeter.lowpass`).

    A file that cannot be sampled so (duration unknown, no seeking, too short to save anything),
    or whose excerpts all fall in silence, is decoded whole, one frame every `N_FFT` samples.
    Raises :class:`~spectral_enhance.audio.AudioError` only where that decode does.
    """
    cuts = cuts_of_file(source, excerpts)
    return cuts.found if soft else cuts.without


def cuts_of_file(source: str | os.PathLike | bytes, excerpts: int = EXCERPTS) -> FileCuts:
    """`lowpass_of_file`'s two answers from one measurement, and whether the packets it read
    were of one size (`FileCuts`)."""
    from ..audio import is_mp3, open_audio, read_excerpts

    sampled = read_excerpts(source, excerpts, EXCERPT)
    if sampled is not None:
        meter = SpectrumMeter(sampled.rate)
        for part in sampled.parts:
            meter.add(part)
            meter.gap()
        if np.any(meter.total + meter.apart_total > 0):
            soft = soft_applies(sampled.codec, sampled.sizes)
            constant = sampled.sizes.constant
            return FileCuts(*meter.cuts(soft, is_mp3(sampled.codec)), constant)
    with open_audio(source) as reader:
        meter = SpectrumMeter(reader.info.sample_rate, hop=N_FFT)
        for block in reader.blocks():
            meter.add(block)
    soft = soft_applies(reader.info.codec, reader.packet_sizes)
    return FileCuts(*meter.cuts(soft, is_mp3(reader.info.codec)), reader.packet_sizes.constant)


def lowpass_of_spectrum(
    freqs: np.ndarray,
    power: np.ndarray,
    rate: int,
    drop_db: float = 25.0,
    edge_db: float = 12.0,
    reference_hz: float = 1000.0,
    transition_hz: float = 1000.0,
    smooth_hz: float = 100.0,
) -> float | None:
    """The low-pass cutoff in Hz of a long-term average spectrum (a :class:`SpectrumMeter`'s), or
    None if the content reaches Nyquist (or there is none).

    On the spectrum (power averaged over ``smooth_hz``, in dB), the drop starts at the lowest
    frequency ``f`` where everything from ``f + transition_hz`` up to Nyquist lies at least
    ``drop_db`` below the median level of the ``reference_hz`` band just under ``f``. The
    cutoff reported is the highest frequency in ``[f, f + transition_hz]`` still within
    ``edge_db`` of that level: the edge of the band, before the drop.
    A cutoff over `ANTI_ALIAS` of Nyquist is the anti-aliasing filter of the rate, not a
    low-pass: None.
    """
    if not np.any(power > 0):
        return None
    step = freqs[1]
    # Power (not dB) is averaged, so a band of sparse harmonics keeps its level.
    smooth = uniform_filter1d(power, max(1, round(smooth_hz / step)), mode="nearest")
    smooth = 10.0 * np.log10(np.maximum(smooth, power.max() * 1e-16))
    band = max(1, round(reference_hz / step))
    gap = max(1, round(transition_hz / step))
    # Highest level anywhere from bin k up to Nyquist.
    above = np.maximum.accumulate(smooth[::-1])[::-1]
    starts = np.arange(band, len(smooth) - gap)  # every k the drop may start at, at once
    if not len(starts):
        return None
    references = np.median(sliding_window_view(smooth, band)[starts - band], axis=1)
    drops = np.nonzero(references - above[starts + gap] >= drop_db)[0]
    if not len(drops):
        return None
    k, reference = int(starts[drops[0]]), float(references[drops[0]])
    within = np.nonzero(smooth[k : k + gap + 1] >= reference - edge_db)[0]
    cutoff = float(freqs[k + within[-1]]) if len(within) else float(freqs[k])
    return None if cutoff >= ANTI_ALIAS * rate / 2 else cutoff
