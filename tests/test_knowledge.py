"""Search-time knowledge on raw events (docs/cim.md K1-K7): add-on extractions, aliases,
calculated fields, event types and tags. Expected values are worked out by hand from
the rules and the fixture stanzas in tests/fixtures/knowledge/addons/rules.yml."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagehunt.api import search_records
from stagehunt.knowledge import Knowledge, KnowledgeError, bundled, load
from stagehunt.knowledge.load import parse_addon

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"
RULES = load(FIXTURES)

SYSMON = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"


def _kt(**fields: object) -> dict[str, object]:
    return {"_time": 1700000000, "sourcetype": "kt:one", "source": "kt-source-1", **fields}


def test_rule_K0_no_knowledge_keeps_events_as_stored() -> None:
    """Without knowledge nothing is added: `user` stays as stored, no eventtype."""
    rec = {"_time": 1, "source": SYSMON, "EventCode": "1", "User": "CORP\\alice", "user": "x"}
    result = search_records("* | table user eventtype", [rec])
    assert result.rows == [("x", None)]


def test_rule_K2_extractions_come_before_aliases() -> None:
    """code = replace(raw_code, "^id=", "") = "7"; the alias code AS code_alias sees it."""
    result = search_records("* | table code code_alias", [_kt(raw_code="id=7")], knowledge=RULES)
    assert result.rows == [("7", "7")]


def test_rule_K3_alias_as_overwrites_even_with_nothing_asnew_keeps() -> None:
    """missing_field is absent: `AS` removes the stored `overwritten`, `ASNEW` keeps
    `kept` (Splunk 7.2.4+ field alias behaviour)."""
    result = search_records(
        '* | eval o=coalesce(overwritten, "gone") | table o kept',
        [_kt(overwritten="old", kept="old")],
        knowledge=RULES,
    )
    assert result.rows == [("gone", "old")]


def test_rule_K4_evals_see_aliases_not_each_other() -> None:
    """b = a (alias) = "A"; c = b."x" = "Ax"; d = c."y" reads the stored c ("C"): "Cy"."""
    result = search_records("* | table b c d", [_kt(a="A", c="C")], knowledge=RULES)
    assert result.rows == [("A", "Ax", "Cy")]


def test_rule_K5_eventtype_and_tags_after_evals() -> None:
    """code=7 (from the extraction) puts the event in kt-tagged: eventtype and its two
    tags, sorted; an event of code 8 has neither."""
    records = [_kt(raw_code="id=7"), _kt(raw_code="id=8", _time=1700000001)]
    result = search_records("* | sort code | table code eventtype tag", records, knowledge=RULES)
    assert result.rows == [("7", ["kt-tagged"], ["odd", "seven"]), ("8", None, None)]


def test_rule_K6_stanzas_match_source_and_sourcetype_globs() -> None:
    """`source::kt-source*` matches kt-source-1, not other-source; "kt:*" matches kt:one."""
    records = [_kt(a="1"), _kt(a="2", source="other-source", _time=1700000001)]
    result = search_records("* | sort a | table a b from_source", records, knowledge=RULES)
    assert result.rows == [("1", "1", "yes"), ("2", "2", None)]


def test_sysmon_addon_fields_on_a_process_creation() -> None:
    """Splunk_TA_microsoft_sysmon on EventCode 1: user without its domain
    (replace(User, "(.*)\\\\(.+)$", "\\2")), process_name the Image's basename, process
    the command line, signature from the eventcode lookup, tags process and report (its
    ms-sysmon-process event type) and track_event_signatures (Splunk_TA_windows'
    windows_event_signature event type names every XmlWinEventLog sourcetype)."""
    rec = {
        "_time": 1700000000,
        "source": SYSMON,
        "sourcetype": "XmlWinEventLog",
        "EventCode": "1",
        "Computer": "WS1",
        "User": "CORP\\alice",
        "Image": "C:\\Windows\\System32\\cmd.exe",
        "CommandLine": "cmd.exe /c whoami",
        "ParentImage": "C:\\Windows\\explorer.exe",
    }
    result = search_records(
        "* | table dest user process_name parent_process_name process action signature tag",
        [rec],
        knowledge=bundled(),
    )
    assert result.rows == [
        (
            "WS1",
            "alice",
            "cmd.exe",
            "explorer.exe",
            "cmd.exe /c whoami",
            "allowed",
            "Process creation",
            ["process", "report", "track_event_signatures"],
        )
    ]


def test_sysmon_registry_value_fields() -> None:
    """EventCode 13: Details "DWORD (0x00000001)" → RegistryValueType DWORD (extraction) →
    registry_value_type REG_DWORD; registry_value_data from the extraction; the value name
    is the path's last part; the key name the part before it."""
    rec = {
        "_time": 1,
        "source": SYSMON,
        "EventCode": "13",
        "TargetObject": "HKLM\\SOFTWARE\\Policies\\Defender\\DisableAntiSpyware",
        "Details": "DWORD (0x00000001)",
    }
    result = search_records(
        "* | table registry_path registry_key_name registry_value_name registry_value_type "
        "registry_value_data registry_hive",
        [rec],
        knowledge=bundled(),
    )
    assert result.rows == [
        (
            "HKLM\\SOFTWARE\\Policies\\Defender\\DisableAntiSpyware",
            "Defender",
            "DisableAntiSpyware",
            "REG_DWORD",
            "0x00000001",
            "HKEY_LOCAL_MACHINE\\Software",
        )
    ]


