"""The degradation recipe: paired reference / low-bitrate MP3 audio.

The paper's recipe (section 2.1): a track is made mono at 22,050 Hz, encoded with LAME at
128 kbps (decoded, the target "high"), and that 128 kbps audio is encoded again at 32 kbps
(decoded, the input "low"), LAME's output rate forced to the input rate.

Issue 12 widens it: any rate, the source's two channels kept (``channels=2``), several low
bitrates at once (``bitrates``), LAME's own choice of output rate per bitrate (``lame_rate``,
as the ``lame`` command resamples low bitrates), and the source itself as the reference
(``high_bitrate=0``, lossless; the default with several bitrates, since 128 kbps is among them).
A low clip encoded at LAME's rate is decoded and resampled back to the recipe's rate, so every
pair is aligned to the sample (decodes are gapless).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from ..audio import decode, resample, to_mono
from ..audio.mp3 import LAME_CUTOFF_HZ, encode_mp3

__all__ = [
    "DegradationRecipe",
    "degrade",
    "degrade_bitrates",
    "lame_cutoff_hz",
    "transcode",
]

PAPER_HIGH_BITRATE = 128  # kbps of the paper's reference
LOSSLESS = 0  # high_bitrate of a recipe whose reference is the source itself


def lame_cutoff_hz(
    sample_rate: int, bitrate: int, channels: int = 1, lame_rate: bool = False
) -> float:
    """Where LAME's low-pass cuts at ``bitrate`` kbps: see `LAME_CUTOFF_HZ` for the keys."""
    try:
        return LAME_CUTOFF_HZ[sample_rate, channels, lame_rate][bitrate]
    except KeyError:
        unmeasured = _unmeasured(sample_rate, [bitrate], channels, lame_rate)
        raise ValueError(f"{unmeasured}; give the cutoff in Hz (--cutoff-hz)") from None


def _unmeasured(sample_rate: int, bitrates: list[int], channels: int, lame_rate: bool) -> str:
    """``bitrates`` have no measured cutoff, and what is measured instead, in a short clause."""
    where = f"{sample_rate:,} Hz {'mono' if channels == 1 else 'stereo'}"
    where += " with LAME rate" if lame_rate else ""
    if measured := LAME_CUTOFF_HZ.get((sample_rate, channels, lame_rate)):
        known = f"measured there: {', '.join(map(str, measured))} kbps"
    else:
        rates = [f"{r:,}" for r, c, own in LAME_CUTOFF_HZ if (c, own) == (channels, lame_rate)]
        known = f"measured at {', '.join(rates)} Hz only"
    return f"no measured LAME cutoff for {', '.join(map(str, bitrates))} kbps at {where} ({known})"


@dataclass(frozen=True)
class DegradationRecipe:
    """Settings of the recipe; defaults are the paper's.

    ``cutoff_hz`` is where LAME's low-pass at ``low_bitrate`` sits (8,270 Hz at 32 kbps and
    22,050 Hz): the band above it is what a model must rebuild, and what ``lsd_high`` scores.
    Left at 0 it is taken from `LAME_CUTOFF_HZ`, so it follows the bitrate.

    ``bitrates``: several low bitrates (kbps) made from each clip (issue 12); empty means
    ``low_bitrate`` alone, else ``low_bitrate`` becomes the first of them and each has its own
    cutoff (:meth:`cutoff_for`). ``high_bitrate`` 0 takes the source itself as the reference;
    ``None`` means 128 kbps for one low bitrate (the paper) and 0 for several. ``channels``: 1
    averages the channels (the paper), 2 keeps a stereo source's (a mono one is doubled).
    ``lame_rate``: LAME chooses the MP3's rate per bitrate, as ``lame`` does.
    """

    sample_rate: int = 22050
    high_bitrate: int | None = PAPER_HIGH_BITRATE
    low_bitrate: int = 32
    cutoff_hz: float = 0.0
    bitrates: tuple[int, ...] = ()
    channels: int = 1
    lame_rate: bool = False

    def __post_init__(self) -> None:
        # frozen: normalised once, here
        if self.bitrates:
            object.__setattr__(self, "bitrates", tuple(int(b) for b in self.bitrates))
            object.__setattr__(self, "low_bitrate", self.bitrates[0])
        if self.high_bitrate is None:
            several = len(self.bitrates) > 1
            object.__setattr__(self, "high_bitrate", LOSSLESS if several else PAPER_HIGH_BITRATE)
        if self.channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, not {self.channels}")
        if bad := [b for b in self.low_bitrates if not 8 <= b <= 320]:
            raise ValueError(f"a low bitrate must be 8 to 320 kbps, not {bad[0]}")
        if len(set(self.low_bitrates)) < len(self.low_bitrates):
            raise ValueError(f"bitrates given more than once: {self.low_bitrates}")
        if not 0 <= self.cutoff_hz < self.sample_rate / 2:  # NaN too
            raise ValueError(
                f"the cutoff must lie under the clips' {self.sample_rate / 2:g} Hz band, not "
                f"{self.cutoff_hz} Hz (0: LAME's own)"
            )
        too_high = [b for b in self.low_bitrates if self.high_bitrate and b >= self.high_bitrate]
        if too_high:
            raise ValueError(
                f"low bitrate {too_high[0]} kbps is not below the reference's "
                f"{self.high_bitrate} kbps; take the source as the reference (--high-bitrate 0)"
            )
        if len(self.low_bitrates) > 1:
            # A cutoff given by hand serves one bitrate only: each of several needs LAME's.
            table = LAME_CUTOFF_HZ.get((self.sample_rate, self.channels, self.lame_rate), {})
            if unknown := [b for b in self.low_bitrates if b not in table]:
                where = _unmeasured(self.sample_rate, unknown, self.channels, self.lame_rate)
                if len(unknown) < len(self.low_bitrates):
                    way = f"leave {'it' if len(unknown) == 1 else 'them'} out of --bitrates, or "
                else:
                    way = "" if table else "use a measured --sample-rate, or "
                raise ValueError(
                    f"{where}; {way}build a dataset of one bitrate alone with its cutoff: "
                    f"--bitrates {unknown[0]} --cutoff-hz HZ"
                )
            measured = [self._measured_cutoff(b) for b in self.low_bitrates]
            if self.cutoff_hz not in (0.0, measured[0]):
                raise ValueError("a cutoff cannot be given for several bitrates: each has LAME's")
        if not self.cutoff_hz:
            object.__setattr__(self, "cutoff_hz", self._measured_cutoff(self.low_bitrate))

    def _measured_cutoff(self, bitrate: int) -> float:
        return lame_cutoff_hz(self.sample_rate, bitrate, self.channels, self.lame_rate)

    @property
    def low_bitrates(self) -> tuple[int, ...]:
        """Every low bitrate the recipe makes, in kbps."""
        return self.bitrates or (self.low_bitrate,)

    def lowest_cutoff(self) -> float:
        """The lowest low-pass (Hz) among the recipe's bitrates: where a model trained on it
        learned to rebuild from."""
        return min(self.cutoff_for(bitrate) for bitrate in self.low_bitrates)

    def cutoff_for(self, bitrate: int) -> float:
        """The low-pass (Hz) of the clips made at ``bitrate`` kbps by this recipe."""
        if bitrate == self.low_bitrate:
            return self.cutoff_hz
        return self._measured_cutoff(bitrate)

    @property
    def is_paper(self) -> bool:
        """True for the paper's kind of recipe: one bitrate, mono, the rate forced."""
        return not self.bitrates and self.channels == 1 and not self.lame_rate

    def to_dict(self) -> dict:
        """Plain dict for manifests, checkpoints and model cards.

        Issue 12's fields are left out while at their defaults, so a paper recipe writes what it
        always wrote (and a dataset built before them is rebuilt into the same folder).
        """
        out = asdict(self)
        defaults = {"bitrates": (), "channels": 1, "lame_rate": False}
        for key, default in defaults.items():
            if out[key] == default:
                del out[key]
        if "bitrates" in out:
            out["bitrates"] = list(out["bitrates"])
        return out


