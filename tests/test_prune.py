"""compile/prune.py: the CTE columns nothing after them reads are dropped from DuckDB's SQL.

Each case is a statement and what it must become, worked out by hand from the rule: a
CTE's column stays when a later CTE or the final query names it (anywhere: a projection,
a filter, a qualifier); a statement that reads columns without naming them, and a CTE
whose projections decide its rows, stay as they are. Then an SPL search over a wide
store: its SQL names only the fields it reads, and its rows are the hand-computed ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlglot

from stagehunt.api import compile_query
from stagehunt.compile.prune import prune_projections
from stagehunt.store.event_store import EventStore
from stagehunt.store.schema import ColumnKind


def pruned(sql: str) -> str:
    return prune_projections(sqlglot.parse_one(sql, read="duckdb")).sql("duckdb")


def same(sql: str) -> str:
    return sqlglot.parse_one(sql, read="duckdb").sql("duckdb")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (  # a chain: s1's a is never read, so neither is s0's a or c
            "WITH s0 AS (SELECT a AS a, b AS b, c AS c FROM t),"
            " s1 AS (SELECT a AS a, b + 1 AS b FROM s0) SELECT b FROM s1",
            "WITH s0 AS (SELECT b AS b FROM t), s1 AS (SELECT b + 1 AS b FROM s0) SELECT b FROM s1",
        ),
        (  # a filter reads b: it stays in s0
            "WITH s0 AS (SELECT a AS a, b AS b, c AS c FROM t),"
            " s1 AS (SELECT a AS a FROM s0 WHERE b > 1) SELECT a FROM s1",
            "WITH s0 AS (SELECT a AS a, b AS b FROM t),"
            " s1 AS (SELECT a AS a FROM s0 WHERE b > 1) SELECT a FROM s1",
        ),
        (  # x.f may be a struct's field: x stays
            "WITH s0 AS (SELECT x AS x, y AS y FROM t) SELECT x.f FROM s0",
            "WITH s0 AS (SELECT x AS x FROM t) SELECT x.f FROM s0",
        ),
        (  # names differ only in case: the same column
            'WITH s0 AS (SELECT a AS "Host", b AS b FROM t) SELECT "host" FROM s0',
            'WITH s0 AS (SELECT a AS "Host" FROM t) SELECT "host" FROM s0',
        ),
        (  # nothing read: one column stays, so the CTE still has its rows
            "WITH s0 AS (SELECT a AS a, b AS b FROM t) SELECT COUNT(*) AS n FROM s0",
            "WITH s0 AS (SELECT a AS a FROM t) SELECT COUNT(*) AS n FROM s0",
        ),
    ],
)
def test_unread_columns_are_dropped(before: str, after: str) -> None:
    assert pruned(before) == same(after)


@pytest.mark.parametrize(
    "sql",
    [
        # grouping, DISTINCT and aggregates decide the rows
        "WITH s0 AS (SELECT a AS a, COUNT(*) AS n FROM t GROUP BY a) SELECT n FROM s0",
        "WITH s0 AS (SELECT DISTINCT a AS a, b AS b FROM t) SELECT a FROM s0",
        "WITH s0 AS (SELECT COUNT(*) AS n, MAX(b) AS m FROM t) SELECT n FROM s0",
        # UNNEST makes rows
        "WITH s0 AS (SELECT UNNEST(l) AS v, b AS b FROM t) SELECT b FROM s0",
        # reads without names: *, USING
        "WITH s0 AS (SELECT a AS a, b AS b FROM t) SELECT * FROM s0",
        "WITH s0 AS (SELECT a AS a, b AS b FROM t) SELECT s0.* FROM s0",
        "WITH s0 AS (SELECT a AS a, b AS b FROM t) SELECT u.c FROM s0 JOIN u USING (a)",
    ],
)
def test_statements_that_read_unnamed_columns_or_shape_rows_stay(sql: str) -> None:
    assert pruned(sql) == same(sql)


def test_the_input_tree_is_never_modified() -> None:
    """A cached dataset's CTEs are shared by many statements (compile/datamodel.py): the
    pruned statement is a new tree, the input stays whole; with nothing to drop, the
    input itself comes back (no copy)."""
    text = "WITH s0 AS (SELECT a AS a, b AS b FROM t) SELECT b FROM s0"
    tree = sqlglot.parse_one(text, read="duckdb")
    out = prune_projections(tree)
    assert out is not tree
    assert out.sql("duckdb") == same("WITH s0 AS (SELECT b AS b FROM t) SELECT b FROM s0")
    assert tree.sql("duckdb") == same(text)
    kept = sqlglot.parse_one("WITH s0 AS (SELECT b AS b FROM t) SELECT b FROM s0")
    assert prune_projections(kept) is kept


def test_a_tree_of_the_callers_own_loses_its_columns_in_place() -> None:
    """The emptiness check prunes CTEs it owns (compile/emptiness.py): the same tree comes
    back, pruned as a copy would be."""
    text = "WITH s0 AS (SELECT a AS a, b AS b FROM t) SELECT b FROM s0"
    tree = sqlglot.parse_one(text, read="duckdb")
    assert prune_projections(tree, own=True) is tree
    assert tree.sql("duckdb") == same("WITH s0 AS (SELECT b AS b FROM t) SELECT b FROM s0")


def test_a_search_over_a_wide_store_names_only_what_it_reads(tmp_path: Path) -> None:
    """60 fields F00..F59 on 4 events; ``eval`` and ``stats`` read F01 and F02 only. The
    statement DuckDB gets names neither F03 nor F59, and gives the hand-computed rows:
    F01 'x' twice (F02 1 and 2, doubled: sum 6), 'y' twice (5 and 7, doubled: sum 24),
    in F01 order (rule 6.5)."""
    events = tmp_path / "events.jsonl"
    values = [("x", "1"), ("y", "5"), ("x", "2"), ("y", "7")]
    lines = []
    for i, (f01, f02) in enumerate(values):
        record = {f"F{n:02d}": f"v{i}{n}" for n in range(60)}
        record.update({"F01": f01, "F02": f02, "_time": f"2025-03-04T10:0{i}:00Z"})
        lines.append(json.dumps(record))
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with EventStore(in_memory=True) as store:
        store.load([events])
        schema = store.schema()
        assert {f"F{n:02d}" for n in range(60)} <= set(schema)
        assert schema["F02"] in (ColumnKind.STRING, ColumnKind.NUMBER)
        spl = "F01=* | eval doubled=F02*2 | stats sum(doubled) as s, count by F01"
        compiled = compile_query(spl, schema, physical={n: store.column_for(n) for n in schema})
        sql = compiled.render("duckdb")
        assert '"F03"' not in sql and '"F59"' not in sql
        rows = store.connection.execute(sql).fetchall()
    assert [tuple(r[:3]) for r in rows] == [("x", 6, 2), ("y", 24, 2)]
