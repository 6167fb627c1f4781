"""The reference evaluator against the Example column of ``shared/spl-semantics.md``."""

from __future__ import annotations

from typing import Any

import pytest

from reference.evaluator import Output, run


def rows(spl: str, records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return run(spl, records).rows


def t(i: int, **fields: Any) -> dict[str, Any]:
    return {"_time": float(i), **fields}


def test_1_4_default_order_newest_first_ties_in_input_order() -> None:
    recs = [t(1, x="a"), t(3, x="b"), t(1, x="c"), t(3, x="d")]
    assert rows("x=* | table x", recs) == [("b",), ("d",), ("a",), ("c",)]


def test_1_4_stats_first_takes_newest() -> None:
    recs = [t(1, x="old"), t(3, x="new"), t(2, x="mid")]
    assert rows("x=* | stats first(x) as f", recs) == [("new",)]


def test_2_2_1_whole_value_case_insensitive() -> None:
    recs = [t(1, host="WebServer"), t(2, host="webserver2")]
    assert rows("host=webserver | table host", recs) == [("WebServer",)]


def test_2_2_2_equality_is_string_comparison() -> None:
    recs = [t(1, EventCode="11"), t(2, EventCode="011"), t(3, EventCode="11.0")]
    assert rows("EventCode=11 | table EventCode", recs) == [("11",)]


def test_2_2_3_range_numeric_or_lexicographic() -> None:
    recs = [t(1, xqp="10"), t(2, xqp="3"), t(3, xqp="abc"), t(4)]
    assert rows("xqp>5 | table xqp", recs) == [("abc",), ("10",)]


def test_2_2_4_and_2_3_4_glob_with_backslashes() -> None:
    recs = [
        t(1, f="C:\\Users\\a\\AppData\\Local\\Temp\\x.zip"),
        t(2, f="C:\\TEMP\\a"),
        t(3, f="C:\\temp2\\a"),
        t(4, f="C:/temp/a"),
    ]
    got = rows('f="*\\\\Temp\\\\*" | table f', recs)
    assert got == [("C:\\TEMP\\a",), ("C:\\Users\\a\\AppData\\Local\\Temp\\x.zip",)]


def test_2_2_4_glob_has_no_like_metacharacters() -> None:
    recs = [t(1, u="svc_backup"), t(2, u="svcXbackup"), t(3, u="a%b")]
    assert rows('u="svc_*" | table u', recs) == [("svc_backup",)]
    assert rows('u="a%*" | table u', recs) == [("a%b",)]


def test_2_2_6_not_equal_vs_not() -> None:
    recs = [t(3, L="a"), t(2, L="b"), t(1)]
    assert rows("L!=a | table L", recs) == [("b",)]
    assert rows("NOT L=a | table L", recs) == [("b",), (None,)]
    assert rows("NOT L=* | table L", recs) == [(None,)]
    assert rows("L!=* | table L", recs) == []


def test_2_2_7_in_with_wildcards() -> None:
    recs = [t(3, s="404"), t(2, s="500"), t(1, s="200")]
    assert rows("s IN (4*, 500) | table s", recs) == [("404",), ("500",)]


def test_2_2_10_multivalue_any_match() -> None:
    recs = [t(1, tags=["x", "y"]), t(0, tags=["z", "w"])]
    assert rows("tags=y | table tags", recs) == [(["x", "y"],)]
    assert rows("tags!=y | table tags", recs) == [(["z", "w"],)]


def test_2_1_2_or_binds_tighter_than_and() -> None:
    recs = [t(1, a="0", b="0", c="1")]
    assert rows("a=1 b=1 OR c=1 | table a", recs) == []
    assert rows("c=1 OR a=1 b=0 | table a", recs) == [("0",)]


def test_3_5_concat_and_plus() -> None:
    out = rows('x=* | eval a="a" . 1, b="a"+"b", c=1+2, d=2.5 . "" | table a b c d', [t(1, x="1")])
    assert out == [("a1", "ab", 3, "2.5")]


def test_3_6_numeric_comparison_of_field_values() -> None:
    recs = [t(2, e="11"), t(1, e="011")]
    assert rows("e=* | where e=11 | table e", recs) == [("11",), ("011",)]


def test_3_7_string_comparison_is_case_sensitive() -> None:
    recs = [t(2, x="abc"), t(1, x="ABC")]
    assert rows('x=* | where x="abc" | table x', recs) == [("abc",)]


def test_3_8_division_by_zero_is_null() -> None:
    assert rows("x=* | eval d=1/0 | table d", [t(1, x="1")]) == [(None,)]


def test_3_10_null_assignment_removes_field() -> None:
    assert rows("x=* | eval x=null() | table x", [t(1, x="1")]) == [(None,)]


def test_3_11_null_propagation() -> None:
    assert rows('a=* | eval d=a-b, s="x".b | table d s', [t(1, a="1")]) == [(None, None)]


def test_3_12_comparisons_with_null_and_if() -> None:
    recs = [t(2, x="a"), t(1)]
    assert rows('NOT q=1 | where x!="a" | table x', recs) == []
    assert rows('NOT q=1 | eval r=if(n>1,"y","n") | table r', recs) == [("n",), ("n",)]
    # T6, three-valued: NOT of null is null, so the event without x is dropped.
    assert rows('NOT q=1 | where NOT x="b" | table x', recs) == [("a",)]


def test_3_13_left_to_right() -> None:
    assert rows("x=* | eval a=1, b=a+1 | table b", [t(1, x="1")]) == [(2,)]


def test_3_14_multivalue_any_match_in_where() -> None:
    recs = [t(1, S=["ArchiveCreated", "ScriptedCopy"]), t(0, S=["Other", "x"])]
    assert rows('S=* | where S="ArchiveCreated" | table S', recs) == [
        (["ArchiveCreated", "ScriptedCopy"],)
    ]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('case(s==200,"OK")', None),
        ('case(s==200,"OK",true(),"Other")', "Other"),
        ("if(1==2,1,0)", 0),
        ('coalesce(nothere,"b")', "b"),
        ('if(match("C:\\\\a\\\\X.ZIP","(?i)\\.(zip)$"),1,0)', 1),
        ('if(match("robocopy.exe","xcopy"),1,0)', 0),
        ("if(isnull(nothere),1,0)", 1),
        ('len("abc")', 3),
        ('mvindex(split("a,b,c",","),-1)', "c"),
        ('mvjoin(split("1,2",","),";")', "1;2"),
        ("mvcount(nothere)", None),
        ('mvcount(split("a,b",","))', 2),
        ('upper("aB")', "AB"),
        ('tonumber("2.5")+1', 3.5),
        ('tostring(3.0) . "x"', "3x"),
        ("round(2.5)", 3),
        ("round(-2.5)", -3),
        ("abs(0-4)", 4),
    ],
)
def test_4_functions(expr: str, expected: object) -> None:
    assert rows(f"s=* | eval r={expr} | table r", [t(1, s="404")]) == [(expected,)]