def recipe_change(saved: dict, now: dict) -> str:
    """The settings in which two recipes' plain forms (`DegradationRecipe.to_dict`) differ,
    worded (``channels 1, not 2``), or an empty string if none does: what tells a dataset,
    checkpoint or evaluation made by another recipe."""
    saved, now = json.loads(json.dumps(saved)), json.loads(json.dumps(now))  # tuples as lists
    keys = [key for key in {**saved, **now} if saved.get(key) != now.get(key)]
    return ", ".join(f"{key} {saved.get(key)}, not {now.get(key)}" for key in keys[:3])


def transcode(
    samples: np.ndarray, sample_rate: int, bitrate: int, lame_rate: bool = False
) -> np.ndarray:
    """Encode to MP3 at ``bitrate`` kbps and decode again, aligned and of the same length.

    With ``lame_rate`` LAME picks the MP3's rate; the decode is resampled back to
    ``sample_rate`` and cut or zero-completed to the input's length (the two resamplings'
    roundings can leave it one sample off).
    """
    decoded = decode(encode_mp3(samples, sample_rate, bitrate, lame_rate=lame_rate), sample_rate)
    out = decoded.samples[: len(samples)]
    if len(out) < len(samples):
        out = np.pad(out, [(0, len(samples) - len(out)), (0, 0)])
    return out[:, 0] if samples.ndim == 1 else out


def _channels(samples: np.ndarray, channels: int) -> np.ndarray:
    """``[samples]`` mono (averaged) for 1, ``[samples, 2]`` for 2: a mono source doubled,
    a source with more channels keeps its first two (FFmpeg's front left and right)."""
    if channels == 1:
        return to_mono(samples)
    wide = samples.reshape(len(samples), -1)
    return np.repeat(wide, 2, axis=1) if wide.shape[1] == 1 else wide[:, :2]


def degrade_bitrates(
    samples: np.ndarray, sample_rate: int, recipe: DegradationRecipe = DegradationRecipe()
) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """The low clips of a track, one per bitrate of ``recipe``, and its reference ("high").

    ``samples``: ``[samples]`` or ``[samples, channels]`` at ``sample_rate``. Out: float32 at
    ``recipe.sample_rate``, ``[samples]`` for a mono recipe and ``[samples, 2]`` for stereo.
    """
    x = _channels(np.asarray(samples, dtype=np.float32), recipe.channels)
    x = np.clip(resample(x, sample_rate, recipe.sample_rate), -1.0, 1.0)
    rate = recipe.sample_rate
    high = transcode(x, rate, recipe.high_bitrate) if recipe.high_bitrate else x
    lows = {b: transcode(high, rate, b, recipe.lame_rate) for b in recipe.low_bitrates}
    return lows, high


def degrade(
    samples: np.ndarray, sample_rate: int, recipe: DegradationRecipe = DegradationRecipe()
) -> tuple[np.ndarray, np.ndarray]:
    """Make the (low, high) pair of a track at ``recipe.low_bitrate`` (the paper's recipe).

    ``samples``: ``[samples]`` or ``[samples, channels]`` at ``sample_rate``; out as
    :func:`degrade_bitrates`.
    """
    single = DegradationRecipe(**{**recipe.to_dict(), "bitrates": ()})
    lows, high = degrade_bitrates(samples, sample_rate, single)
    return lows[recipe.low_bitrate], high
