"""``regex``, ``rex``, ``bin``/``bucket`` and ``multisearch`` (what pySigma's Splunk backend
emits), rule by rule against shared/spl-semantics.md.

Expected values are worked out by hand from the records below. Records get
``_time = 1000 + position`` so search order (newest first, rule 1.4) is the reverse of the list.
"""

from __future__ import annotations

from typing import Any

import pytest

from stagehunt.api import search_records
from stagehunt.compile.regex import PcreOnly, to_re2
from stagehunt.spl.errors import SplError, SplSemanticError, SplSyntaxError, SplUnsupportedError

FILES: list[dict[str, Any]] = [
    {"_time": 1000.0, "id": "a", "TargetFilename": r"C:\Windows\System32\abcdEFGH.tmp"},
    {"_time": 1001.0, "id": "b", "TargetFilename": r"C:\Windows\System32\abc.tmp"},
    {"_time": 1002.0, "id": "c", "Image": r"C:\x.exe"},
    {"_time": 1003.0, "id": "d", "TargetFilename": r"C:\WINDOWS\SYSTEM32\ABCDEFGH.TMP"},
]

# the SPL pySigma writes for `TargetFilename|re: '\\Windows\\System32\\[a-zA-Z0-9]{8}\.tmp$'`
SIGMA_REGEX = r'"\\\\Windows\\\\System32\\\\[a-zA-Z0-9]{8}\\.tmp$"'


def column(spl: str, records: list[dict[str, Any]], name: str = "id") -> list[Any]:
    result = search_records(f"{spl} | table {name}", records)
    return [row[0] for row in result.rows]


# ---------------------------------------------------------------- regex (rule 4 match, 2.3.2)


def test_regex_keeps_matching_events_unanchored_case_sensitive() -> None:
    # rule 2.3.2: `\\` in the quoted argument is one backslash, so the pattern is
    # \\Windows\\System32\\[a-zA-Z0-9]{8}\.tmp$ ; unanchored at the start (rule 4, match()).
    # a: 8 letters + .tmp -> match; b: 3 letters; c: no field; d: upper-case WINDOWS -> PCRE is
    # case-sensitive, no match.
    assert column(f"id=* | regex TargetFilename={SIGMA_REGEX}", FILES) == ["a"]


def test_regex_not_equal_keeps_non_matching_and_absent() -> None:
    # semantics.REGEX_NOT_EQUAL_KEEPS_ABSENT: c has no TargetFilename and stays
    assert column(f"id=* | regex TargetFilename!={SIGMA_REGEX}", FILES) == ["d", "c", "b"]


def test_regex_case_insensitive_flag() -> None:
    assert column('id=* | regex TargetFilename="(?i)system32\\\\\\\\abcdefgh"', FILES) == [
        "d",
        "a",
    ]


def test_regex_without_field_reads_raw() -> None:
    records = [{"_raw": "user=alice action=copy", "id": "r1"}, {"_raw": "x", "id": "r2"}]
    assert column('id=* | regex "action=c.py"', records) == ["r1"]


def test_regex_multivalue_any_value_matches() -> None:
    # rule 2.2.10 (any value) carried over to regex
    records = [{"id": "m", "tags": ["x1", "y22"]}, {"id": "n", "tags": ["x1"]}]
    assert column('id=* | regex tags="^y\\d+$"', records) == ["m"]


def test_regex_lookahead_is_refused_with_position() -> None:
    with pytest.raises(SplUnsupportedError) as err:
        search_records('id=* | regex TargetFilename="a(?=b)"', FILES)
    assert "look-ahead" in str(err.value)
    # the caret points at '(' of (?= : query offset of the string + 1 + 1
    assert "column 31" in err.value.render()


def test_eval_regex_arguments_are_checked_when_compiled() -> None:
    # replace() and match() take PCRE too (rule 4): a literal pattern is translated when
    # compiled, so look-around is a located error rather than a failed run (ESCU's "Windows
    # Known Abused DLL Loaded Suspiciously" uses (?=...) in replace())
    spl = '| makeresults | eval x=replace("a.b", "(.*)(?=b)", "")'
    with pytest.raises(SplUnsupportedError, match="look-ahead") as err:
        search_records(spl, [])
    # the string opens at offset 38; the '(' of (?= is 4 characters into the pattern
    assert err.value.pos == 38 + 1 + 4
    # named groups become RE2's (?P<name>...), and \2 still refers to the second group
    ok = '| makeresults | eval x=replace("CORP\\\\al", "(?<dom>.*)\\\\\\\\(.+)$", "\\2") | table x'
    assert search_records(ok, []).rows == [("al",)]


@pytest.mark.parametrize(
    ("pcre", "re2"),
    [
        ("(?<name>x)", "(?P<name>x)"),
        ("(?'name'x)", "(?P<name>x)"),
        (r"[(?<]x\(", r"[(?<]x\("),  # inside a class and escaped: unchanged
        ("(a)(?:b)(?P<c>d)", "(a)(?:b)(?P<c>d)"),
    ],
)
def test_to_re2_translates_named_groups_only(pcre: str, re2: str) -> None:
    assert to_re2(pcre).text == re2


def test_to_re2_lists_groups_in_order() -> None:
    assert to_re2("(a)(?:b)(?<c>d)(?'e'f)").groups == (None, "c", "e")


@pytest.mark.parametrize("pcre", [r"(a)\1", "a(?!b)", "(?<=a)b", "(?>ab)", "a*+", r"\k<n>"])
def test_to_re2_refuses_pcre_only(pcre: str) -> None:
    with pytest.raises(PcreOnly):
        to_re2(pcre)


