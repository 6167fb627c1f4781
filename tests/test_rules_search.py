"""The ``search`` command, rule by rule (shared/spl-semantics.md §1 and §2).

Every test runs real SPL on DuckDB through :func:`stagehunt.api.search_records`. Expected
results were worked out by hand from the spec; each test names the rule it checks.

Records are Splunk-export dicts. Unless a test says otherwise ``_time`` increases with
list position (``1000 + i``), so the default search order (newest first, rule 1.4) is the
reverse of the list; most tests compare *sets* of ``id`` values and leave order to §1.4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from stagehunt.api import search_records

Record = dict[str, Any]


def events(*records: Record) -> list[Record]:
    """Give each record ``_time = 1000 + position`` unless it has one."""
    out: list[Record] = []
    for i, record in enumerate(records):
        r = dict(record)
        r.setdefault("_time", 1000.0 + i)
        out.append(r)
    return out


def ids(spl: str, records: Sequence[Record]) -> list[Any]:
    """The ``id`` column of ``<spl> | table id``, in result order."""
    result = search_records(f"{spl} | table id", records)
    assert result.columns == ["id"]
    return [row[0] for row in result.rows]


def id_set(spl: str, records: Sequence[Record]) -> set[Any]:
    return set(ids(spl, records))


# ============================================================================ §1 data model


class TestRule1_4DefaultOrderNewestFirst:
    # stored (list) order is deliberately not time order
    RECORDS: list[Record] = [  # noqa: RUF012
        {"_time": 1.0, "id": "t1", "x": "one"},
        {"_time": 3.0, "id": "t3", "x": "three"},
        {"_time": 2.0, "id": "t2", "x": "two"},
    ]

    def test_rule_1_4_head_takes_newest_events(self) -> None:
        assert ids("id=* | head 2", self.RECORDS) == ["t3", "t2"]

    def test_rule_1_4_head_1(self) -> None:
        assert ids("id=* | head 1", self.RECORDS) == ["t3"]

    def test_rule_1_4_results_come_newest_first_without_sort(self) -> None:
        assert ids("id=*", self.RECORDS) == ["t3", "t2", "t1"]

    def test_rule_1_4_stats_first_takes_value_of_newest_event(self) -> None:
        """Spec example: events t=3,2,1 → ``stats first(x)`` takes x from t=3 (and rule 6.11)."""
        result = search_records("id=* | stats first(x) as f, last(x) as l", self.RECORDS)
        assert result.columns == ["f", "l"]
        assert result.rows == [("three", "one")]

    def test_rule_1_4_head_after_filter_keeps_newest_matching(self) -> None:
        records = [*self.RECORDS, {"_time": 4.0, "id": "t4", "x": "four"}]
        assert ids("x=t* | head 1", records) == ["t3"]


class TestRule1_5FieldNamesCaseSensitive:
    RECORDS: list[Record] = events(
        {"id": "1", "TargetFilename": "C:\\a.zip"},
        {"id": "2", "other": "x"},
    )

    def test_rule_1_5_wrong_case_field_name_matches_nothing(self) -> None:
        assert ids("targetfilename=*", self.RECORDS) == []
        assert ids("TargetFileName=*", self.RECORDS) == []

    def test_rule_1_5_exact_field_name_matches(self) -> None:
        assert ids("TargetFilename=*", self.RECORDS) == ["1"]

    def test_rule_1_5_two_fields_differing_only_in_case_are_distinct(self) -> None:
        records = events(
            {"id": "1", "User": "alice"},
            {"id": "2", "user": "alice"},
            {"id": "3", "User": "bob", "user": "alice"},
        )
        assert id_set("User=alice", records) == {"1"}
        assert id_set("user=alice", records) == {"2", "3"}
        assert id_set("User=bob user=alice", records) == {"3"}


class TestRule1_6BareTermAfterStats:
    RECORDS: list[Record] = events(
        {"id": "1", "host": "error", "_raw": "error on host error"},
        {"id": "2", "host": "web", "_raw": "error again"},
        {"id": "3", "host": "web", "_raw": "fine"},
    )

    def test_rule_1_6_bare_term_after_stats_matches_nothing(self) -> None:
        result = search_records("error | stats count by host | search error", self.RECORDS)
        assert result.rows == []

    def test_rule_1_6_field_term_after_stats_still_works(self) -> None:
        result = search_records("error | stats count by host | search host=error", self.RECORDS)
        assert result.columns == ["host", "count"]
        assert result.rows == [("error", 1)]

    def test_rule_1_6_bare_term_before_stats_uses_raw(self) -> None:
        result = search_records("error | stats count", self.RECORDS)
        assert result.rows == [(2,)]


def test_rule_1_6_no_raw_after_table_either() -> None:
    """``table`` keeps only the listed fields (§8): without _raw a bare term matches
    nothing; keeping _raw keeps bare-term search working."""
    records = TestRule1_6BareTermAfterStats.RECORDS
    assert search_records("id=* | table host | search error", records).rows == []
    result = search_records("id=* | table _raw id | search error | table id", records)
    assert {row[0] for row in result.rows} == {"1", "2"}


def test_rule_1_6_later_search_sees_raw_when_no_transform() -> None:
    records = TestRule1_6BareTermAfterStats.RECORDS
    result = search_records("id=* | eval x=1 | search error | table id", records)
    assert [row[0] for row in result.rows] == ["2", "1"]


# ======================================================================= §2.1 boolean structure


def _abc_records() -> list[Record]:
    """All 8 combinations of a, b, c ∈ {0, 1}; id is e.g. "101" for a=1 b=0 c=1."""
    out: list[Record] = []
    for a in "01":
        for b in "01":
            for c in "01":
                out.append({"id": a + b + c, "a": a, "b": b, "c": c})
    return events(*out)


ABC = _abc_records()
ALL_ABC = {"000", "001", "010", "011", "100", "101", "110", "111"}

TERMS: list[Record] = events(
    {"id": "r1", "_raw": "alpha beta"},
    {"id": "r2", "_raw": "alpha or beta"},
    {"id": "r3", "_raw": "alpha"},
    {"id": "r4", "_raw": "beta"},
    {"id": "r5", "_raw": "alpha and beta"},
)


def test_rule_2_1_1_juxtaposition_is_and() -> None:
    assert id_set("a=1 b=1", ABC) == {"110", "111"}
    assert id_set("a=1 AND b=1", ABC) == {"110", "111"}


def test_rule_2_1_1_juxtaposition_of_bare_terms_is_and() -> None:
    assert id_set("alpha beta", TERMS) == {"r1", "r2", "r5"}
    assert id_set("alpha AND beta", TERMS) == {"r1", "r2", "r5"}


def test_rule_2_1_1_lowercase_or_is_a_search_term() -> None:
    """``alpha or beta`` = alpha AND "or" AND beta: only the event whose _raw holds "or"."""
    assert id_set("alpha or beta", TERMS) == {"r2"}
    assert id_set("alpha OR beta", TERMS) == {"r1", "r2", "r3", "r4", "r5"}


def test_rule_2_1_1_lowercase_and_is_a_search_term() -> None:
    assert id_set("alpha and beta", TERMS) == {"r5"}


def test_rule_2_1_1_lowercase_not_is_a_search_term() -> None:
    """``alpha not beta`` = alpha AND "not" AND beta, not alpha AND NOT beta."""
    records = events(
        {"id": "with-not", "_raw": "alpha not beta"},
        {"id": "alpha-beta", "_raw": "alpha beta"},
        {"id": "alpha", "_raw": "alpha"},
    )
    assert id_set("alpha not beta", records) == {"with-not"}
    assert id_set("alpha NOT beta", records) == {"alpha"}


def test_rule_2_1_1_lowercase_or_between_field_terms_is_a_term() -> None:
    """``a=1 or b=1``: "or" is a bare term; no event has _raw, so nothing matches."""
    assert ids("a=1 or b=1", ABC) == []


def test_rule_2_1_2_or_binds_tighter_than_and_a_b_or_c() -> None:
    """``A B OR C`` ≡ ``A AND (B OR C)`` (SQL precedence would give (A AND B) OR C)."""
    assert id_set("a=1 b=1 OR c=1", ABC) == {"101", "110", "111"}
    assert id_set("a=1 AND b=1 OR c=1", ABC) == {"101", "110", "111"}


def test_rule_2_1_2_or_binds_tighter_than_and_a_or_b_c() -> None:
    """``A OR B C`` ≡ ``(A OR B) AND C``."""
    assert id_set("a=1 OR b=1 c=1", ABC) == {"011", "101", "111"}
    assert id_set("a=1 OR b=1 AND c=1", ABC) == {"011", "101", "111"}


def test_rule_2_1_2_parentheses_override_precedence() -> None:
    assert id_set("(a=1 b=1) OR c=1", ABC) == {"001", "011", "101", "110", "111"}


def test_rule_2_1_2_chain_of_ors_and_ands() -> None:
    """``a=1 OR b=1 c=1 OR a=0`` ≡ (a=1 OR b=1) AND (c=1 OR a=0)."""
    assert id_set("a=1 OR b=1 c=1 OR a=0", ABC) == {"010", "011", "101", "111"}


def test_rule_2_1_2_live_test_t1_on_eval_fields() -> None:
    """§11 T1: ``| makeresults | eval a=0,b=0,c=1 | search a=1 b=1 OR c=1`` → 0 rows
    (OR first); with a=1 the row is kept."""
    q = "| makeresults | eval a={a},b=0,c=1 | search a=1 b=1 OR c=1"
    assert search_records(q.format(a=0), []).rows == []
    assert len(search_records(q.format(a=1), []).rows) == 1


def test_rule_2_1_3_not_binds_to_next_term_only() -> None:
    """``NOT a b`` ≡ ``(NOT a) AND b``."""
    assert id_set("NOT a=1 b=1", ABC) == {"010", "011"}


def test_rule_2_1_3_not_binds_tighter_than_or() -> None:
    """``NOT a OR b`` ≡ ``(NOT a) OR b`` (precedence NOT > OR)."""
    assert id_set("NOT a=1 OR b=1", ABC) == {"000", "001", "010", "011", "110", "111"}


def test_rule_2_1_3_not_of_parenthesised_group() -> None:
    assert id_set("NOT (a=1 b=1)", ABC) == ALL_ABC - {"110", "111"}


def test_rule_2_1_3_double_not() -> None:
    assert id_set("NOT NOT a=1", ABC) == {"100", "101", "110", "111"}


def test_rule_2_1_4_quoted_or_is_a_literal_term() -> None:
    records = events(
        {"id": "1", "_raw": "error OR warning"},
        {"id": "2", "_raw": "error only"},
        {"id": "3", "_raw": "warning only"},
    )
    assert id_set('error "OR"', records) == {"1"}


def test_rule_2_1_4_quoted_keyword_as_field_value() -> None:
    records = events(
        {"id": "or", "state": "OR"},
        {"id": "ca", "state": "CA"},
        {"id": "in", "country": "IN"},
    )
    assert id_set('state="OR"', records) == {"or"}
    assert id_set('country="IN"', records) == {"in"}
    assert id_set('state="OR" OR state="CA"', records) == {"or", "ca"}


# ============================================================================ §2.2 field=value


HOSTS: list[Record] = events(
    {"id": "1", "host": "WebServer"},
    {"id": "2", "host": "webserver"},
    {"id": "3", "host": "WEBSERVER"},
    {"id": "4", "host": "webserver2"},
    {"id": "5", "host": "mywebserver"},
    {"id": "6", "host": "web server"},
    {"id": "7"},
)


def test_rule_2_2_1_whole_value_case_insensitive() -> None:
    """``host=webserver`` matches WebServer, not webserver2 (not a substring match)."""
    assert id_set("host=webserver", HOSTS) == {"1", "2", "3"}


def test_rule_2_2_1_quoted_value_is_also_whole_value_case_insensitive() -> None:
    assert id_set('host="WebServer"', HOSTS) == {"1", "2", "3"}
    assert id_set('host="web server"', HOSTS) == {"6"}


def test_rule_2_2_1_case_directive_is_case_sensitive() -> None:
    assert id_set("host=CASE(WebServer)", HOSTS) == {"1"}
    assert id_set("host=CASE(webserver)", HOSTS) == {"2"}
    assert id_set("host=CASE(webServer)", HOSTS) == set()


def test_rule_2_4_2_case_directive_allows_wildcards() -> None:
    assert id_set("host=CASE(Web*)", HOSTS) == {"1"}
    assert id_set("host=CASE(web*)", HOSTS) == {"2", "4", "6"}


EVENT_CODES: list[Record] = events(
    {"id": "11", "EventCode": "11"},
    {"id": "011", "EventCode": "011"},
    {"id": "11.0", "EventCode": "11.0"},
    {"id": "1", "EventCode": "1"},
    {"id": "1.0", "EventCode": "1.0"},
    {"id": "110", "EventCode": "110"},
)


def test_rule_2_2_2_equals_is_string_comparison() -> None:
    """``EventCode=11``: "11" ✓, "011" ✗, "11.0" ✗."""
    assert id_set("EventCode=11", EVENT_CODES) == {"11"}


def test_rule_2_2_2_one_does_not_match_one_point_zero() -> None:
    assert id_set("EventCode=1", EVENT_CODES) == {"1"}
    assert id_set('EventCode="1.0"', EVENT_CODES) == {"1.0"}


def test_rule_2_2_2_not_equal_is_string_comparison() -> None:
    assert id_set("EventCode!=11", EVENT_CODES) == {"011", "11.0", "1", "1.0", "110"}


NUMS: list[Record] = events(
    {"id": "10", "n": "10"},
    {"id": "9", "n": "9"},
    {"id": "5", "n": "5"},
    {"id": "5.0", "n": "5.0"},
    {"id": "4.5", "n": "4.5"},
    {"id": "-1", "n": "-1"},
    {"id": "abc", "n": "abc"},
    {"id": "missing"},
)


def test_rule_2_2_3_greater_than_is_numeric_for_numbers() -> None:
    """``n>5``: "10" ✓ (lexicographically "10" < "5"), "9" ✓, "5"/"5.0"/"4.5"/"-1" ✗;
    "abc" vs 5 is lexicographic: "a" (0x61) > "5" (0x35) ✓; missing field ✗."""
    assert id_set("n>5", NUMS) == {"10", "9", "abc"}


def test_rule_2_2_3_less_than_is_numeric_for_numbers() -> None:
    """``n<5``: "4.5" and "-1" ✓; "10" ✗ (numeric); "abc" ✗ ("abc" > "5"); missing ✗."""
    assert id_set("n<5", NUMS) == {"4.5", "-1"}


def test_rule_2_2_3_inclusive_bounds_compare_numerically() -> None:
    """The value "5.0" equals 5 as a number, so it satisfies both ``>=5`` and ``<=5``."""
    assert id_set("n>=5", NUMS) == {"10", "9", "5", "5.0", "abc"}
    assert id_set("n<=5", NUMS) == {"5", "5.0", "4.5", "-1"}


def test_rule_2_2_3_non_numeric_bound_compares_lexicographically() -> None:
    records = events(
        {"id": "z", "s": "z"},
        {"id": "n", "s": "n"},
        {"id": "ma", "s": "ma"},
        {"id": "m", "s": "m"},
        {"id": "a", "s": "a"},
        {"id": "10", "s": "10"},
        {"id": "missing"},
    )
    assert id_set("s>m", records) == {"z", "n", "ma"}
    assert id_set("s<m", records) == {"a", "10"}


def test_rule_2_2_3_events_lacking_the_field_never_satisfy_comparisons() -> None:
    for op in ("<", ">", "<=", ">="):
        assert "missing" not in id_set(f"n{op}5", NUMS), op


def test_rule_2_2_3_not_of_comparison_includes_events_lacking_the_field() -> None:
    """Lacking the field, ``n>5`` is false, so ``NOT n>5`` keeps the event (cf. 2.2.6)."""
    assert id_set("NOT n>5", NUMS) == {"5", "5.0", "4.5", "-1", "missing"}


WILD: list[Record] = events(
    {"id": "webserver", "f": "webserver"},
    {"id": "web", "f": "web"},
    {"id": "aweb", "f": "aweb"},
    {"id": "server", "f": "server"},
    {"id": "servers", "f": "servers"},
    {"id": "wr", "f": "wr"},
    {"id": "wx", "f": "wx"},
    {"id": "webservers", "f": "webservers"},
    {"id": "ev", "f": "ev"},
    {"id": "ve", "f": "ve"},
    {"id": "WEBSERVER", "f": "WEBSERVER"},
    {"id": "missing"},
)


def test_rule_2_2_4_wildcard_at_end() -> None:
    assert id_set("f=web*", WILD) == {"webserver", "web", "webservers", "WEBSERVER"}


def test_rule_2_2_4_wildcard_at_start() -> None:
    assert id_set("f=*server", WILD) == {"webserver", "server", "WEBSERVER"}


def test_rule_2_2_4_wildcard_in_middle() -> None:
    assert id_set("f=w*r", WILD) == {"webserver", "wr", "WEBSERVER"}


def test_rule_2_2_4_multiple_wildcards() -> None:
    """``*e*v*``: an "e" followed later by a "v"."""
    assert id_set('f="*e*v*"', WILD) == {
        "webserver",
        "server",
        "servers",
        "webservers",
        "ev",
        "WEBSERVER",
    }


def test_rule_2_2_4_star_alone_means_field_exists() -> None:
    assert id_set("f=*", WILD) == {r["id"] for r in WILD} - {"missing"}


def test_rule_2_2_4_wildcard_matching_is_case_insensitive() -> None:
    assert id_set('f="WEB*VERS"', WILD) == {"webservers"}


def test_rule_2_2_4_only_star_is_a_wildcard() -> None:
    """``%``, ``_``, ``?`` and ``!`` are ordinary characters (no SQL LIKE leak)."""
    records = events(
        {"id": "pct", "f": "50%"},
        {"id": "fifty", "f": "50x"},
        {"id": "a_c", "f": "a_c"},
        {"id": "abc", "f": "abc"},
        {"id": "q", "f": "a?c"},
        {"id": "bang", "f": "a!c"},
    )
    assert id_set('f="50%"', records) == {"pct"}
    assert id_set('f="*%"', records) == {"pct"}
    assert id_set("f=a_c", records) == {"a_c"}
    assert id_set('f="a_*"', records) == {"a_c"}
    assert id_set('f="a?c"', records) == {"q"}
    assert id_set('f="*!*"', records) == {"bang"}


NEQ: list[Record] = events(
    {"id": "a", "L": "a"},
    {"id": "b", "L": "b"},
    {"id": "none"},
)


def test_rule_2_2_6_not_equal_requires_field() -> None:
    """Spec example: {L=a},{L=b},{}: ``L!=a`` → {b}."""
    assert id_set("L!=a", NEQ) == {"b"}


def test_rule_2_2_6_not_includes_events_without_field() -> None:
    """Spec example: ``NOT L=a`` → {b},{}."""
    assert id_set("NOT L=a", NEQ) == {"b", "none"}


def test_rule_2_2_6_not_field_star_means_field_is_null() -> None:
    assert id_set("NOT L=*", NEQ) == {"none"}


def test_rule_2_2_6_field_not_equal_star_never_matches() -> None:
    assert ids("L!=*", NEQ) == []


def test_rule_2_2_6_not_equal_is_case_insensitive_whole_value() -> None:
    assert id_set("L!=A", NEQ) == {"b"}
    assert id_set('L!="a*"', NEQ) == {"b"}


def test_rule_2_2_6_not_equal_on_field_no_event_has() -> None:
    assert ids("nothere!=x", NEQ) == []
    assert id_set("NOT nothere=x", NEQ) == {"a", "b", "none"}
    assert id_set("NOT nothere=*", NEQ) == {"a", "b", "none"}


def test_rule_2_2_6_missing_fields_inside_or_and_not_keep_their_meaning() -> None:
    """The compiler drops ``COALESCE(p, FALSE)`` where a WHERE reads the predicate
    positively; under NOT a missing field must still count as "not matched" (2.2.6).
    Worked by hand over {L=a}, {L=b}, {}: ``L=a OR M=x`` → {a}; ``NOT (L=a OR M=x)`` →
    {b, none}; ``NOT (L=a AND M=x)`` → all three."""
    assert id_set("L=a OR M=x", NEQ) == {"a"}
    assert id_set("NOT (L=a OR M=x)", NEQ) == {"b", "none"}
    assert id_set("NOT (L=a AND M=x)", NEQ) == {"a", "b", "none"}
    assert id_set("(L=a OR M=x) NOT (L=b AND M=x)", NEQ) == {"a"}


CASELESS: list[Record] = events(
    {"id": "digits", "code": "11"},
    {"id": "kelvin", "code": "\u212a11"},  # KELVIN SIGN lowercases to "k"
    {"id": "dotted", "code": "\u0130\\tmp\\"},  # I WITH DOT ABOVE lowercases to 2 chars
    {"id": "upper", "code": "X\\TMP\\"},
    {"id": "other", "code": "111"},
)


def test_rule_2_2_1_patterns_without_letters_match_the_same_without_lowering() -> None:
    """A pattern of digits and punctuation has no case, so matching it must give what
    lowering both sides gives (2.2.1, 2.2.4). Worked by hand: only "11" equals 11;
    ``*\\tmp\\*`` is found in the dotted and the upper-case values; ``*11`` ends two."""
    assert id_set("code=11", CASELESS) == {"digits"}
    assert id_set('code="*\\\\tmp\\\\*"', CASELESS) == {"dotted", "upper"}
    assert id_set("code=*11", CASELESS) == {"digits", "kelvin", "other"}
    assert id_set('code="*\\\\*"', CASELESS) == {"dotted", "upper"}
    assert id_set("NOT code=11", CASELESS) == {"kelvin", "dotted", "upper", "other"}


STATUS: list[Record] = events(
    {"id": "404", "status": "404"},
    {"id": "403", "status": "403"},
    {"id": "500", "status": "500"},
    {"id": "200", "status": "200"},
    {"id": "5000", "status": "5000"},
    {"id": "14", "status": "14"},
    {"id": "missing"},
)


def test_rule_2_2_7_in_is_or_of_equals_with_wildcards() -> None:
    """Spec example: ``status IN (4*, 500)``."""
    assert id_set("status IN (4*, 500)", STATUS) == {"404", "403", "500"}


def test_rule_2_2_7_in_with_quoted_values_and_case_insensitivity() -> None:
    records = events(
        {"id": "1", "user": "Alice"},
        {"id": "2", "user": "BOB"},
        {"id": "3", "user": "carol smith"},
        {"id": "4", "user": "dave"},
    )
    assert id_set('user IN (alice, "bob", "Carol Smith")', records) == {"1", "2", "3"}


def test_rule_2_2_7_not_in_includes_events_without_field() -> None:
    assert id_set("NOT status IN (4*, 500)", STATUS) == {"200", "5000", "14", "missing"}


def test_rule_2_2_7_in_combined_with_other_terms() -> None:
    assert id_set("status IN (4*, 500) status=40*", STATUS) == {"404", "403"}


IPS: list[Record] = events(
    {"id": "in-23", "ip": "10.10.10.23"},
    {"id": "in-0", "ip": "10.10.10.0"},
    {"id": "in-255", "ip": "10.10.10.255"},
    {"id": "out-11", "ip": "10.10.11.1"},
    {"id": "out-other", "ip": "192.168.1.1"},
    {"id": "not-ip", "ip": "abc"},
    {"id": "missing"},
)


def test_rule_2_2_8_cidr_match_slash_24() -> None:
    """Spec example: ``ip="10.10.10.0/24"`` matches 10.10.10.23."""
    assert id_set('ip="10.10.10.0/24"', IPS) == {"in-23", "in-0", "in-255"}


def test_rule_2_2_8_cidr_match_slash_8_unquoted() -> None:
    assert id_set("ip=10.0.0.0/8", IPS) == {"in-23", "in-0", "in-255", "out-11"}


def test_rule_2_2_8_cidr_match_slash_32() -> None:
    assert id_set('ip="10.10.10.23/32"', IPS) == {"in-23"}


def test_rule_2_2_8_cidr_inside_in_list_and_multivalue() -> None:
    """IN is an OR of ``field=v`` (2.2.7), so a CIDR value there is a CIDR match; a
    multivalue field matches when any value is in the subnet (2.2.10)."""
    records = events(
        {"id": "mv", "ip": ["192.168.1.1", "10.1.2.3"]},
        {"id": "single", "ip": "172.16.0.9"},
        {"id": "none", "ip": "8.8.8.8"},
    )
    assert id_set('ip IN ("10.0.0.0/8", "172.16.0.0/12")', records) == {"mv", "single"}
    assert id_set('ip="10.0.0.0/8"', records) == {"mv"}


def test_rule_2_2_8_not_cidr() -> None:
    assert id_set('NOT ip="10.10.10.0/24"', IPS) == {"out-11", "out-other", "not-ip", "missing"}


FIELD_VS_LITERAL: list[Record] = events(
    {"id": "literal", "a": "b", "b": "zzz"},
    {"id": "same", "a": "x", "b": "x"},
    {"id": "upper", "a": "B", "b": "q"},
)


def test_rule_2_2_9_search_a_equals_b_compares_to_literal() -> None:
    assert id_set("a=b", FIELD_VS_LITERAL) == {"literal", "upper"}
    assert id_set("id=* | search a=b", FIELD_VS_LITERAL) == {"literal", "upper"}


def test_rule_2_2_9_where_compares_two_fields() -> None:
    """Contrast (rule 5.1): ``where a=b`` compares the fields."""
    assert id_set("id=* | where a=b", FIELD_VS_LITERAL) == {"same"}


MV: list[Record] = events(
    {"id": "xy", "tags": ["x", "y"]},
    {"id": "z", "tags": "z"},
    {"id": "abc", "tags": ["abc", "Q"]},
    {"id": "none"},
)


def test_rule_2_2_10_multivalue_matches_if_any_value_matches() -> None:
    """Spec example: tags=["x","y"], ``tags=y`` → match."""
    assert id_set("tags=y", MV) == {"xy"}
    assert id_set("tags=x", MV) == {"xy"}
    assert id_set("tags=Y", MV) == {"xy"}
    assert id_set("tags=q", MV) == {"abc"}


def test_rule_2_2_10_multivalue_wildcard_and_in() -> None:
    assert id_set("tags=ab*", MV) == {"abc"}
    assert id_set("tags IN (y, z)", MV) == {"xy", "z"}


def test_rule_2_2_10_multivalue_not() -> None:
    """``NOT tags=y`` is the complement of ``tags=y`` (rule 2.2.6)."""
    assert id_set("NOT tags=y", MV) == {"z", "abc", "none"}


def test_rule_2_2_10_multivalue_not_equal() -> None:
    """``mv!=v``: the field exists and NO value matches.

    The spec leaves this open; the engine's choice is
    ``semantics.MULTIVALUE_NOT_EQUAL_MEANS_NONE_MATCH`` (the complement of 2.2.10 among
    events that have the field, as 2.2.6 defines ``!=`` for single values).
    """
    assert id_set("tags!=y", MV) == {"z", "abc"}


def test_rule_2_2_10_multivalue_comparison_any_value() -> None:
    """``n>5`` on ["1","10"] holds because 10 > 5 (2.2.3 per value, 2.2.10 any)."""
    records = events(
        {"id": "mixed", "n": ["1", "10"]},
        {"id": "small", "n": ["1", "2"]},
        {"id": "single", "n": "7"},
    )
    assert id_set("n>5", records) == {"mixed", "single"}
    assert id_set("n<2", records) == {"mixed", "small"}


def test_rule_2_2_10_multivalue_star_means_exists() -> None:
    assert id_set("tags=*", MV) == {"xy", "z", "abc"}


DEFAULT_FIELDS: list[Record] = events(
    {
        "id": "1",
        "host": "LOCALHOST",
        "index": "WinEventLog",
        "sourcetype": "XmlWinEventLog",
        "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
    },
    {
        "id": "2",
        "host": "localhost",
        "index": "main",
        "sourcetype": "WinEventLog:Security",
        "source": "WinEventLog:Security",
    },
)


def test_rule_2_2_11_host_is_case_insensitive() -> None:
    """Spec example: ``host=localhost`` matches LOCALHOST."""
    assert id_set("host=localhost", DEFAULT_FIELDS) == {"1", "2"}
    assert id_set("host=CASE(LOCALHOST)", DEFAULT_FIELDS) == {"1"}


def test_rule_2_2_11_index_is_case_insensitive() -> None:
    assert id_set("index=wineventlog", DEFAULT_FIELDS) == {"1"}


def test_rule_2_2_11_sourcetype_is_case_insensitive() -> None:
    assert id_set("sourcetype=xmlwineventlog", DEFAULT_FIELDS) == {"1"}
    assert id_set('sourcetype="winEVENTlog:security"', DEFAULT_FIELDS) == {"2"}


def test_rule_2_2_11_source_is_case_insensitive() -> None:
    assert id_set(
        'source="xmlwineventlog:microsoft-windows-sysmon/operational"', DEFAULT_FIELDS
    ) == {"1"}


# ======================================================================= §2.3 quoting, backslashes


PATHS: list[Record] = events(
    {"id": "local-temp", "TargetFilename": "C:\\Users\\a\\AppData\\Local\\Temp\\x.zip"},
    {"id": "TEMP", "TargetFilename": "C:\\TEMP\\a"},
    {"id": "temp2", "TargetFilename": "C:\\temp2\\a"},
    {"id": "slashes", "TargetFilename": "C:/temp/a"},
    {"id": "win-temp", "TargetFilename": "C:\\Windows\\Temp\\b.7z"},
    {"id": "no-leading", "TargetFilename": "Temp\\a"},
    {"id": "missing"},
)
TEMP_MATCHES = {"local-temp", "TEMP", "win-temp"}


def test_rule_2_3_2_double_backslash_is_one_backslash() -> None:
    r"""``"*\\Temp\\*"`` → pattern ``*\Temp\*``."""
    assert id_set(r'TargetFilename="*\\Temp\\*"', PATHS) == TEMP_MATCHES


def test_rule_2_3_2_unknown_escape_is_left_unchanged() -> None:
    r"""``"*\Temp\*"``: ``\T`` is not an escape, so it also means ``*\Temp\*``."""
    assert id_set(r'TargetFilename="*\Temp\*"', PATHS) == TEMP_MATCHES


def test_rule_2_3_2_escaped_quote() -> None:
    records = events({"id": "q", "msg": 'say "hi"'}, {"id": "plain", "msg": "say hi"})
    assert id_set(r'msg="say \"hi\""', records) == {"q"}


def test_rule_2_3_2_escaped_pipe_is_not_a_command_separator() -> None:
    records = events({"id": "pipe", "cmd": "a|b"}, {"id": "other", "cmd": "a b"})
    assert id_set(r'cmd="a\|b"', records) == {"pipe"}


def test_rule_2_3_2_backslash_s_and_backslash_t_stay_literal() -> None:
    r"""``\s`` stays ``\s``; ``\t`` is NOT a tab in ``search`` (unlike eval, rule 3.2)."""
    records = events(
        {"id": "bs-s", "v": "a\\sb"},
        {"id": "bs-t", "v": "a\\tb"},
        {"id": "tab", "v": "a\tb"},
    )
    assert id_set(r'v="a\sb"', records) == {"bs-s"}
    assert id_set(r'v="a\tb"', records) == {"bs-t"}


def test_rule_2_3_2_escaped_backslash_before_quote_ends_string() -> None:
    r"""``"C:\\"`` is the value ``C:\`` (the ``\\`` is one backslash, then the quote closes)."""
    records = events({"id": "root", "p": "C:\\"}, {"id": "other", "p": "C:"})
    assert id_set(r'p="C:\\"', records) == {"root"}


def test_rule_2_3_3_backslash_does_not_escape_star() -> None:
    r"""``"a\*b"`` is not the literal ``a*b``: ``\`` stays, ``*`` is still a wildcard."""
    records = events(
        {"id": "literal-star", "v": "a*b"},
        {"id": "bs-x", "v": "a\\xb"},
        {"id": "bs", "v": "a\\b"},
        {"id": "axb", "v": "axb"},
    )
    assert id_set(r'v="a\*b"', records) == {"bs-x", "bs"}


def test_rule_2_3_4_examples() -> None:
    r"""``C:\TEMP\a`` ✓, ``C:\temp2\a`` ✗, ``C:/temp/a`` ✗, ``…\AppData\Local\Temp\…`` ✓."""
    got = id_set(r'TargetFilename="*\\Temp\\*"', PATHS)
    assert "TEMP" in got
    assert "temp2" not in got
    assert "slashes" not in got
    assert "local-temp" in got
    assert "no-leading" not in got


def test_rule_2_3_4_target_query_path_globs() -> None:
    """The seed's EID 11 path terms OR'ed together (§10.1)."""
    spl = (
        r'(TargetFilename="*\\Temp\\*" OR TargetFilename="*\\tmp\\*"'
        r' OR TargetFilename="*\\AppData\\Local\\Temp\\*" OR TargetFilename="*\\Users\\Public\\*"'
        r' OR TargetFilename="*\\ProgramData\\*" OR TargetFilename="*\\Windows\\Temp\\*")'
    )
    records = [
        *PATHS,
        *events(
            {"id": "tmp", "TargetFilename": "D:\\TMP\\x", "_time": 2000.0},
            {"id": "public", "TargetFilename": "C:\\Users\\Public\\y", "_time": 2001.0},
            {"id": "pd", "TargetFilename": "C:\\programdata\\z", "_time": 2002.0},
            {"id": "pd-no-slash", "TargetFilename": "C:\\ProgramDataX", "_time": 2003.0},
        ),
    ]
    assert id_set(spl, records) == TEMP_MATCHES | {"tmp", "public", "pd"}


def test_rule_2_3_1_quoted_value_with_spaces_and_wildcard() -> None:
    records = events(
        {"id": "copy", "CommandLine": "cmd /c copy /y a b"},
        {"id": "xcopy", "CommandLine": "xcopy /s a b"},
        {"id": "nocopy", "CommandLine": "copy a b"},
    )
    assert id_set('CommandLine="*copy /*"', records) == {"copy", "xcopy"}


# ============================================================================ §2.4 bare terms


RAW: list[Record] = events(
    {"id": "xcopy", "_raw": "xcopy.exe /s C:\\src"},
    {"id": "copy", "_raw": "cmd /c copy a.txt b"},
    {"id": "COPY", "_raw": "COPY a b"},
    {"id": "path", "_raw": "dir c:\\copy\\x"},
    {"id": "copying", "_raw": "copying files"},
    {"id": "field-only", "_raw": "nothing here", "user": "copy"},
)


def test_rule_2_4_1_bare_term_matches_segments_not_substrings() -> None:
    """Spec example: ``copy`` does not match "xcopy.exe /s"."""
    got = id_set("copy", RAW)
    assert "xcopy" not in got
    assert "copying" not in got
    assert got == {"copy", "COPY", "path"}


def test_rule_2_4_1_wildcard_term_matches_inside_segment() -> None:
    """Spec example: use ``*copy*`` to find xcopy."""
    assert id_set("*copy*", RAW) == {"xcopy", "copy", "COPY", "path", "copying"}


def test_rule_2_4_1_bare_term_prefix_wildcard() -> None:
    assert id_set("copy*", RAW) == {"copy", "COPY", "path", "copying"}


def test_rule_2_4_1_bare_term_is_matched_against_raw_only() -> None:
    assert "field-only" not in id_set("copy", RAW)


def test_rule_2_4_1_phrase_requires_adjacent_terms() -> None:
    """Spec example: ``"web error"`` ≠ ``web error``."""
    records = events(
        {"id": "phrase", "_raw": "the web error occurred"},
        {"id": "apart", "_raw": "error seen in web tier"},
        {"id": "upper", "_raw": "WEB ERROR here"},
        {"id": "glued", "_raw": "webXerror"},
    )
    assert id_set('"web error"', records) == {"phrase", "upper"}
    assert id_set("web error", records) == {"phrase", "apart", "upper"}


def test_rule_2_4_1_minor_breakers_split_segments() -> None:
    records = events(
        {"id": "ip", "_raw": "src=10.1.2.3 dst=x"},
        {"id": "user", "_raw": "user=bob@corp.local"},
        {"id": "none", "_raw": "src 10.1.2.30"},
    )
    assert id_set("10.1.2.3", records) == {"ip"}
    assert id_set("corp", records) == {"user"}
    assert id_set("bob", records) == {"user"}


TERM_RAW: list[Record] = events(
    {"id": "spaced", "_raw": "conn from 127.0.0.1 ok"},
    {"id": "end", "_raw": "conn from 127.0.0.1"},
    {"id": "longer", "_raw": "conn from 127.0.0.10 ok"},
    {"id": "eq", "_raw": "ip=127.0.0.1 ok"},
    {"id": "other", "_raw": "conn from 10.0.0.1 ok"},
)


def test_rule_2_4_2_term_matches_whole_indexed_term() -> None:
    """``TERM(127.0.0.1)`` needs major breakers on both sides ("=" is minor, rule 2.4.3)."""
    assert id_set("TERM(127.0.0.1)", TERM_RAW) == {"spaced", "end"}


def test_rule_2_4_2_term_does_not_match_part_of_a_term() -> None:
    assert id_set("TERM(127.0.0)", TERM_RAW) == set()


def test_rule_2_4_2_plain_term_is_bounded_by_minor_breakers_too() -> None:
    """Without TERM(), "127.0.0.1" after "ip=" still matches (minor breaker boundary)."""
    assert id_set("127.0.0.1", TERM_RAW) == {"spaced", "end", "eq"}


def test_rule_2_4_2_case_directive_on_bare_term() -> None:
    records = events(
        {"id": "Error", "_raw": "Error in module"},
        {"id": "error", "_raw": "error in module"},
        {"id": "ERROR", "_raw": "ERROR in module"},
    )
    assert id_set("CASE(Error)", records) == {"Error"}
    assert id_set("error", records) == {"Error", "error", "ERROR"}


# ============================================================================ time bounds


TIMED: list[Record] = [
    {"id": "t50", "_time": 50.0},
    {"id": "t150", "_time": 150.0},
    {"id": "t175.5", "_time": 175.5},
    {"id": "t250", "_time": 250.0},
]


def test_earliest_latest_absolute_epoch() -> None:
    assert id_set("earliest=100 latest=200 id=*", TIMED) == {"t150", "t175.5"}


def test_earliest_only() -> None:
    assert id_set("earliest=160 id=*", TIMED) == {"t175.5", "t250"}


def test_latest_only() -> None:
    assert id_set("latest=160 id=*", TIMED) == {"t50", "t150"}


def test_earliest_latest_keep_newest_first_order() -> None:
    assert ids("earliest=100 latest=300 id=*", TIMED) == ["t250", "t175.5", "t150"]


def test_quoted_time_modifiers_bound_the_search_like_unquoted_ones() -> None:
    """Splunk's Search Manual writes absolute times quoted: ``earliest="10/15/2019:20:00:00"
    latest="10/22/2019:20:00:00"`` ("Specify time modifiers in your search"). Worked by
    hand: 01/01/1970:00:02:00 is epoch 120 and 00:03:00 is 180 (UTC), so t150 and t175.5;
    a quoted epoch bounds alike."""
    spl = 'earliest="01/01/1970:00:02:00" latest="01/01/1970:00:03:00" id=*'
    assert id_set(spl, TIMED) == {"t150", "t175.5"}
    assert id_set('earliest="160" id=*', TIMED) == {"t175.5", "t250"}


@pytest.mark.parametrize(
    ("spl", "expected"),
    [
        ("earliest=100 latest=200", {"t150", "t175.5"}),
        ("latest=200 earliest=100", {"t150", "t175.5"}),
        ("earliest=0", {"t50", "t150", "t175.5", "t250"}),
    ],
)
def test_earliest_latest_any_order(spl: str, expected: set[str]) -> None:
    assert id_set(f"{spl} id=*", TIMED) == expected
