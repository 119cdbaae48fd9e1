"""The model card (``card.json`` beside an exported model): its one writer and its one reader.

``spectral-enhance export`` builds a :class:`ModelCard` and calls :meth:`ModelCard.write`;
inference, evaluation and the benchmarks call :meth:`ModelCard.read`, which checks every field
it uses, so a damaged card is one line naming the file and the field rather than a traceback.
No PyTorch here: inference reads cards on ONNX Runtime alone.
`block_rule` gives a built model's `BlockRule`, for its card and for the torch backend.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from ..atomic import atomic_write_text
from ..audio.arrays import rate_problem
from ..dsp.stft import StftConfig
from .bundled import CARD_NAME

__all__ = ["CARD_NAME", "BlockRule", "ModelCard", "block_rule", "fingerprint"]

TFILM_CONTEXT = 16_384  # samples of margin for TFiLM, whose exact reach is unbounded


@dataclass(frozen=True)
class BlockRule:
    """How a model runs over long signals: what it takes, and how far it reaches.

    ``domain`` is ``spectrum`` (``[batch, 2, frames, bins]`` in and out; ``context`` in frames)
    or ``waveform`` (``[batch, samples]``; ``context`` in samples, and segments must start on
    multiples of ``length_multiple`` samples for the model's strided layers to see the same
    grid). ``takes_lowpass``: the model takes the input's low-pass (in bins, ``[batch]``) as a
    second input. ``noise_band_bins``: (with ``takes_lowpass``) the model returns the band's
    amplitude per band of this many bins, ``[batch, frames, bands]``, which the enhancer lays
    over noise (:func:`spectral_enhance.dsp.noise.lay_over_noise`); 0: it returns the spectrum.
    ``joint_channels``: a file's channels go through the model together, as one batch (they
    share what it computes), never split over cores. ``prior_frames``, ``prior_band_bins``:
    (with ``takes_lowpass``) the model takes the tilt rule's envelope, smoothed over so many
    frames, in bands of so many bins, as its last input
    (:func:`spectral_enhance.dsp.tilt.band_prior`); 0: it takes none. ``calm``, ``calm_frames``:
    (with ``noise_band_bins``) the enhancer keeps this share of the rebuilt band's swing about
    its course over so many frames (:func:`spectral_enhance.dsp.band_level.calm_band`), at most
    half under a 32 kbps low-pass (:func:`~spectral_enhance.dsp.band_level.calm_share`); 1: all
    of it. ``holes_frames``: (with ``noise_band_bins``) the enhancer fills the codec's holes in
    the octave under the low-pass with noise, each band judged by `dsp.holes`' net against its
    loudest over so many frames (:func:`spectral_enhance.dsp.holes.hole_scale`); 0: it leaves
    them. Each field but ``context`` (the model's ``reach``; the card's ``context_frames`` or
    ``context_samples``) has one name in the model (`models.interface.EnhancementModel`), here
    and in the card, and one default, here: the model's attributes take theirs from these.
    """

    domain: str = "spectrum"
    context: int = 0
    length_multiple: int = 1
    takes_lowpass: bool = False
    joint_channels: bool = False
    noise_band_bins: int = 0
    prior_frames: int = 0
    prior_band_bins: int = 0
    calm: float = 1.0
    calm_frames: int = 1
    holes_frames: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The model card's fields for this rule (read back by :meth:`ModelCard.read`)."""
        if self.domain == "spectrum":
            told = {"takes_lowpass": True} if self.takes_lowpass else {}
            joint = {"joint_channels": True} if self.joint_channels else {}
            noise = {"noise_band_bins": self.noise_band_bins} if self.noise_band_bins else {}
            prior = (
                {"prior_frames": self.prior_frames, "prior_band_bins": self.prior_band_bins}
                if self.prior_frames
                else {}
            )
            calm = {"calm": self.calm, "calm_frames": self.calm_frames} if self.calm != 1.0 else {}
            holes = {"holes_frames": self.holes_frames} if self.holes_frames else {}
            return {
                "domain": "spectrum",
                "context_frames": self.context,
                **told,
                **joint,
                **noise,
                **prior,
                **calm,
                **holes,
            }
        return {
            "domain": "waveform",
            "context_samples": self.context,
            "length_multiple": self.length_multiple,
        }


