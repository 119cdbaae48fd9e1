"""The ``dataset`` subcommand: paired low/high clips from music by the paper's recipe."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .options import UsageError, _bounded, _bounded_int, _int_list


def _add_dataset(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "dataset",
        help="build paired low/high clips from music by the paper's recipe",
        description="Convert every track under SRC (files or folders) into aligned clips: one "
        "reference (high: a 128 kbps MP3 decoded, or the source itself with two or more "
        "--bitrates; see --high-bitrate) and one MP3-decoded input (low) per bitrate "
        "(--low-bitrate 32, or each of --bitrates), split 85/8/7 by track. A rerun keeps the "
        "clips of unchanged tracks and converts changed ones again.",
    )
    p.add_argument("sources", nargs="+", metavar="SRC", help="audio files or folders")
    p.add_argument("--out", required=True, type=Path, help="dataset folder to create or extend")
    p.add_argument(
        "--clip-samples", type=_bounded_int(1024), default=100_000, help="clip length (100000)"
    )
    p.add_argument(
        "--sample-rate", type=_bounded_int(8000, 192000), default=22050, help="clip rate (22050)"
    )
    p.add_argument(
        "--high-bitrate",
        type=_bounded_int(0, 320),
        default=None,
        help="reference kbps; 0 takes the source itself (default: 128, or 0 with two or more "
        "--bitrates)",
    )
    p.add_argument(
        "--low-bitrate", type=_bounded_int(8, 320), default=None, help="input kbps (32)"
    )  # None: not given, so one given beside --bitrates is refused, not dropped
    p.add_argument(
        "--bitrates",
        type=_int_list,
        default=(),
        help="several input bitrates, e.g. 32,48,64,96,128: one low clip of each per window, "
        "each with its own cutoff (issue 12; instead of --low-bitrate)",
    )
    p.add_argument(
        "--channels",
        type=int,
        choices=(1, 2),
        default=1,
        help="1 averages a track's channels (the paper), 2 keeps a stereo source's (1)",
    )
    p.add_argument(
        "--lame-rate",
        action="store_true",
        help="let LAME choose each MP3's sample rate as `lame` does (32 kbps stereo: 16 kHz); "
        "the paper forces the clip rate",
    )
    p.add_argument(
        "--cutoff-hz",
        type=_bounded(float, 0, 192_000),
        default=0.0,
        help="the low bitrate's low-pass, above which LSD is scored again (default: LAME's, "
        "measured; 8270 for 32 kbps at 22,050 Hz)",
    )
    p.add_argument(
        "--silence-dbfs",
        type=_bounded(float, -200, 0),
        default=-50.0,
        help="drop quieter clips (-50)",
    )
    p.add_argument(
        "--clips-per-track",
        type=_bounded_int(0),
        default=0,
        help="at most this many clips of each track, spread over it (0: all)",
    )
    p.add_argument("--seed", type=_bounded_int(0), default=0, help="seed of the track split (0)")
    p.add_argument("--jobs", type=_bounded_int(1, 64), default=1, help="processes (1)")
    p.set_defaults(run_command=_run_dataset)


def _run_dataset(args: argparse.Namespace) -> int:
    from ..dataset.build import DatasetConfig, build_dataset
    from ..dataset.recipe import DegradationRecipe

    if args.bitrates and args.low_bitrate is not None:
        raise UsageError("--low-bitrate and --bitrates cannot go together: give the bitrates once")
    recipe = DegradationRecipe(
        args.sample_rate,
        args.high_bitrate,
        args.low_bitrate or 32,
        args.cutoff_hz,
        args.bitrates,
        args.channels,
        args.lame_rate,
    )
    config = DatasetConfig(
        clip_samples=args.clip_samples,
        silence_dbfs=args.silence_dbfs,
        seed=args.seed,
        clips_per_track=args.clips_per_track,
        recipe=recipe,
    )
    report = build_dataset(args.sources, args.out, config, jobs=args.jobs)
    counts = ", ".join(f"{split} {n}" for split, n in report.clips.items())
    manifest = args.out / "manifest.csv"  # not written by a new dataset that made no clip
    print(
        f"{report.tracks_done} track{'s' * (report.tracks_done != 1)} converted, "
        f"{report.tracks_skipped} already done, "
        f"{len(report.failed)} failed, {len(report.warnings)} warning(s); clips: {counts}; "
        f"{report.narrow} dropped (reference band below cutoff + margin); "
        f"manifest: {manifest if manifest.exists() else 'none written'}"
    )
    if not sum(report.clips.values()):
        print(f"spectral-enhance dataset: error: {args.out}: no clips made", file=sys.stderr)
    return 1 if report.failed or not sum(report.clips.values()) else 0
