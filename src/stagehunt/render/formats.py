"""Result renderers: terminal table, CSV, JSON, JSON lines.

JSON/JSONL contract: one object per row, keys in column order, missing = ``null``,
multivalue = array of strings, numbers as JSON numbers. The terminal table shows
multivalue fields one value per line, like Splunk.

Rows arrive in batches and each batch is written before the next is asked for, so a
result of any size is written in the memory of one batch (``backends/stream.py``); the
terminal table shows the first ``TABLE_MAX_ROWS`` and counts the rest.

A number JSON cannot hold (infinity, NaN) is written as the text Splunk shows for it
(rule 3.8: ``inf``, ``-inf``, ``nan``) in every format: a JSON string in json/jsonl
(``semantics.NON_FINITE_AS_TEXT``), the same text in csv and the table.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TextIO

from rich.console import Console
from rich.table import Table

from stagehunt.result import ResultTable, Value

FORMATS = ("table", "csv", "json", "jsonl")

#: rows the terminal table renders (Rich lays out a table whole, in memory); the others
#: are counted and named under it
TABLE_MAX_ROWS = 1_000

Row = tuple[Value, ...]
Batches = Iterable[Sequence[Row]]


def number_text(value: float) -> str:
    """A number as the table and csv show it; infinity and NaN as ``inf``/``-inf``/``nan``
    (3.8), which is what Python's ``str`` gives."""
    return str(value)


def _json_value(value: Value) -> Value:
    """JSON has no infinity or NaN (``json.dumps`` would write the non-JSON ``Infinity``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return number_text(value)
    return value


def _cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(value)
    if isinstance(value, float):
        return number_text(value)
    return str(value)


def render(result: ResultTable, fmt: str, out: TextIO, console: Console | None = None) -> None:
    """Write a whole result table (the library's results, the escu and sigma commands)."""
    write(result.columns, [result.rows], fmt, out, console)


def write(
    columns: Sequence[str],
    batches: Batches,
    fmt: str,
    out: TextIO,
    console: Console | None = None,
) -> int:
    """Write rows batch by batch as they come; the number of rows written (or counted)."""
    if fmt == "json":
        return _write_json(columns, batches, out)
    if fmt == "jsonl":
        return _write_jsonl(columns, batches, out)
    if fmt == "csv":
        return _write_csv(columns, batches, out)
    if fmt == "table":
        return _write_table(columns, batches, console or Console(file=out))
    raise ValueError(f"unknown format {fmt!r}")


def _record(columns: Sequence[str], row: Row) -> dict[str, Value]:
    return {name: _json_value(v) for name, v in zip(columns, row, strict=True)}


def _write_jsonl(columns: Sequence[str], batches: Batches, out: TextIO) -> int:
    n = 0
    for batch in batches:
        out.write(
            "".join(json.dumps(_record(columns, r), ensure_ascii=False) + "\n" for r in batch)
        )
        n += len(batch)
    return n


def _write_json(columns: Sequence[str], batches: Batches, out: TextIO) -> int:
    """One array, laid out as ``json.dump(rows, indent=2)`` lays it out, one object at a
    time: each object is indented one level more and the objects separated by commas."""
    n = 0
    for batch in batches:
        for row in batch:
            text = json.dumps(_record(columns, row), ensure_ascii=False, indent=2)
            out.write(("[\n" if n == 0 else ",\n") + "  " + text.replace("\n", "\n  "))
            n += 1
    out.write("\n]\n" if n else "[]\n")
    return n


def _write_csv(columns: Sequence[str], batches: Batches, out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    n = 0
    for batch in batches:
        writer.writerows([_cell(v) for v in row] for row in batch)
        n += len(batch)
    return n


def _time_cell(value: Value) -> str:
    """``_time`` is shown as a UTC date, as Splunk renders it; other epochs stay numbers,
    and so does a ``_time`` no date can show (infinite, or past the year 9999)."""
    if isinstance(value, int | float):
        try:
            stamp = datetime.fromtimestamp(value, UTC)
        except (OverflowError, ValueError, OSError):
            return _cell(value)
        text = stamp.strftime("%Y-%m-%d %H:%M:%S")
        return text + (f".{stamp.microsecond // 1000:03d}" if stamp.microsecond else "")
    return _cell(value)


def _write_table(columns: Sequence[str], batches: Batches, console: Console) -> int:
    table = Table(show_lines=True, header_style="bold")
    for name in columns:
        table.add_column(name, overflow="fold")
    n = 0
    for batch in batches:
        for row in batch[: max(0, TABLE_MAX_ROWS - n)]:
            cells = [
                _time_cell(v) if name == "_time" else _cell(v)
                for name, v in zip(columns, row, strict=True)
            ]
            table.add_row(*cells)
        n += len(batch)
    console.print(table)
    count = f"{n:,} result{'s' if n != 1 else ''}"
    if n > TABLE_MAX_ROWS:
        count += (
            f" (the first {TABLE_MAX_ROWS:,} shown, {n - TABLE_MAX_ROWS:,} left out: "
            "--format csv, json or jsonl writes them all)"
        )
    console.print(count, style="dim")
    return n
