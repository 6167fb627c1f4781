"""Rendering for Spark (compile/dialects.py) and the time range storage may prune by —
checked without starting Spark; the engine parity itself is tests/test_spark_parity.py."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot

from stagehunt import cli
from stagehunt.api import compile_query
from stagehunt.compile.dialects import DialectUnsupported, java_time_format
from stagehunt.store.schema import ColumnKind


def test_strftime_becomes_a_java_pattern_with_literal_text_quoted() -> None:
    assert java_time_format("%Y-%m-%dT%H:%M:%SZ") == "yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'"
    assert java_time_format("it's %d%%") == "'it''s 'dd'%'"


def test_a_construct_spark_lacks_is_named_not_mistranslated() -> None:
    query = compile_query('| makeresults | eval z=tostring(1234567, "commas")', {})
    assert "FORMAT('{:,}'" in query.render("duckdb").upper()
    with pytest.raises(DialectUnsupported, match=r'tostring\(x, "commas"\) is not supported'):
        query.render("spark")


def test_cli_unsupported_on_spark_is_one_line_exit_2(
    spark: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    spl = '| makeresults | eval z=tostring(1234567, "commas")'
    assert cli.main(["search", spl, "--engine", "spark", "--explain"]) == 2
    err = capsys.readouterr().err
    assert err == 'error: tostring(x, "commas") is not supported on the spark engine\n'


@pytest.mark.parametrize(
    ("spl", "expected"),
    [
        ("index=* earliest=100 latest=200", (100.0, 200.0)),
        ("earliest=100 earliest=150 host=a", (150.0, None)),  # both apply: the later bound
        ("(earliest=100 OR host=a)", (None, None)),  # under OR: bounds nothing
        ("index=* | where _time > 5", (None, None)),
        ("| makeresults", (None, None)),
    ],
)
def test_time_range_of_the_leading_search(
    spl: str, expected: tuple[float | None, float | None]
) -> None:
    schema = {"_time": ColumnKind.NUMBER, "host": ColumnKind.STRING, "index": ColumnKind.STRING}
    assert compile_query(spl, schema, now=1000.0).time_range == expected


def test_regexp_extract_all_keeps_its_group_on_spark() -> None:
    # rex max_match reads group 0 to count matches: DuckDB's default group is 0, Spark's 1
    query = compile_query('| makeresults | eval t="a1b2" | rex max_match=0 field=t "(?<d>\\d)"', {})
    spark = query.render("spark").upper()
    assert "REGEXP_EXTRACT_ALL(" in spark and ", 0)" in spark


def test_spark_sql_keeps_as_ctes_only_what_is_read_twice() -> None:
    """Spark's InlineCTE rule re-walks the references of every CTE that reads another
    (2 of 5 s of planning the corrected T1074 query): a CTE read once is rendered as a
    derived table in its reader; one read twice (eventstats joins its own input) stays."""
    schema = {"_time": ColumnKind.NUMBER, "host": ColumnKind.STRING, "x": ColumnKind.STRING}
    spl = "index=* x=1 | eval y=x | eventstats count by host | where count > 1 | table host y"
    tree = sqlglot.parse_one(compile_query(spl, schema).render("spark"), read="spark")
    with_ = tree.args.get("with_") or tree.args.get("with")
    names = [cte.alias_or_name for cte in with_.expressions] if with_ else []
    assert names, "eventstats reads its input twice: that CTE must stay"
    for name in names:
        reads = [t for t in tree.find_all(sqlglot.exp.Table) if t.name == name]
        assert len(reads) >= 2, f"{name} is read {len(reads)} time(s) but kept as a CTE"
