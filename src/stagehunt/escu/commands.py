"""``stagehunt escu list|show|compile|run`` (wired in :mod:`stagehunt.cli`).

Exit codes: 0 when every selected detection has its status and none errored; 1 when a
detection errored (at run time, or a stagehunt bug while compiling: each is named);
2 for bad usage or content (no content folder, malformed YAML naming the file, an
unknown detection name).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from stagehunt.backends.base import Backend
from stagehunt.escu import render
from stagehunt.escu.compiler import compile_all, compile_detection, expand
from stagehunt.escu.content import ENV_VAR, ContentError, Detection, find_content
from stagehunt.escu.library import Library, load_library
from stagehunt.escu.runner import run_detections
from stagehunt.escu.status import STATUS_CHOICES, Outcome, Status
from stagehunt.render.formats import FORMATS
from stagehunt.render.formats import render as render_result
from stagehunt.sigma.cache import add_cache_options, from_options
from stagehunt.spl.errors import SplError
from stagehunt.store.event_store import EventStore

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
DEFAULT_ROWS = 5

# --status selects what is printed; the summary and the exit code are always those of
# every detection selected by name, --type and --data-source.


class EscuUsageError(Exception):
    """Bad arguments or content: one line on stderr, exit code 2."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Hooks:
    """What ``run`` borrows from the CLI: ingest as ``hunt`` does, engines, lakes."""

    load: Callable[[EventStore, Sequence[Path], argparse.Namespace, Console], object]
    engine: Callable[[argparse.Namespace], Callable[[EventStore], Backend]]
    open_lake: Callable[..., Any]
    spark: Callable[[argparse.Namespace], Any]
    limit_memory: Callable[[Any, argparse.Namespace], None]


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_input_options: Callable[[argparse.ArgumentParser], None],
    add_engine_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    escu = sub.add_parser(
        "escu", help="load Splunk's ESCU detection library (security_content) and run it"
    )
    cmds = escu.add_subparsers(dest="escu_command", required=True)
    lst = cmds.add_parser("list", help="one line per detection: name, type, data sources, status")
    _content_options(lst)
    _filters(lst)
    lst.add_argument("--format", choices=FORMATS, default="table", help="output format")
    add_cache_options(lst, "compiled detections")
    show = cmds.add_parser("show", help="a detection: metadata, search, expanded SPL, status")
    show.add_argument("name", help="detection name (or its file name)")
    add_cache_options(show, "the content's detection files")
    _content_options(show)
    comp = cmds.add_parser("compile", help="compile detections: status per detection, summary")
    comp.add_argument("names", nargs="*", metavar="NAME", help="detections (default: all)")
    comp.add_argument(
        "--explain",
        action="store_true",
        help="also print each detection's expanded SPL and SQL (or the error with a caret)",
    )
    comp.add_argument(
        "--by-reason",
        action="store_true",
        help="list the detections under each reason instead of one line per detection",
    )
    add_cache_options(comp, "compiled detections (not with --explain, which shows the SQL)")
    _content_options(comp)
    _filters(comp)
    run = cmds.add_parser("run", help="ingest events (or open a store/lake), run the detections")
    run.add_argument(
        "items",
        nargs="*",
        metavar="PATH_OR_NAME",
        help="event files, folders or zips to ingest, and detection names (an argument that "
        "is no file or folder names a detection; default: all detections)",
    )
    run.add_argument(
        "-d",
        "--detection",
        action="append",
        default=[],
        metavar="NAME",
        help="run this detection only (repeatable; default: all)",
    )
    run.add_argument(
        "--rows",
        type=_count,
        default=DEFAULT_ROWS,
        help=f"result rows printed per detection that fires (default {DEFAULT_ROWS}, 0: none)",
    )
    run.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (fired detections and a summary), csv (a status per detection), "
        "json/jsonl (a record per detection with its rows)",
    )
    run.add_argument(
        "--lookups-out",
        type=Path,
        metavar="DIR",
        help="where outputlookup writes (and later lookups of the run read what it wrote); "
        "default: a temporary folder, so the content folder is never changed",
    )
    run.add_argument(
        "--run-jobs",
        type=_jobs,
        metavar="N",
        help="detections whose DuckDB statements run at once, while the next ones compile "
        "(default: one per core; 1: one after another)",
    )
    add_cache_options(run, "compiled detections")
    _content_options(run)
    _filters(run)
    add_input_options(run)
    add_engine_options(run)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _jobs(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _content_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--content",
        type=Path,
        help=f"security_content checkout (default: ${ENV_VAR}, else "
        "../shared/data/security_content from here or from the repository)",
    )
    p.add_argument(
        "--include-deprecated", action="store_true", help="also load detections/deprecated/"
    )
    p.add_argument(
        "--macros",
        type=Path,
        help="your macros.conf, applied last (over ESCU's and stagehunt's overrides)",
    )
    p.add_argument(
        "--no-local-macros",
        action="store_true",
        help="do not apply stagehunt's source-macro overrides (see docs/escu.md)",
    )


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--type", help="only this detection type (TTP, Anomaly, Hunting, ...)")
    p.add_argument("--data-source", help="only detections with a data source containing TEXT")
    p.add_argument("--status", choices=STATUS_CHOICES, help="only detections with this status")


