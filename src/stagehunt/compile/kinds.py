"""What the compiler knows about a value: its SQL expression and its SPL kind.

Splunk values are untyped strings that act as numbers when they look like numbers (rule
1.1). In SQL we keep a static *kind* per expression so that each operator can pick the
right construct once, at compile time, instead of testing types per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlglot import exp

from stagehunt.store.schema import ColumnKind


class Kind(Enum):
    STR = "string"  # VARCHAR: a single value (data values, string results)
    NUM = "number"  # DOUBLE/BIGINT: eval arithmetic, counts, _time
    MV = "multivalue"  # VARCHAR[]: a multivalue field
    BOOL = "boolean"  # only inside expressions; never stored (rule 3.9)
    NULL = "null"  # statically always null (a field the data never had)


@dataclass(frozen=True)
class Typed:
    """A SQL expression with its kind."""

    sql: exp.Expression
    kind: Kind

    @property
    def is_null(self) -> bool:
        return self.kind is Kind.NULL


def kind_of_column(kind: ColumnKind) -> Kind:
    return {ColumnKind.STRING: Kind.STR, ColumnKind.MULTI: Kind.MV, ColumnKind.NUMBER: Kind.NUM}[
        kind
    ]


NULL = Typed(exp.Null(), Kind.NULL)
