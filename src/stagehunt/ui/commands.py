"""``stagehunt ui``: the search page over a store or a lake, served on this machine.

Wired into cli.py by one ``add_parser``. Without ``--store``/``--lake`` it serves the
bundled sample (a temporary store, as ``stagehunt hunt`` does), so the first look needs
no data of one's own.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console

from stagehunt.api import sample_paths
from stagehunt.backends.lake import CATALOG, Lake
from stagehunt.escu.content import ContentError, default_content, find_content
from stagehunt.knowledge import bundled as bundled_knowledge
from stagehunt.spl.macros import MacroLibrary
from stagehunt.store.event_store import EventStore
from stagehunt.ui.jobs import Events, Jobs, LakeEvents, StoreEvents
from stagehunt.ui.security import LOOPBACK, is_loopback, new_token

DEFAULT_PORT = 8765


class UiUsageError(Exception):
    """A wrong combination of options: one line, exit 2."""

    code = 2


def add_parser(sub: Any) -> None:
    """Add ``ui`` to the CLI's subcommands."""
    p = sub.add_parser("ui", help="the search page (query bar, fields, histogram) in a browser")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--store", type=Path, help="a DuckDB store file (default: the sample)")
    src.add_argument("--lake", type=Path, help="a Parquet event lake folder")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any)"
    )
    p.add_argument(
        "--host",
        default=LOOPBACK,
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    p.add_argument("--lookups", type=Path, help="folder of lookup CSV files for searches")
    p.add_argument("--macros", type=Path, help="a macros.conf file to expand `macro` calls from")
    p.add_argument(
        "--addons",
        action="store_true",
        help="apply the bundled Splunk add-ons' search-time fields to searches, as Splunk does",
    )
    p.add_argument(
        "--escu",
        type=Path,
        help="security_content checkout whose detections the detections view lists "
        "(default: as `stagehunt escu` finds one; none: the pack's detections and Sigma rules)",
    )


@contextlib.contextmanager
def _events(args: argparse.Namespace) -> Iterator[tuple[Events, str]]:
    """The events the page searches, and how the page names them."""
    if args.lake is not None:
        if not (args.lake / CATALOG).is_file():
            raise UiUsageError(f"no stagehunt lake at {args.lake} (make one with ingest --lake)")
        yield LakeEvents(Lake(args.lake)), f"lake {args.lake}"
        return
    if args.store is not None:
        if not args.store.is_file():
            raise UiUsageError(f"no store at {args.store} (make one with ingest --store)")
        with EventStore(args.store) as store:
            yield StoreEvents(store), f"store {args.store}"
        return
    with EventStore() as store:
        store.load(sample_paths())
        yield StoreEvents(store), "the bundled sample"


def _escu(given: Path | None) -> Path | None:
    """``--escu DIR`` (checked), else the content `stagehunt escu` would find, else None."""
    if given is None:
        return default_content()
    try:
        return find_content(given)
    except ContentError as exc:
        raise UiUsageError(str(exc).replace("--content", "--escu", 1)) from None


def run_ui(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Serve until interrupted; the URL with the token is the one line on stdout."""
    from stagehunt.ui.server import bind, make_server

    if not is_loopback(args.host):
        err.print(
            f"warning: listening on {args.host}: other machines can reach this server "
            "(the token still guards it)",
            markup=False,
            highlight=False,
        )
    macros = MacroLibrary.from_file(args.macros) if args.macros else None
    knowledge = bundled_knowledge() if args.addons else None
    escu = _escu(args.escu)
    with _events(args) as (events, source):
        jobs = Jobs(events, macros=macros, lookups=args.lookups, knowledge=knowledge)
        try:
            sock = bind(args.host, args.port)
        except OSError as exc:
            jobs.close()
            raise UiUsageError(
                f"cannot listen on {args.host}:{args.port}: {exc.strerror}"
            ) from None
        token = new_token()
        port = sock.getsockname()[1]
        shown = (
            args.host if is_loopback(args.host) or args.host not in ("0.0.0.0", "::") else LOOPBACK
        )
        shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
        server = make_server(jobs, token, sock, args.host, source, escu)
        out.print(f"http://{shown}:{port}/?token={token}", markup=False, highlight=False)
        where = f"; ESCU detections from {escu}" if escu else ""
        err.print(f"serving {source}{where}; Ctrl-C stops", markup=False, highlight=False)
        try:
            server.run(sockets=[sock])
        finally:
            jobs.close()
            sock.close()
    return 0
