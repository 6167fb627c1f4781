"""Result renderers: terminal table, CSV, JSON, JSON lines.

JSON/JSONL contract: one object per row, keys in column order, missing = ``null``,
multivalue = array of strings, numbers as JSON numbers. The terminal table shows
multivalue fields one value per line, like Splunk.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from typing import TextIO

from rich.console import Console
from rich.table import Table

from stagehunt.result import ResultTable, Value

FORMATS = ("table", "csv", "json", "jsonl")


def _cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(value)
    return str(value)


def render(result: ResultTable, fmt: str, out: TextIO, console: Console | None = None) -> None:
    if fmt == "json":
        json.dump(list(result.records()), out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "jsonl":
        for record in result.records():
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(result.columns)
        for row in result.rows:
            writer.writerow([_cell(v) for v in row])
    elif fmt == "table":
        render_table(result, console or Console(file=out))
    else:
        raise ValueError(f"unknown format {fmt!r}")


def _time_cell(value: Value) -> str:
    """``_time`` is shown as a UTC date, as Splunk renders it; other epochs stay numbers."""
    if isinstance(value, int | float):
        stamp = datetime.fromtimestamp(value, UTC)
        text = stamp.strftime("%Y-%m-%d %H:%M:%S")
        return text + (f".{stamp.microsecond // 1000:03d}" if stamp.microsecond else "")
    return _cell(value)


def render_table(result: ResultTable, console: Console) -> None:
    table = Table(show_lines=True, header_style="bold")
    for name in result.columns:
        table.add_column(name, overflow="fold")
    for row in result.rows:
        cells = [
            _time_cell(v) if name == "_time" else _cell(v)
            for name, v in zip(result.columns, row, strict=True)
        ]
        table.add_row(*cells)
    console.print(table)
    n = len(result.rows)
    console.print(f"{n} result{'s' if n != 1 else ''}", style="dim")