def test_4_lower_multivalue() -> None:
    out = rows('s=* | eval r=lower(split("A,B",",")) | table r', [t(1, s="1")])
    assert out == [(["a", "b"],)]


def test_6_3_stats_drops_null_by() -> None:
    recs = [t(2, h="a", c="x"), t(1, h="a")]
    assert rows("h=* | stats count by h, c", recs) == [("a", "x", 1)]


def test_6_4_multivalue_by_field() -> None:
    recs = [t(1, tags=["x", "y"]), t(0, tags=["y", "z"])]
    assert rows("tags=* | stats count by tags", recs) == [("x", 1), ("y", 2), ("z", 1)]


def test_6_5_group_order_numbers_before_strings() -> None:
    recs = [t(i, k=v) for i, v in enumerate(["b", "10", "9", "B", "2.5"])]
    out = rows("k=* | stats count by k", recs)
    assert [r[0] for r in out] == ["2.5", "9", "10", "B", "b"]


def test_6_6_count_and_count_field() -> None:
    recs = [t(3, f="1"), t(2, f="2"), t(1)]
    assert rows("NOT q=1 | stats count, count(f) as cf", recs) == [(3, 2)]


def test_6_7_dc_of_strings() -> None:
    recs = [t(3, f="1"), t(2, f="1.0"), t(1, f="01")]
    assert rows("f=* | stats dc(f) as d, dc(nothere) as z", recs) == [(3, 0)]


