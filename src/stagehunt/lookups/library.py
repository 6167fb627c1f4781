"""Lookup tables for ``lookup`` and ``inputlookup``.

A lookups folder holds CSV files and, optionally, a ``transforms.conf`` whose stanzas name
lookups and set their match rules, as Splunk's do::

    [t1074_allowlist]
    filename = t1074_allowlist.csv
    match_type = WILDCARD(Image), CIDR(src_ip)
    case_sensitive_match = false
    max_matches = 1

Without a stanza, ``lookup NAME`` reads ``NAME`` or ``NAME.csv`` from the folder with
Splunk's defaults (exact, case-sensitive match; up to 100 matches). Files are resolved
inside the folder only: a name or ``filename`` that leads outside it is refused.

Stanzas may also be given as data (``definitions``, e.g. ESCU's ``lookups/*.yml``); they
win over ``transforms.conf``. ``min_matches``/``default_match`` follow transforms.conf: an
input with fewer than ``min_matches`` matching rows gets ``default_match`` for each
missing match. A KV store lookup (``collection``, or ``external_type = kvstore``) has no
file here: it is an empty table with the columns of its ``fields_list``, and says so in
:attr:`LookupTable.note`.
"""

from __future__ import annotations

import copy
import csv
import functools
import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from stagehunt import semantics
from stagehunt.conftext import read_conf_text
from stagehunt.scratch import ScratchFolder

#: transforms.conf default for lookups that are not time-based.
DEFAULT_MAX_MATCHES = 100
#: transforms.conf: max_matches is 1 to 1000.
MAX_MAX_MATCHES = 1000
ROW = "__row"


class LookupError_(Exception):
    """A lookup that cannot be used (missing, outside the folder, malformed)."""


class LookupMissing(LookupError_):
    """The lookup's definition or its file is not there (content that was not shipped)."""


@dataclass(frozen=True)
class LookupTable:
    """One loaded lookup: its SQL name, columns, match rules and data."""

    name: str
    sql_name: str
    columns: tuple[str, ...]
    case_sensitive: bool
    wildcard: frozenset[str]
    cidr: frozenset[str]
    max_matches: int
    data: pa.Table
    #: transforms.conf min_matches (0: no default) and default_match
    min_matches: int = 0
    default_match: str = ""
    #: what a user should know about where the rows come from (a KV store: empty here)
    note: str | None = None

    @functools.cached_property
    def fingerprint(self) -> str:
        """A digest of the table as a statement compiled against it sees it (names,
        columns, match rules, every row): a statement kept with it is valid while the
        lookup loads to the same fingerprint (escu/cache.py)."""
        head = repr(
            (
                self.name,
                self.sql_name,
                self.columns,
                self.case_sensitive,
                sorted(self.wildcard),
                sorted(self.cidr),
                self.max_matches,
                self.min_matches,
                self.default_match,
                self.note,
            )
        )
        # the values as Python sees them, not Arrow's buffers (whose layout is Arrow's
        # business): ~1 ms for ESCU's largest lookups
        rows = repr((self.data.schema.to_string(), self.data.to_pydict()))
        return hashlib.sha256(f"{head}\0{rows}".encode()).hexdigest()

    def pattern_column(self, field: str) -> str:
        return f"__pat_{self.columns.index(field)}"

    def network_columns(self, field: str) -> tuple[str, str]:
        i = self.columns.index(field)
        return f"__net_{i}", f"__mask_{i}"


