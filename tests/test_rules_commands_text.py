"""convert, rex, spath, fromjson, xmlkv, extract, foreach, mvexpand, makemv, replace,
addtotals, top and rare against the rules of docs/commands.md (C-<command>-N).

Every expected value is worked out by hand from the rule cited in the test name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from stagehunt.api import search_records
from stagehunt.result import Value
from stagehunt.spl.errors import SplError


def rows(spl: str, records: Sequence[Mapping[str, object]] = ()) -> list[tuple[Value, ...]]:
    return search_records(spl, list(records)).rows


def one(spl: str, records: Sequence[Mapping[str, object]] = ()) -> Value:
    result = rows(spl, records)
    assert len(result) == 1 and len(result[0]) == 1, result
    return result[0][0]


MK = "| makeresults | eval "


# ----------------------------------------------------------------------------- convert


def test_rule_c_convert_4_ctime_of_a_number_with_escu_timeformat() -> None:
    # the security_content_ctime macro: 1700000000 s after the epoch is 2023-11-14 22:13:20
    # UTC (19675 days = 2023-11-14, 80000 s = 22:13:20); the fraction is dropped by %S
    spl = MK + 't=1700000000.5 | convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(t) | table t'
    assert one(spl) == "2023-11-14T22:13:20"


def test_rule_c_convert_4_ctime_of_a_number_before_the_epoch_and_of_a_missing_one() -> None:
    # -86400.25 s is 1969-12-30 23:59:59.75 UTC (%S drops the fraction); the second
    # result has no t, and still has none after the conversion
    spl = (
        "| makeresults count=2 | streamstats count as n | eval t=if(n=1, -86400.25, null())"
        ' | convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(t) | table n t'
    )
    assert rows(spl) == [(1, "1969-12-30T23:59:59"), (2, None)]


def test_rule_c_convert_2_default_timeformat() -> None:
    # default %m/%d/%Y %H:%M:%S; a stats min(_time) is a number (rule 6): firstTime=86400
    # is 1970-01-02 00:00:00
    events = [{"_time": 86400, "a": "x"}, {"_time": 90000, "a": "x"}]
    spl = "a=* | stats min(_time) as firstTime by a | convert ctime(firstTime) | table firstTime"
    assert one(spl, events) == "01/02/1970 00:00:00"


def test_rule_c_convert_4_ctime_keeps_a_value_that_is_not_a_number() -> None:
    # semantics.CONVERT_KEEPS_UNCONVERTIBLE: "abc" is no epoch time, it stays; AS writes the
    # new field and leaves the original (C-convert-1)
    spl = MK + 't="0", u="abc" | convert ctime(t) AS ct ctime(u) | table t ct u'
    assert rows(spl) == [("0", "01/01/1970 00:00:00", "abc")]


def test_rule_c_convert_5_dur2sec() -> None:
    # "00:10:15" = 10*60+15 = 615 (the Search Reference's sendmail example);
    # "1+02:00:01" = 86400 + 7200 + 1 = 93601; "soon" is no duration and stays
    spl = MK + 'a="00:10:15", b="1+02:00:01", c="soon" | convert dur2sec(a) dur2sec(b) dur2sec(c)'
    assert rows(spl + " | table a b c") == [("615", "93601", "soon")]


def test_rule_c_convert_6_memk() -> None:
    # no letter = kilobytes; m = 1024 KB; g = 1024*1024 KB
    spl = MK + 'a="10", b="2m", c="1.5g" | convert memk(a) memk(b) memk(c) | table a b c'
    assert rows(spl) == [("10", "2048", "1572864")]


def test_rule_c_convert_7_mktime_uses_timeformat() -> None:
    # 01/02/1970 00:00:00 in the default format is 86400 s after the epoch (UTC)
    spl = MK + 'a="01/02/1970 00:00:00", b="yesterday" | convert mktime(a) mktime(b) | table a b'
    assert rows(spl) == [("86400", "yesterday")]


def test_rule_c_convert_8_mstime() -> None:
    # "[MM:]SS.SSS": 1:02.5 = 60 + 2.5 = 62.5; 7.25 = 7.25
    spl = MK + 'a="1:02.5", b="7.25" | convert mstime(a) mstime(b) | table a b'
    assert rows(spl) == [("62.5", "7.25")]


def test_rule_c_convert_11_12_rmunit_and_rmcomma() -> None:
    # rmunit: "212 sec" -> 212 (Search Reference example); rmcomma: the Reference's own
    # example keeps the fraction as written: 1,000,000.00 -> 1000000.00
    spl = MK + 'd="212 sec", n="1,000,000.00" | convert rmunit(d) rmcomma(n) | table d n'
    assert rows(spl) == [("212", "1000000.00")]


def test_rule_c_convert_10_num_removes_what_does_not_convert() -> None:
    # num(): "1,000" -> 1000 (a number), "n/a" -> removed (null)
    events = [{"_time": 2, "v": "1,000"}, {"_time": 1, "v": "n/a"}]
    assert rows("v=* | convert num(v) | table v", events) == [(1000,), (None,)]


def test_rule_c_convert_3_auto_is_all_or_nothing_per_field() -> None:
    # a: both values convert -> converted ("1,500" -> "1500"); b: "x" does not, so no value of
    # b is converted, "2,000" included
    events = [{"_time": 2, "a": "1,500", "b": "2,000"}, {"_time": 1, "a": "7", "b": "x"}]
    assert rows("a=* | convert auto(a) auto(b) | table a b", events) == [
        ("1500", "2,000"),
        ("7", "x"),
    ]


def test_rule_c_convert_9_none_exempts_fields_from_wildcards() -> None:
    # rmcomma(*) converts every field but the one none() names
    spl = MK + 'a="1,2", b="3,4" | convert rmcomma(*) none(b) | table a b'
    assert rows(spl) == [("12", "3,4")]


def test_rule_c_convert_13_wildcard_with_as() -> None:
    # ctime(*Time) AS *_c: firstTime -> first_c, lastTime -> last_c (the * carries "first"/"last")
    spl = MK + "firstTime=0, lastTime=60 | convert ctime(*Time) AS *_c | table first_c last_c"
    assert rows(spl) == [("01/01/1970 00:00:00", "01/01/1970 00:01:00")]


def test_rule_c_convert_14_each_value_of_a_multivalue_field() -> None:
    # semantics.CONVERT_MULTIVALUE_EACH_VALUE: rmunit on each value
    spl = MK + 'a=split("5 s;7 s", ";") | convert rmunit(a) | table a'
    assert one(spl) == ["5", "7"]


def test_rule_c_convert_1_unknown_function_is_a_syntax_error() -> None:
    with pytest.raises(SplError, match="expected a convert function"):
        rows(MK + "a=1 | convert frob(a)")


# ----------------------------------------------------------------------------- rex


def test_rule_c_rex_2_max_match_zero_is_every_match() -> None:
    # the Search Reference's example 2: "a$1,b$2" matched twice: field = a, b; value = 1, 2
    spl = MK + 'test="a$1,b$2" | rex field=test max_match=0 "((?<field>[^$]*)\\$(?<value>[^,]*),?)"'
    assert rows(spl + " | table field value") == [(["a", "b"], ["1", "2"])]


def test_rule_c_rex_2_max_match_caps_the_matches() -> None:
    # three two-letter runs, max_match=2 keeps the first two, as a multivalue field
    spl = MK + 't="AABBCC" | rex max_match=2 field=t "(?P<x>[A-Z]{2})" | table x'
    assert one(spl) == ["AA", "BB"]


def test_rule_c_rex_2_no_match_keeps_the_old_value() -> None:
    # rule 8 (rex): where the pattern does not match, the field keeps its value; with
    # max_match other than 1 the field is a multivalue field, so "old" is a one-value list
    spl = MK + 't="none", x="old" | rex max_match=5 field=t "(?<x>\\d+)" | table x'
    assert one(spl) == ["old"]


def test_rule_c_rex_3_each_value_of_a_multivalue_field() -> None:
    # semantics.REX_MULTIVALUE_EACH_VALUE: values "a1", "b2": every match over both values
    # with max_match=0; the first value's match with max_match=1
    base = MK + 't=split("a1;b2", ";") | rex field=t '
    assert one(base + 'max_match=0 "(?<d>\\d)" | table d') == ["1", "2"]
    assert one(base + '"(?<d>\\d)" | table d') == "1"


def test_rule_c_rex_4_sed_first_and_global() -> None:
    # no flag: the first match only; g: every match; \1 is the first group (the Reference's
    # example 5 style)
    spl = (
        MK + 'a="x-y-z", b="x-y-z" | rex field=a mode=sed "s/-/+/" '
        '| rex field=b mode=sed "s/(\\w)-/\\1=/g" | table a b'
    )
    assert rows(spl) == [("x+y-z", "x=y=z")]


def test_rule_c_rex_5_sed_nth_occurrence() -> None:
    # flag 2: only the second "-" of a-b-c-d becomes "+"; flag 5 with two matches: unchanged
    spl = (
        MK + 'a="a-b-c-d", b="a-b-c" | rex field=a mode=sed "s/-/+/2" '
        '| rex field=b mode=sed "s/-/+/5" | table a b'
    )
    assert rows(spl) == [("a-b+c-d", "a-b-c")]


def test_rule_c_rex_6_sed_y_maps_characters() -> None:
    # y/abc/xyz/: a->x, b->y, c->z, other characters unchanged
    assert one(MK + 'v="cab!" | rex field=v mode=sed "y/abc/xyz/" | table v') == "zxy!"


def test_rule_c_rex_7_offset_field_is_refused() -> None:
    with pytest.raises(SplError, match="offset_field"):
        rows(MK + 'v="a" | rex offset_field=off field=v "(?<x>a)"')


# ----------------------------------------------------------------------------- mvexpand


def test_rule_c_mvexpand_1_one_result_per_value_in_order() -> None:
    # event 1 (newest) has values a, b; event 2 has c: results a, b, c, each a copy of its
    # event (w carries over)
    events = [{"_time": 2, "v": ["a", "b"], "w": "1"}, {"_time": 1, "v": "c", "w": "2"}]
    assert rows("v=* | mvexpand v | table v w", events) == [("a", "1"), ("b", "1"), ("c", "2")]


def test_rule_c_mvexpand_2_limit() -> None:
    # limit=2: the first two values of a;b;c
    spl = MK + 'v=split("a;b;c", ";") | mvexpand v limit=2 | table v'
    assert rows(spl) == [("a",), ("b",)]


def test_rule_c_mvexpand_3_results_without_the_field_are_dropped() -> None:
    # semantics.MVEXPAND_DROPS_MISSING: the event without v yields no result
    events = [{"_time": 2, "v": ["a", "b"]}, {"_time": 1, "w": "x"}]
    assert rows("* | mvexpand v | table v", events) == [("a",), ("b",)]


def test_rule_c_mvexpand_1_then_stats_counts_each_value() -> None:
    # the ESCU shape `mvexpand findings | stats count by findings`: a, b, a -> a:2, b:1
    events = [{"_time": 2, "v": ["a", "b"]}, {"_time": 1, "v": "a"}]
    assert rows("v=* | mvexpand v | stats count by v", events) == [("a", 2), ("b", 1)]


# ----------------------------------------------------------------------------- makemv


def test_rule_c_makemv_1_default_delimiter_is_a_space() -> None:
    # "a  b c" split on " ": a, "", b, c; the empty value is dropped (C-makemv-3)
    assert one(MK + 's="a  b c" | makemv s | table s') == ["a", "b", "c"]


def test_rule_c_makemv_3_allowempty_keeps_empty_values() -> None:
    # the Reference: delim="," on "a,,b" gives no empty value unless allowempty=true
    spl = MK + 's="a,,b", t="a,,b" | makemv delim="," allowempty=true s | makemv delim="," t'
    assert rows(spl + " | table s t") == [(["a", "", "b"], ["a", "b"])]


def test_rule_c_makemv_2_tokenizer_first_group() -> None:
    # the Reference's example 3: tokenizer "([^,]+),?" on one,two,three
    spl = MK + 'v="one,two,three" | makemv tokenizer="([^,]+),?" v | table v'
    assert one(spl) == ["one", "two", "three"]


def test_rule_c_makemv_4_setsv_is_refused() -> None:
    with pytest.raises(SplError, match="setsv"):
        rows(MK + 'v="a b" | makemv setsv=true v')


# ----------------------------------------------------------------------------- replace


def test_rule_c_replace_1_wildcards_carry_what_they_matched() -> None:
    # the ESCU shape `replace "::ffff:*" with * in src`: the * after ::ffff: is 10.1.1.1;
    # a value that does not match stays
    events = [{"_time": 2, "src": "::ffff:10.1.1.1"}, {"_time": 1, "src": "10.2.2.2"}]
    spl = 'src=* | replace "::ffff:*" with * in src | table src'
    assert rows(spl, events) == [("10.1.1.1",), ("10.2.2.2",)]


def test_rule_c_replace_1_whole_values_only() -> None:
    # "%%14674" is replaced only where it is the whole value (no wildcard)
    spl = (
        MK + 'a="%%14674", b="x %%14674" | replace "%%14674" with "Value Added", '
        '"%%14675" with "Value Deleted" in a b | table a b'
    )
    assert rows(spl) == [("Value Added", "x %%14674")]


def test_rule_c_replace_2_later_exact_pair_wins() -> None:
    # two non-wildcard pairs for one value: the later one takes precedence
    assert one(MK + 'a="x" | replace x WITH 1, x WITH 2 IN a | table a') == "2"


def test_rule_c_replace_3_fuller_wildcard_match_wins() -> None:
    # "ab*" (2 literal characters) is fuller than "a*" (1), whatever the order
    assert one(MK + 'a="abc" | replace "a*" WITH one, "ab*" WITH two IN a | table a') == "two"


def test_rule_c_replace_5_each_value_of_a_multivalue_field() -> None:
    spl = MK + 'a=split("x;y", ";") | replace x WITH z IN a | table a'
    assert one(spl) == ["z", "y"]


# ----------------------------------------------------------------------------- addtotals


def test_rule_c_addtotals_1_row_total_of_listed_fields() -> None:
    # the ESCU shape `addtotals fieldname=Score a b c`: 1 + 2 + (c="x" is not numeric) = 3
    spl = MK + 'a=1, b="2", c="x" | addtotals fieldname=Score a b c | table Score'
    assert one(spl) == 3


def test_rule_c_addtotals_2_default_is_every_numeric_field() -> None:
    # no field list: a=1 and b=2.5 add up, the text field and _time do not: Total = 3.5
    spl = MK + 'a=1, b="2.5", c="x" | addtotals | table Total'
    assert one(spl) == 3.5


def test_rule_c_addtotals_3_column_totals_with_label() -> None:
    # the Reference's example 5 shape: two rows a=1,b=2 -> row totals 3; the summary row
    # has a=2, b=4, Total=6 and label "Sum" in the label field
    spl = (
        '| makeresults count=2 | eval a=1, b=2, name="n" '
        "| addtotals col=t labelfield=name label=Sum | table name a b Total"
    )
    assert rows(spl) == [("n", 1, 2, 3), ("n", 1, 2, 3), ("Sum", 2, 4, 6)]


# ----------------------------------------------------------------------------- top / rare

EVENTS_TOP = [{"_time": i, "a": v} for i, v in enumerate("x x x y y z w".split(), start=1)]


def test_rule_c_top_1_counts_and_percent_of_the_total() -> None:
    # 7 events: x 3 (3/7 = 42.857143%), y 2 (28.571429%), z and w 1 (14.285714%); the tie
    # z/w in descending value order (C-top-4): z before w
    assert rows("a=* | top a", EVENTS_TOP) == [
        ("x", 3, 42.857143),
        ("y", 2, 28.571429),
        ("z", 1, 14.285714),
        ("w", 1, 14.285714),
    ]


def test_rule_c_top_4_ties_last_value_first_reference_example() -> None:
    # the Reference's "Lexicographic order" example: each user has Orlando, Dallas, Atlanta
    # once; top limit=1 keeps Orlando (the last lexicographically) with 1/3 = 33.333333%
    spl = (
        '| makeresults | eval location="Orlando Dallas Atlanta" | makemv location '
        '| mvexpand location | eval user="Alex Kai Morgan" | makemv user | mvexpand user '
        "| top limit=1 location by user"
    )
    assert rows(spl) == [
        ("Alex", "Orlando", 1, 33.333333),
        ("Kai", "Orlando", 1, 33.333333),
        ("Morgan", "Orlando", 1, 33.333333),
    ]


def test_rule_c_top_6_useother() -> None:
    # limit=2 keeps x and y; z and w (1 + 1 = 2 events, 2/7) become one OTHER row
    assert rows("a=* | top limit=2 useother=t a", EVENTS_TOP) == [
        ("x", 3, 42.857143),
        ("y", 2, 28.571429),
        ("OTHER", 2, 28.571429),
    ]


def test_rule_c_top_5_countfield_and_showperc() -> None:
    # count renamed, no percent column
    assert rows("a=* | top 1 a countfield=n showperc=f", EVENTS_TOP) == [("x", 3)]


def test_rule_c_rare_1_least_common_first() -> None:
    # ascending counts; ties in ascending value order: w before z
    assert rows("a=* | rare a showperc=f", EVENTS_TOP) == [
        ("w", 1),
        ("z", 1),
        ("y", 2),
        ("x", 3),
    ]


def test_rule_c_top_3_results_without_the_field_are_not_counted() -> None:
    # one event lacks a: 2 events with a: x 1 of 2 = 50%
    events = [{"_time": 3, "a": "x"}, {"_time": 2, "a": "y"}, {"_time": 1, "b": "1"}]
    assert rows("* | top a", events) == [("y", 1, 50), ("x", 1, 50)]


# ----------------------------------------------------------------------------- foreach


def test_rule_c_foreach_1_template_per_matching_field() -> None:
    # the Reference's example 2: total = 0 + test1 + test2 + test3 = 6
    spl = MK + "total=0, test1=1, test2=2, test3=3 | foreach test* [eval total=total + <<FIELD>>]"
    assert one(spl + " | table total") == 6


def test_rule_c_foreach_2_matchstr() -> None:
    # the Reference's example 5: test1 = 5 + 1, test2 = 10 + 2
    spl = MK + "test1 = 5, test2 = 10 | foreach test* [eval <<FIELD>> = <<FIELD>> + <<MATCHSTR>>]"
    assert rows(spl + " | table test1 test2") == [(6, 12)]


def test_rule_c_foreach_3_matchseg_and_renamed_placeholders() -> None:
    # the Reference's example 6: test1ab2 = 5 + 1 + 2, test2ab3 = 10 + 2 + 3
    spl = (
        MK + "test1ab2=5, test2ab3=10 | foreach test*ab* fieldstr=MYFIELD matchseg1=SEG1 "
        "matchseg2=SEG2 [eval MYFIELD = MYFIELD + SEG1 + SEG2] | table test1ab2 test2ab3"
    )
    assert rows(spl) == [(8, 15)]


def test_rule_c_foreach_1_star_over_every_field_escu_null_cleanup() -> None:
    # the ESCU shape `foreach * [eval <<FIELD>> = if(<<FIELD>>="null",null(),<<FIELD>>)]`:
    # a="null" becomes null, b keeps "x"; _time is not touched (FOREACH_SKIPS_INTERNAL)
    spl = (
        MK + 'a="null", b="x" | foreach * [ eval <<FIELD>> = if(<<FIELD>>="null",null(),<<FIELD>>)]'
    )
    assert rows(spl + " | table a b") == [(None, "x")]


def test_rule_c_foreach_4_only_streaming_commands() -> None:
    with pytest.raises(SplError, match="streaming commands only"):
        rows(MK + "a=1 | foreach a [stats count]")


def test_rule_c_foreach_5_other_modes_are_refused() -> None:
    with pytest.raises(SplError, match="mode=multivalue"):
        rows(MK + "a=1 | foreach mode=multivalue a [eval b=<<ITEM>>]")


def test_rule_c_foreach_5_template_syntax_error_points_into_the_template() -> None:
    # the masked template parses at parse time: the error is at the stray ')' of the query
    query = MK + "a=1 | foreach a [eval <<FIELD>> = )]"
    with pytest.raises(SplError) as err:
        rows(query)
    assert err.value.pos == query.index(")")


# ----------------------------------------------------------------------------- spath

RAW = (
    '{"a": {"b": [1, 2, {"c": "x"}]}, "d": true, "n": null, '
    '"findings": [{"severity": "HIGH", "name": "n1"}, {"severity": "LOW", "name": "n2"}]}'
)
JSON_EVENTS = [{"_time": 1, "_raw": RAW, "sourcetype": "j"}]


def test_rule_c_spath_3_auto_extract_every_json_path() -> None:
    # a.b is an array: its scalar elements 1, 2 are a.b{}; the object element's c is a.b{}.c;
    # true stays "true", null becomes "null" (semantics.SPATH_JSON_NULL_TEXT); fields named
    # at run time are multivalue fields (docs/commands.md, "Fields named at run time")
    spl = "sourcetype=j | spath | table a.b{} a.b{}.c d n"
    assert rows(spl, JSON_EVENTS) == [(["1", "2"], ["x"], ["true"], ["null"])]


def test_rule_c_spath_1_path_with_array_wildcard_and_index() -> None:
    # findings{}.severity: both elements' severity, in order; a.b{1}: the second element
    # (JSON indices count from 0); output= names the field, else the path does (C-spath-2)
    spl = "sourcetype=j | spath output=s path=findings{}.severity | spath a.b{1} | table s a.b{1}"
    assert rows(spl, JSON_EVENTS) == [(["HIGH", "LOW"], "2")]


def test_rule_c_spath_3_escu_ecr_shape() -> None:
    # the ECR detections: objects of findings{} as JSON text, expanded, then spath on each:
    # only the first finding has severity HIGH
    spl = (
        "sourcetype=j | spath path=findings{} output=findings | mvexpand findings "
        "| spath input=findings | search severity=HIGH | table name"
    )
    assert rows(spl, JSON_EVENTS) == [(["n1"],)]


def test_rule_c_spath_2_missing_path_keeps_the_output_field() -> None:
    # semantics.SPATH_MISSING_PATH_KEEPS: no such path, x keeps "old"
    spl = 'sourcetype=j | eval x="old" | spath output=x path=nope.here | table x'
    assert rows(spl, JSON_EVENTS) == [("old",)]


def test_rule_c_spath_6_existing_fields_keep_their_values() -> None:
    # a field the results already had keeps its value (and kind); the map only fills it
    # where it is null: user is "static", other (null before) takes the JSON's "o"
    spl = (
        MK + '_raw="{\\"user\\":\\"u\\",\\"other\\":\\"o\\"}", user="static", other=null() '
        "| spath | table user other"
    )
    assert rows(spl) == [("static", ["o"])]


def test_rule_c_spath_4_xml_auto_extract_and_rename_wildcard() -> None:
    # the AppLocker detections: XML paths from the root element, then
    # `rename RuleAndFileData.* as *` (run-time names renamed too)
    xml = (
        '<RuleAndFileData xmlns=\\"a\\"><PolicyName>EXE</PolicyName>'
        "<FilePath>p</FilePath></RuleAndFileData>"
    )
    spl = (
        MK + f'U="{xml}", Computer="c" | spath input=U | rename RuleAndFileData.* as *, '
        "Computer as dest | stats count by dest PolicyName FilePath"
    )
    assert rows(spl) == [("c", "EXE", "p", 1)]


def test_rule_c_spath_5_xml_path_and_attribute() -> None:
    # path on XML: the last step's elements (C-spath-5); {@attr} reads an attribute
    xml = '<a><b k=\\"v1\\">t1</b><b k=\\"v2\\">t2</b></a>'
    spl = (
        MK
        + f'X="{xml}" | spath input=X output=t path=a.b{{}} | spath input=X output=k path=a.b{{@k}}'
    )
    assert rows(spl + " | table t k") == [(["t1", "t2"], "v1")]


def test_rule_c_spath_3_not_json_extracts_nothing() -> None:
    spl = MK + '_raw="plain text" | spath | eval r=if(isnull(x), "none", "x") | table r'
    assert one(spl) == "none"


# ----------------------------------------------------------------------------- fromjson


def test_rule_c_fromjson_1_top_level_keys_become_fields() -> None:
    # the O365 ZAP shape: fromjson Data, values(zu) by f3u; zu is an array: two values
    data = '{\\"f3u\\":\\"bob\\",\\"zu\\":[\\"u1\\",\\"u2\\"],\\"o\\":{\\"k\\":1}}'
    spl = MK + f'Data="{data}" | fromjson Data | stats values(zu) as url values(o) as o by f3u'
    assert rows(spl) == [("bob", ["u1", "u2"], ['{"k":1}'])]


def test_rule_c_fromjson_2_prefix() -> None:
    spl = MK + 'Data="{\\"age\\":63}" | fromjson Data prefix=json_ | table json_age'
    assert rows(spl) == [(["63"],)]


# ----------------------------------------------------------------------------- xmlkv


def test_rule_c_xmlkv_1_tag_text_pairs() -> None:
    # the scheduled-task detections: `xmlkv Message | search Command IN ("*rundll32*")`
    xml = "<Task><Exec><Command>rundll32.exe</Command><Arguments>x</Arguments></Exec></Task>"
    spl = MK + f'Message="{xml}" | xmlkv Message | search Command IN ("*rundll32*")'
    assert rows(spl + " | table Command Arguments") == [(["rundll32.exe"], ["x"])]


def test_rule_c_xmlkv_1_repeated_tags_give_every_value() -> None:
    # semantics.XMLKV_REPEATS_MULTIVALUE: two <name> elements: both values, in order (the
    # Reference's games example)
    xml = "<game><name>Catan</name></game><game><name>Ticket</name></game>"
    assert one(MK + f'_raw="{xml}" | xmlkv | table name') == ["Catan", "Ticket"]


# ----------------------------------------------------------------------------- extract


def test_rule_c_extract_1_pair_and_key_delimiters() -> None:
    # the O365 "reported by user" shape: pairdelim ";" kvdelim ":"; the key "x y" is cleaned
    # to x_y (semantics.EXTRACT_CLEAN_KEYS)
    spl = MK + '_raw="RescanVerdict:Phish;x y:1" | extract pairdelim=";" kvdelim=":"'
    assert rows(spl + " | table RescanVerdict x_y") == [(["Phish"], ["1"])]


def test_rule_c_extract_2_key_equals_value_without_delimiters() -> None:
    spl = MK + '_raw="a=1 b=\\"two words\\"" | kv | table a b'
    assert rows(spl) == [(["1"], ["two words"])]


def test_rule_c_multikv_is_refused() -> None:
    with pytest.raises(SplError, match="multikv"):
        rows(MK + "a=1 | multikv")


def test_rule_c_rex_1_more_than_nine_groups() -> None:
    # kubernetes_nginx_ingress_rfi has 16 named groups; the 11th here is "k"
    pattern = "".join(f"(?<g{i}>{chr(97 + i)})" for i in range(11))
    spl = MK + f'v="abcdefghijk" | rex field=v "{pattern}" | table g0 g10'
    assert rows(spl) == [("a", "k")]


def test_fields_named_at_run_time_are_refused_on_spark() -> None:
    # docs/commands.md, "Fields named at run time": DuckDB only; Spark says so in one line
    from stagehunt.compile import Compiler
    from stagehunt.compile.dialects import DialectUnsupported
    from stagehunt.spl.parser import parse
    from stagehunt.store.schema import ColumnKind

    schema = {"_raw": ColumnKind.STRING, "_time": ColumnKind.NUMBER}
    for spl in ("* | spath | table a", "* | fromjson _raw | table a", "* | xmlkv | table a"):
        compiled = Compiler(schema).compile(parse(spl))
        with pytest.raises(DialectUnsupported):
            compiled.render("spark")


def test_field_names_with_braces_dots_dashes_colons_and_slashes() -> None:
    # Splunk field names as ESCU writes them: `ModifiedProperties{}.NewValue`,
    # `data.labels.authorization.k8s.io/decision`, `a-b:c`
    events = [
        {
            "_time": 1,
            "ModifiedProperties{}.NewValue": ["1", "2"],
            "data.labels.authorization.k8s.io/decision": "allow",
            "a-b:c": "0",
        }
    ]
    spl = (
        "* | convert ctime(a-b:c) | mvexpand ModifiedProperties{}.NewValue "
        "| top ModifiedProperties{}.NewValue data.labels.authorization.k8s.io/decision a-b:c "
        "showperc=f"
    )
    # two results after mvexpand, one tuple each: counts 1; ties in descending value order
    assert rows(spl, events) == [
        ("2", "allow", "01/01/1970 00:00:00", 1),
        ("1", "allow", "01/01/1970 00:00:00", 1),
    ]