def block_rule(model: Any) -> BlockRule:
    """The `BlockRule` of a built PyTorch model, for its card and for the torch backend, from
    the attributes every model has (:class:`spectral_enhance.models.interface.EnhancementModel`).
    Every field but ``context`` (the model's ``reach``, bounded) is the model's attribute of
    the same name."""
    from ..models import UNBOUNDED

    context = TFILM_CONTEXT if model.reach == UNBOUNDED else model.reach
    same = {f.name: getattr(model, f.name) for f in fields(BlockRule) if f.name != "context"}
    return BlockRule(context=context, **same)


@dataclass(frozen=True)
class ModelCard:
    """What an exported model is, how it runs, and how it scored; ``card.json`` in a folder.

    The first six fields are what inference needs, and ``hole_net`` (the file of the net that
    finds the codec's holes, `dsp.holes`) for a model that fills them; the rest describe the
    model. ``extra`` holds
    free-form additions (the training data, the command, test metrics); ``folder`` is where the
    card was read from (not written).
    """

    name: str
    arch: str
    sample_rate: int
    stft: StftConfig
    rule: BlockRule
    files: dict[str, str]
    form: str = ""
    model_config: dict[str, Any] = field(default_factory=dict)
    recipe: dict[str, Any] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    parameters: int = 0
    parameters_per_block: dict[str, int] = field(default_factory=dict)
    float32_bytes: int = 0
    parity_error: dict[str, float] = field(default_factory=dict)
    validation_metrics: dict[str, float] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    hole_net: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None

    def __post_init__(self) -> None:
        clash = sorted(set(self.extra) & _KEYS)
        if clash:
            raise ValueError(f"model card extras would replace its own fields: {clash}")

    def to_dict(self) -> dict[str, Any]:
        """The card as ``card.json`` holds it (the layout :meth:`read` expects)."""
        return {
            "form": self.form,
            "name": self.name,
            "arch": self.arch,
            "model_config": self.model_config,
            "stft": self.stft.to_dict(),
            "recipe": self.recipe,
            "sample_rate": self.sample_rate,
            **self.rule.to_dict(),
            "files": self.files,
            "bytes": self.bytes,
            "parameters": self.parameters,
            "parameters_per_block": self.parameters_per_block,
            "float32_bytes": self.float32_bytes,
            "parity_error": self.parity_error,
            "validation_metrics": self.validation_metrics,
            "training": self.training,
            **({"hole_net": self.hole_net} if self.hole_net else {}),
            **self.extra,
        }

    def write(self, folder: str | os.PathLike) -> Path:
        """Write ``folder/card.json`` (under a temporary name, then renamed); return its path."""
        return atomic_write_text(
            Path(folder) / CARD_NAME, json.dumps(self.to_dict(), indent=2) + "\n"
        )

    @classmethod
    def read(cls, folder: str | os.PathLike) -> ModelCard:
        """Load and check ``folder/card.json``; a damaged card is a ``ValueError`` naming it."""
        folder = Path(folder)
        path = folder / CARD_NAME
        if not path.is_file():
            raise FileNotFoundError(
                f"{folder}: no {CARD_NAME} (make one with `spectral-enhance export`)"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from error
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: Any, path: Path) -> ModelCard:
        """Check a card's fields and build it; ``path`` (its ``card.json``) names it in errors."""
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not a model card (a JSON object was expected)")
        check = _Checker(data, path)
        files = check.mapping("files", str, required=True)
        if not files:
            raise ValueError(f"{path}: field 'files' lists no model file")
        for precision, name in files.items():
            if _outside(name):
                raise ValueError(
                    f"{path}: field 'files' entry {precision!r} ({name!r}) points outside "
                    "the model's folder"
                )
        hole_net = check.value("hole_net", str, "")
        if hole_net and _outside(hole_net):
            raise ValueError(f"{path}: field 'hole_net' ({hole_net!r}) points outside the folder")
        rule = check.rule()
        if rule.holes_frames and not hole_net:
            raise ValueError(
                f"{path}: fills the codec's holes but names no hole net (field 'hole_net'); "
                "export the model again with --hole-net"
            )
        return cls(
            name=check.value("name", str),
            arch=check.value("arch", str),
            sample_rate=check.rate("sample_rate"),
            stft=check.stft("stft"),
            rule=rule,
            files=files,
            form=check.value("form", str, ""),
            model_config=check.value("model_config", dict, {}),
            recipe=check.value("recipe", dict, {}),
            bytes=check.mapping("bytes", int),
            parameters=check.value("parameters", int, 0),
            parameters_per_block=check.mapping("parameters_per_block", int),
            float32_bytes=check.value("float32_bytes", int, 0),
            parity_error=check.mapping("parity_error", float),
            validation_metrics=check.value("validation_metrics", dict, {}),
            training=check.value("training", dict, {}),
            hole_net=hole_net,
            extra={k: v for k, v in data.items() if k not in _KEYS},
            folder=path.parent,
        )

    @classmethod
    def locate(cls, path: Path, precision: str | None = None) -> tuple[ModelCard, str]:
        """The card of ``path`` (an export folder, or an ``.onnx`` file in one) and the
        precision loading it at ``precision`` means: a folder's int8 unless asked; a file's
        own, and another asked of it refused (its file: ``card.file(precision)``)."""
        if not path.is_dir() and not (path.parent / CARD_NAME).is_file():
            raise ValueError(f"{path}: no {CARD_NAME} beside it (an export folder holds both)")
        card = cls.read(path if path.is_dir() else path.parent)
        if path.is_dir():
            return card, precision or "int8"
        own = card.precision_of(path.name)
        if own is None:  # its hole net, or a stray file
            raise ValueError(
                f"{path}: not a model of its folder's {CARD_NAME} (its models: "
                f"{', '.join(card.files.values())}); load the folder or one of those"
            )
        if precision and precision != own:  # asked of it, not taken
            raise ValueError(
                f"{path}: the {own} model, not {precision}: leave the precision out, or load "
                f"the folder with it"
            )
        return card, own

    def hole_net_file(self) -> Path | None:
        """The path of the model's hole net (`dsp.holes`) in the card's folder; None if it fills
        no holes."""
        return (self.folder or Path()) / self.hole_net if self.hole_net else None

    def precision_of(self, name: str) -> str | None:
        """The precision whose model file is called ``name``; None for any other file (the
        hole net, a stray file beside the card)."""
        return next((kind for kind, file in self.files.items() if file == name), None)

    def file(self, precision: str) -> Path:
        """The path of the model file of ``precision`` in the card's folder."""
        if precision not in self.files:
            raise ValueError(f"{self.folder}: no {precision} model (has {', '.join(self.files)})")
        return (self.folder or Path()) / self.files[precision]

    def fingerprint(self, precision: str) -> str:
        """What the model computes at ``precision`` (`fingerprint`): an export that changes only
        the card's descriptions, its test metrics among them, keeps it."""
        net = (self.folder or Path()) / self.hole_net if self.hole_net else None
        return fingerprint(self.file(precision), self.rule, net)


