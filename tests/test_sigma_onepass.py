"""Rule libraries in one pass (issue 14): row filters, batched evaluation, the YAML-free load.

Expected matches are worked out by hand from hand-made events (the comments say why each
event matches or not); every batched result is also compared with each rule run as its
own statement (`run_rules(one_pass=False)`), and the real-library comparison is in
test_sigma_onepass_real.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from sqlglot import parse_one

from stagehunt.api import compile_query
from stagehunt.compile.predicate import fold, guard_terms, row_filter
from stagehunt.sigma import onepass
from stagehunt.sigma.cache import ConversionCache
from stagehunt.sigma.convert import Converted, RuleInfo, convert_cached
from stagehunt.sigma.library import load_library
from stagehunt.sigma.rules import load_rules
from stagehunt.sigma.run import RuleRun, run_rules
from stagehunt.store.event_store import EventStore
from stagehunt.store.schema import ColumnKind

SYSMON = "Microsoft-Windows-Sysmon/Operational"


def _event(second: int, channel: str, event_id: str, **fields: str) -> dict[str, object]:
    return {
        "SystemTime": f"2024-01-01T00:00:0{second}.000Z",
        "Channel": channel,
        "EventID": event_id,
        "Computer": "H",
        **fields,
    }


# stored in this order: positions 0..4
EVENTS = [
    _event(1, SYSMON, "1", Image=r"C:\Windows\certutil.exe", CommandLine="certutil -urlcache x"),
    _event(
        3,
        SYSMON,
        "1",
        Image=r"C:\Windows\cmd.exe",
        CommandLine="cmd /c whoami",
        ParentImage=r"C:\x\WINWORD.EXE",
    ),
    _event(2, SYSMON, "1", Image=r"C:\Tools\CERTUTIL.EXE", CommandLine="CERTUTIL -decode"),
    _event(3, "Security", "4688", CommandLine="cmd /c whoami"),
    _event(4, SYSMON, "11", Image=r"C:\Windows\cmd.exe", TargetFilename=r"C:\temp\a.dmp"),
]

#: SPL -> the store positions it keeps, newest first (ties in stored order), by hand
EXPECTED: dict[str, list[int]] = {
    # certutil by image, case-insensitive: 2 (00:02) then 0 (00:01)
    f'Channel="{SYSMON}" EventCode=1 Image="*\\\\certutil.exe"': [2, 0],
    # whoami in Sysmon process creation: 1 only (3 is Security)
    f'Channel="{SYSMON}" EventCode=1 CommandLine="*whoami*"': [1],
    # no winword parent: 0 and 2 have no ParentImage at all, which NOT matches (Splunk)
    'EventCode=1 NOT ParentImage="*\\\\winword.exe"': [2, 0],
    # whoami anywhere: 1 and 3 share 00:03, stored order 1 then 3
    'CommandLine="*whoami*"': [1, 3],
    # a field no event has: nothing
    f'Channel="{SYSMON}" EventCode=1 NoSuchField="x"': [],
    # regex is case-sensitive on the value: "-urlcache" (0) and "-decode" (2)
    f'Channel="{SYSMON}" EventCode=1 | regex CommandLine="-(urlcache|decode)"': [2, 0],
    # cmd.exe images: 4 (00:04) then 1 (00:03)
    'Image="*\\\\cmd.exe"': [4, 1],
    # NOT of a field no event has: every event
    'NOT NoSuchField="x"': [4, 1, 3, 2, 0],
    # two filters in a row
    'Image="*cmd*" | search CommandLine="*whoami*"': [1],
    # a bare term is looked for in each event's raw text: 1 and 3 (same second, stored order)
    "whoami": [1, 3],
    "NOT whoami": [4, 2, 0],
    # a term must stand between breakers: "whoam" is only part of "whoami"
    "whoam": [],
}


@pytest.fixture()
def store(tmp_path: Path) -> EventStore:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    s = EventStore(in_memory=True)
    s.load([path])
    return s


def _rule(n: int, *queries: str) -> Converted:
    return Converted(RuleInfo(f"r{n}", f"rule {n}", "high", f"r{n}.yml", False), queries)


def _stored_order(store: EventStore) -> list[str]:
    """Store position -> CommandLine or TargetFilename, to read results by hand."""
    rows = store.connection.execute(
        'SELECT "__seq", coalesce("CommandLine", "TargetFilename") FROM events ORDER BY 1'
    ).fetchall()
    return [str(r[1]) for r in rows]


def _same(a: RuleRun, b: RuleRun) -> bool:
    return (a.error, a.events, a.rows) == (b.error, b.events, b.rows)


def test_batched_matches_are_the_hand_worked_ones(store: EventStore) -> None:
    labels = _stored_order(store)
    assert labels[1] == "cmd /c whoami" and labels[4] == r"C:\temp\a.dmp"  # positions as listed
    rules = [_rule(i, spl) for i, spl in enumerate(EXPECTED)]
    alone = run_rules(rules, store, one_pass=False)
    masked = run_rules(rules, store, strategy="mask")
    batched = run_rules(rules, store)
    for m, b in zip(masked, batched, strict=True):
        assert _same(m, b), m.rule.id
    for run, single, (spl, want) in zip(batched, alone, EXPECTED.items(), strict=True):
        assert run.error is None, spl
        assert run.events == set(want), spl
        # rows in search order, one per event, with the event's own fields
        got = [str(r.get("CommandLine") or r.get("TargetFilename")) for r in run.rows]
        assert got == [labels[i] for i in want], spl
        assert _same(run, single), spl


def test_filters_and_other_rules_keep_their_order_and_results(store: EventStore) -> None:
    rules = [
        _rule(0, 'Image="*\\\\cmd.exe"'),
        _rule(1, "EventCode=1 | stats count by Image"),  # not a filter: its own statement
        _rule(2, 'CommandLine="*whoami*"', 'Image="*\\\\cmd.exe"'),  # two queries: alone
        _rule(3, "EventCode=1 | head 1"),  # order-dependent: alone
        _rule(4, 'CommandLine="*whoami*" | eval x=1'),  # adds a field: alone
    ]
    batched = run_rules(rules, store)
    alone = run_rules(rules, store, one_pass=False)
    assert [r.rule.id for r in batched] == ["r0", "r1", "r2", "r3", "r4"]
    assert batched[1].events is None and len(batched[1].rows) == 3  # three distinct images
    assert batched[2].events == {1, 3, 4}  # an event both queries keep counts once
    # head: newest EventCode=1 event (00:03), a result row rather than a set of events
    assert [r["CommandLine"] for r in batched[3].rows] == ["cmd /c whoami"]
    assert batched[4].rows[0]["x"] == 1
    for a, b in zip(batched, alone, strict=True):
        assert _same(a, b), a.rule.id


def test_row_filter_only_for_queries_that_filter_row_by_row() -> None:
    schema = {"_time": ColumnKind.NUMBER, "Image": ColumnKind.STRING, "x": ColumnKind.STRING}

    def rf(spl: str) -> object:
        return row_filter(compile_query(spl, schema))

    stored = {name: name for name in schema}
    for spl in ('Image="*a*"', 'Image="*a*" | where x="b" | regex Image="a"'):
        found = row_filter(compile_query(spl, schema))
        assert found is not None and found.shows_stored(stored), spl
    for spl in (
        "Image=a | stats count",
        "Image=a | head 2",
        "Image=a | dedup Image",
        "Image=a | streamstats count",
        "Image=a | sort Image",
        "| makeresults",
    ):
        assert rf(spl) is None, spl
    # row filters whose rows are not the stored fields: not batched as events
    for spl in ("Image=a | eval y=1", "Image=a | table Image", "Image=a | rename Image AS p"):
        found = row_filter(compile_query(spl, schema))
        assert found is not None and not found.shows_stored(stored), spl


def test_guarded_term_regex_is_the_same_filter() -> None:
    schema = {"_time": ColumnKind.NUMBER, "_raw": ColumnKind.STRING}
    found = row_filter(compile_query("whoami", schema))
    assert found is not None
    before = [t.sql("duckdb") for t in found.conjuncts]
    guard_terms(found.conjuncts)
    after = [t.sql("duckdb") for t in found.conjuncts]
    assert len(after) == 1 and after != before
    assert "CASE WHEN REGEXP_MATCHES(\"_raw\", '(?i)(?:whoami)') THEN REGEXP_MATCHES(" in after[0]
    con = duckdb.connect()
    raws = ["a whoami b", "awhoamib", "WHOAMI", "who ami", None]
    for raw in raws:  # the guard never changes the verdict, NULL included
        got = [
            con.execute(f"SELECT {sql} FROM (SELECT ?::VARCHAR AS _raw)", [raw]).fetchone()
            for sql in (before[0], after[0])
        ]
        assert got[0] == got[1], raw


def test_fold_keeps_three_valued_logic() -> None:
    con = duckdb.connect()

    def value(sql: str, x: object) -> object:
        return con.execute(f"SELECT {sql} FROM (SELECT ?::BOOLEAN AS x)", [x]).fetchone()[0]  # type: ignore[index]

    cases = {
        "x OR FALSE": "x",
        "x AND FALSE": "FALSE",
        "x OR TRUE": "TRUE",
        "NOT (x AND FALSE)": "TRUE",
        "(FALSE OR FALSE) AND x": "FALSE",
        "COALESCE(FALSE, FALSE) OR x": "x",
        "NOT (NOT x OR FALSE)": "NOT (NOT x)",
    }
    for before, after in cases.items():
        folded = fold(parse_one(before, read="duckdb")).sql("duckdb")
        assert folded == after, before
        for x in (True, False, None):  # the fold holds for every value, NULL included
            assert value(before, x) == value(folded, x), (before, x)


def test_many_filters_cross_batches_and_bits(store: EventStore) -> None:
    # filter k keeps the event at position k % 5 (its own test), so by hand: {k % 5}
    filters = [onepass.Filter(k, ('("__seq" = ' + str(k % 5) + ")",)) for k in range(130)]
    for strategy, statements in (("mask", 3), ("alone", 130)):  # mask: 63 + 63 + 4
        out = onepass.evaluate(store.connection, filters, "events", "__seq", strategy=strategy)
        assert out.statements == statements
        assert {k: out.matches[k] for k in range(130)} == {k: {k % 5} for k in range(130)}


def test_a_failing_filter_fails_alone(store: EventStore) -> None:
    filters = [
        onepass.Filter("ok", ("(\"EventCode\" = '1')",)),
        onepass.Filter("bad", ('(CAST("CommandLine" AS INTEGER) = 1)',)),  # not a number
        onepass.Filter("none", ("FALSE",)),
    ]
    for strategy in onepass.STRATEGIES:
        out = onepass.evaluate(store.connection, filters, "events", "__seq", strategy=strategy)
        assert out.matches == {"ok": {0, 1, 2}, "none": set()}
        assert set(out.errors) == {"bad"}


def test_factored_mask_shares_terms() -> None:
    sql = onepass.mask([(frozenset({"A", "B"}), 0), (frozenset({"A", "C"}), 1)])
    want = "CASE WHEN A THEN (CASE WHEN B THEN 1 ELSE 0 END) | (CASE WHEN C THEN 2 ELSE 0 END)"
    assert sql == want + " ELSE 0 END"


RULE = """title: {title}
id: {id}
logsource: {{product: windows, category: process_creation}}
detection:
  sel: {{Image|endswith: '{image}'}}
  condition: sel
