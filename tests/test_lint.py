"""The SPL linter: the seed's traps found at the right tokens, one targeted query per rule,
and queries that avoid the traps stay clean."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from stagehunt.lint import Finding, default_inventory, from_store, lint
from stagehunt.store.event_store import EventStore

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "src" / "stagehunt" / "content" / "T1074" / "seed.spl").read_text(encoding="utf-8")
SCHEMA = ROOT.parent / "shared" / "data" / "schemas" / "sysmon-schema.json"


def at(spl: str, finding: Finding) -> str:
    """The query text from the finding's line/column to the end of that line."""
    line = spl.splitlines()[finding.line - 1]
    return line[finding.column - 1 :]


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def only(spl: str, rule: str) -> list[Finding]:
    return [f for f in lint(spl) if f.rule == rule]


# --------------------------------------------------------------------------- the seed


@pytest.fixture(scope="module")
def seed_findings() -> list[Finding]:
    return lint(SEED)


def where(findings: list[Finding], rule: str) -> list[tuple[int, int]]:
    return [(f.line, f.column) for f in findings if f.rule == rule]


def test_seed_null_by_fields(seed_findings: list[Finding]) -> None:
    # line 28 is "    by host, Actor, Image, CommandLine"
    found = [f for f in seed_findings if f.rule == "SH001"]
    assert [(f.line, f.column) for f in found] == [(28, 14), (28, 28)]
    actor, command_line = found
    assert at(SEED, actor).startswith("Actor")
    assert "Sysmon EventCode 11" in actor.message and "4.80" in actor.message
    assert "coalesce(User, user)" in actor.message
    assert at(SEED, command_line).startswith("CommandLine")
    assert "every Sysmon EventCode 11 event" in command_line.message
    assert "fillnull" in command_line.fix


def test_seed_time_after_stats(seed_findings: list[Finding]) -> None:
    # line 33: "| table _time, host, ..."
    assert where(seed_findings, "SH002") == [(33, 9)]
    (finding,) = [f for f in seed_findings if f.rule == "SH002"]
    assert at(SEED, finding).startswith("_time,")
    assert "line 22" in finding.message  # the stats


def test_seed_sort_cap(seed_findings: list[Finding]) -> None:
    assert where(seed_findings, "SH003") == [(32, 3)]
    (finding,) = [f for f in seed_findings if f.rule == "SH003"]
    assert at(SEED, finding) == "sort - EventCount"
    assert "`sort 0 - EventCount`" in finding.fix


def test_seed_dead_security_sourcetype(seed_findings: list[Finding]) -> None:
    # line 1, column 88: the second sourcetype term
    assert where(seed_findings, "SH005") == [(1, 88)]
    (finding,) = [f for f in seed_findings if f.rule == "SH005"]
    assert at(SEED, finding).startswith('sourcetype="WinEventLog:Security"')
    assert "EventCode 11, 1" in finding.message and "Windows Security" in finding.message


def test_seed_mid_string_wildcards(seed_findings: list[Finding]) -> None:
    found = [f for f in seed_findings if f.rule == "SH006"]
    texts = [at(SEED, f).split('"')[1] for f in found]
    assert texts == [
        "*\\\\Temp\\\\*",
        "*\\\\tmp\\\\*",
        "*\\\\AppData\\\\Local\\\\Temp\\\\*",
        "*\\\\Users\\\\Public\\\\*",
        "*\\\\ProgramData\\\\*",
        "*\\\\Windows\\\\Temp\\\\*",
        "*copy /*",
        "*\\\\Temp\\\\*",
        "*\\\\tmp\\\\*",
        "*\\\\Public\\\\*",
        "*\\\\ProgramData\\\\*",
    ]
    assert (4, 21) in where(found, "SH006")  # '    (TargetFilename="*\\Temp\\*"'
    copy = next(f for f in found if "copy /" in f.message)
    assert (copy.line, copy.column) == (9, 71)
    assert "might give inconsistent results in Splunk" in copy.message
    assert 'match(CommandLine, "(?i)copy /")' in copy.fix


def test_seed_unreachable_unknown_branch(seed_findings: list[Finding]) -> None:
    assert where(seed_findings, "SH007") == [(18, 5)]
    (finding,) = [f for f in seed_findings if f.rule == "SH007"]
    assert at(SEED, finding).startswith('true(), "Unknown"')
    assert "Sysmon EventCode 1" in finding.message and "Sysmon EventCode 11" in finding.message


def test_seed_multivalue_where(seed_findings: list[Finding]) -> None:
    assert where(seed_findings, "SH004") == [(29, 29)]
    (finding,) = [f for f in seed_findings if f.rule == "SH004"]
    assert at(SEED, finding).startswith('StagingTypes="ArchiveCreated"')
    assert finding.fix == '`isnotnull(mvfind(StagingTypes, "^ArchiveCreated$"))`'


