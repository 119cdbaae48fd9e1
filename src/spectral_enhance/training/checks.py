"""What ``train`` refuses before it starts: a run folder that holds a run or a dataset, and
settings that cannot go together; and which settings a resumed run takes from its caller."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import fields
from pathlib import Path

from ..models import ARCHITECTURES
from .config import TrainConfig, default_loss
from .losses import parse_loss

RESUME_SETTINGS = ("epochs", "max_minutes")
"""The settings a resumed run takes from its caller where given; it keeps all others."""


MODEL_SETTINGS = {"n_blocks": "--n-blocks", "residual": "--plain"}
"""Training settings that are also fields of a model's config, with the flag that sets each."""


RUN_FILES = ("last.pt", "best.pt", "log.csv")


def check_run_dir(run_dir: Path, resume: bool, overwrite: bool) -> list[Path]:
    """Refuse to mix a new run with one already in ``run_dir`` (a ``last.pt`` or ``log.csv``).

    ``resume`` needs the old run's ``last.pt``. Returns the old run's files that ``overwrite``
    replaces (checkpoints, log and TensorBoard events), for the caller to remove once the new
    run is ready to start, so a run refused for its data leaves the old one whole.
    """
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other: continue a run or replace it")
    if resume:
        if (run_dir / "log.csv").is_file() and not (run_dir / "last.pt").is_file():
            raise FileNotFoundError(
                f"{run_dir / 'last.pt'}: missing: the run stopped before its first epoch ended, "
                "so there is nothing to resume; start it again with --overwrite"
            )
        if not (run_dir / "last.pt").is_file():
            raise FileNotFoundError(f"{run_dir / 'last.pt'}: missing, so there is no run to resume")
        return []
    held = [name for name in ("last.pt", "log.csv") if (run_dir / name).exists()]
    if held and not overwrite:
        raise ValueError(
            f"{run_dir}: already holds a run ({', '.join(held)}); continue it with --resume "
            "or start afresh with --overwrite"
        )
    if not overwrite or not run_dir.is_dir():
        return []
    events = sorted(run_dir.glob("events.out.tfevents.*"))  # TensorBoard's
    return [path for path in (*(run_dir / name for name in RUN_FILES), *events) if path.exists()]


def check_not_a_dataset(run_dir: Path, data: str | Path) -> None:
    """Refuse a run folder that is the dataset or inside it, another dataset or a folder of
    clips: a run's checkpoints and log do not belong among a dataset's files (nor
    ``dataset``'s among music)."""
    if run_dir.resolve() == Path(data).resolve():
        held = "the dataset it trains on"
    elif names := [n for n in ("recipe.json", "manifest.csv") if (run_dir / n).is_file()]:
        held = f"a dataset folder (it holds {', '.join(names)})"
    elif next(run_dir.glob("*.low.wav"), None) is not None:
        held = "a dataset's folder of clips"
    elif run_dir.resolve().is_relative_to(Path(data).resolve()):
        held = "inside the dataset it trains on"
    else:
        return
    raise ValueError(f"{run_dir}: is {held}; write the run to another folder")


def check_settings(
    config: TrainConfig, model_config: dict | None = None, given: Collection[str] | None = None
) -> None:
    """Refuse settings that cannot go together, before a fresh run starts.

    An unknown architecture or loss, a loss for a model that trains with its own (the
    full-band model's band loss), and a model setting given both in ``config`` and in
    ``model_config`` with different values; ``given`` names the fields of ``config`` its caller
    set (None: all of them).
    """
    if config.arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {config.arch!r}; known: {sorted(ARCHITECTURES)}")
    model_class, config_class = ARCHITECTURES[config.arch]
    own = default_loss(config.arch)
    if model_class.takes_lowpass and config.loss not in ("", own):
        raise ValueError(
            f"--loss {config.loss!r}: --arch {config.arch} trains with its own loss ({own}); "
            "leave --loss out"
        )
    if not model_class.takes_lowpass and config.loss:
        parse_loss(config.loss)  # an unknown term is refused before the data is read
    for setting in fields(config):
        archs = setting.metadata.get("archs")
        if archs and config.arch not in archs and given is not None and setting.name in given:
            flag = MODEL_SETTINGS.get(setting.name) or "--" + setting.name.replace("_", "-")
            which = " or ".join([", ".join(archs[:-1]), archs[-1]] if archs[:-1] else archs)
            raise ValueError(
                f"{flag} is for --arch {which}: --arch {config.arch} takes no part of it"
            )
    options, model_fields = model_config or {}, {f.name for f in fields(config_class)}
    for name, flag in MODEL_SETTINGS.items():
        value = getattr(config, name)
        if name not in options or options[name] == value or name not in model_fields:
            continue
        if given is None or name in given:  # else the model option sets it alone
            shown = flag if name == "residual" else f"{flag} {value}"
            raise ValueError(
                f"{shown} and --model-option {name}={json.dumps(options[name])} disagree: "
                "give it once"
            )
