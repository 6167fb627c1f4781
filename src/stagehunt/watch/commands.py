"""``stagehunt watch``: the command line of a watcher. Errors are one line on stderr:
exit 2 for bad arguments, 1 for a store or file that cannot be used."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console

from stagehunt.ingest.options import IngestOptions
from stagehunt.spl.errors import SplError
from stagehunt.store.event_store import EventStore
from stagehunt.watch.detections import (
    DetectionFailed,
    DetectionSource,
    pack_detection,
    sigma_detections,
)
from stagehunt.watch.escu_detections import escu_detections
from stagehunt.watch.loop import PassReport, Watcher, excluded
from stagehunt.watch.sinks import FileSink, Sink, StdoutSink, WebhookSink, loopback_url
from stagehunt.watch.windows import ESCU_WINDOW, WindowError, parse_span

EXIT_USAGE = 2
EXIT_INPUT = 1


class WatchError(Exception):
    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def _span(text: str) -> str:
    try:
        parse_span(text)
    except WindowError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_parser(sub: Any) -> None:
    """Add ``watch`` to the CLI's subcommands."""
    p = sub.add_parser("watch", help="ingest folders as files arrive; run detections; alert once")
    p.add_argument("folders", nargs="+", type=Path, help="folders to watch")
    p.add_argument(
        "--store", type=Path, required=True, help="the DuckDB store (created if missing)"
    )
    p.add_argument(
        "--detection",
        action="append",
        default=[],
        help="a detection of the T1074 pack (repeatable): T1074.seed, T1074.corrected",
    )
    p.add_argument(
        "-r",
        "--rules",
        action="append",
        type=Path,
        default=[],
        help="Sigma rule files or folders (repeatable); each event a rule matches is an alert",
    )
    p.add_argument(
        "--escu",
        action="append",
        default=[],
        metavar="NAME_OR_GLOB",
        help="Splunk ESCU detections (repeatable): a name, file stem or id as `escu run` "
        'takes, or a glob such as "Windows Credential Dumping*"; each result row is an alert',
    )
    p.add_argument(
        "--escu-window",
        type=_span,
        default=ESCU_WINDOW,
        metavar="SPAN",
        help=f"the window ESCU detections run over (default {ESCU_WINDOW}, ESCU's hourly schedule)",
    )
    p.add_argument(
        "--escu-content",
        type=Path,
        metavar="DIR",
        help="security_content checkout (default: as `stagehunt escu` finds it)",
    )
    p.add_argument("--alerts", type=Path, help="append alerts (JSON lines, fsync'd) to this file")
    p.add_argument("--webhook", help="POST each alert to this URL (loopback only by default)")
    p.add_argument(
        "--allow-remote-webhook",
        action="store_true",
        help="allow a --webhook host that is not this machine",
    )
    p.add_argument(
        "--interval", type=_seconds, default=5.0, help="seconds between polls (default 5)"
    )
    p.add_argument(
        "--settle",
        type=_seconds,
        default=10.0,
        help="a whole file (EVTX, XML, ...) unchanged this long is complete (default 10)",
    )
    p.add_argument("--once", action="store_true", help="one pass, then exit (tests, cron)")
    p.add_argument("--sourcetype-style", choices=("legacy", "modern"), default="legacy")
    p.add_argument("--index", help="store every record under this index")


def _detections(args: argparse.Namespace, err: Console, writes: Path) -> list[DetectionSource]:
    """The detections named; ``writes`` is where ESCU's outputlookup writes go."""
    if not args.detection and not args.rules and not args.escu:
        raise WatchError(
            "watch needs at least one --detection NAME, -r SIGMA_PATH or --escu NAME_OR_GLOB"
        )
    out: list[DetectionSource] = []
    try:
        out += [pack_detection(name) for name in dict.fromkeys(args.detection)]
        if args.rules:
            rules, notes = sigma_detections(args.rules)
            _notes(err, notes)
            if not rules:
                raise WatchError("no Sigma rule under -r can be watched (see the lines above)")
            out += rules
        if args.escu:
            escu, notes = escu_detections(args.escu, args.escu_content, args.escu_window, writes)
            _notes(err, notes)
            if not escu:
                raise WatchError("no ESCU detection named by --escu can be watched (see above)")
            out += escu
    except WindowError as exc:
        raise WatchError(str(exc)) from None
    return out


def _notes(err: Console, notes: list[str]) -> None:
    for note in notes:
        err.print(f"warning: {note}", markup=False, highlight=False, soft_wrap=True)


def _sinks(args: argparse.Namespace) -> list[Sink]:
    sinks: list[Sink] = []
    if args.webhook is not None:
        if not args.allow_remote_webhook and not loopback_url(args.webhook):
            raise WatchError(
                f"--webhook {args.webhook}: not http(s) to this machine "
                "(use --allow-remote-webhook to send alerts elsewhere)"
            )
        sinks.append(WebhookSink(args.webhook))
    if args.alerts is None and args.webhook is None:
        sinks.append(StdoutSink())
    if args.alerts is not None:
        if args.alerts.is_dir():
            raise WatchError(f"--alerts {args.alerts}: is a folder")
        sinks.append(FileSink(args.alerts))  # last: its contents say what was delivered
    return sinks


def _warn(err: Console, report: PassReport) -> None:
    for line in report.warnings:
        err.print(f"warning: {line}", markup=False, highlight=False, soft_wrap=True)


def run_watch(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Watch until interrupted (or one pass with --once); errors as one line."""
    try:
        return _run(args, err)
    except WatchError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.code
    except DetectionFailed as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INPUT
    except WindowError as exc:  # a detection's results lack its declared watch key
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except SplError as exc:
        sys.stderr.write(exc.render() + "\n")
        return EXIT_USAGE
    except (duckdb.Error, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, OSError) and exc.strerror:
            text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
        sys.stderr.write(f"error: {text}\n")
        return EXIT_INPUT


def _run(args: argparse.Namespace, err: Console) -> int:
    folders: list[Path] = args.folders
    for folder in folders:
        if not folder.is_dir():
            raise WatchError(f"{folder}: not a folder")
    # ESCU baselines write lookups: to a folder of this run, never into the content
    with tempfile.TemporaryDirectory(prefix="stagehunt-watch-") as writes:
        detections = _detections(args, err, Path(writes))
        return _watch(args, err, folders, detections)


def _watch(
    args: argparse.Namespace, err: Console, folders: list[Path], detections: list[DetectionSource]
) -> int:
    sinks = _sinks(args)
    with EventStore(args.store) as store:
        watcher = Watcher(
            store,
            folders,
            detections,
            sinks,
            IngestOptions(sourcetype_style=args.sourcetype_style, index=args.index),
            settle=args.settle,
            exclude=excluded(args.store, args.alerts),
        )
        watcher.start()
        while True:
            report = watcher.run_once()
            _warn(err, report)
            if args.once:
                if report.pending:
                    raise WatchError(f"{report.pending} alert(s) not delivered", EXIT_INPUT)
                return 0
            try:
                time.sleep(args.interval)
            except KeyboardInterrupt:
                return 0
