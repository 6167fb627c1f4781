"""Eval, where, stats, sort, table and friends against spl-semantics.md §3–§8.

Every expected value is worked out by hand from the rule cited in the test name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from stagehunt.api import search_records
from stagehunt.result import Value


def rows(spl: str, records: Sequence[Mapping[str, object]] = ()) -> list[tuple[Value, ...]]:
    return search_records(spl, list(records)).rows


def one(spl: str, records: Sequence[Mapping[str, object]] = ()) -> Value:
    result = rows(spl, records)
    assert len(result) == 1 and len(result[0]) == 1, result
    return result[0][0]


MK = "| makeresults | eval "


# ----------------------------------------------------------------------------- §3 eval


def test_rule_3_2_eval_escapes_tab_and_backslash() -> None:
    assert one(MK + 'x="C:\\\\windows\\temp" | table x') == "C:\\windows\temp"


def test_rule_3_2_regex_escape_survives_eval() -> None:
    assert one(MK + 'x=if(match("a.ZIP", "(?i)\\.(zip)$"), "y", "n") | table x') == "y"


def test_rule_3_3_and_binds_tighter_than_or() -> None:
    # a OR b AND c  ≡  a OR (b AND c): with a true, b false, c false → true
    assert one(MK + "a=1, b=0, c=0 | eval r=if(a=1 OR b=1 AND c=1, 1, 0) | table r") == 1


def test_rule_3_4_double_equals_is_equals() -> None:
    assert one(MK + "s=200 | eval r=if(s==200, 1, 0) | table r") == 1


def test_rule_3_5_operators() -> None:
    assert rows(MK + 'a="a".1, b="a"+"b", c=1+2, d=7%4 | table a b c d') == [("a1", "ab", 3, 3)]


def test_rule_3_5_plus_on_numeric_field_values_adds() -> None:
    assert one("n=* | eval r=n+m | table r", [{"n": "2", "m": "3", "_time": 1}]) == "5"


def test_rule_3_6_numeric_field_equals_number() -> None:
    events = [{"_time": 3, "e": "11"}, {"_time": 2, "e": "011"}, {"_time": 1, "e": "x11"}]
    assert rows("e=* | eval r=if(e=11, 1, 0) | table e r", events) == [
        ("11", 1),
        ("011", 1),
        ("x11", 0),
    ]


def test_rule_3_7_where_string_compare_is_case_sensitive() -> None:
    events = [{"_time": 2, "s": "abc"}, {"_time": 1, "s": "ABC"}]
    assert rows('s=* | where s="abc" | table s', events) == [("abc",)]


def test_rule_3_8_division_by_zero_is_null() -> None:
    assert rows(MK + "a=1/0, b=4/2 | table a b") == [(None, 2)]


def test_rule_3_9_boolean_result_is_an_error() -> None:
    from stagehunt.spl.errors import SplSemanticError

    with pytest.raises(SplSemanticError, match="cannot be a Boolean"):
        search_records(MK + "x=(1>0)", [])


def test_rule_3_10_assigning_null_removes_the_field() -> None:
    result = search_records(MK + "x=1 | eval x=null() | table _time x", [])
    assert result.rows[0][1] is None


def test_rule_3_11_null_propagates_in_arithmetic_and_concat() -> None:
    assert rows(MK + 'a=1 | eval d=a-b, s="x".b | table d s') == [(None, None)]


def test_rule_3_12_if_with_null_predicate_takes_else() -> None:
    assert one(MK + 'r=if(nothere>1, "y", "n") | table r') == "n"


def test_rule_3_12_where_drops_null_comparison() -> None:
    events = [{"_time": 2, "x": "b"}, {"_time": 1, "y": "1"}]
    assert rows('* | where x!="a" | table x', events) == [("b",)]


def test_rule_3_13_comma_chain_left_to_right() -> None:
    assert one(MK + "a=1, b=a+1 | table b") == 2


def test_rule_3_14_multivalue_any_match_in_where() -> None:
    assert rows(MK + 'm=split("x,y", ",") | where m="y" | table m') == [(["x", "y"],)]
    assert rows(MK + 'm=split("x,y", ",") | where m="z" | table m') == []


# ----------------------------------------------------------------------------- §4 functions


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('case(1==2, "a", 1==1, "b")', "b"),
        ('coalesce(nothere, "b")', "b"),
        ('nullif("x", "x")', None),
        ('if(in("404", "404", "500"), 1, 0)', 1),
        ('if(cidrmatch("192.0.2.0/24", "192.0.2.56"), 1, 0)', 1),
        ('if(like("198.1.2.3", "198.%"), 1, 0)', 1),
        ('if(match("robocopy.exe", "xcopy"), 1, 0)', 0),
        ('len("abc")', 3),
        ('lower("AbC")', "abc"),
        ('upper("AbC")', "ABC"),
        ('replace("1/14/2023", "^(\\d{1,2})/(\\d{1,2})/", "\\2/\\1/")', "14/1/2023"),
        ('substr("string", 1, 3) . substr("string", -3)', "string"),
        ('trim(" ZZabcZZ ", " Z")', "abc"),
        ('ltrim("  a ")', "a "),
        ('rtrim("  a ")', "  a"),
        ('tonumber("0A4", 16)', 164),
        ('tostring(615, "duration")', "00:10:15"),
        ('tostring(255, "hex")', "0xFF"),
        ('mvcount(split("a,b,c", ","))', 3),
        ('mvindex(split("a,b,c", ","), -1)', "c"),
        ('mvindex(split("a,b,c", ","), 5)', None),
        ('mvjoin(split("1,2", ","), ";")', "1;2"),
        ('mvfind(split("x,err42", ","), "err\\d+")', 1),
        ("abs(-2.5)", 2.5),
        ("ceil(1.2)", 2),
        ("floor(1.8)", 1),
        ("round(2.5)", 3),
        ("round(3.14159, 2)", 3.14),
        ("pow(2, 10)", 1024),
        ("sqrt(16)", 4),
        ("ln(1)", 0),
        ("log(100)", 2),
        ("log(8, 2)", 3),
        ("exact(3)", 3),
        ('max(3, "foo")', "foo"),
        ("max(3, 10, 2)", 10),
        ('min(3, "foo")', "3"),
        ("typeof(12)", "Number"),
        ('typeof("a")', "String"),
        ('urldecode("a%20b%2Fc")', "a b/c"),
        ('md5("abc")', "900150983cd24fb0d6963f7d28e17f72"),
        ('sha1("abc")', "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ('sha256("abc")', "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ('strftime(0, "%Y-%m-%d %H:%M:%S")', "1970-01-01 00:00:00"),
        ('strptime("2024-01-01 00:00:00", "%Y-%m-%d %H:%M:%S")', 1704067200),
        ('relative_time(1704110400, "-1d@d")', 1703980800),
        ('mvjoin(mvsort(split("b,A,a", ",")), "")', "Aab"),
        ('mvjoin(mvdedup(split("b,a,b,c,a", ",")), "")', "bac"),
        ('mvjoin(mvappend("a", split("b,c", ","), "d"), "")', "abcd"),
        ('mvjoin(mvzip(split("a,b", ","), split("1,2", ",")), ";")', "a,1;b,2"),
    ],
)
def test_section_4_functions(expr: str, expected: Value) -> None:
    assert one(f"{MK}r={expr} | table r") == expected


def test_section_4_isnull_isnotnull_isnum_isstr() -> None:
    got = rows(
        MK + "a=if(isnull(nothere), 1, 0), b=if(isnotnull(_time), 1, 0), "
        'c=if(isnum(5), 1, 0), d=if(isstr("x"), 1, 0) | table a b c d'
    )
    assert got == [(1, 1, 1, 1)]


def test_section_4_mvfilter_keeps_matching_values() -> None:
    events = [{"_time": 1, "email": ["a@x.net", "b@y.com", "c@z.net"]}]
    assert one('* | eval n=mvfilter(match(email, "\\.net$")) | table n', events) == [
        "a@x.net",
        "c@z.net",
    ]


def test_section_4_lower_on_multivalue_applies_per_value() -> None:
    assert one(MK + 'm=lower(split("A,B", ",")) | table m') == ["a", "b"]


def test_section_4_case_without_match_is_null() -> None:
    assert one(MK + 's=404 | eval r=case(s==200, "OK") | table r') is None


# ----------------------------------------------------------------------------- §5 where


def test_rule_5_3_where_has_no_wildcards() -> None:
    events = [{"_time": 2, "host": "web*"}, {"_time": 1, "host": "web1"}]
    assert rows('* | where host="web*" | table host', events) == [("web*",)]
    assert rows('* | where like(host, "web%") | table host', events) == [("web*",), ("web1",)]


def test_rule_5_1_where_compares_two_fields() -> None:
    events = [{"_time": 2, "a": "x", "b": "x"}, {"_time": 1, "a": "x", "b": "y"}]
    assert rows("* | where a=b | table b", events) == [("x",)]


# ----------------------------------------------------------------------------- §6 stats

EVENTS = [
    {"_time": 100, "h": "a", "c": "x", "n": "10", "s": "b"},
    {"_time": 300, "h": "a", "n": "9", "s": "B"},
    {"_time": 200, "h": "b", "c": "y", "n": "x", "s": "10"},
]


def test_rule_6_1_output_has_only_by_fields_and_aggregates() -> None:
    result = search_records("* | stats count by h", EVENTS)
    assert result.columns == ["h", "count"]
    assert result.rows == [("a", 2), ("b", 1)]


def test_rule_6_2_as_renames_aggregate() -> None:
    assert search_records("* | stats count AS n", EVENTS).columns == ["n"]


def test_rule_6_3_null_by_field_drops_the_event() -> None:
    assert rows("* | stats count by h, c", EVENTS) == [("a", "x", 1), ("b", "y", 1)]


def test_rule_6_4_multivalue_by_field_counts_each_value() -> None:
    events = [{"_time": 1, "tags": ["x", "y"]}, {"_time": 2, "tags": ["y"]}]
    assert rows("* | stats count by tags", events) == [("x", 1), ("y", 2)]


def test_rule_6_6_count_and_count_field() -> None:
    assert rows("* | stats count, count(c) AS cc", EVENTS) == [(3, 2)]


def test_rule_6_7_dc_counts_distinct_strings() -> None:
    events = [{"_time": i, "f": v} for i, v in enumerate(["1", "1.0", "01", "1"])]
    assert one("* | stats dc(f)", events) == 3


def test_rule_6_7_dc_of_absent_field_is_zero() -> None:
    assert one("* | stats dc(nothere) AS d", EVENTS) == 0


def test_rule_6_8_values_sorted_in_byte_order() -> None:
    events = [{"_time": i, "f": v} for i, v in enumerate(["b", "B", "10", "9", "b"])]
    assert one("* | stats values(f)", events) == ["10", "9", "B", "b"]


def test_rule_6_9_list_keeps_input_order_and_caps_at_100() -> None:
    events = [{"_time": i, "f": str(i)} for i in range(150)]
    got = one("* | stats list(f) AS l", events)
    assert isinstance(got, list) and len(got) == 100
    assert got[:3] == ["149", "148", "147"]  # newest first (rule 1.4)


def test_rule_6_10_earliest_latest() -> None:
    assert rows(
        "* | stats earliest(_time) AS a, latest(_time) AS b, earliest(n) AS e, latest(n) AS l",
        EVENTS,
    ) == [(100, 300, "10", "9")]


def test_rule_6_11_first_last_follow_search_order() -> None:
    # search order is newest first: t=300 (n=9), t=200 (n=x), t=100 (n=10)
    assert rows("* | stats first(n) AS f, last(n) AS l", EVENTS) == [("9", "10")]


def test_rule_6_12_min_max_numeric_when_possible() -> None:
    events = [{"_time": 1, "f": "9"}, {"_time": 2, "f": "10"}]
    assert rows("* | stats max(f) AS mx, min(f) AS mn", events) == [("10", "9")]
    events = [{"_time": 1, "f": "b"}, {"_time": 2, "f": "a"}]
    assert one("* | stats max(f)", events) == "b"


def test_rule_6_13_numeric_functions_ignore_non_numbers() -> None:
    events = [{"_time": i, "f": v} for i, v in enumerate(["2", "x", "4"])]
    assert rows("* | stats avg(f) AS a, sum(f) AS s, range(f) AS r", events) == [(3, 6, 2)]


def test_section_6_median_stdev_perc() -> None:
    events = [{"_time": i, "f": v} for i, v in enumerate(["1", "2", "3", "4", "5"])]
    got = rows("* | stats median(f) AS m, perc50(f) AS p, stdev(f) AS s", events)
    assert got[0][0] == 3 and got[0][1] == 3
    assert got[0][2] == pytest.approx(1.5811388300841898)


def test_section_8_eventstats_appends_group_aggregates() -> None:
    got = rows("* | eventstats count AS n by h | table h n", EVENTS)
    # search order: t=300 (a), t=200 (b), t=100 (a)
    assert got == [("a", 2), ("b", 1), ("a", 2)]


# ----------------------------------------------------------------------------- §7 sort

SORT_EVENTS = [
    {"_time": 5, "x": "10"},
    {"_time": 4, "x": "9"},
    {"_time": 3, "x": "abc"},
    {"_time": 2},
    {"_time": 1, "x": "100"},
]


def test_rule_7_1_and_7_4_ascending_numbers_numerically() -> None:
    assert [r[0] for r in rows("* | sort x | table x", SORT_EVENTS)] == [
        "9",
        "10",
        "100",
        "abc",
        None,
    ]


def test_rule_7_3_and_7_5_descending_missing_last() -> None:
    got = [r[0] for r in rows("* | sort - x | table x", SORT_EVENTS)]
    assert got == ["abc", "100", "10", "9", None]
    assert [r[0] for r in rows("* | sort -x | table x", SORT_EVENTS)] == got


def test_rule_7_2_default_limit_is_10000() -> None:
    events = [{"_time": i, "x": str(i)} for i in range(10_050)]
    assert len(rows("* | sort x | table x", events)) == 10_000
    assert len(rows("* | sort 0 x | table x", events)) == 10_050
    assert len(rows("* | sort 5 x | table x", events)) == 5


def test_rule_7_4_str_forces_lexicographic() -> None:
    got = [r[0] for r in rows("* | sort str(x) | table x", SORT_EVENTS)]
    assert got == ["10", "100", "9", "abc", None]


def test_rule_7_6_ties_keep_input_order() -> None:
    events = [
        {"_time": 3, "k": "1", "id": "a"},
        {"_time": 2, "k": "1", "id": "b"},
        {"_time": 1, "k": "0", "id": "c"},
    ]
    assert [r[0] for r in rows("* | sort - k | table id", events)] == ["a", "b", "c"]


# ----------------------------------------------------------------------------- §8 others


def test_section_8_table_absent_field_is_an_empty_column() -> None:
    result = search_records("| makeresults | table _time nothere", [])
    assert result.columns == ["_time", "nothere"]
    assert result.rows[0][1] is None


def test_section_8_table_wildcards_and_order() -> None:
    events = [{"_time": 1, "ab": "1", "ac": "2", "b": "3"}]
    assert search_records("* | table b a*", events).columns == ["b", "ab", "ac"]


def test_section_8_fields_remove() -> None:
    events = [{"_time": 1, "a": "1", "b": "2"}]
    assert "a" not in search_records("* | fields - a", events).columns


def test_section_8_rename_wildcards() -> None:
    events = [{"_time": 1, "UserName": "x", "HostName": "y"}]
    result = search_records("* | rename *Name AS *_name | table User_name Host_name", events)
    assert result.rows == [("x", "y")]


def test_section_8_rename_keeps_the_field_in_its_place() -> None:
    # ESCU's `stats ... by Processes.dest Processes.user | rename Processes.* AS *`: the
    # renamed by-fields stay before the aggregates, as stats put them (6.5; rename changes
    # a field's name, not its place)
    events = [{"_time": 1, "P.dest": "h1", "P.user": "u1"}]
    result = search_records("* | stats count by P.dest P.user | rename P.* AS *", events)
    assert result.columns == ["dest", "user", "count"]
    assert result.rows == [("h1", "u1", 1)]


def test_section_8_rename_absent_onto_existing_nulls_it() -> None:
    events = [{"_time": 1, "product_id": "p1"}]
    assert rows("* | rename pid AS product_id | table product_id", events) == [(None,)]


def test_section_8_dedup_keeps_first_in_search_order_and_drops_empty() -> None:
    events = [
        {"_time": 1, "h": "a", "v": "old"},
        {"_time": 2, "h": "a", "v": "new"},
        {"_time": 3, "v": "none"},
    ]
    assert rows("* | dedup h | table v", events) == [("new",)]
    assert rows("* | dedup h keepempty=true | table v", events) == [("none",), ("new",)]


def test_section_8_head_and_tail() -> None:
    events = [{"_time": i, "n": str(i)} for i in range(1, 16)]
    assert [r[0] for r in rows("* | head 3 | table n", events)] == ["15", "14", "13"]
    assert len(rows("* | head | table n", events)) == 10
    assert [r[0] for r in rows("* | tail 2 | table n", events)] == ["1", "2"]


def test_section_8_fillnull_default_zero_and_value() -> None:
    events = [{"_time": 2, "a": "x"}, {"_time": 1, "b": "y"}]
    assert rows("* | fillnull | table a b", events) == [("x", "0"), ("0", "y")]
    assert rows('* | fillnull value="-" a | table a', events) == [("x",), ("-",)]


def test_section_8_makeresults_count() -> None:
    assert len(rows("| makeresults count=4")) == 4


def test_rule_1_1_field_values_that_parse_as_numbers_are_numbers() -> None:
    """isnum/typeof see a numeric field value as a number, a quoted literal as a string."""
    got = rows(
        '* | eval a=if(isnum(n), 1, 0), b=if(isnum("5"), 1, 0), c=typeof(n), d=typeof(s), '
        "e=if(isstr(s), 1, 0), f=if(isint(n), 1, 0) | table a b c d e f",
        [{"_time": 1, "n": "5", "s": "x"}],
    )
    assert got == [(1, 0, "Number", "String", 1, 1)]


def test_section_4_tonumber_unparsable_field_value_is_null() -> None:
    events = [{"_time": 1, "v": " 5"}, {"_time": 0, "v": "7"}]
    assert rows("* | eval r=tonumber(v) | table r", events) == [(None,), (7,)]


def test_section_2_explicit_leading_search_is_the_implicit_one() -> None:
    events = [{"_time": 2, "host": "x"}, {"_time": 1, "host": "h"}]
    assert rows("search host=h | table host", events) == [("h",)]
    assert rows("search * | table host", events) == [("x",), ("h",)]
    assert rows("search=1 | table host", events) == []  # a field named search


# stats | where: the groups kept keep stats' order (6.5) for every later command (the
# compiler filters the groups before numbering them; the numbers only order the rows)
_GROUPS = [
    {"_time": 9, "h": "web", "u": "x"},
    {"_time": 8, "h": "db", "u": "x"},
    {"_time": 7, "h": "db", "u": "y"},
    {"_time": 6, "h": "10", "u": "x"},
    {"_time": 5, "h": "10", "u": "y"},
    {"_time": 4, "h": "9", "u": "x"},
    {"_time": 3, "h": "9", "u": "y"},
    {"_time": 2, "h": "app", "u": "x"},
    {"_time": 1, "h": "app", "u": "y"},
]


def test_rule_6_5_where_after_stats_keeps_group_order() -> None:
    # counts: web 1, db 2, 10 2, 9 2, app 2; kept: count=2; ascending by h with numbers
    # first and numerically (7.4 auto): 9, 10, app, db
    spl = "h=* | stats count by h | where count=2 | table h count"
    assert rows(spl, _GROUPS) == [("9", 2), ("10", 2), ("app", 2), ("db", 2)]


def test_rule_6_5_head_and_streamstats_see_only_the_groups_kept() -> None:
    spl = "h=* | stats count by h | where count=2 | head 2 | table h"
    assert rows(spl, _GROUPS) == [("9",), ("10",)]
    spl = 'h=* | stats count by h | where h!="9" | streamstats count as pos | table h pos'
    # web is kept too (count 1): 10, app, db, web numbered 1..4 in stats order
    assert rows(spl, _GROUPS) == [("10", 1), ("app", 2), ("db", 3), ("web", 4)]


def test_rule_7_6_sort_ties_after_stats_where_keep_group_order() -> None:
    # every count kept is 2: sort - count ties everywhere, so stats order stays (7.6)
    spl = 'h=* | stats count by h | where count>1 | where h!="10" | sort - count | table h'
    assert rows(spl, _GROUPS) == [("9",), ("app",), ("db",)]


def test_rule_6_1_where_after_stats_of_a_field_no_event_has() -> None:
    # without BY, stats gives one row even over no events (6.1); values() of a field no
    # event has is missing, so that row has no field but the numbering: where keeps it
    # (0=0) or drops it (0=1), and table shows s1 empty
    spl = "* | stats values(host) AS s1 | where 0=0 | table s1"
    assert rows(spl) == [(None,)]
    assert rows("* | stats values(host) AS s1 | where 0=1 | table s1") == []
