"""What a run of ``enhance`` reports: each file's facts and line, and the batch's totals, summary
line and JSON (``enhance --json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..audio import AudioInfo

__all__ = ["BatchReport", "FileResult", "one_line"]

# Control characters as escapes (a newline as \n), the rest as they are.
_SHOWN = {c: ascii(chr(c))[1:-1] for c in (*range(32), 127)}


def one_line(text: str) -> str:
    """``text`` with its control characters written as escapes (``\\n``, ``\\x1b``), so a file
    whose name holds a newline still gets one line that names it."""
    return text.translate(_SHOWN)


@dataclass
class FileResult:
    """What enhancing one file gave: its input's facts, seconds of audio, warnings, the low-pass
    measured before enhancing (None: its content reaches its Nyquist frequency), the model's
    and the output's rates, whether the model takes the low-pass, and the wall seconds."""

    info: AudioInfo
    seconds: float
    warnings: list[str]
    lowpass_hz: float | None = None
    model_rate: int = 0
    output_rate: int = 0
    takes_lowpass: bool = False
    wall_seconds: float = 0.0
    lowpass_floor_hz: float = 0.0  # the lowest low-pass the model rebuilds from, for the line
    rebuilt_from_hz: float | None = None  # the low-pass the model was given (`usable_lowpass`,
    # of the input's rate's edge where none was measured: `Enhancer.band_end`)
    mended_hz: tuple[float, float] | None = None  # where it fills the codec's holes, if it does
    lowpass_given: bool = False  # told by the user (``enhance --lowpass``), not measured
    own_band_hz: float | None = None  # where a band ends that no codec cut: kept as it is
    own_band_why: str | None = None  # why (`dsp.lowpass.kept_reason`): "a lossless file's own"
    strength: float = 1.0  # how much of the model's change was added: 0, none (the input)

    @property
    def reach_hz(self) -> float:
        """Where the model's change reaches: its Nyquist frequency, or the output's if lower."""
        return min(self.model_rate, self.output_rate) / 2

    def rebuilt(self) -> tuple[float, float] | None:
        """The band rebuilt, in Hz: from the low-pass to where the model reaches; None when
        there is no low-pass below that, or nothing was added (``strength`` 0)."""
        if self.rebuilt_from_hz is None or self.rebuilt_from_hz >= self.reach_hz:
            return None
        return (self.rebuilt_from_hz, self.reach_hz) if self.strength else None

    def band(self) -> str:
        """What the model had to rebuild, for the file's line: ``cut at 7.6 kHz, ...``."""
        reach = self.reach_hz / 1000
        # Where the change stops: the model's Nyquist frequency, or the output's under it.
        reaches = "the model reaches" if self.model_rate <= self.output_rate else "the output holds"
        if self.lowpass_hz is None and self.rebuilt_from_hz is not None:  # `band_end`
            edge = f"its {self.info.sample_rate:,} Hz rate's edge"
            if self.own_band_hz is None:
                return self._rebuilding(f"no cut under {edge}")
            end = self.own_band_hz / 1000  # kept up to the edge, the band over it rebuilt
            return self._rebuilding(
                f"band ends at {end:.1f} kHz, {self.own_band_why}; kept to {edge}"
            )
        if self.own_band_hz is not None and self.takes_lowpass:
            end = self.own_band_hz / 1000
            return f"band ends at {end:.1f} kHz, {self.own_band_why}: kept as it is"
        if self.lowpass_hz is None:
            # A model told there is no low-pass changes nothing; the paper's model still works
            # on its own band.
            return ("no low-pass given: " if self.lowpass_given else "no low-pass found: ") + (
                "kept as it is" if self.takes_lowpass else "nothing to rebuild"
            )
        cut, floor = self.lowpass_hz / 1000, self.lowpass_floor_hz / 1000
        under = self.rebuilt_from_hz is None  # under what the model rebuilds from
        digits = 2 if under and f"{cut:.1f}" == f"{floor:.1f}" else 1  # 2.20 under 2.22, not 2.2
        said = f"{cut:.{digits}f} kHz"
        cut_at = f"cut given at {said}" if self.lowpass_given else f"cut at {said}"
        if under:
            how = cut_at if self.lowpass_given else f"falls off at {said}"
            return f"{how}, below the {floor:.{digits}f} kHz the model rebuilds from: kept as it is"
        if self.rebuilt_from_hz >= self.reach_hz:
            where = "at" if self.rebuilt_from_hz - self.reach_hz < 50 else "above"
            return f"{cut_at}, {where} the {reach:.1f} kHz {reaches}: nothing to rebuild"
        line = self._rebuilding(cut_at)
        if self.mended_hz is None or not self.strength:
            return line
        low, high = (f / 1000 for f in self.mended_hz)
        return f"{line}, filling the codec's holes in {low:.1f}-{high:.1f} kHz"

    def _rebuilding(self, found: str) -> str:
        """``found`` (where the band ends), then the band rebuilt above it; at ``strength`` 0,
        that the input is written as it is, nothing rebuilt."""
        if not self.strength:
            return f"{found}: --strength 0 writes the input as it is"
        rebuilt = f"{self.rebuilt_from_hz / 1000:.1f}-{self.reach_hz / 1000:.1f} kHz"
        return f"{found}, rebuilding {rebuilt}"

    def to_dict(self) -> dict[str, Any]:
        """The facts ``enhance --json`` gives for a file it enhanced (rates and band in Hz)."""
        rebuilt = self.rebuilt()
        return {
            "seconds": round(self.seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "input_rate": self.info.sample_rate,
            "channels": self.info.channels,
            "output_rate": self.output_rate,
            "lowpass_hz": None if self.lowpass_hz is None else round(self.lowpass_hz, 1),
            "lowpass_given": self.lowpass_given,
            "rebuilt_hz": None if rebuilt is None else [round(f, 1) for f in rebuilt],
            "mended_hz": None
            if self.mended_hz is None or not self.strength
            else [round(f, 1) for f in self.mended_hz],
            "own_band_hz": None if self.own_band_hz is None else round(self.own_band_hz, 1),
            "own_band_why": self.own_band_why,
            "warnings": self.warnings,
        }


@dataclass
class BatchReport:
    """Totals of a batch, for the closing summary; every skipped input is named in ``notes``,
    and every input has an entry in ``files`` (what ``enhance --json`` prints)."""

    done: int = 0
    exist: int = 0
    refused: int = 0
    unfinished: int = 0  # inputs an interrupt left undone (``interrupted`` or ``not begun``)
    not_begun: int = 0
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds_of_audio: float = 0.0
    wall_seconds: float = 0.0
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        """True when an interrupt left an input undone (`stop`)."""
        return self.unfinished > 0

    @property
    def nothing_possible(self) -> bool:
        """True when no input given could be enhanced (not even one whose output exists)."""
        return self.done == 0 and self.exist == 0

    def add(
        self, source: Path, target: Path | None, status: str, reason: str = "", **facts: Any
    ) -> None:
        """Enter one input: ``done``, ``kept`` (its output exists), ``skipped``, ``failed``,
        ``interrupted`` or ``not begun`` (``reason``: its line). Every entry has these four
        keys and ``warnings``; a file enhanced has its facts too (`FileResult.to_dict`)."""
        entry = {"input": str(source), "output": None if target is None else str(target)}
        entry |= {"status": status, "reason": reason or None, "warnings": []}
        self.files.append(entry | facts)

    def skip(self, source: Path, target: Path | None, note: str, kept: bool = False) -> None:
        """Leave ``source`` out, saying why in ``note`` (``kept``: its output exists)."""
        self.notes.append(note)
        self.add(source, target, "kept" if kept else "skipped", note)
        if kept:
            self.exist += 1
        else:
            self.refused += 1

    def stop(self, source: Path, target: Path | None, begun: bool) -> str:
        """Enter ``source`` as left undone by an interrupt, in hand (``begun``) or not yet;
        return its line."""
        if begun:
            line = f"{source}: interrupted before it was finished; nothing written"
        else:
            line = f"{source}: not begun, the run being interrupted"
            self.not_begun += 1
        self.unfinished += 1
        self.add(source, target, "interrupted" if begun else "not begun", line)
        return line

    def to_dict(self) -> dict[str, Any]:
        """Every input's entry and the summary's counts, as ``enhance --json`` prints them."""
        summary = {
            "done": self.done,
            "kept": self.exist,
            "skipped": self.refused,
            "failed": len(self.failed),
            "interrupted": self.unfinished,
            "warnings": len(self.warnings),
            "seconds_of_audio": round(self.seconds_of_audio, 3),
            "wall_seconds": round(self.wall_seconds, 3),
        }
        return {"files": self.files, "summary": summary}

    def summary(self) -> str:
        """One line: files done, kept, refused and failed, warnings, audio and wall seconds."""
        speed = self.seconds_of_audio / self.wall_seconds if self.wall_seconds else 0.0
        line = (
            f"{self.done} enhanced, {self.exist} kept (output exists), {self.refused} skipped, "
            f"{len(self.failed)} failed, {len(self.warnings)} warning(s); "
            f"{self.seconds_of_audio:.1f} s of audio in {self.wall_seconds:.1f} s "
            f"({speed:.{0 if speed >= 10 else 1}f}x real time)"
        )
        if self.interrupted:
            return f"interrupted: {line}; {self.unfinished} not done"
        if self.nothing_possible:
            line = "nothing enhanced: " + line
        return line