def test_seed_findings_are_sorted_and_complete(seed_findings: list[Finding]) -> None:
    assert [f.pos for f in seed_findings] == sorted(f.pos for f in seed_findings)
    assert set(rules(seed_findings)) == {f"SH00{i}" for i in range(1, 8)}
    for f in seed_findings:
        assert f.message and "\n" not in f.message and f.fix


# --------------------------------------------------------------------------- clean queries

CORRECTED_LIKE = r"""index=wineventlog
  ((source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" (EventCode=1 OR EventCode=11))
   OR (source="XmlWinEventLog:Security" EventCode=4688) OR sourcetype="linux:audit")
| eval Image=coalesce(Image, NewProcessName, exe, "-")
| eval StagingType=case(
    EventCode=11 AND match(TargetFilename, "(?i)\.(zip|7z|rar)$"), "ArchiveCreated",
    EventCode=11, "FileCreatedInStagingPath",
    EventCode=1 OR EventCode=4688, "Copy",
    true(), "Other")
| where match(coalesce(TargetFilename, CommandLine, cmdline), "(?i)\\\\(temp|tmp|programdata)\\\\")
| eval Actor=coalesce(User, user, SubjectUserName, "unknown")
| fillnull value="-" CommandLine
| stats count as EventCount, values(StagingType) as StagingTypes,
    earliest(_time) as FirstSeen, latest(_time) as LastSeen by host, Actor, Image, CommandLine
| where EventCount >= 5 OR isnotnull(mvfind(StagingTypes, "^ArchiveCreated$"))
| eval _time=FirstSeen
| sort 0 - EventCount
| table _time, host, Actor, Image, CommandLine, StagingTypes, EventCount"""


@pytest.mark.parametrize(
    "spl",
    [
        CORRECTED_LIKE,
        'sourcetype=XmlWinEventLog EventCode=1 Image="*\\\\robocopy.exe" '
        "| stats count by host, CommandLine | sort 0 - count",
        "index=main | stats count by host | sort count | head 5",
        "| makeresults | eval x=1 | table _time x",
    ],
)
def test_clean_queries_have_no_findings(spl: str) -> None:
    assert lint(spl) == []


# --------------------------------------------------------------------------- SH001


def test_null_by_field_for_a_named_event_code() -> None:
    spl = "sourcetype=XmlWinEventLog EventCode=11 | stats count by host, CommandLine"
    (finding,) = only(spl, "SH001")
    assert at(spl, finding) == "CommandLine"
    assert "Sysmon EventCode 11" in finding.message


@pytest.mark.parametrize(
    "fix",
    [
        '| fillnull value="-" CommandLine',
        '| eval CommandLine=coalesce(CommandLine, "-")',
        '| eval CommandLine=if(isnull(CommandLine), "-", CommandLine)',
        "| fillnull",
    ],
)
def test_null_by_field_fixed_before_stats(fix: str) -> None:
    spl = f"sourcetype=XmlWinEventLog EventCode=11 {fix} | stats count by host, CommandLine"
    assert only(spl, "SH001") == []


@pytest.mark.parametrize(
    "search", ["sourcetype=XmlWinEventLog", "EventCode=1*", "NOT EventCode=1", "EventCode>4000"]
)
def test_null_by_field_not_reported_without_an_exact_event_code(search: str) -> None:
    # grouping a whole sourcetype by a field means "the events that have it"
    assert only(f"{search} | stats count by CommandLine", "SH001") == []


def test_null_by_field_through_eval_and_case() -> None:
    spl = (
        "sourcetype=XmlWinEventLog (EventCode=1 OR EventCode=11) "
        '| eval Kind=case(EventCode=1, "proc") | stats count by Kind'
    )
    (finding,) = only(spl, "SH001")
    assert "`Kind`" in finding.message and "Sysmon EventCode 11" in finding.message
    assert "Sysmon EventCode 1," not in finding.message


def test_null_by_field_security_command_line_needs_audit_policy() -> None:
    spl = 'source="XmlWinEventLog:Security" EventCode=4688 | stats count by CommandLine, Image'
    found = only(spl, "SH001")
    assert len(found) == 2
    assert "Include command line" in found[0].message  # CommandLine: policy-dependent
    assert "not set on them" in found[1].message  # Image: not a 4688 field
    required = (
        'source="XmlWinEventLog:Security" EventCode=4688 CommandLine=* | stats count by CommandLine'
    )
    assert only(required, "SH001") == []


def test_null_by_field_auditd_has_no_windows_names() -> None:
    spl = "sourcetype=linux:audit | stats count by host, Image, exe"
    (finding,) = only(spl, "SH001")
    assert at(spl, finding).startswith("Image") and "Linux auditd" in finding.message