# ------------------------------------------------------------------------------- running


def run_escu(args: argparse.Namespace, out: Console, err: Console, hooks: Hooks) -> int:
    try:
        library = _library(args)
        if args.escu_command == "list":
            return _list(library, args)
        if args.escu_command == "show":
            return _show(library, args, out)
        if args.escu_command == "compile":
            return _compile(library, args, out)
        return _run(library, args, out, err, hooks)
    except ContentError as exc:
        raise EscuUsageError(str(exc)) from None


def _library(args: argparse.Namespace) -> Library:
    folder = find_content(args.content)
    if args.macros is not None and not args.macros.is_file():
        raise ContentError(f"--macros {args.macros}: no such file")
    return load_library(
        folder,
        include_deprecated=args.include_deprecated,
        user_macros=args.macros,
        local_macros=not args.no_local_macros,
        cache=from_options(args),
    )


def _selected(library: Library, args: argparse.Namespace, names: list[str]) -> list[Detection]:
    chosen = library.select(names)
    if getattr(args, "type", None):
        wanted = args.type.casefold()
        chosen = [d for d in chosen if d.type.casefold() == wanted]
    if getattr(args, "data_source", None):
        text = args.data_source.casefold()
        chosen = [d for d in chosen if any(text in s.casefold() for s in d.data_sources)]
    return chosen


def _with_status(outcomes: list[Outcome], args: argparse.Namespace) -> list[Outcome]:
    wanted = getattr(args, "status", None)
    return [o for o in outcomes if o.matches(wanted)] if wanted else outcomes


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")


def _list(library: Library, args: argparse.Namespace) -> int:
    chosen = _selected(library, args, [])
    cache = from_options(args)
    everything = list(compile_all(library, chosen, cache=cache, statements_needed=False))
    outcomes = _with_status(everything, args)
    if args.format in ("json", "jsonl"):
        _records(outcomes, args.format)
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["name", "type", "data_sources", "status", "reason"])
        for o in outcomes:
            d = o.detection
            writer.writerow([d.name, d.type, "; ".join(d.data_sources), o.status, o.reason or ""])
    else:
        for o in outcomes:
            _write(render.list_line(o))
    return _exit(everything)


def _show(library: Library, args: argparse.Namespace, out: Console) -> int:
    detection = library.find(args.name)
    outcome = compile_detection(library, detection)
    text = render.show_text(library, outcome)
    used: list[str] = []
    with contextlib.suppress(SplError):
        expand(library, detection, used)
    if used:
        origins = library.macros.origins
        text += "\nmacros used:\n" + "\n".join(
            f"  `{key}`  {origins.get(key, '?')}" for key in dict.fromkeys(used)
        )
    _write(text)
    return _exit([outcome])


def _compile(library: Library, args: argparse.Namespace, out: Console) -> int:
    start = time.perf_counter()
    chosen = _selected(library, args, list(args.names))
    # --explain prints the SQL from the compiled tree, which a kept statement has not
    cache = None if args.explain else from_options(args)
    everything = list(compile_all(library, chosen, cache=cache, statements_needed=False))
    seconds = time.perf_counter() - start
    outcomes = _with_status(everything, args)
    if args.by_reason:
        for line in render.grouped(outcomes, limit=0):
            _write(line)
    else:
        for o in outcomes:
            _write(render.status_line(o))
            if args.explain:
                _explain(o)
    _write("")
    _write(f"{render.count_line(everything)} ({seconds:.1f} s)")
    if not args.by_reason and any(o.group for o in everything):
        _write("reasons, by command / function / construct:")
        for line in render.grouped(everything):
            _write(line)
    return _exit(everything)


def _explain(outcome: Outcome) -> None:
    if outcome.expanded is not None:
        _write("  SPL: " + " ".join(outcome.expanded.split()))
    if outcome.error is not None:
        _write("\n".join("  " + line for line in render.caret(outcome.error)))
    if outcome.compiled is not None:
        try:
            sql = outcome.compiled.render("duckdb", pretty=True)
        except Exception as exc:  # rendering is the engine's part; say so
            sql = f"(cannot render: {exc})"
        _write("  SQL:\n    " + sql.replace("\n", "\n    "))
    for note in outcome.notes:
        _write(f"  note: {note}")


def _run(
    library: Library, args: argparse.Namespace, out: Console, err: Console, hooks: Hooks
) -> int:
    """``escu run``: outputlookup writes go to ``--lookups-out`` or the library's own
    temporary folder, never into the content (ESCU's baselines write lookups the next
    run would read)."""
    if args.lookups_out is not None:
        args.lookups_out.mkdir(parents=True, exist_ok=True)
        library.lookups.library.writes = args.lookups_out
    return _run_in(library, args, out, err, hooks)