def test_bundled_knowledge_loads() -> None:
    k = bundled()
    assert isinstance(k, Knowledge)
    assert k.datamodel("Endpoint") is not None
    names = [o.name for o in k.datamodel("Endpoint").objects]  # type: ignore[union-attr]
    assert names == ["Ports", "Processes", "Services", "Filesystem", "Registry"]


def test_malformed_addon_names_the_entry() -> None:
    with pytest.raises(KnowledgeError, match=r"x.yml: stanzas\[0\]: alias 'a b' is not"):
        parse_addon({"stanzas": [{"match": ["st"], "aliases": ["a b"]}]}, "x.yml")


# ------------------------------------------------------ which add-on fields a query needs


@pytest.mark.parametrize(
    ("spl", "expected"),
    [
        # named fields up to the stats, which keeps only its own (compile/reads.py)
        (
            "EventCode=1 process_name=7z.exe | eval d=lower(dest) | stats count by d user",
            {"EventCode", "process_name", "d", "dest", "user"},
        ),
        # a rename's old name and a table's list
        ("index=x | rename dest AS host_name | table host_name", {"index", "dest", "host_name"}),
        # a subsearch filter's own fields
        (
            "x=1 [ search y=2 | fields user ] | table user",
            {"x", "y", "user"},
        ),
    ],
)
def test_fields_read_names_the_fields_a_query_uses(spl: str, expected: set[str]) -> None:
    from stagehunt.compile.reads import fields_read
    from stagehunt.spl.parser import parse

    assert fields_read(parse(spl)) == expected


@pytest.mark.parametrize(
    "spl",
    [
        "EventCode=1",  # every field reaches the output
        "EventCode=1 | table *",  # a wildcard list
        "EventCode=1 | rename Processes.* AS * | table a",  # a wildcard rename
        "EventCode=1 | stats count by a | append [ search b=1 ]",  # all of b's fields join
        "x=1 [ search y=2 ] | table user",  # the subsearch rows keep every field
    ],
)
def test_fields_read_is_unknown_when_any_field_may_matter(spl: str) -> None:
    from stagehunt.compile.reads import fields_read
    from stagehunt.spl.parser import parse

    assert fields_read(parse(spl)) is None


def test_only_the_fields_read_change_nothing_in_the_results() -> None:
    """The same detection with every add-on field (a `fields *` forces them) and with
    only the fields it names gives the same rows: the definitions left out are those no
    later command reads (K1 is about values, not about which are computed)."""
    rec = {
        "_time": 1700000000,
        "source": SYSMON,
        "sourcetype": "XmlWinEventLog",
        "EventCode": "1",
        "Computer": "WS1",
        "User": "CORP\\alice",
        "Image": "C:\\Program Files\\7-Zip\\7z.exe",
        "CommandLine": "7z.exe a -pX out.7z C:\\Users\\alice\\Documents",
        "ParentImage": "C:\\Windows\\System32\\cmd.exe",
    }
    tail = "| stats count by dest user process_name parent_process_name process tag"
    pruned = search_records('process_name="7z.exe" ' + tail, [rec], knowledge=bundled())
    full = search_records('process_name="7z.exe" | fields * ' + tail, [rec], knowledge=bundled())
    # by a multivalue field, one row per value (rule 6.4), in value order (6.5)
    common = (
        "WS1",
        "alice",
        "7z.exe",
        "cmd.exe",
        "7z.exe a -pX out.7z C:\\Users\\alice\\Documents",
    )
    assert pruned.rows == full.rows
    assert pruned.rows == [
        (*common, "process", 1),
        (*common, "report", 1),
        (*common, "track_event_signatures", 1),
    ]