def test_eventstats_by_field() -> None:
    spl = "sourcetype=XmlWinEventLog EventCode=11 | eventstats count by CommandLine"
    (finding,) = only(spl, "SH001")
    assert "eventstats" in finding.message


# --------------------------------------------------------------------------- SH002


def test_time_after_stats_in_table_sort_and_eval() -> None:
    spl = "index=x | stats count by host | eval t=_time | sort _time | table _time, host"
    found = only(spl, "SH002")
    assert [at(spl, f)[:5] for f in found] == ["_time"] * 3
    assert [f.column for f in found] == [40, 53, 67]


@pytest.mark.parametrize(
    "spl",
    [
        "index=x | stats earliest(_time) as FirstSeen by host | eval _time=FirstSeen | table _time",
        "index=x | stats earliest(_time) as _time by host | table _time, host",
        "index=x | stats count by _time, host | table _time",
        "index=x | table _time, host | stats count by host",
        "index=x | eventstats count by host | table _time",
    ],
)
def test_time_after_stats_not_reported(spl: str) -> None:
    assert only(spl, "SH002") == []


# --------------------------------------------------------------------------- SH003


def test_sort_without_count() -> None:
    spl = "index=x | stats count by host | sort -count, host"
    (finding,) = only(spl, "SH003")
    assert finding.column == 33 and "10,000" in finding.message
    assert finding.fix == "`sort 0 -count, host` (sort 0 = no limit)"


@pytest.mark.parametrize(
    "spl",
    [
        "index=x | sort 0 - count",
        "index=x | sort limit=50 - count",
        "index=x | head 100 | sort - count",
        "index=x | stats count | sort - count",
    ],
)
def test_sort_bounded_not_reported(spl: str) -> None:
    assert only(spl, "SH003") == []


# --------------------------------------------------------------------------- SH004


def test_multivalue_comparisons() -> None:
    spl = (
        "index=x | stats values(t) as ts, count by h "
        '| eval f=if(ts!="a", 1, 0) | where ts="b" OR count>1 | search ts=c'
    )
    found = only(spl, "SH004")
    assert len(found) == 3
    assert found[0].fix == '`isnull(mvfind(ts, "^a$"))`'
    assert found[1].fix == '`isnotnull(mvfind(ts, "^b$"))`'
    assert "values() at line 1" in found[0].message


@pytest.mark.parametrize(
    "spl",
    [
        'index=x | stats values(t) as ts by h | where isnotnull(mvfind(ts, "^a$"))',
        'index=x | stats values(t) as ts by h | eval ts=mvjoin(ts, ",") | where ts="a"',
        'index=x | stats values(t) as ts by h | eval n=mvcount(mvfilter(ts="a")) | where n>0',
        'index=x | stats first(t) as ts by h | where ts="a"',
    ],
)
def test_multivalue_not_reported(spl: str) -> None:
    assert only(spl, "SH004") == []


def test_split_output_is_multivalue() -> None:
    assert rules(lint('index=x | eval parts=split(p, "\\\\") | where parts="Temp"')) == ["SH004"]


# --------------------------------------------------------------------------- SH005


def test_dead_sourcetype_for_selected_event_codes() -> None:
    spl = '(sourcetype="XmlWinEventLog:Security" OR sourcetype=XmlWinEventLog) EventCode=1'
    (finding,) = only(spl, "SH005")
    assert at(spl, finding).startswith('sourcetype="XmlWinEventLog:Security"')
    assert "EventCode=4688" in finding.fix


@pytest.mark.parametrize(
    "spl",
    [
        "sourcetype=XmlWinEventLog EventCode=1",  # Sysmon under the modern add-on
        'sourcetype="WinEventLog:Security" EventCode=4688',
        'sourcetype="WinEventLog:Security" EventCode=4624',  # unlisted Security code: unknown
        "sourcetype=my:custom:thing",  # the static inventory cannot know custom sourcetypes
    ],
)
def test_live_sourcetypes_not_reported(spl: str) -> None:
    assert only(spl, "SH005") == []


# --------------------------------------------------------------------------- SH006


@pytest.mark.parametrize(
    ("value", "reported"),
    [
        ('"*copy /*"', True),
        ('"*\\\\Temp\\\\*"', True),
        ('"C:\\\\Users\\\\*\\\\AppData"', True),
        ('"*robocopy*"', False),
        ('"*Copy-Item*"', False),
        ('"*\\\\robocopy.exe"', False),
        ('"10.0.0.*"', False),
        ("*", False),
    ],
)
def test_mid_string_wildcards(value: str, reported: bool) -> None:
    spl = f"index=x CommandLine={value}"
    found = only(spl, "SH006")
    assert bool(found) is reported
    if found:
        assert found[0].column == len("index=x CommandLine=") + 1


