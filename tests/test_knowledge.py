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
    the command line, signature from the eventcode lookup, tags process and report."""
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
            ["process", "report"],
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
