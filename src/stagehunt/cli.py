"""Command line: ``stagehunt search``, ``stagehunt hunt``.

A thin layer over :mod:`stagehunt.api`. Every user-facing failure (broken SPL, unreadable
input) is one clear message and a non-zero exit; never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, cast

import duckdb
from rich.console import Console
from rich.table import Table

from stagehunt import __version__, atomics, completion, memory
from stagehunt.api import compile_on, compile_query, sample_paths, stream_on
from stagehunt.backends import spark as spark_backend
from stagehunt.backends.base import ENGINES, Backend, QueryFailed
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.backends.lake import CATALOG, Lake, LakeError
from stagehunt.backends.spark import DEFAULT_MASTER
from stagehunt.backends.stream import ResultStream, collect
from stagehunt.compile.dialects import DialectUnsupported
from stagehunt.escu import commands as escu_commands
from stagehunt.ingest.options import IngestOptions
from stagehunt.knowledge import bundled as bundled_knowledge
from stagehunt.lint import from_store, lint
from stagehunt.lookups import LookupError_, LookupLibrary
from stagehunt.packs import load_pack
from stagehunt.real_data import find_real
from stagehunt.render.diagnostics import Diagnostics
from stagehunt.render.formats import FORMATS, render, write
from stagehunt.render.progress import progress_reporter
from stagehunt.render.summary import print_problems, print_summary
from stagehunt.report import write_report
from stagehunt.sigma import commands as sigma_commands
from stagehunt.simulate import SCENARIOS, UnknownScenario, simulate
from stagehunt.spl.errors import SplError
from stagehunt.spl.macros import MacroFileError, MacroLibrary
from stagehunt.store.event_store import EventStore, LoadReport
from stagehunt.terminate import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, stop_on_signals
from stagehunt.terminate import check as check_stop
from stagehunt.ui import commands as ui_commands
from stagehunt.validate import validate
from stagehunt.watch import commands as watch_commands

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

EXIT_USAGE = 2  # bad SPL / bad arguments
EXIT_INPUT = 1  # unreadable input


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.code = code


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _add_engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="duckdb",
        help="where queries run: duckdb (default) or spark (pip install 'stagehunt[spark]')",
    )
    p.add_argument(
        "--master", help=f"Spark master URL for --engine spark (default {DEFAULT_MASTER})"
    )


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", type=Path, help="a DuckDB store file (created if missing)")
    p.add_argument(
        "--lake",
        type=Path,
        help="a Parquet event lake folder (ingest writes it; search/hunt read it)",
    )
    p.add_argument(
        "--sourcetype-style",
        choices=("legacy", "modern"),
        default="legacy",
        help="legacy: sourcetype=XmlWinEventLog:<Channel> (default); "
        "modern: sourcetype=XmlWinEventLog, channel in source",
    )
    p.add_argument("--index", help="store every record under this index")
    p.add_argument(
        "--strict", action="store_true", help="exit non-zero if any record or file is rejected"
    )
    p.add_argument(
        "--jobs",
        type=_positive,
        help="processes reading files at once (default: one per core from 2 cores, else 1)",
    )
    p.add_argument(
        "--memory-limit",
        help="DuckDB's memory limit, e.g. 3GB: past it, DuckDB spills to disk "
        "(default: half of RAM, or of the container's limit)",
    )


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    p.add_argument(
        "--explain", action="store_true", help="print the generated SQL instead of running it"
    )
    p.add_argument("--macros", type=Path, help="a macros.conf file to expand `macro` calls from")
    p.add_argument(
        "--addons",
        action="store_true",
        help="apply the bundled Splunk add-ons' search-time fields, as Splunk does",
    )
    p.add_argument(
        "--lookups",
        type=Path,
        help="folder of lookup CSV files (and an optional transforms.conf) for lookup/inputlookup",
    )
    p.add_argument(
        "--geoip",
        type=Path,
        help="GeoIP database (MaxMind DB .mmdb, e.g. GeoLite2-City) for iplocation "
        "(default: $STAGEHUNT_GEOIP, else DB-IP City Lite from the stagehunt[geoip] extra)",
    )
    _add_input_options(p)
    _add_engine_options(p)


INPUTS_HELP = "event files, folders or zips: EVTX, event XML, JSON lines, CSV, auditd, MDE"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stagehunt",
        description="Hunt data staging (ATT&CK T1074); run Splunk SPL on DuckDB.",
    )
    parser.add_argument("--version", action="version", version=f"stagehunt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    search = sub.add_parser("search", help="run an SPL query over event files")
    search.add_argument("spl", help="the SPL query")
    search.add_argument("paths", nargs="*", type=Path, help=INPUTS_HELP)
    _add_output_options(search)
    hunt = sub.add_parser("hunt", help="run the seed T1074 detection (bundled sample if no PATH)")
    hunt.add_argument("paths", nargs="*", type=Path, help=INPUTS_HELP + " (default: sample)")
    hunt.add_argument("--report", type=Path, help="also write a self-contained HTML report here")
    hunt.add_argument(
        "--detection",
        default="T1074.seed",
        help="which detection of the T1074 pack to run: T1074.seed (default), T1074.corrected",
    )
    _add_output_options(hunt)
    lint = sub.add_parser("lint", help="explain the traps of an SPL query (static checks)")
    target = lint.add_mutually_exclusive_group(required=True)
    target.add_argument("spl", nargs="?", help="the SPL query")
    target.add_argument("--detection", help="lint a detection of the T1074 pack instead")
    lint.add_argument("--store", type=Path, help="check against the fields of this store's data")
    lint.add_argument("--macros", type=Path, help="a macros.conf file to expand macros from")
    atom = sub.add_parser("atomic", help="show the pack's lab tests (stagehunt never runs them)")
    atom_sub = atom.add_subparsers(dest="atomic_command", required=True)
    atom_sub.add_parser("list", help="list the tests")
    show = atom_sub.add_parser("show", help="show test N: commands, inputs, cleanup")
    show.add_argument("number", type=int)
    val = sub.add_parser("validate", help="run a pack's detections over its scenarios: the matrix")
    val.add_argument("pack", nargs="?", default="T1074", help="pack id (default T1074)")
    real = val.add_mutually_exclusive_group()
    real.add_argument(
        "--real",
        type=Path,
        help="also run over this folder of real logs "
        "(default: shared/data/real beside the checkout, when there is one)",
    )
    real.add_argument("--no-real", action="store_true", help="scenarios only, no real logs")
    _add_engine_options(val)
    sim = sub.add_parser("simulate", help="write a scenario's telemetry (adversary or benign)")
    sim.add_argument("scenario", nargs="?", help="scenario name; omit with --list")
    sim.add_argument("--out", type=Path, help="folder to write into (created if missing)")
    sim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sim.add_argument("--list", action="store_true", help="list the scenarios")
    tosig = sub.add_parser("to-sigma", help="translate SPL (or a pack's detection) into Sigma")
    what = tosig.add_mutually_exclusive_group(required=True)
    what.add_argument("spl", nargs="?", help="the SPL query")
    what.add_argument("--pack", help="translate this pack's Sigma detection (pack.toml [sigma])")
    tosig.add_argument("--lookups", type=Path, help="lookups folder (allowlists become filters)")
    tosig.add_argument("--out", type=Path, help="write one .yml per rule into this folder")
    conv = sub.add_parser("convert", help="convert a pack's Sigma rules to another SIEM")
    conv.add_argument("pack", nargs="?", default="T1074", help="pack id (default T1074)")
    conv.add_argument("--to", dest="target", help="target (see --list)")
    conv.add_argument(
        "--out",
        type=Path,
        help="folder to write <target>/<rule>.<ext> into "
        "(default: the queries on stdout, a blank line between)",
    )
    conv.add_argument("--list", action="store_true", help="list the targets")
    ingest = sub.add_parser("ingest", help="read event files into a store, with a summary")
    ingest.add_argument("paths", nargs="+", type=Path, help=INPUTS_HELP)
    _add_input_options(ingest)
    sigma_commands.add_parsers(sub, _add_input_options)
    escu_commands.add_parsers(sub, _add_input_options, _add_engine_options)
    watch_commands.add_parser(sub)
    completion.add_parser(sub)
    ui_commands.add_parser(sub)
    return parser


def _options(args: argparse.Namespace) -> IngestOptions:
    return IngestOptions(sourcetype_style=args.sourcetype_style, index=args.index)


def _load(
    store: EventStore, paths: Sequence[Path], args: argparse.Namespace, err: Console
) -> LoadReport | None:
    """Load ``paths``; warnings to stderr; a CliError when nothing could be read or, with
    --strict, when anything was rejected."""
    if not paths:
        return None
    with progress_reporter(err, log_lines=args.command == "ingest") as progress:
        report = store.load(list(paths), _options(args), progress, jobs=args.jobs)
    if args.command == "ingest":
        print_summary(report, err)
    else:
        print_problems(report, err)
    if report.errors and report.records_read == 0 and report.files == 0:
        raise CliError("no input could be read")
    if args.strict and (report.rejects or report.errors):
        raise CliError(
            f"{len(report.rejects)} record(s) rejected, "
            f"{len(report.errors)} file error(s) (--strict)"
        )
    return report


def _spark(args: argparse.Namespace) -> SparkSession:
    try:
        return spark_backend.session(args.master)
    except spark_backend.SparkUnavailable as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def _limit_memory(connection: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> None:
    """Apply ``--memory-limit``, else ``memory.DEFAULT_SHARE`` of the usable memory, to a
    DuckDB connection (the value is bound, never pasted)."""
    limit = getattr(args, "memory_limit", None) or memory.default_limit(memory.usable_bytes())
    if limit is None:
        return
    try:
        connection.execute("SET memory_limit = ?", [limit])
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CliError(f"--memory-limit {limit!r}: {first}", EXIT_USAGE) from None


def _engine_factory(args: argparse.Namespace) -> Callable[[EventStore], Backend]:
    """Store → backend for ``--engine`` (the Spark session starts on first use)."""
    if getattr(args, "engine", "duckdb") == "spark":
        return lambda store: spark_backend.SparkBackend.from_store(store, _spark(args))
    return DuckDBBackend.from_store


def _run_or_explain(
    backend: Backend,
    spl: str,
    args: argparse.Namespace,
    out: Console,
    macros: MacroLibrary | None,
    lookups: LookupLibrary,
    err: Console,
) -> None:
    """Run on ``backend`` and write the results as they come (`_write`); with --explain
    print the SQL instead."""
    knowledge = bundled_knowledge() if getattr(args, "addons", False) else None
    if args.explain:
        compiled = compile_on(backend, spl, macros=macros, lookups=lookups, knowledge=knowledge)
        text = compiled.render(backend.dialect, pretty=True)
        out.print(text, markup=False, highlight=False, soft_wrap=True)
        return
    stream = stream_on(backend, spl, macros=macros, lookups=lookups, knowledge=knowledge)
    _write(stream, args, out, err)


def _write(stream: ResultStream, args: argparse.Namespace, out: Console, err: Console) -> None:
    """Results to stdout batch by batch; ``hunt --report`` needs the whole result, so it
    collects the rows first."""
    console = out if args.format == "table" else None
    if args.command == "hunt" and args.report is not None:
        result, _events = collect(stream)
        render(result, args.format, sys.stdout, console=console)
        pack = load_pack("T1074")
        write_report(args.report, result, pack.detection(args.detection), pack)
        err.print(f"report written to {args.report}", markup=False, highlight=False)
        return
    write(stream.columns, (b.rows for b in stream.batches), args.format, sys.stdout, console)


def _open_lake(folder: Path, *, must_exist: bool) -> Lake:
    if must_exist and not (folder / CATALOG).is_file():
        raise CliError(f"no stagehunt lake at {folder} (make one with ingest --lake)")
    try:
        return Lake(folder)
    except LakeError as exc:
        raise CliError(str(exc)) from None


def _ingest_lake(lake: Lake, args: argparse.Namespace, err: Console) -> None:
    with progress_reporter(err, log_lines=True) as progress:
        report = lake.ingest(list(args.paths), _options(args), progress, jobs=args.jobs)
    print_summary(report, err)
    if report.errors and report.records_read == 0 and report.files == 0:
        raise CliError("no input could be read")
    if args.strict and (report.rejects or report.errors):
        raise CliError(
            f"{len(report.rejects)} record(s) rejected, "
            f"{len(report.errors)} file error(s) (--strict)"
        )


def run_lint(args: argparse.Namespace, out: Console) -> int:
    """Findings one per block; exit 1 when there are any, 0 when the query is clean."""
    if args.detection:
        try:
            spl = load_pack("T1074").detection(args.detection).spl
        except KeyError as unknown:
            raise CliError(str(unknown.args[0]), EXIT_USAGE) from None
    else:
        spl = args.spl
    if args.macros:
        spl = MacroLibrary.from_file(args.macros).expand(spl)
    inventory = None
    if args.store is not None:
        with EventStore(args.store) as store:
            inventory = from_store(store)
    findings = lint(spl, inventory)
    for finding in findings:
        out.print(finding.render(), markup=False, highlight=False)
    n = len(findings)
    out.print(f"{n} finding{'s' if n != 1 else ''}", markup=False, highlight=False)
    return 1 if findings else 0


def run_simulate(args: argparse.Namespace, out: Console) -> int:
    """Write one scenario's files, or list the scenarios."""
    if args.list or not args.scenario:
        for scenario in SCENARIOS.values():
            out.print(
                f"{scenario.name:34} {scenario.kind:9} {scenario.description}",
                markup=False,
                highlight=False,
            )
        return 0
    if args.out is None:
        raise CliError("simulate needs --out DIR", EXIT_USAGE)
    try:
        files = simulate(args.scenario, args.out, args.seed)
    except UnknownScenario as unknown:
        raise CliError(str(unknown.args[0]), EXIT_USAGE) from None
    for path in files:
        out.print(str(path), markup=False, highlight=False)
    return 0


