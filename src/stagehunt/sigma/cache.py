"""The conversion cache: a rule library is converted and compiled once, then reused.

Why: over SigmaHQ's Windows rules, `stagehunt sigma` spent about 1 ms a rule in pySigma, 25 ms
compiling the SPL and 50 ms rendering the SQL, against a few ms running it (bench_rules.py).
Both steps are pure functions of their inputs, so their results are kept on disk, one JSON
file per entry:

* ``spl/``: a Sigma rule -> its SPL queries (or why it does not convert). Key: the rule's
  content (``to_dict``), the pySigma and Splunk backend versions, stagehunt's code stamp.
* ``rules/``: a rule file's bytes -> its rules' SPL (or why not) and its problems, so a
  warm run does not parse the YAML with pySigma at all (that took longer than running the
  library). Key: a hash of the bytes, the versions and the code stamp. Files with a
  correlation, or with rules a correlation references, are not kept here.
* ``sql/``: one SPL query -> the DuckDB SQL it compiles to on a store (or the compile error).
  Key: the SPL text, the store's schema fingerprint (fields, kinds, physical columns: the
  statement names them), stagehunt's code stamp and the sqlglot version.

A compiled query is kept only when its SQL text is all it needs to run (no lookup tables, no
tables built from the data first, no output lookups, no relative time, no values probed from
the data while compiling). Writes go to a temporary file renamed into place; an entry that
does not read back (corrupt, truncated, another shape) is a miss and is rewritten; a cache
folder that cannot be written only costs the speed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import stagehunt
from stagehunt.compile import CompiledQuery
from stagehunt.store.event_store import EventStore

#: Environment variable naming the cache folder (``--cache-dir`` wins over it).
ENV_VAR = "STAGEHUNT_CACHE_DIR"
#: Bumped when an entry's layout changes: older entries then miss.
LAYOUT = 3
#: Distributions whose versions are part of every key.
DISTRIBUTIONS = ("pysigma", "pysigma-backend-splunk", "sqlglot")


def default_dir() -> Path:
    """``$STAGEHUNT_CACHE_DIR``, else ``$XDG_CACHE_HOME/stagehunt``, else ``~/.cache/stagehunt``."""
    named = os.environ.get(ENV_VAR)
    if named:
        return Path(named)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "stagehunt"


def add_cache_options(parser: argparse.ArgumentParser, what: str) -> None:
    """``--cache-dir DIR`` and ``--no-cache`` (``what``: what is kept, for the help)."""
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help=f"where {what} are kept between runs (default:"
        f" ${ENV_VAR}, else $XDG_CACHE_HOME/stagehunt, else ~/.cache/stagehunt)",
    )
    parser.add_argument("--no-cache", action="store_true", help=f"do not keep or read {what}")


def from_options(args: argparse.Namespace) -> ConversionCache | None:
    """The cache `add_cache_options` asked for (None with ``--no-cache``)."""
    return None if args.no_cache else ConversionCache(args.cache_dir or default_dir())


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """What every key depends on: library versions and a stamp of stagehunt's own files.

    The stamp (size and mtime of every file of the package) changes with the code, so a
    development checkout never reads entries an older compiler wrote."""
    root = Path(stagehunt.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".json", ".yml", ".toml"} and "__pycache__" not in path.parts:
            st = path.stat()
            digest.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    out = {dist: _version(dist) for dist in DISTRIBUTIONS}
    out["stagehunt"] = f"{stagehunt.__version__}+{digest.hexdigest()[:16]}"
    out["layout"] = str(LAYOUT)
    return out


def digest(*parts: object) -> str:
    """sha256 of the parts as canonical JSON (the key of an entry)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def schema_fingerprint(store: EventStore) -> str:
    """The store's fields, kinds and physical columns, in table order: what compiled SQL
    names. Two stores with the same fingerprint compile every query alike."""
    fields = [(n, k.value, store.column_for(n)) for n, k in store.schema().items()]
    return digest(fields)


@dataclass(frozen=True)
class SplEntry:
    """A rule's conversion: its SPL queries, or the reason it does not convert."""

    queries: tuple[str, ...]
    reason: str | None = None


@dataclass(frozen=True)
class SqlEntry:
    """One query compiled for a store: the SQL and its visible columns (with those
    shown even when empty, ``OutputColumn.pinned``), or the error. A query that only
    filters events (`compile.predicate`) keeps its filter instead of a statement:
    ``terms`` (rendered SQL over the events table, all of which must hold; ``sql`` is
    then empty and the result is the stored fields of the events kept)."""

    sql: str = ""
    columns: tuple[str, ...] = ()
    event_rows: bool = False
    error: str | None = None
    pinned: tuple[str, ...] = ()
    terms: tuple[str, ...] | None = None
    #: columns whose lowercase the terms read (`compile.predicate.share_lower`)
    lowered: tuple[str, ...] = ()