def fingerprint(model: str | os.PathLike, rule: BlockRule, hole_net: Path | None = None) -> str:
    """A SHA-256 of what a model computes: its file's bytes, the rule the enhancer runs it by
    and its hole net's bytes. An evaluation records it for each model it scores, so scores are
    never reused for, nor written into the card of, another model under the same name."""
    digest = hashlib.sha256(Path(model).read_bytes())
    digest.update(json.dumps(rule.to_dict(), sort_keys=True).encode())
    if hole_net is not None:
        digest.update(hole_net.read_bytes())
    return digest.hexdigest()


# Keys of card.json that the card's own fields write (the block rule's among them).
_KEYS = {
    *(f.name for f in fields(ModelCard) if f.name not in ("rule", "extra", "folder")),
    "domain",
    "context_frames",
    "context_samples",
    "length_multiple",
    "takes_lowpass",
    "joint_channels",
    "noise_band_bins",
    "prior_frames",
    "prior_band_bins",
    "calm",
    "calm_frames",
    "holes_frames",
}
_MISSING = object()
_KINDS = {
    bool: "true or false",
    str: "a string",
    int: "an integer",
    float: "a number",
    dict: "an object",
}


def _outside(name: str) -> bool:
    """Whether a card's file name is absolute or climbs out of the card's folder."""
    pure = PurePosixPath(name.replace("\\", "/"))
    drive = PureWindowsPath(name).drive  # a Windows drive or network share
    return not name or bool(drive) or pure.is_absolute() or ".." in pure.parts


