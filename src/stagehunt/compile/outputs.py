"""Side effects a compiled query asks for once it has run (``outputlookup``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
