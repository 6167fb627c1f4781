"""The emptiness check (compile/emptiness.py): which CTEs, having no row, leave a statement
without a row, by SQL's own rules; the check a library run runs first; and that a run
through the check gives what the statement gives.

Expected sets are worked out from SQL's semantics by hand: an ungrouped aggregate over no
row is one row (``count(*)`` is 0), a grouped one is none; an inner join is empty when
either side is, an outer join when its preserved side is; a UNION when every part is, an
INTERSECT when either is, an EXCEPT when its left is; windows never add rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from stagehunt.api import compile_on
from stagehunt.backends.base import run_compiled
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.compile import emptiness
from stagehunt.compile.dialects import generate
from stagehunt.store.event_store import EventStore


def tree(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="duckdb")


CHAIN = "WITH a AS (SELECT x, y FROM t), b AS (SELECT x, y FROM a WHERE x > 1)"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # filters and projections keep an empty input empty
        (f"{CHAIN} SELECT x FROM b", {"a", "b"}),
        # count(*) of no row is one row (0): stats without by
        (f"{CHAIN}, c AS (SELECT count(*) AS n FROM b) SELECT n FROM c", {"c"}),
        # grouped: no group, no row (stats ... by)
        (f"{CHAIN}, c AS (SELECT x, count(*) AS n FROM b GROUP BY x) SELECT n FROM c",
         {"a", "b", "c"}),
        # GROUP BY ALL and ROLLUP may make a row of nothing: not followed through
        (f"{CHAIN}, c AS (SELECT x, count(*) AS n FROM b GROUP BY ALL) SELECT n FROM c", {"c"}),
        (f"{CHAIN}, c AS (SELECT x, count(*) AS n FROM b GROUP BY ROLLUP (x)) SELECT n FROM c",
         {"c"}),
        # HAVING without GROUP BY aggregates the whole input
        (f"{CHAIN}, c AS (SELECT 1 AS one FROM b HAVING count(*) = 0) SELECT one FROM c", {"c"}),
        # windows and scalar subqueries add no row
        (f"{CHAIN}, c AS (SELECT x, sum(y) OVER () AS s FROM b) SELECT s FROM c", {"a", "b", "c"}),
        (f"{CHAIN}, c AS (SELECT x, (SELECT count(*) FROM u) AS k FROM b) SELECT k FROM c",
         {"a", "b", "c"}),
        # an aggregate sqlglot does not know by class (DuckDB's fsum) is still one
        (f"{CHAIN}, c AS (SELECT fsum(y) AS s FROM b) SELECT s FROM c", {"c"}),
        # joins
        (f"{CHAIN}, c AS (SELECT x FROM u) SELECT b.x FROM b JOIN c ON b.x = c.x",
         {"a", "b", "c"}),
        (f"{CHAIN}, c AS (SELECT x FROM u) SELECT b.x FROM b LEFT JOIN c ON b.x = c.x",
         {"a", "b"}),
        (f"{CHAIN}, c AS (SELECT x FROM u) SELECT b.x FROM b RIGHT JOIN c ON b.x = c.x", {"c"}),
        (f"{CHAIN}, c AS (SELECT x FROM u) SELECT b.x FROM b FULL JOIN c ON b.x = c.x", set()),
        (f"{CHAIN}, c AS (SELECT x FROM u) SELECT b.x FROM b ANTI JOIN c ON b.x = c.x",
         {"a", "b"}),
        # set operations
        (f"{CHAIN}, c AS (SELECT x FROM u) SELECT x FROM b UNION ALL SELECT x FROM c", set()),
        (f"{CHAIN}, c AS (SELECT x FROM a) SELECT x FROM b UNION ALL SELECT x FROM c", {"a"}),
        (f"{CHAIN}, c AS (SELECT x FROM u) SELECT x FROM b INTERSECT SELECT x FROM c",
         {"a", "b", "c"}),
        (f"{CHAIN}, c AS (SELECT x FROM u) SELECT x FROM b EXCEPT SELECT x FROM c", {"a", "b"}),
        # a row of its own, a table function
        (f"{CHAIN} SELECT 1 AS one", set()),
        (f"{CHAIN} SELECT b.x FROM b, range(3) AS r(i)", {"a", "b"}),
        (f"{CHAIN} SELECT i FROM range(3) AS r(i) LEFT JOIN b ON b.x = r.i", set()),
        # a subquery in FROM
        (f"{CHAIN} SELECT x FROM (SELECT x FROM b WHERE y = 2) AS q", {"a", "b"}),
    ],
)  # fmt: skip
def test_empty_if_follows_sql_semantics(sql: str, expected: set[str]) -> None:
    assert emptiness.empty_if(tree(sql)) == expected


STATEMENT = (
    "WITH s0 AS (SELECT host, EventCode, Image FROM events),"
    " s1 AS (SELECT host, Image FROM s0 WHERE EventCode = '1'),"
    " s2 AS (SELECT host, count(*) AS n FROM s1 GROUP BY host),"
    " s3 AS (SELECT host, n FROM s2 WHERE n > 1)"
    " SELECT host, n FROM s3"
)


def test_check_is_the_streaming_prefix_with_only_the_columns_its_filters_read() -> None:
    """The prefix before the grouping, pruned: ``s1`` keeps one column (its first: a CTE
    keeps its rows), ``s0`` what ``s1`` reads (``Image`` goes)."""
    checked = emptiness.check(tree(STATEMENT))
    assert checked is not None
    assert generate(checked) == (
        "WITH s0 AS (SELECT host, EventCode FROM events),"
        " s1 AS (SELECT host FROM s0 WHERE EventCode = '1') SELECT 1 FROM s1 LIMIT 1"
    )


def test_no_check_where_an_empty_input_still_gives_a_row() -> None:
    stats_without_by = (
        STATEMENT.replace(
            "SELECT host, count(*) AS n FROM s1 GROUP BY host", "SELECT count(*) AS n FROM s1"
        )
        .replace("SELECT host, n FROM s2", "SELECT n FROM s2")
        .replace("SELECT host, n", "SELECT n")
    )
    assert emptiness.empty_if(tree(stats_without_by)) == {"s2", "s3"}
    assert emptiness.check(tree(stats_without_by)) is None


def test_no_check_when_it_would_be_the_whole_statement() -> None:
    only_filters = (
        "WITH s0 AS (SELECT x FROM t), s1 AS (SELECT x FROM s0 WHERE x = 1) SELECT x FROM s1"
    )
    assert emptiness.check(tree(only_filters)) is None


def test_check_leaves_the_statement_as_it_was() -> None:
    statement = tree(STATEMENT)
    before = statement.sql("duckdb")
    assert emptiness.check(statement) is not None
    assert statement.sql("duckdb") == before


def test_an_empty_check_means_an_empty_statement_on_duckdb() -> None:
    """Over tables with and without rows: whenever a statement's check finds no row, the
    statement has none (run both on DuckDB)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE full_ AS SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (2, 'c')) v(x, y)")
    con.execute("CREATE TABLE none_ (x INTEGER, y VARCHAR)")
    shapes = [
        "WITH a AS (SELECT x, y FROM {t}), b AS (SELECT x, y FROM a WHERE x {cmp} 1),"
        " c AS (SELECT x, count(*) AS n FROM b GROUP BY x) SELECT x, n FROM c",
        "WITH a AS (SELECT x, y FROM {t}), b AS (SELECT x, y FROM a WHERE x {cmp} 1),"
        " c AS (SELECT b.x, d.y FROM b JOIN full_ AS d ON b.x = d.x) SELECT * FROM c",
        "WITH a AS (SELECT x, y FROM {t}), b AS (SELECT x, y FROM a WHERE x {cmp} 1),"
        " c AS (SELECT x, row_number() OVER (ORDER BY y) AS r FROM b) SELECT * FROM c",
        "WITH a AS (SELECT x, y FROM {t}), b AS (SELECT x, y FROM a WHERE x {cmp} 1),"
        " c AS (SELECT DISTINCT x FROM b) SELECT x FROM c ORDER BY x",
    ]
    checked = empty = 0
    for shape in shapes:
        for table in ("full_", "none_"):
            for cmp in ("=", ">", "<"):
                sql = shape.format(t=table, cmp=cmp)
                check = emptiness.check(tree(sql))
                assert check is not None, sql
                checked += 1
                if not con.execute(generate(check)).fetchall():
                    empty += 1
                    assert con.execute(sql).fetchall() == [], sql
                else:
                    assert con.execute(generate(check)).fetchall() == [(1,)]
    assert checked == 24 and 0 < empty < checked