@dataclass(frozen=True)
class CachedRule:
    """One rule of a rule file as converted: what `convert.Converted` holds but the path."""

    id: str
    title: str
    level: str
    queries: tuple[str, ...]
    reason: str | None


@dataclass(frozen=True)
class FileEntry:
    """A rule file's rules, converted, and its problems (title, reason, True when the
    file did not load at all). Kept only for files with no correlation in or on them."""

    rules: tuple[CachedRule, ...]
    problems: tuple[tuple[str, str, bool], ...] = ()


def cacheable(compiled: CompiledQuery, probed: bool) -> bool:
    """True when the rendered SQL is all the query needs to run again later."""
    return not (
        probed
        or compiled.tables
        or compiled.deferred
        or compiled.outputs
        or compiled.datasets
        or compiled.time_range != (None, None)
        or not compiled.reads_events
    )


class ConversionCache:
    """Entries under ``root`` (``root/<kind>/<key[:2]>/<key>.json``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.json"

    def read(self, kind: str, key: str) -> dict[str, Any] | None:
        """Entry ``key`` of ``kind`` as written, or None (absent or unreadable); the
        caller says with `count` whether it could use it."""
        try:
            data = json.loads(self._path(kind, key).read_text(encoding="utf-8"))
        except (OSError, ValueError):  # absent, unreadable or not JSON: a miss
            return None
        return data if isinstance(data, dict) and data.get("key") == key else None

    def write(self, kind: str, key: str, data: dict[str, Any]) -> None:
        """Keep ``data`` (JSON) as entry ``key`` of ``kind``; a folder that cannot be
        written only costs the speed."""
        path = self._path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump({"key": key, **data}, fh)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return  # read-only or full disk: the run goes on uncached

    def get_spl(self, key: str) -> SplEntry | None:
        data = self.read("spl", key)
        try:
            entry = None if data is None else SplEntry(
                tuple(str(q) for q in data["queries"]),
                None if data["reason"] is None else str(data["reason"]),
            )  # fmt: skip
        except (KeyError, TypeError):
            entry = None
        self.count(entry)
        return entry

    def put_spl(self, key: str, entry: SplEntry) -> None:
        self.write("spl", key, {"queries": list(entry.queries), "reason": entry.reason})

    def get_sql(self, key: str) -> SqlEntry | None:
        data = self.read("sql", key)
        try:
            entry = None if data is None else SqlEntry(
                str(data["sql"]),
                tuple(str(c) for c in data["columns"]),
                bool(data["event_rows"]),
                None if data["error"] is None else str(data["error"]),
                tuple(str(c) for c in data["pinned"]),
                None if data["terms"] is None else tuple(str(t) for t in data["terms"]),
                tuple(str(c) for c in data["lowered"]),
            )  # fmt: skip
        except (KeyError, TypeError):
            entry = None
        self.count(entry)
        return entry

    def put_sql(self, key: str, entry: SqlEntry) -> None:
        self.write(
            "sql",
            key,
            {
                "sql": entry.sql,
                "columns": list(entry.columns),
                "event_rows": entry.event_rows,
                "error": entry.error,
                "pinned": list(entry.pinned),
                "terms": None if entry.terms is None else list(entry.terms),
                "lowered": list(entry.lowered),
            },
        )

    def get_file(self, key: str) -> FileEntry | None:
        data = self.read("rules", key)
        try:
            entry = None if data is None else FileEntry(
                tuple(
                    CachedRule(str(r["id"]), str(r["title"]), str(r["level"]),
                               tuple(str(q) for q in r["queries"]),
                               None if r["reason"] is None else str(r["reason"]))
                    for r in data["rules"]
                ),
                tuple((str(t), str(w), bool(x)) for t, w, x in data["problems"]),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError):
            entry = None
        self.count(entry)
        return entry

    def put_file(self, key: str, entry: FileEntry) -> None:
        rules = [
            {"id": r.id, "title": r.title, "level": r.level, "queries": list(r.queries),
             "reason": r.reason}
            for r in entry.rules
        ]  # fmt: skip
        self.write("rules", key, {"rules": rules, "problems": [list(p) for p in entry.problems]})

    def count(self, entry: object) -> None:
        """One more hit (an entry) or miss (None)."""
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