def _run_in(
    library: Library, args: argparse.Namespace, out: Console, err: Console, hooks: Hooks
) -> int:
    paths, names = _paths_and_names(library, list(args.items))
    detections = _selected(library, args, [*names, *args.detection])
    if args.lake is not None:
        if paths or args.store is not None:
            raise EscuUsageError("--lake reads the lake only: give no PATH and no --store")
        lake = hooks.open_lake(args.lake, must_exist=True)
        if args.engine == "spark":
            backend: Backend = lake.spark(hooks.spark(args))
        else:
            backend = lake.duckdb()
            hooks.limit_memory(backend.connection, args)  # type: ignore[attr-defined]
        return _run_on(library, detections, backend, args, out, err)
    if not paths and args.store is None:
        raise EscuUsageError("escu run needs event files (PATH...), --store FILE or --lake DIR")
    with EventStore(args.store) as store:
        hooks.limit_memory(store.connection, args)
        hooks.load(store, paths, args, err)
        return _run_on(library, detections, hooks.engine(args)(store), args, out, err)


def _paths_and_names(library: Library, items: list[str]) -> tuple[list[Path], list[str]]:
    """Split ``run``'s arguments: existing files and folders are input, the rest names
    detections (a typo in a path is then an unknown detection, said as such)."""
    paths: list[Path] = []
    names: list[str] = []
    for item in items:
        if Path(item).exists():
            paths.append(Path(item))
            continue
        try:
            library.find(item)
        except ContentError as exc:
            raise ContentError(f"'{item}' is no file or folder, and {exc}") from None
        names.append(item)
    return paths, names


def _run_on(
    library: Library,
    detections: list[Detection],
    backend: Backend,
    args: argparse.Namespace,
    out: Console,
    err: Console,
) -> int:
    start = time.perf_counter()
    everything = _with_progress(
        run_detections(
            library,
            backend,
            detections,
            keep_rows=args.rows,
            cache=from_options(args),
            jobs=args.run_jobs,
        ),
        len(detections),
        err,
    )
    seconds = time.perf_counter() - start
    outcomes = _with_status(everything, args)
    if args.format in ("json", "jsonl"):
        _records(outcomes, args.format)
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["name", "type", "status", "rows", "seconds", "reason"])
        for o in outcomes:
            rows = "" if o.rows is None else o.rows
            writer.writerow(
                [
                    o.detection.name,
                    o.detection.type,
                    o.status,
                    rows,
                    f"{o.seconds:.3f}",
                    o.reason or "",
                ]
            )
    else:
        _print_fired(outcomes, args.rows, out)
    _summary(everything, seconds, err if args.format != "table" else out)
    return _exit(everything)


def _with_progress(outcomes: Iterator[Outcome], total: int, err: Console) -> list[Outcome]:
    """Collect the outcomes; on a terminal, show which detection is running (a library
    takes minutes)."""
    if not err.is_terminal:
        return list(outcomes)
    done: list[Outcome] = []
    with err.status(f"running {total} detections") as status:
        for outcome in outcomes:
            done.append(outcome)
            fired = sum(1 for o in done if o.fired)
            status.update(
                f"{len(done)}/{total} detections, {fired} fired: {outcome.detection.name}"
            )
    return done


def _print_fired(outcomes: list[Outcome], rows: int, out: Console) -> None:
    for o in outcomes:
        if not o.fired or o.result is None:
            continue
        d = o.detection
        shown = len(o.result.rows)
        more = f", first {shown} shown" if 0 < shown < (o.rows or 0) else ""
        out.print(
            f"FIRED  {d.name}  [{d.type}]  {o.rows} row{'s' if o.rows != 1 else ''}{more}",
            markup=False,
            highlight=False,
            style="bold",
        )
        if rows:
            render_result(o.result, "table", sys.stdout, console=out)


def _summary(outcomes: list[Outcome], seconds: float, console: Console) -> None:
    c = render.counts(outcomes)
    ran = c[Status.RAN]
    fired = sum(1 for o in outcomes if o.fired)
    compiled = sum(1 for o in outcomes if o.compiled is not None)
    lines = [
        "",
        f"{render.detections(len(outcomes))}: compiled {compiled}, ran {ran}, fired {fired}, "
        f"errors {c[Status.ERROR]}, not supported {c[Status.UNSUPPORTED]}, "
        f"missing {c[Status.MISSING]}; {seconds:.1f} s",
    ]
    errors = [o for o in outcomes if o.status is Status.ERROR]
    for o in errors:
        lines.append(f"error: {o.detection.name}: {o.reason}")
    if any(o.group for o in outcomes if o.status is not Status.ERROR):
        lines.append("not run, by reason:")
        lines.extend(render.grouped([o for o in outcomes if o.status is not Status.ERROR]))
    console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


def _records(outcomes: list[Outcome], fmt: str) -> None:
    records = [render.record(o) for o in outcomes]
    if fmt == "json":
        json.dump(records, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        for r in records:
            sys.stdout.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")


def _exit(outcomes: list[Outcome]) -> int:
    return EXIT_ERRORS if any(o.status is Status.ERROR for o in outcomes) else EXIT_OK
