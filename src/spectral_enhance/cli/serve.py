"""The ``serve`` subcommand: the local web page that enhances the files dropped on it."""

from __future__ import annotations

import argparse
import sys

from .options import _add_model_options, _bounded, _bounded_int, _warn_past_cores


def _add_serve(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "serve",
        help="a local web page: enhance files, hear input and output A/B, download them",
        description="Start a web server for a page that enhances the files dropped on it (as "
        "`enhance` does, with the same model and options), plays input and output switchable "
        "at the same position, shows both spectrograms and offers the results for download. "
        "Needs the web extra: pip install 'spectral-enhance[web]'.",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)"
    )
    p.add_argument(
        "--port", type=_bounded_int(0, 65535), default=8000, help="port (8000; 0: any free one)"
    )
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    _add_model_options(p)
    p.add_argument(
        "--threads", type=_bounded_int(0, 256), default=0, help="threads per job (0: all cores)"
    )
    positive = _bounded(float, 0, above=True)
    p.add_argument("--max-upload-mb", type=positive, default=200.0, help="largest upload (200 MB)")
    p.add_argument(
        "--max-files", type=_bounded_int(1), default=20, help="files a page holds at once (20)"
    )
    p.add_argument(
        "--max-seconds", type=positive, default=1800.0, help="longest file, in seconds (1800)"
    )
    p.add_argument(
        "--idle-minutes",
        type=positive,
        default=30.0,
        help="a page unseen this long loses its files (30)",
    )
    p.set_defaults(run_command=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    try:
        from ..serve.app import Limits, create_app, is_loopback, serve
    except ImportError as error:
        extra = "pip install 'spectral-enhance[web]'"
        raise ValueError(f"needs the web extra: {extra} ({error})") from None
    import webbrowser

    from ..allocator import cap_arenas
    from ..inference.enhancer import Enhancer

    cap_arenas()  # before the server's threads start: each would keep an arena of its own
    limits = Limits(args.max_upload_mb, args.max_files, args.max_seconds, args.idle_minutes)
    enhancer = Enhancer.load(args.model, args.backend, args.precision, args.threads)
    _warn_past_cores(args.threads)
    if not is_loopback(args.host):
        print(
            f"warning: listening on {args.host}, not only on this machine: anyone who can reach "
            "it can upload files and download the results",
            file=sys.stderr,
        )

    def started(url: str) -> None:
        print(f"spectral-enhance serve: {url} (model {enhancer.name}; Ctrl-C stops)", flush=True)
        if args.open:
            webbrowser.open(url)

    serve(create_app(enhancer, limits, host=args.host), args.host, args.port, started)
    return 0