level: high
"""


def _write_rules(folder: Path) -> None:
    folder.mkdir()
    (folder / "a.yml").write_text(
        RULE.format(title="cmd", id="6c1e1a4e-0000-4000-8000-0000000000a1", image="\\\\cmd.exe"),
        encoding="utf-8",
    )
    (folder / "b.yml").write_text(
        RULE.format(
            title="cu", id="6c1e1a4e-0000-4000-8000-0000000000b1", image="\\\\certutil.exe"
        ),
        encoding="utf-8",
    )
    (folder / "c.yml").write_text("title: [unclosed\n", encoding="utf-8")  # not YAML


def test_warm_library_skips_loading_and_gives_the_same(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    _write_rules(rules)
    ruleset = load_rules([rules])
    full = convert_cached(ruleset.collection.rules, None)
    cache = ConversionCache(tmp_path / "cache")
    cold = load_library([rules], cache)
    warm_cache = ConversionCache(tmp_path / "cache")
    warm = load_library([rules], warm_cache)
    assert warm_cache.hits == 3 and warm_cache.misses == 0  # three files, none parsed
    for lib in (cold, warm):
        assert lib.converted == full
        assert lib.problems == ruleset.problems
    # a changed file misses, the others still hit
    (rules / "b.yml").write_text(
        RULE.format(title="cu", id="6c1e1a4e-0000-4000-8000-0000000000b1", image="\\\\x.exe"),
        encoding="utf-8",
    )
    again = ConversionCache(tmp_path / "cache")
    changed = load_library([rules], again)
    assert again.hits == 2
    assert "x.exe" in changed.converted[1].queries[0]


def test_a_correlation_takes_the_full_path(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    _write_rules(rules)
    cache = ConversionCache(tmp_path / "cache")
    load_library([rules], cache)  # a.yml, b.yml cached without any correlation
    (rules / "d.yml").write_text(
        "title: many cmd\nid: 6c1e1a4e-0000-4000-8000-0000000000d1\n"
        "correlation:\n  type: event_count\n  rules: [6c1e1a4e-0000-4000-8000-0000000000a1]\n"
        "  group-by: [Computer]\n  timespan: 1h\n  condition: {gte: 2}\nlevel: high\n",
        encoding="utf-8",
    )
    ruleset = load_rules([rules])
    full = convert_cached(ruleset.collection.rules, None)
    lib = load_library([rules], ConversionCache(tmp_path / "cache"))
    assert lib.converted == full
    assert lib.converted[0].feeds == ("many cmd",)  # a.yml now only feeds the correlation


REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "SigmaHQ-sigma"


@pytest.mark.skipif(not REAL.is_dir(), reason="shared/data/real not present")
def test_real_rules_batched_as_each_alone(tmp_path: Path) -> None:
    """Every 5th rule of SigmaHQ's Windows library over all of its regression samples:
    batched, the same events, rows and errors as each rule run on its own."""
    files = sorted((REAL / "regression_data" / "rules" / "windows").rglob("*.evtx"))
    library = load_library([REAL / "rules" / "windows"], ConversionCache(tmp_path / "c"))
    rules = [c for c in library.converted if not c.rule.correlation][::5]
    with EventStore(in_memory=True) as store:
        store.load(files)
        batched = run_rules(rules, store, ConversionCache(tmp_path / "c"))
        masked = run_rules(rules, store, ConversionCache(tmp_path / "c"), strategy="mask")
        alone = run_rules(rules, store, one_pass=False)
    assert len(batched) == len(alone) > 400
    assert sum(len(r.events or ()) for r in batched) > 20  # some fire on their samples
    for a, m, b in zip(batched, masked, alone, strict=True):
        assert _same(a, b), a.rule.path
        assert _same(m, b), m.rule.path