def test_rex_with_two_groups_of_one_name_is_a_located_error() -> None:
    """Found by fuzz/fuzz_spl.py: DuckDB's binder refused the statement ("Duplicate group
    name"); PCRE as Splunk compiles it (no (?J)) refuses the pattern too."""
    spl = '| makeresults | eval _raw="ab" | rex "(?<x>a)(?P<x>b)"'
    with pytest.raises(SplSemanticError) as err:
        search_records(spl, [])
    assert err.value.message == "two groups are named 'x'"
    # the string opens at offset 37; the second group's '(' is 7 characters into it
    assert err.value.pos == 37 + 1 + 7


# ---------------------------------------------------------------- rex (rule 8, rex)


def test_rex_named_group_becomes_field_where_it_matches() -> None:
    spl = 'id=* | rex field=TargetFilename "(?<stem>\\\\\\\\[a-z]{3})[a-zA-Z]*\\\\.tmp$"'
    result = search_records(spl + " | table id stem", FILES)
    # d: [a-z] does not match upper case; c: no field -> no stem
    assert result.rows == [("d", None), ("c", None), ("b", "\\abc"), ("a", "\\abc")]


def test_rex_then_eval_condition_as_pysigma_writes_it() -> None:
    spl = (
        'id=* | rex field=TargetFilename "(?<M>\\\\\\\\[a-zA-Z]{8}\\\\.tmp$)"'
        ' | eval C=if(isnotnull(M), "true", "false") | search C="true"'
    )
    assert column(spl, FILES) == ["a"]


def test_rex_keeps_existing_value_where_no_match() -> None:
    records = [{"id": "k", "x": "keep", "t": "nope"}, {"id": "l", "x": "old", "t": "v=9"}]
    result = search_records('id=* | rex field=t "v=(?<x>\\d)" | table id x', records)
    # no _time: search order is stored order (rule 1.4)
    assert result.rows == [("k", "keep"), ("l", "9")]


def test_rex_without_named_group_is_an_error() -> None:
    with pytest.raises(SplError):
        search_records('id=* | rex field=t "(a)"', FILES)


# ---------------------------------------------------------------- bin / bucket


EVENTS = [
    {"_time": 0.0, "id": "e0", "host": "h1"},
    {"_time": 299.0, "id": "e1", "host": "h1"},
    {"_time": 300.0, "id": "e2", "host": "h1"},
    {"_time": 301.5, "id": "e3", "host": "h2"},
    {"_time": 1_700_000_000.0, "id": "e4", "host": "h2"},  # 2023-11-14T22:13:20Z
]


def test_bin_floors_time_to_span() -> None:
    result = search_records("id=* | bin _time span=5m | table id _time", EVENTS)
    got = dict(result.rows)
    assert got == {"e0": 0, "e1": 0, "e2": 300, "e3": 300, "e4": 1_700_000_000 // 300 * 300}


def test_bucket_is_bin_and_as_keeps_original() -> None:
    result = search_records("id=e3 | bucket _time span=1h AS hour | table _time hour", EVENTS)
    assert result.rows == [(301.5, 0)]


def test_bin_month_span_is_calendar_month() -> None:
    # 1_700_000_000 is 2023-11-14 UTC -> 2023-11-01 00:00:00 UTC = 1_698_796_800
    result = search_records("id=e4 | bin _time span=1mon | table _time", EVENTS)
    assert result.rows == [(1_698_796_800,)]


def test_event_count_correlation_shape() -> None:
    # pySigma's event_count template: windows [0,300) h1: e0,e1 = 2; [300,600) h1: e2 = 1;
    # [300,600) h2: e3 = 1; e4 alone.
    spl = (
        "id=* | bin _time span=5m | stats count as event_count by _time host"
        " | search event_count >= 2"
    )
    result = search_records(spl, EVENTS)
    assert result.rows == [(0, "h1", 2)]


def test_bin_without_span_is_refused() -> None:
    with pytest.raises(SplUnsupportedError):
        search_records("id=* | bin _time", EVENTS)


def test_bin_bad_span_is_a_syntax_error() -> None:
    with pytest.raises(SplSyntaxError):
        search_records("id=* | bin _time span=5parsecs", EVENTS)


# ---------------------------------------------------------------- multisearch


def test_multisearch_unions_branches_newest_first() -> None:
    spl = (
        '| multisearch [ search host=h1 | eval event_type="one" ]'
        ' [ search id=e3 OR id=e2 | eval event_type="two" ] | table id event_type'
    )
    result = search_records(spl, EVENTS)
    # e2 matches both branches (time 300: branch one first); newest first overall
    assert result.rows == [
        ("e3", "two"),
        ("e2", "one"),
        ("e2", "two"),
        ("e1", "one"),
        ("e0", "one"),
    ]


def test_multisearch_temporal_correlation_shape() -> None:
    spl = (
        '| multisearch [ search host=h1 | eval event_type="one" ]'
        ' [ search host=h2 | eval event_type="two" ]'
        " | bin _time span=10m | stats dc(event_type) as event_type_count by _time"
        " | search event_type_count >= 2"
    )
    # window [0,600): e0,e1,e2 (one) and e3 (two) -> 2 types; e4's window has one type
    assert search_records(spl, EVENTS).rows == [(0, 2)]


def test_multisearch_refuses_transforming_subsearch() -> None:
    with pytest.raises(SplUnsupportedError):
        search_records("| multisearch [ search id=* | stats count ] [ search id=* ]", EVENTS)


def test_multisearch_needs_two_subsearches() -> None:
    with pytest.raises(SplSyntaxError):
        search_records("| multisearch [ search id=* ]", EVENTS)


def test_multisearch_must_come_first() -> None:
    with pytest.raises(SplSyntaxError):
        search_records("id=* | multisearch [ search id=* ] [ search id=* ]", EVENTS)
