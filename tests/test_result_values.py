"""result.py: engine values become the CLI's JSON contract (``None``, ``str``, a number,
``list[str]``), column by column in `normalise_rows`.

Expected values are worked out from the contract in result.py's docstring: whole floats
print as integers (``5.0`` → ``5``), a Boolean is text, a multivalue is a list of text
without missing items and an empty one is missing.
"""

from __future__ import annotations

from decimal import Decimal

from stagehunt.result import normalise, normalise_rows


def test_each_kind_of_value() -> None:
    assert normalise(None) is None
    assert normalise("x") == "x"
    assert normalise(7) == 7
    assert normalise(5.0) == 5 and type(normalise(5.0)) is int
    assert normalise(2.5) == 2.5
    assert normalise(1e16) == 1e16 and type(normalise(1e16)) is float  # beyond exact ints
    assert normalise(float("nan")) != normalise(float("nan"))  # NaN stays a float
    assert normalise(True) == "True" and normalise(False) == "False"
    assert normalise(Decimal("3.00")) == 3
    assert normalise(["a", None, 2.0, 1.5, True]) == ["a", "2", "1.5", "True"]
    assert normalise([None]) is None
    assert normalise(()) is None


def test_rows_column_by_column() -> None:
    rows = [
        ("host1", 3, 4.0, ["a", "b"], True, 17),
        ("host2", None, 2.5, None, None, 18),
        (None, 5, None, ["c", None], False, 19),
    ]
    # width 5: the sixth value (an event's store position) is not part of the row
    assert normalise_rows(rows, 5) == [
        ("host1", 3, 4, ["a", "b"], "True"),
        ("host2", None, 2.5, None, None),
        (None, 5, None, ["c"], "False"),
    ]
    assert [type(v) for v in normalise_rows(rows, 5)[0]] == [str, int, int, list, str]


def test_rows_edge_cases() -> None:
    assert normalise_rows([], 3) == []
    assert normalise_rows([(1, 2), (3, 4)], 0) == [(), ()]
    # a column of text and missing values comes back as it was
    assert normalise_rows([("a",), (None,)], 1) == [("a",), (None,)]


def test_a_column_of_floats() -> None:
    column = [(1.0,), (2.5,), (None,), (float("inf"),), (-3.0,), (1e15,)]
    out = normalise_rows(column, 1)
    assert out[:3] == [(1,), (2.5,), (None,)]
    assert out[3][0] == float("inf") and out[4] == (-3,) and out[5] == (1e15,)
    assert [type(v[0]) for v in out] == [int, float, type(None), float, int, float]
