"""What a compiled query needs around its run: tables to build from the data first
(``iplocation``'s addresses), and side effects once it has run (``outputlookup``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from sqlglot import exp

from stagehunt.compile import dialects


@dataclass(frozen=True)
class LookupOutput:
    """``outputlookup``: after the statement ran, the rows of ``sql`` go to ``path``."""

    name: str
    path: Path
    sql: exp.Expression
    columns: tuple[str, ...]
    append: bool
    create_empty: bool
    override_if_empty: bool

    def render(self, dialect: str = "duckdb") -> str:
        return dialects.render(self.sql, dialect, False)


@dataclass(frozen=True)
class DeferredTable:
    """A table built before the statement runs: ``sql`` (over the statement's CTEs) gives
    one column of values, ``build`` turns them into the table registered as ``sql_name``
    (``iplocation``: the distinct addresses → their locations)."""

    sql_name: str
    sql: exp.Expression
    build: Callable[[list[str]], pa.Table]

    def render(self, dialect: str = "duckdb") -> str:
        return dialects.render(self.sql, dialect, False)
