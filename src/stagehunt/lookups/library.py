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
"""

from __future__ import annotations

import csv
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

#: transforms.conf default for lookups that are not time-based.
DEFAULT_MAX_MATCHES = 100
ROW = "__row"


class LookupError_(Exception):
    """A lookup that cannot be used (missing, outside the folder, malformed)."""


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

    def pattern_column(self, field: str) -> str:
        return f"__pat_{self.columns.index(field)}"

    def network_columns(self, field: str) -> tuple[str, str]:
        i = self.columns.index(field)
        return f"__net_{i}", f"__mask_{i}"


@dataclass
class LookupLibrary:
    """Lookups found in one folder (``None``: no folder, every lookup is an error)."""

    folder: Path | None
    _stanzas: dict[str, dict[str, str]] = field(default_factory=dict)
    _loaded: dict[str, LookupTable] = field(default_factory=dict)
    #: name -> (file, its write count when loaded): outputlookup may rewrite it
    _seen: dict[str, tuple[Path, int]] = field(default_factory=dict)
    #: the GeoIP database ``iplocation`` reads (None: found by stagehunt.geoip)
    geoip: Path | None = None

    def __post_init__(self) -> None:
        if self.folder is not None:
            conf = self.folder / "transforms.conf"
            if conf.is_file():
                self._stanzas = _read_conf(conf.read_text(encoding="utf-8"))

    def get(self, name: str) -> LookupTable:
        seen = self._seen.get(name)
        if name not in self._loaded or (seen and _WRITES.get(seen[0], 0) != seen[1]):
            self._loaded[name] = self._load(name)
        return self._loaded[name]

    def loaded(self) -> list[LookupTable]:
        return list(self._loaded.values())

    def _load(self, name: str) -> LookupTable:
        if self.folder is None:
            raise LookupError_(f"lookup '{name}': no lookups folder given (use --lookups DIR)")
        stanza = self._stanzas.get(name, {})
        filename = stanza.get("filename") or (name if name.endswith(".csv") else f"{name}.csv")
        path = self._inside(filename, name)
        self._seen[name] = (path, _WRITES.get(path, 0))
        options = _match_options(stanza.get("match_type", ""))
        try:
            max_matches = int(stanza.get("max_matches", DEFAULT_MAX_MATCHES))
        except ValueError:
            raise LookupError_(f"lookup '{name}': max_matches must be a number") from None
        case_sensitive = stanza.get("case_sensitive_match", "true").strip().lower() not in (
            "false", "0", "f", "no",
        )  # fmt: skip
        columns, rows = _read_csv(path, name)
        data: dict[str, list[object]] = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
        data[ROW] = list(range(len(rows)))
        table = LookupTable(
            name,
            "__lookup_" + re.sub(r"\W", "_", name),
            tuple(columns),
            case_sensitive,
            frozenset(f for f, kind in options if kind == "WILDCARD"),
            frozenset(f for f, kind in options if kind == "CIDR"),
            max(1, max_matches),
            pa.table({}),
        )
        for f in table.wildcard:
            if f not in columns:
                raise LookupError_(f"lookup '{name}': WILDCARD({f}) names no column")
            data[table.pattern_column(f)] = [_like_pattern(v) for v in data[f]]
        for f in table.cidr:
            if f not in columns:
                raise LookupError_(f"lookup '{name}': CIDR({f}) names no column")
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
        if self.folder is None:
            raise LookupError_(
                f"outputlookup '{name}': no lookups folder given (use --lookups DIR)"
            )
        stanza = self._stanzas.get(name, {})
        filename = stanza.get("filename") or (name if name.endswith(".csv") else f"{name}.csv")
        relative = Path(filename)
        if relative.is_absolute() or ".." in relative.parts or "\\" in filename:
            raise LookupError_(
                f"outputlookup '{name}': '{filename}' must be a file name inside the lookups folder"
            )
        root = self.folder.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise LookupError_(
                f"outputlookup '{name}': '{filename}' leads outside the lookups folder"
            )
        return path

    def _inside(self, filename: str, name: str) -> Path:
        assert self.folder is not None
        root = self.folder.resolve()
        path = (root / filename).resolve()
        if not path.is_relative_to(root):
            raise LookupError_(f"lookup '{name}': '{filename}' is outside the lookups folder")
        if not path.is_file():
            raise LookupError_(f"lookup '{name}': no file '{filename}' in {self.folder}")
        return path


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
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise LookupError_(f"lookup '{name}': {path.name} has no header row")
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
