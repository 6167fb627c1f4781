"""The ``sigma``, ``sigma-suite`` and ``sigma-diff`` commands (wired in :mod:`stagehunt.cli`).

Problems with rules (a file that does not load, a rule that does not convert or does not
run) are printed one per line on stderr and never stop the other rules.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from stagehunt.render.formats import FORMATS, render
from stagehunt.result import ResultTable, Value
from stagehunt.sigma.cache import add_cache_options, from_options
from stagehunt.store.event_store import EventStore

if TYPE_CHECKING:  # pySigma is imported when a sigma command runs, not with the CLI
    from stagehunt.sigma.convert import Converted
    from stagehunt.sigma.run import ProgressFn, RuleRun

Loader = Callable[[EventStore, Sequence[Path], argparse.Namespace, Console], object]


class SigmaUsageError(ValueError):
    """Bad arguments: one line on stderr, exit code 2 (or 1 for unreadable rules)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_input_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    sig = sub.add_parser("sigma", help="run Sigma rules (pySigma Splunk backend -> SPL) on events")
    sig.add_argument(
        "-r",
        "--rules",
        action="append",
        type=Path,
        required=True,
        metavar="RULE_OR_DIR",
        help="a Sigma rule file or a folder of rules (repeatable)",
    )
    sig.add_argument("paths", nargs="*", type=Path, help="event files, folders or zips")
    sig.add_argument(
        "--count", action="store_true", help="print matches per rule instead of the matches"
    )
    sig.add_argument(
        "--explain", action="store_true", help="print each rule's SPL instead of running it"
    )
    sig.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    add_cache_options(sig, "converted and compiled rules")
    add_input_options(sig)
    suite = sub.add_parser(
        "sigma-suite", help="run SigmaHQ's regression suite (info.yml + EVTX) through `sigma`"
    )
    suite.add_argument("suite", type=Path, help="a regression_data folder (or any folder below it)")
    suite.add_argument(
        "--rules",
        action="append",
        type=Path,
        help="rule folders (default: the rules* folders of the checkout)",
    )
    diff = sub.add_parser(
        "sigma-diff", help="differential test: our engine vs pySigma's SQLite backend on SQLite"
    )
    diff.add_argument("data", type=Path, help="folder searched for .evtx files")
    diff.add_argument(
        "--rules",
        action="append",
        type=Path,
        help="rule folders (default: rules* folders found under DATA)",
    )
    diff.add_argument(
        "--category",
        action="append",
        help="Sigma log source categories (default: process_creation, file_event)",
    )


@contextmanager
def rule_progress(console: Console) -> Iterator[ProgressFn | None]:
    """A Rich bar of rules run (advanced per batch) on a terminal; nothing otherwise."""
    if not console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("rules"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("rules", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _say(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _problems(converted: Sequence[Converted], runs: Sequence[RuleRun], err: Console) -> int:
    n = 0
    for c in converted:
        if c.reason is not None:
            _say(err, f"not converted: {c.rule.path}: {c.reason}")
            n += 1
    for r in runs:
        if r.error is not None:
            _say(err, f"not run: {r.rule.path}: {r.error}")
            n += 1
    return n


def run_sigma(args: argparse.Namespace, out: Console, err: Console, load: Loader) -> int:
    from stagehunt.sigma.library import load_library
    from stagehunt.sigma.rules import RulePathError
    from stagehunt.sigma.run import as_table, run_rules

    cache = from_options(args)
    try:
        library = load_library(args.rules, cache)
    except RulePathError as e:
        raise SigmaUsageError(str(e)) from None
    for p in library.problems:
        _say(err, f"not loaded: {p.path}: {p.reason}")
    converted = library.converted
    if args.explain:
        for c in converted:
            for q in c.queries:
                _say(out, f"# {c.rule.id} {c.rule.title}\n{q}\n")
        _problems(converted, [], err)
        return 0
    with EventStore(args.store) as store:
        load(store, args.paths, args, err)
        with rule_progress(err) as progress:
            runs = run_rules(converted, store, cache, progress=progress)
    _problems(converted, runs, err)
    if not any(r.error is None for r in runs):
        raise SigmaUsageError("no Sigma rule could be run (see the lines above)")
    if args.count:
        table = ResultTable(["sigma_id", "sigma_title", "sigma_level", "matches", "status"])
        by_rule = {id(r.rule): r for r in runs}
        for c in converted:
            run = by_rule.get(id(c.rule))
            row: tuple[Value, ...]
            if run is not None and run.error is None:
                row = (c.rule.id, c.rule.title, c.rule.level or None, run.matches, "ran")
            elif run is not None:
                row = (c.rule.id, c.rule.title, c.rule.level or None, None, f"not run: {run.error}")
            elif c.feeds:
                row = (
                    c.rule.id,
                    c.rule.title,
                    c.rule.level or None,
                    None,
                    "runs inside: " + ", ".join(c.feeds),
                )
            else:
                row = (
                    c.rule.id,
                    c.rule.title,
                    c.rule.level or None,
                    None,
                    f"not converted: {c.reason}",
                )
            table.rows.append(row)
    else:
        table = as_table([r for r in runs if r.error is None])
    if args.format == "table":
        render(table, "table", sys.stdout, console=out)
    else:
        render(table, args.format, sys.stdout)
    return 0


def run_suite_command(args: argparse.Namespace, out: Console) -> int:
    from stagehunt.sigma.regression import COUNT_DIFFERS, FAIL, PASS, find_rule_dirs, run_suite

    if not args.suite.is_dir():
        raise SigmaUsageError(f"no such folder: {args.suite}")
    rule_dirs = args.rules or find_rule_dirs(args.suite)
    if not rule_dirs:
        raise SigmaUsageError(
            "no rules* folders found beside regression_data; name them with --rules"
        )
    results = run_suite(args.suite, rule_dirs)
    counts = Counter(r.verdict for r in results)
    for r in results:
        if r.verdict == PASS:
            continue
        want = "at least 1" if r.case.expected is None else str(r.case.expected)
        got = "-" if r.got is None else str(r.got)
        why = f": {r.why}" if r.why else ""
        _say(
            out,
            f"{r.verdict.upper()}: {r.case.folder.name} ({r.case.title})"
            f" expected {want}, got {got}{why}",
        )
    convertible = counts[PASS] + counts[COUNT_DIFFERS] + counts[FAIL]
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    _say(out, f"{len(results)} tests; {summary}")
    if convertible:
        fires = counts[PASS] + counts[COUNT_DIFFERS]
        _say(
            out,
            f"of {convertible} tests whose rule converts: {counts[PASS]} give match_count"
            f" exactly ({100 * counts[PASS] / convertible:.1f}%), {fires} fire"
            f" ({100 * fires / convertible:.1f}%, SigmaHQ's own pass criterion)",
        )
    return 0 if counts[FAIL] == 0 else 1


def run_diff_command(args: argparse.Namespace, out: Console) -> int:
    from stagehunt.sigma.differential import DEFAULT_CATEGORIES, differential, report_lines

    if not args.data.is_dir():
        raise SigmaUsageError(f"no such folder: {args.data}")
    rule_dirs = args.rules or sorted(p for p in args.data.glob("*/rules*") if p.is_dir())
    if not rule_dirs:
        raise SigmaUsageError("no rules* folders found under DATA; name them with --rules")
    result = differential(args.data, rule_dirs, tuple(args.category or DEFAULT_CATEGORIES))
    for line in report_lines(result):
        _say(out, line)
    return 0