def _is(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False  # JSON true/false is no number
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


class _Checker:
    """Reads typed fields from a card's dict, raising one-line errors that name the card."""

    def __init__(self, data: dict[str, Any], path: Path) -> None:
        self.data, self.path = data, path

    def fail(self, key: str, problem: str) -> ValueError:
        return ValueError(f"{self.path}: field {key!r} {problem}")

    def value(self, key: str, kind: type, default: Any = _MISSING) -> Any:
        if key not in self.data:
            if default is _MISSING:
                raise self.fail(key, "missing")
            return default
        value = self.data[key]
        if not _is(value, kind):
            raise self.fail(key, f"must be {_KINDS[kind]}, not {type(value).__name__}")
        return value

    def mapping(self, key: str, kind: type, required: bool = False) -> dict[str, Any]:
        items = self.value(key, dict, _MISSING if required else {})
        for name, value in items.items():
            if not _is(value, kind):
                got = type(value).__name__
                raise self.fail(key, f"entry {name!r} must be {_KINDS[kind]}, not {got}")
        return dict(items)

    def rate(self, key: str) -> int:
        rate = self.value(key, int)
        problem = rate_problem(rate)
        if problem:
            raise self.fail(key, problem)
        return rate

    def stft(self, key: str) -> StftConfig:
        given = self.value(key, dict)
        expected = {f.name for f in fields(StftConfig)}
        unknown = sorted(set(given) - expected)
        if unknown:
            raise self.fail(key, f"has unknown entries {unknown} (known: {sorted(expected)})")
        for name, value in given.items():
            if not _is(value, int) or value <= 0:
                raise self.fail(key, f"entry {name!r} must be a positive integer, not {value!r}")
        return StftConfig(**given)

    def rule(self) -> BlockRule:
        domain = self.value("domain", str, "spectrum")
        if domain == "spectrum":
            lowpass = self.value("takes_lowpass", bool, False)
            joint = self.value("joint_channels", bool, False)
            noise = self.value("noise_band_bins", int, 0)
            if noise < 0 or (noise and not lowpass):
                raise self.fail("noise_band_bins", "must be 0, or positive with takes_lowpass")
            frames = self.value("prior_frames", int, 0)
            prior_bins = self.value("prior_band_bins", int, 0)
            if frames < 0 or (frames and (not lowpass or prior_bins < 1)):
                raise self.fail(
                    "prior_frames", "must be 0, or positive with takes_lowpass and prior_band_bins"
                )
            calm = self.value("calm", float, 1.0)
            calm_frames = self.value("calm_frames", int, 1)
            if not 0.0 <= calm <= 2.0 or (calm != 1.0 and (not noise or calm_frames < 1)):
                raise self.fail(
                    "calm", "must be from 0 to 2, and 1 unless noise_band_bins and calm_frames"
                )
            holes = self.value("holes_frames", int, 0)
            if holes < 0 or (holes and not noise):
                raise self.fail("holes_frames", "must be 0, or positive with noise_band_bins")
            context = self.count("context_frames")
            return BlockRule(
                "spectrum",
                context,
                takes_lowpass=lowpass,
                joint_channels=joint,
                noise_band_bins=noise,
                prior_frames=frames,
                prior_band_bins=prior_bins if frames else 0,
                calm=calm,
                calm_frames=calm_frames if calm != 1.0 else 1,
                holes_frames=holes,
            )
        if domain == "waveform":
            multiple = self.value("length_multiple", int, 1)
            if multiple < 1:
                raise self.fail("length_multiple", f"must be at least 1, not {multiple}")
            return BlockRule("waveform", self.count("context_samples"), length_multiple=multiple)
        raise self.fail("domain", f"must be 'spectrum' or 'waveform', not {domain!r}")

    def count(self, key: str) -> int:
        value = self.value(key, int)
        if value < 0:
            raise self.fail(key, f"must not be negative, not {value}")
        return value