def _backend(tmp_path: Path) -> tuple[EventStore, DuckDBBackend]:
    path = tmp_path / "events.jsonl"
    records = [
        {"_time": 1000 + i, "host": host, "EventCode": code, "Image": image, "index": "main"}
        for i, (host, code, image) in enumerate(
            [("h1", "1", "a.exe"), ("h1", "1", "b.exe"), ("h2", "11", "a.exe")]
        )
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    store = EventStore(in_memory=True)
    store.load([path])
    return store, DuckDBBackend.from_store(store)


@pytest.mark.parametrize(
    ("spl", "rows"),
    [
        # no event matches: no group, no row
        ("index=main EventCode=4688 | eval x=1 | stats count by host", []),
        # stats without by over no event: one row, count 0 (rule 6.x: Splunk's count of
        # nothing); no check may stand for it
        ("index=main EventCode=4688 | stats count", [(0,)]),
        # events match: the check finds them, the statement runs
        ("index=main EventCode=1 | stats count by host | where count > 1", [("h1", 2)]),
    ],
)
def test_a_run_with_its_check_gives_what_the_statement_gives(
    tmp_path: Path, spl: str, rows: list[tuple[object, ...]]
) -> None:
    store, backend = _backend(tmp_path)
    with store:
        compiled = compile_on(backend, spl)
        plain = run_compiled(backend, compiled)
        with_check = compiled.with_duckdb_text()
        assert (with_check.empty_check is None) == (spl.endswith("stats count"))
        checked = run_compiled(backend, with_check)
        assert plain.rows == rows
        assert (checked.columns, checked.rows) == (plain.columns, plain.rows)


def test_a_kept_statement_keeps_its_check(tmp_path: Path) -> None:
    """A warm library run reads the check with the statement (escu/cache.py) and runs it
    first; a statement without one (stats without by) is kept without."""
    from stagehunt.api import compile_query
    from stagehunt.escu.cache import CachedStatement, get, put
    from stagehunt.sigma.cache import ConversionCache
    from stagehunt.store.schema import ColumnKind

    schema = {"_time": ColumnKind.NUMBER, "host": ColumnKind.STRING, "EventCode": ColumnKind.STRING}
    cache = ConversionCache(tmp_path)
    for spl, checked in (
        ("index=* EventCode=1 | stats count by host", True),
        ("index=* EventCode=1 | stats count", False),
    ):
        compiled = compile_query(spl, schema)
        out = put(cache, spl, "target", compiled)
        entry = get(cache, spl, "target")
        assert isinstance(entry, CachedStatement)
        assert entry.empty_check == out.empty_check == entry.compiled().empty_check
        assert (entry.empty_check is not None) is checked
        if checked:
            assert entry.empty_check == compiled.with_duckdb_text().empty_check
            assert entry.empty_check.endswith("LIMIT 1")


@pytest.mark.parametrize(
    "spl",
    [
        # SPL's random() and time() change between statements: no check may stand for them
        "index=main | where random() % 2 = 0 | stats count by host",
        "index=main | where _time < time() | stats count by host",
    ],
)
def test_no_check_calls_a_function_whose_value_changes(tmp_path: Path, spl: str) -> None:
    store, backend = _backend(tmp_path)
    with store:
        compiled = compile_on(backend, spl)
        assert compiled.with_duckdb_text().empty_check is None
        plain = compile_on(backend, spl.replace("random() % 2 = 0", "1 = 1"))
        if "random" in spl:  # the same search without it has one
            assert plain.with_duckdb_text().empty_check is not None


def test_a_check_that_fails_leaves_the_statement_to_run(tmp_path: Path) -> None:
    """A check DuckDB refuses is no reason to fail the detection: the statement runs."""
    import dataclasses

    store, backend = _backend(tmp_path)
    with store:
        compiled = compile_on(backend, "index=main EventCode=1 | stats count by host")
        broken = dataclasses.replace(
            compiled.with_duckdb_text(), empty_check="SELECT 1 FROM no_such_table LIMIT 1"
        )
        assert run_compiled(backend, broken).rows == [("h1", 2)]


def test_a_check_that_cannot_be_worked_out_leaves_the_statement_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Working out the check only saves time: should it fail, the statement has no check
    and runs as it would."""

    def broken(tree: exp.Expression, *, own: bool = False) -> str | None:
        raise RecursionError("a tree too deep to walk")

    store, backend = _backend(tmp_path)
    with store:
        compiled = compile_on(backend, "index=main EventCode=1 | stats count by host")
        monkeypatch.setattr(emptiness, "check_text", broken)
        unchecked = compiled.with_duckdb_text()
        assert unchecked.empty_check is None and unchecked.text == compiled.render("duckdb")
        assert run_compiled(backend, unchecked).rows == [("h1", 2)]