def _real_logs(args: argparse.Namespace, err: Console) -> Path | None:
    """``--real DIR``; else, unless ``--no-real``, the shared real set when there is one.
    What was found (or that nothing was) is one line on stderr, since the user did not
    name it."""
    if args.no_real:
        return None
    if args.real is not None:
        return Path(args.real)
    found = find_real()
    if found is None:
        _note(err, "no real logs found (shared/data/real): scenarios only; --real DIR adds some")
    else:
        _note(err, f"real logs: {found} (the shared real set; --no-real leaves them out)")
    return found


def run_validate(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Print the matrix; exit 1 on any unexpected result."""
    try:
        pack = load_pack(args.pack)
    except (FileNotFoundError, NotADirectoryError):
        raise CliError(f"unknown pack '{args.pack}'", EXIT_USAGE) from None
    checks = validate(pack, _real_logs(args, err), engine=_engine_factory(args))
    table = Table("target", "detection", "expected", "got", "rows", "verdict", "why")
    for c in checks:
        verdict = "counted" if c.expected is None else "ok" if c.ok else "UNEXPECTED"
        why = c.why if not c.missing else "missing: " + "; ".join(c.missing)
        table.add_row(
            c.target,
            c.detection,
            "—" if c.expected is None else "fires" if c.expected else "quiet",
            "fires" if c.fired else "quiet",
            str(c.rows),
            verdict,
            why,
            style=None if c.ok else "bold red",
        )
    out.print(table)
    bad = [c for c in checks if not c.ok]
    out.print(f"{len(checks) - len(bad)} of {len(checks)} checks as expected", highlight=False)
    return 1 if bad else 0


def run_atomic(args: argparse.Namespace, out: Console) -> int:
    """Print the tests' listing or one test; nothing is executed."""
    try:
        text = atomics.listing() if args.atomic_command == "list" else atomics.show(args.number)
    except KeyError as unknown:
        raise CliError(str(unknown.args[0]), EXIT_USAGE) from None
    out.print(text, markup=False, highlight=False, soft_wrap=True)
    return 0


def _note(err: Console, text: str) -> None:
    err.print(text, markup=False, highlight=False, soft_wrap=True)


def run_to_sigma(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Sigma YAML on stdout (or files in --out); what has no Sigma form on stderr."""
    from stagehunt.sigma.emit import collection_text, documents
    from stagehunt.sigma.from_spl import TranslationError, translate
    from stagehunt.sigma.pack_rules import pack_translation

    try:
        if args.pack:
            pack = _pack(args.pack)
            translation, docs = pack_translation(pack)
        else:
            pack = _pack("T1074")  # metadata only: tags, level, date
            lookups = LookupLibrary(args.lookups)
            translation = translate(args.spl, "query", lookups=lookups)
            docs = documents(translation, pack)
    except TranslationError as e:
        raise CliError(f"cannot translate: {e}", EXIT_USAGE) from None
    for u in translation.unexpressed:
        _note(err, f"not expressed: {u.render()}")
    if args.out is None:
        sys.stdout.write("---\n" + collection_text(docs))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        (args.out / f"{doc.name}.yml").write_text(doc.text(), encoding="utf-8")
    _note(err, f"{len(docs)} Sigma documents written to {args.out}")
    return 0


def _pack(pack_id: str) -> Any:
    try:
        return load_pack(pack_id)
    except (FileNotFoundError, NotADirectoryError):
        raise CliError(f"unknown pack '{pack_id}'", EXIT_USAGE) from None


def run_convert(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Each rule of the pack's sigma/ folder through one target; failures listed. The
    queries go to stdout, as sigma-cli prints them (a blank line between), unless --out
    asks for one file per rule."""
    from stagehunt.sigma import export as convert

    if args.list:
        for t in convert.targets().values():
            pipes = "+".join(p.rpartition(":")[2] for p in t.pipelines) or "-"
            _note(out, f"{t.name:16} {t.backend:12} {pipes:26} {t.description}")
        return 0
    if not args.target:
        raise CliError("convert needs --to TARGET (or --list)", EXIT_USAGE)
    pack = _pack(args.pack)
    folder = pack.folder / "sigma"
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise CliError(f"pack '{args.pack}' has no Sigma rules (sigma/*.yml)", EXIT_USAGE)
    try:
        tgt = convert.target(args.target)
    except convert.UnknownTarget as e:
        raise CliError(str(e), EXIT_USAGE) from None
    text = "---\n".join(f.read_text(encoding="utf-8") for f in files)
    results = convert.convert_text(text, tgt)
    for r in results:
        if r.error is not None:
            _note(err, f"not converted: {r.rule}: {r.error}")
    failed = any(r.error for r in results)
    if args.out is None:
        queries = [q for r in results for q in r.queries]
        if queries:
            sys.stdout.write("\n\n".join(queries) + "\n")
        rules = sum(1 for r in results if r.error is None)
        summary = f"{len(queries)} {tgt.name} queries from {rules} rules"
        _note(err, summary + "; --out DIR writes a file per rule")
        return 1 if failed and not queries else 0
    written = convert.write(results, tgt, args.out)
    _note(err, f"{len(written)} queries written to {args.out / tgt.name}")
    return 1 if failed and not written else 0


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.command == "watch":
        return watch_commands.run_watch(args, out, err)
    if args.command == "ui":
        return ui_commands.run_ui(args, out, err)
    if args.command == "completion":
        return completion.run_completion(args, build_parser())
    if args.command == "escu":
        hooks = escu_commands.Hooks(_load, _engine_factory, _open_lake, _spark, _limit_memory)
        return escu_commands.run_escu(args, out, err, hooks)
    if args.command == "sigma":
        return sigma_commands.run_sigma(args, out, err, _load)
    if args.command == "sigma-suite":
        return sigma_commands.run_suite_command(args, out)
    if args.command == "sigma-diff":
        return sigma_commands.run_diff_command(args, out)
    if args.command == "to-sigma":
        return run_to_sigma(args, out, err)
    if args.command == "convert":
        return run_convert(args, out, err)
    if args.command == "atomic":
        return run_atomic(args, out)
    if args.command == "validate":
        return run_validate(args, out, err)
    if args.command == "simulate":
        return run_simulate(args, out)
    if args.command == "lint":
        return run_lint(args, out)
    if args.command == "ingest":
        if (args.store is None) == (args.lake is None):
            raise CliError("ingest needs --store FILE.duckdb or --lake DIR", EXIT_USAGE)
        if args.lake is not None:
            _ingest_lake(_open_lake(args.lake, must_exist=False), args, err)
            return 0
        with EventStore(args.store) as store:
            _limit_memory(store.connection, args)
            _load(store, args.paths, args, err)
        return 0
    macros = MacroLibrary.from_file(args.macros) if args.macros else None
    lookups_dir: Path | None = args.lookups
    if args.command == "search":
        spl = args.spl
    else:
        pack = load_pack("T1074")
        try:
            detection = pack.detection(args.detection)
        except KeyError as unknown:
            raise CliError(str(unknown.args[0]), EXIT_USAGE) from None
        spl = detection.spl
        lookups_dir = lookups_dir or detection.lookups
    lookups = LookupLibrary(lookups_dir, geoip=args.geoip)
    paths: list[Path] = list(args.paths)
    # parse before loading: a broken query fails fast
    compile_query(spl, {}, macros=macros, lookups=lookups)
    if args.lake is not None:
        if paths or args.store is not None:
            raise CliError("--lake reads the lake only: give no PATH and no --store", EXIT_USAGE)
        lake = _open_lake(args.lake, must_exist=True)
        compiled = compile_query(
            spl,
            lake.schema(),
            physical=lake.physical(),
            macros=macros,
            lookups=lookups,
            knowledge=bundled_knowledge() if args.addons else None,
        )
        backend: Backend
        if args.engine == "spark":
            backend = lake.spark(_spark(args), compiled.time_range)
        else:
            backend = duck = lake.duckdb(compiled.time_range)
            _limit_memory(duck.connection, args)
        _run_or_explain(backend, spl, args, out, macros, lookups, err)
        return 0
    if args.command == "hunt" and not paths and args.store is None:
        paths = sample_paths()
    with EventStore(args.store) as store:
        _limit_memory(store.connection, args)
        _load(store, paths, args, err)
        _run_or_explain(_engine_factory(args)(store), spl, args, out, macros, lookups, err)
    return 0


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # a pipe or file gets wide rows instead of Rich's default 80 columns
    out = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 250)
    # stderr that outlives its reader: a load commits though `2>&1 | head` stopped reading
    err = Console(file=cast(IO[str], Diagnostics(sys.stderr)), soft_wrap=True)
    with stop_on_signals():  # `kill PID` and Ctrl-C clean up, then exit quietly
        try:
            return _reported(args, out, err)
        except Terminated:
            return EXIT_TERMINATED
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED


def _reported(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run the command; a failure the user can act on is one line on stderr and an exit
    code, never a traceback."""
    try:
        try:
            return run(args, out, err)
        except Exception:
            check_stop()  # DuckDB reports a signal as its own error: the stop comes first
            raise
    except SplError as e:
        sys.stderr.write(e.render() + "\n")
        return EXIT_USAGE
    except (
        CliError,
        sigma_commands.SigmaUsageError,
        escu_commands.EscuUsageError,
        ui_commands.UiUsageError,
    ) as e:
        sys.stderr.write(f"error: {e}\n")
        return e.code
    except (DialectUnsupported, LookupError_, MacroFileError) as e:
        # LookupError_ here: the lookups folder's transforms.conf cannot be read
        sys.stderr.write(f"error: {e}\n")
        return EXIT_USAGE
    except (duckdb.Error, QueryFailed) as e:
        # e.g. a regular expression RE2 rejects: the query is at fault, not the program
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        sys.stderr.write(f"error: the query failed while running: {first}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader went away (`stagehunt ... | head`): not an error, stop quietly
        _silence_stdout()
        return 0
    except OSError as e:
        sys.stderr.write(f"error: {e.strerror or e}: {e.filename or ''}\n")
        return EXIT_INPUT


def entry() -> NoReturn:
    """The ``stagehunt`` command: `main`, then exit without freeing the heap object by
    object. After a library run millions of objects are still alive or cyclic garbage
    (sqlglot trees), and the interpreter's last collection and teardown took 7.6 s
    after an uncached ``escu run`` of 46 s (0.9 s after a warm one). Frozen, the
    collection skips them; exit handlers still run (temporary folders are removed) and
    the store was closed by its command. Tests call `main`, which leaves the heap alone."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