@dataclass
class LookupLibrary:
    """Lookups found in one folder (``None``: no folder, every lookup is an error), with
    stanzas from its ``transforms.conf`` and from ``definitions``."""

    folder: Path | None
    definitions: Mapping[str, Mapping[str, str]] | None = None
    _stanzas: dict[str, dict[str, str]] = field(default_factory=dict)
    _loaded: dict[str, LookupTable] = field(default_factory=dict)
    #: name -> (file, its write count when loaded): outputlookup may rewrite it
    _seen: dict[str, tuple[Path, int]] = field(default_factory=dict)
    #: the GeoIP database ``iplocation`` reads (None: found by stagehunt.geoip)
    geoip: Path | None = None
    #: tables (or the error) by name, shared by every :meth:`view`
    _cache: dict[str, LookupTable | LookupError_] = field(default_factory=dict)
    #: where ``outputlookup`` writes (None: ``folder``); a lookup written there is read
    #: from there afterwards. A library run (ESCU) keeps the content folder unchanged.
    writes: Path | None = None
    #: the `ScratchFolder` ``writes`` names when the folder is content a run must not
    #: change (ESCU's ``lookups/``) and no caller chose one (kept alive here, shared by
    #: every view, removed with the last of them)
    scratch: ScratchFolder | None = None

    def __post_init__(self) -> None:
        if self.folder is not None:
            conf = self.folder / "transforms.conf"
            if conf.is_file():
                self._stanzas = _read_conf(read_conf_text(conf, LookupError_))
        for name, stanza in (self.definitions or {}).items():
            self._stanzas[name] = dict(stanza)

    def get(self, name: str) -> LookupTable:
        seen = self._seen.get(name)
        if seen is not None and _WRITES.get(seen[0], 0) != seen[1]:  # rewritten since
            self._cache.pop(name, None)
            self._loaded.pop(name, None)
        if name not in self._loaded:
            if name not in self._cache:
                try:
                    self._cache[name] = self._load(name)
                except LookupError_ as err:
                    self._cache[name] = err
            found = self._cache[name]
            if isinstance(found, LookupError_):
                raise found
            self._loaded[name] = found
        return self._loaded[name]

    def loaded(self) -> list[LookupTable]:
        """The tables asked for through this library (or view), in the order asked."""
        return list(self._loaded.values())

    def view(self) -> LookupLibrary:
        """The same lookups, loaded once and shared, but :meth:`loaded` lists only what
        this view was asked for: one query's tables when many queries compile."""
        scoped = copy.copy(self)
        scoped._loaded = {}
        return scoped

    def defined(self, name: str) -> bool:
        """Whether a stanza names this lookup (its file may still be missing)."""
        return name in self._stanzas

    def _load(self, name: str) -> LookupTable:
        if self.folder is None:
            raise LookupError_(f"lookup '{name}': no lookups folder given (use --lookups DIR)")
        stanza = self._stanzas.get(name, {})
        options = _match_options(stanza.get("match_type", ""))
        max_matches = _integer(stanza, "max_matches", DEFAULT_MAX_MATCHES, name)
        if not 1 <= max_matches <= MAX_MAX_MATCHES:
            raise LookupError_(f"lookup '{name}': max_matches must be 1 to {MAX_MAX_MATCHES}")
        min_matches = _integer(stanza, "min_matches", 0, name)
        if min_matches < 0:
            raise LookupError_(f"lookup '{name}': min_matches must be 0 or more")
        case_sensitive = stanza.get("case_sensitive_match", "true").strip().lower() not in (
            "false", "0", "f", "no",
        )  # fmt: skip
        note: str | None = None
        if "collection" in stanza or stanza.get("external_type", "").lower() == "kvstore":
            collection = stanza.get("collection") or name
            columns = _fields_list(stanza.get("fields_list", ""))
            if not columns:
                raise LookupError_(f"lookup '{name}': KV store collection without fields_list")
            rows: list[list[str | None]] = []
            note = f"lookup '{name}' is KV store collection '{collection}': empty here"
        else:
            filename = stanza.get("filename") or (name if name.endswith(".csv") else f"{name}.csv")
            if "\0" in filename:  # no file name holds one (the OS refuses it: ValueError)
                raise LookupError_(f"lookup '{name}': '{filename}' holds a NUL byte")
            if self.writes is not None:  # watch where outputlookup would write it
                watch = (self.writes.resolve() / filename).resolve()
                self._seen[name] = (watch, _WRITES.get(watch, 0))
            path = self._inside(filename, name, defined=bool(stanza))
            if self.writes is None:
                self._seen[name] = (path, _WRITES.get(path, 0))
            columns, rows = _read_csv(path, name)
        data: dict[str, list[object]] = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
        data[ROW] = list(range(len(rows)))
        unknown = [f"{kind}({f})" for f, kind in options if f not in columns]
        if unknown and semantics.LOOKUP_MATCH_TYPE_OF_NO_COLUMN_IGNORED:
            options = [(f, kind) for f, kind in options if f in columns]
            ignored = f"lookup '{name}': {', '.join(unknown)} names no column (ignored)"
            note = f"{note}; {ignored}" if note else ignored
        table = LookupTable(
            name,
            "__lookup_" + re.sub(r"\W", "_", name),
            tuple(columns),
            case_sensitive,
            frozenset(f for f, kind in options if kind == "WILDCARD"),
            frozenset(f for f, kind in options if kind == "CIDR"),
            max_matches,
            pa.table({}),
            min_matches,
            stanza.get("default_match", ""),
            note,
        )
        for kind, named in (("WILDCARD", table.wildcard), ("CIDR", table.cidr)):
            for f in sorted(named):
                if f not in columns:
                    raise LookupError_(f"lookup '{name}': {kind}({f}) names no column")
        # in column order, not the frozensets' (which changes from process to process):
        # the same file is the same table, so statements kept with its fingerprint match
        for f in sorted(table.wildcard, key=columns.index):
            data[table.pattern_column(f)] = [_like_pattern(v) for v in data[f]]
        for f in sorted(table.cidr, key=columns.index):
            nets = [_network(v, name) for v in data[f]]
            net_col, mask_col = table.network_columns(f)
            data[net_col] = [n[0] if n else None for n in nets]
            data[mask_col] = [n[1] if n else None for n in nets]
        arrow = pa.table(
            {
                k: pa.array(
                    v,
                    pa.int64() if k == ROW or k.startswith(("__net_", "__mask_")) else pa.string(),
                )
                for k, v in data.items()
            }
        )
        return LookupTable(**{**table.__dict__, "data": arrow})

    def output_path(self, name: str) -> Path:
        """Where ``outputlookup NAME`` writes: ``NAME``'s ``filename`` (or ``NAME.csv``)
        inside the folder. Absolute names, ``..`` and symlinks leading out are refused."""
        target = self.writes or self.folder
        if target is None:
            raise LookupError_(
                f"outputlookup '{name}': no lookups folder given (use --lookups DIR)"
            )
        stanza = self._stanzas.get(name, {})
        filename = stanza.get("filename") or (name if name.endswith(".csv") else f"{name}.csv")
        relative = Path(filename)
        if relative.is_absolute() or ".." in relative.parts or "\\" in filename or "\0" in filename:
            raise LookupError_(
                f"outputlookup '{name}': '{filename}' must be a file name inside the lookups folder"
            )
        root = target.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise LookupError_(
                f"outputlookup '{name}': '{filename}' leads outside the lookups folder"
            )
        return path

    def _inside(self, filename: str, name: str, *, defined: bool) -> Path:
        assert self.folder is not None
        if self.writes is not None:  # written by outputlookup in this run: read that
            written = (self.writes.resolve() / filename).resolve()
            if written.is_relative_to(self.writes.resolve()) and written.is_file():
                return written
        root = self.folder.resolve()
        path = (root / filename).resolve()
        if not path.is_relative_to(root):
            raise LookupError_(f"lookup '{name}': '{filename}' is outside the lookups folder")
        if not path.is_file():
            where = f"lookup '{name}': no file '{filename}' in {self.folder}"
            raise LookupMissing(where if defined else f"{where}, and no definition names it")
        return path


