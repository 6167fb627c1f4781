"""Query results as Python values, following the JSON contract of the CLI.

A value is ``None`` (missing), a ``str``, an ``int``/``float`` (numbers) or a
``list[str]`` (multivalue). Integral floats become ints so that counts print as ``5``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Value = None | str | int | float | list[str]

#: Types a value already has in its final form (a ``bool`` is not an ``int`` here).
_FINAL: frozenset[type] = frozenset((str, int, type(None)))
#: A column of these holds numbers as DOUBLEs (sums, averages, times).
_FLOATS: frozenset[type] = frozenset((float, type(None)))


def normalise(value: Any) -> Value:
    if type(value) in _FINAL:
        return value  # type: ignore[no-any-return]
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, int | str):
        return value
    if isinstance(value, list | tuple):
        items = [v if type(v) is str else str(normalise(v)) for v in value if v is not None]
        return items or None
    return str(value)


def normalise_rows(rows: Sequence[Sequence[Any]], width: int) -> list[tuple[Value, ...]]:
    """`normalise` on the first ``width`` values of each row, column by column: a column
    whose values are all text, whole numbers or missing (most of them) is kept as it is,
    so the per-value work is paid only where a number or a list needs it."""
    if width == 0:
        return [() for _ in rows]
    columns = list(zip(*rows, strict=False))[:width]
    if not columns:
        return []
    done: list[Sequence[Any]] = []
    for column in columns:
        types = set(map(type, column))
        if _FINAL.issuperset(types):
            done.append(column)
        elif _FLOATS.issuperset(types):
            done.append(tuple(map(_number, column)))
        else:
            done.append(tuple(map(normalise, column)))
    return list(zip(*done, strict=True))


def _number(value: float | None) -> int | float | None:
    """A float as shown: whole ones below 1e15 as ints (``is_integer`` is False for NaN
    and infinities, which stay floats); None stays None."""
    if value is not None and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def as_number(value: object) -> float | None:
    """A result value read as a number (a number, or a string that parses as one), else
    None: a Boolean, a multivalue or text is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


@dataclass
class ResultTable:
    columns: list[str]
    rows: list[tuple[Value, ...]] = field(default_factory=list)
    sql: str = ""

    def records(self) -> Iterator[dict[str, Value]]:
        for row in self.rows:
            yield dict(zip(self.columns, row, strict=True))

    def column(self, name: str) -> list[Value]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]