def test_6_8_values_sorted_by_bytes() -> None:
    recs = [t(i, f=v) for i, v in enumerate(["b", "B", "10", "9", "b"])]
    assert rows("f=* | stats values(f) as v", recs) == [(["10", "9", "B", "b"],)]


def test_6_9_list_input_order_capped() -> None:
    recs = [t(i, f=str(i)) for i in range(150)]
    (out,) = rows("f=* | stats list(f) as l", recs)
    assert out[0] == [str(i) for i in range(149, 49, -1)]


def test_6_10_earliest_latest_time() -> None:
    recs = [t(5, f="a"), t(2, f="b"), t(9, f="c")]
    assert rows("f=* | stats earliest(_time) as e, latest(_time) as l", recs) == [(2.0, 9.0)]


def test_6_12_min_max() -> None:
    recs = [t(1, f="9"), t(2, f="10")]
    assert rows("f=* | stats max(f) as m, min(f) as n", recs) == [(10.0, 9.0)]
    recs = [t(1, f="b"), t(2, f="a")]
    assert rows("f=* | stats max(f) as m", recs) == [("b",)]


def test_6_13_avg_ignores_non_numbers() -> None:
    recs = [t(1, f="2"), t(2, f="x"), t(3, f="4")]
    assert rows("f=* | stats avg(f) as a, sum(f) as s", recs) == [(3.0, 6.0)]


def test_7_5_missing_sorts_last_both_ways() -> None:
    recs = [t(3, x="1"), t(2), t(1, x="2")]
    assert rows("NOT q=1 | sort x | table x", recs) == [("1",), ("2",), (None,)]
    assert rows("NOT q=1 | sort - x | table x", recs) == [("2",), ("1",), (None,)]


def test_7_4_auto_numeric_then_strings() -> None:
    recs = [t(i, x=v) for i, v in enumerate(["9", "abc", "10", "Abc"])]
    assert rows("x=* | sort x | table x", recs) == [("9",), ("10",), ("Abc",), ("abc",)]
    assert rows("x=* | sort -x | table x", recs) == [("abc",), ("Abc",), ("10",), ("9",)]


def test_7_2_sort_limit() -> None:
    recs = [t(i, x=str(i)) for i in range(5)]
    assert rows("x=* | sort 2 x | table x", recs) == [("0",), ("1",)]
    assert len(rows("x=* | sort 0 x | table x", recs)) == 5


def test_7_6_sort_is_stable() -> None:
    recs = [t(3, x="1", y="a"), t(2, x="1", y="b"), t(1, x="0", y="c")]
    assert rows("x=* | sort - x | table y", recs) == [("a",), ("b",), ("c",)]


def test_8_table_absent_field_is_empty_column() -> None:
    out = run("x=* | stats count by x | table _time x", [t(1, x="a")])
    assert out == Output(["_time", "x"], [(None, "a")])


def test_8_rename_missing_source_nulls_target() -> None:
    recs = [t(2, pid="1", product_id="p"), t(1, product_id="q")]
    out = rows("product_id=* | rename pid AS product_id | table product_id", recs)
    assert out == [("1",), (None,)]


def test_8_dedup_drops_null_and_keeps_first() -> None:
    recs = [t(3, x="a", y="1"), t(2, x="a", y="2"), t(1, y="3")]
    assert rows("y=* | dedup x | table y", recs) == [("1",)]
    assert rows("y=* | dedup x keepempty=true | table y", recs) == [("1",), ("3",)]


def test_8_head_tail_fillnull_fields() -> None:
    recs = [t(i, x=str(i)) for i in range(5)]
    assert rows("x=* | head 2 | table x", recs) == [("4",), ("3",)]
    assert rows("x=* | tail 2 | table x", recs) == [("0",), ("1",)]
    assert rows('x=* | fillnull value="-" y | table y', recs[:1]) == [("-",)]
    assert rows("x=* | fields - x | table x _time", recs[:1]) == [(None, 0.0)]