def _integer(stanza: Mapping[str, str], key: str, default: int, name: str) -> int:
    try:
        return int(stanza.get(key, default))
    except ValueError:
        raise LookupError_(f"lookup '{name}': {key} must be a whole number") from None


def _fields_list(text: str) -> list[str]:
    """transforms.conf ``fields_list``: comma-separated names, each kept once."""
    names: list[str] = []
    for part in text.split(","):
        if part.strip() and part.strip() not in names:
            names.append(part.strip())
    return names


def _read_conf(text: str) -> dict[str, dict[str, str]]:
    stanzas: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = stanzas.setdefault(line[1:-1].strip(), {})
        elif current is not None and "=" in line:
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
    return stanzas


def _match_options(text: str) -> list[tuple[str, str]]:
    return [
        (m.group(2).strip(), m.group(1).upper())
        for m in re.finditer(r"(WILDCARD|CIDR)\(([^)]*)\)", text, re.IGNORECASE)
    ]


def _read_csv(path: Path, name: str) -> tuple[list[str], list[list[str | None]]]:
    try:
        if semantics.LOOKUP_ZERO_LENGTH_FILE_IS_EMPTY and path.stat().st_size == 0:
            return [], []  # what outputlookup leaves when it had no results (O3, O5)
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise LookupError_(f"lookup '{name}': {path.name} has no header row")
            if semantics.LOOKUP_HEADER_NAMES_TRIMMED:
                header = [h.strip() for h in header]
            rows: list[list[str | None]] = []
            for lineno, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    raise LookupError_(
                        f"lookup '{name}': {path.name} line {lineno} has {len(row)} values, "
                        f"the header {len(header)}"
                    )
                rows.append([v if v != "" else None for v in row])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LookupError_(f"lookup '{name}': cannot read {path.name}: {exc}") from None
    return header, rows


def _like_pattern(value: object) -> str | None:
    """A lookup WILDCARD value (``*`` glob) as a LIKE pattern with ``!`` escaping."""
    if value is None:
        return None
    return "".join("%" if ch == "*" else ("!" + ch if ch in "%_!" else ch) for ch in str(value))


def _network(value: object, name: str) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        net = ipaddress.IPv4Network(str(value), strict=False)
    except ValueError:
        raise LookupError_(f"lookup '{name}': '{value}' is not an IPv4 CIDR") from None
    return int(net.network_address), int(net.netmask)


#: how many times this process wrote each lookup file (cached copies compare with it)
_WRITES: dict[Path, int] = {}


def write_csv(
    path: Path,
    columns: list[str],
    rows: list[list[str | None]],
    *,
    append: bool,
) -> None:
    """Write (or, with ``append``, extend) a CSV lookup. Appending keeps the file's
    columns first and adds new ones after them; rows lacking a column get an empty cell.
    The file is replaced atomically, so a reader never sees half of it."""
    old_columns: list[str] = []
    old_rows: list[dict[str, str]] = []
    if append and path.is_file():
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            old_columns = list(reader.fieldnames or [])
            old_rows = [dict(r) for r in reader]
    header = old_columns + [c for c in columns if c not in old_columns]
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        if header:
            writer.writerow(header)
        for old in old_rows:
            writer.writerow([old.get(c) or "" for c in header])
        for row in rows:
            cells = dict(zip(columns, row, strict=True))
            writer.writerow([cells.get(c) or "" for c in header])
    tmp.replace(path)
    _WRITES[path] = _WRITES.get(path, 0) + 1