def test_mid_string_wildcard_in_bare_term() -> None:
    (finding,) = only('index=x "*\\\\Temp\\\\*"', "SH006")
    assert "match(_raw," in finding.fix


# --------------------------------------------------------------------------- SH007


def test_branch_after_true() -> None:
    spl = 'index=x | eval k=case(a=1, "a", true(), "b", a=2, "c")'
    (finding,) = only(spl, "SH007")
    assert at(spl, finding).startswith('a=2, "c"') and "true()" in finding.message


def test_identical_and_implied_branches() -> None:
    spl = (
        'index=x | eval k=case(a=1, "a", a=1, "b"), '
        'j=case(EventCode=11, "f", EventCode=11 AND match(x, "zip"), "z")'
    )
    found = only(spl, "SH007")
    assert [at(spl, f)[:14] for f in found] == ['a=1, "b"), j=c', "EventCode=11 A"]


def test_more_specific_branch_first_is_fine() -> None:
    spl = 'index=x | eval k=case(EventCode=11 AND match(x, "zip"), "z", EventCode=11, "f")'
    assert only(spl, "SH007") == []


def test_branch_excluded_by_the_search() -> None:
    spl = (
        "sourcetype=XmlWinEventLog EventCode=11 "
        '| eval k=case(EventCode=1, "proc", EventCode=11, "file", true(), "other")'
    )
    found = only(spl, "SH007")
    assert [at(spl, f)[:12] for f in found] == ["EventCode=1,", 'true(), "oth']


def test_default_branch_reachable_when_search_is_open() -> None:
    spl = 'index=x | eval k=case(EventCode=11, "file", true(), "other")'
    assert only(spl, "SH007") == []


# --------------------------------------------------------------------------- inventories


def test_static_inventory_knows_the_traps() -> None:
    inv = default_inventory()
    kinds = {(v.kind.source_name, v.kind.code): v.kind for v in inv.variants}
    eid11 = kinds[("Sysmon", "11")]
    assert "CommandLine" not in eid11.fields
    assert "4.80" in str(eid11.fields["User"]) and "4.80" in str(eid11.fields["user"])
    assert kinds[("Sysmon", "1")].fields["CommandLine"] is None
    assert kinds[("Sysmon for Linux", "11")].fields["User"] is None
    assert "NewProcessName" in kinds[("Windows Security", "4688")].fields
    sourcetypes = {v.sourcetype for v in inv.variants}
    assert {
        "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
        "XmlWinEventLog",
        "XmlWinEventLog:Security",
        "WinEventLog:Security",
        "WinEventLog",
        "linux:audit",
        "sysmon:linux",
    } <= sourcetypes


@pytest.mark.skipif(not SCHEMA.exists(), reason="shared Sysmon schema not available")
def test_inventory_json_is_generated_from_the_schema() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_lint_inventory", ROOT / "scripts" / "make_lint_inventory.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = json.loads((ROOT / "src" / "stagehunt" / "lint" / "inventory.json").read_text())
    assert module.build(SCHEMA) == shipped


def _store_with(tmp_path: Path, events: list[dict[str, str]]) -> EventStore:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    store = EventStore(in_memory=True)
    store.load([path])
    return store


def test_store_inventory(tmp_path: Path) -> None:
    base = {"sourcetype": "XmlWinEventLog", "host": "pc1", "Image": "C:\\x.exe"}
    events = [
        {**base, "EventCode": "1", "CommandLine": "x.exe /c", "User": "a"},
        {**base, "EventCode": "11", "TargetFilename": "C:\\Temp\\a.zip"},
        {**base, "EventCode": "11", "TargetFilename": "C:\\Temp\\b.zip", "User": "b"},
    ]
    with _store_with(tmp_path, events) as store:
        inv = from_store(store)
        assert inv.complete and inv.sourcetypes == {"XmlWinEventLog"}
        spl = (
            '(sourcetype=XmlWinEventLog OR sourcetype="XmlWinEventLog:Microsoft-Windows-Sysmon'
            '/Operational") (EventCode=1 OR EventCode=11) | stats count by host, User, CommandLine'
        )
        found = lint(spl, inv)
        assert rules(found) == ["SH005", "SH001", "SH001"]
        assert "matches no event in the data" in found[0].message
        assert "set on 1 of 2" in found[1].message  # User on EventCode 11
        assert "every XmlWinEventLog EventCode 11 event" in found[2].message
        # the static inventory cannot say the legacy sourcetype is missing
        assert "SH005" not in rules(lint(spl))


CORRECTED = ROOT / "src" / "stagehunt" / "content" / "T1074" / "corrected.spl"


@pytest.mark.skipif(not CORRECTED.exists(), reason="corrected variant not written yet")
def test_shipped_corrected_variant_is_clean() -> None:
    findings = lint(CORRECTED.read_text(encoding="utf-8"))
    assert findings == [], "\n".join(f.render() for f in findings)
