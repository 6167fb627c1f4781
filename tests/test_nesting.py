"""Nesting depth: refused past ``semantics.SPL_MAX_NESTING`` with its position, and every
stage (parse, compile, sqlglot rendering, DuckDB) runs a query nested exactly that deep.

Each query below is built so that its nesting is exactly ``n`` levels by the rule of
``SPL_MAX_NESTING`` (a group, call, NOT, sign, subsearch or operator of a chain is one
level) and its result is known by hand. Python's recursion limit is put back to its
default of 1,000 before each case: without ``recursion.ensure_room`` every case at the
limit ends in a RecursionError (measured: ~20 frames per level).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest

from stagehunt import cli
from stagehunt.api import run_spl
from stagehunt.semantics import SPL_MAX_NESTING, SPL_MAX_SUBSEARCH_NESTING
from stagehunt.spl.errors import SplLimitError
from stagehunt.store.event_store import EventStore

N = SPL_MAX_NESTING
MR = "| makeresults | eval a=1 "

#: name → (query nested ``n`` deep, the column of the token that opens level ``n``,
#: the visible values of the one result row at the limit, or None for no row)
Build = Callable[[int], str]
CASES: dict[str, tuple[Build, Callable[[int], int], tuple[object, ...] | None]] = {
    # n parentheses around a search term: level k opens at the k-th "("
    "search_parens": (
        lambda n: MR + "| search " + "(" * n + "a=1" + ")" * n,
        lambda n: len(MR + "| search ") + n,
        (1,),
    ),
    # n NOTs: an even number cancels out (2.1.2), so a=1 still matches
    "search_nots": (
        lambda n: MR + "| search " + "NOT " * n + "a=1",
        lambda n: len(MR + "| search ") + 4 * (n - 1) + 1,
        (1,),
    ),
    # eval parentheses nest the parser only: x is 1
    "eval_parens": (
        lambda n: MR + "| eval x=" + "(" * n + "1" + ")" * n,
        lambda n: len(MR + "| eval x=") + n,
        (1, 1),
    ),
    # n operators: 1+1+...+1 with n+1 terms is n+1 (3.13 left to right)
    "operator_chain": (
        lambda n: MR + "| eval x=" + "+".join(["1"] * (n + 1)),
        lambda n: len(MR + "| eval x=") + 2 * n,
        (1, N + 1),
    ),
    # n calls: abs(abs(...abs(1)...)) is 1
    "calls": (
        lambda n: MR + "| eval x=" + "abs(" * n + "1" + ")" * n,
        lambda n: len(MR + "| eval x=") + 4 * (n - 1) + 1,
        (1, 1),
    ),
    # n signs: an even number of minus signs is +1
    "signs": (
        lambda n: MR + "| eval x=" + "-" * n + "a",
        lambda n: len(MR + "| eval x=") + n,
        (1, 1),
    ),
}

SUB = "[| makeresults | eval a=1 | search a=1 "


def subsearches(n: int) -> str:
    """n subsearches inside one another, each `a=1` on makeresults' one row: the innermost
    result is a=1, so every filter (S1) keeps the row."""
    return MR + "| search a=1 " + SUB * n + "]" * n


@pytest.fixture
def default_stack() -> Iterator[None]:
    """Python's default recursion limit for the case, the previous one afterwards."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(before)


@pytest.fixture(scope="module")
def store() -> Iterator[EventStore]:
    with EventStore() as s:
        yield s


@pytest.mark.parametrize("name", list(CASES))
def test_nesting_at_the_limit_runs(name: str, store: EventStore, default_stack: None) -> None:
    build, _column, expected = CASES[name]
    result = run_spl(build(N), store)
    visible = [tuple(v for c, v in zip(result.columns, row, strict=True) if c != "_time")
               for row in result.rows]  # fmt: skip
    assert visible == ([expected] if expected is not None else [])


@pytest.mark.parametrize("name", list(CASES))
def test_nesting_past_the_limit_is_refused_where_it_goes_past(
    name: str, store: EventStore, default_stack: None
) -> None:
    build, column, _expected = CASES[name]
    with pytest.raises(SplLimitError) as caught:
        run_spl(build(N + 1), store)
    assert caught.value.line == 1
    assert caught.value.column == column(N + 1)
    assert f"nesting deeper than {N} levels" in caught.value.message


@pytest.mark.parametrize(
    ("query", "column"),
    [
        # the cases: 3,000 search parentheses (level 257 opens at column 12 + 257)
        ("EventCode=1 " + "(" * 3000 + "a=1" + ")" * 3000, 12 + N + 1),
        # 5,000 eval parentheses: `| makeresults | eval x=` is 23 characters
        ("| makeresults | eval x=" + "(" * 5000 + "1" + ")" * 5000, 23 + N + 1),
    ],
)
def test_deep_query_is_one_line_exit_2(
    query: str, column: int, capsys: pytest.CaptureFixture[str], default_stack: None
) -> None:
    code = cli.main(["search", query])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert err.splitlines()[0] == (
        f"error at line 1, column {column}: nesting deeper than {N} levels "
        "(parentheses, brackets, function calls and operators inside one another)"
    )


def test_subsearches_at_their_limit_run(store: EventStore, default_stack: None) -> None:
    result = run_spl(subsearches(SPL_MAX_SUBSEARCH_NESTING), store)
    assert [row[1:] for row in result.rows] == [(1,)]


def test_subsearches_past_their_limit_are_refused(store: EventStore) -> None:
    n = SPL_MAX_SUBSEARCH_NESTING + 1
    with pytest.raises(SplLimitError) as caught:
        run_spl(subsearches(n), store)
    # subsearch n + 1 opens at its "[", its pipeline (where the level is counted) one later
    assert caught.value.column == len(MR + "| search a=1 ") + len(SUB) * (n - 1) + 2
    assert caught.value.message == (
        f"subsearches nested deeper than {SPL_MAX_SUBSEARCH_NESTING} levels"
    )
