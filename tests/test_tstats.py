"""tstats, datamodel and from over the emulated CIM Endpoint model (docs/cim.md T1-T12,
D1-D7). Raw records use the field names our ingest gives Sysmon and Security events;
the CIM rows and the tstats results are worked out by hand from the Sysmon add-on
(knowledge/addons/sysmon.yml), the Endpoint model (knowledge/datamodels/Endpoint.yml)
and the rules, as each test's docstring says."""

from __future__ import annotations

import pytest

from stagehunt.api import search_records
from stagehunt.knowledge import Knowledge, bundled
from stagehunt.spl.errors import SplSemanticError, SplSyntaxError, SplUnsupportedError

SYSMON = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
T0 = 1700000000  # 2023-11-14 22:13:20 UTC; its hour starts at 1699999200


def _sysmon(t: float, code: str, **fields: object) -> dict[str, object]:
    return {
        "_time": t,
        "index": "wineventlog",
        "source": SYSMON,
        "sourcetype": "XmlWinEventLog",
        "EventCode": code,
        **fields,
    }


# R1, R2: alice on WS1 runs cmd.exe then 7z.exe (same hour); R3: whoami.exe on WS2 an hour
# later, no User and no CurrentDirectory; R4: a network connection (not a process event);
# R5: alice runs cmd.exe again on WS1.
R1 = _sysmon(
    T0,
    "1",
    Computer="WS1",
    User="CORP\\alice",
    Image="C:\\Windows\\System32\\cmd.exe",
    CommandLine="cmd.exe /c whoami",
    ParentImage="C:\\Windows\\explorer.exe",
    ParentCommandLine="C:\\Windows\\explorer.exe",
    OriginalFileName="Cmd.Exe",
    CurrentDirectory="C:\\Users\\alice\\",
    ProcessId="100",
)
R2 = _sysmon(
    T0 + 100,
    "1",
    Computer="WS1",
    User="CORP\\alice",
    Image="C:\\Program Files\\7-Zip\\7z.exe",
    CommandLine="7z.exe a out.7z secret.docx",
    ParentImage="C:\\Windows\\System32\\cmd.exe",
    CurrentDirectory="C:\\Users\\alice\\",
    ProcessId="200",
)
R3 = _sysmon(
    T0 + 3700,
    "1",
    Computer="WS2",
    Image="C:\\Windows\\System32\\whoami.exe",
    CommandLine="whoami",
    ParentImage="C:\\Windows\\System32\\cmd.exe",
    ProcessId="300",
)
R4 = _sysmon(T0 + 50, "3", Computer="WS1", Image="C:\\x\\curl.exe", DestinationIp="10.0.0.9")
R5 = _sysmon(
    T0 + 200,
    "1",
    Computer="WS1",
    User="CORP\\alice",
    Image="C:\\Windows\\System32\\cmd.exe",
    CommandLine="cmd.exe /c dir",
    CurrentDirectory="C:\\Users\\alice\\",
)
EVENTS = [R1, R2, R3, R4, R5]

PROCESSES = "| tstats count from datamodel=Endpoint.Processes"


def _run(spl: str, records: list[dict[str, object]] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return search_records(spl, EVENTS if records is None else records, **kw)  # type: ignore[arg-type]


def test_rule_D2_D3_D4_cim_rows_from_sysmon_process_creation() -> None:
    """R1 as a Processes row: dest=Computer; user=User without the domain (add-on); the
    names are basenames; original_file_name as given; vendor_product the add-on's
    constant. R3 has no User: the model's calculation makes user "unknown". R4 (EventCode
    3) is tagged network, not process: no row. Fields are Processes.<name> (D4)."""
    result = _run(
        "| datamodel Endpoint Processes search | sort _time | table _time Processes.dest "
        "Processes.user Processes.process_name Processes.parent_process_name "
        "Processes.original_file_name Processes.process_path Processes.vendor_product"
    )
    assert result.rows[0] == (
        T0,
        "WS1",
        "alice",
        "cmd.exe",
        "explorer.exe",
        "Cmd.Exe",
        "C:\\Windows\\System32\\cmd.exe",
        "Microsoft Sysmon",
    )
    assert [r[0] for r in result.rows] == [T0, T0 + 100, T0 + 200, T0 + 3700]
    assert result.rows[3][2] == "unknown"
    # R2 has no OriginalFileName: the model's calculation gives "unknown"
    assert result.rows[1][5] == "unknown"


def test_rule_D6_datamodel_flat_and_from_datamodel() -> None:
    """`flat` drops the Dataset. prefix; `from datamodel:` is `datamodel ... search`."""
    flat = _run("| datamodel Endpoint Processes flat | sort _time | head 1 | table dest user")
    assert flat.rows == [("WS1", "alice")]
    frm = _run('| from datamodel:"Endpoint.Processes" | stats count by Processes.dest')
    assert frm.rows == [("WS1", 3), ("WS2", 1)]


def test_rule_T5_null_by_field_drops_the_row_without_fillnull_value() -> None:
    """R3 has no CurrentDirectory (and the model does not fill it): without
    fillnull_value its row is dropped; the WS1 events all have C:\\Users\\alice\\."""
    result = _run(PROCESSES + " by Processes.dest Processes.process_current_directory")
    assert result.rows == [("WS1", "C:\\Users\\alice\\", 3)]


def test_rule_T5_fillnull_value_keeps_null_by_fields() -> None:
    """fillnull_value=null (ESCU's macro): R3's missing directory becomes "null"; a
    by-field no row has at all (Processes.no_such) is "null" on every row."""
    result = _run(
        "| tstats fillnull_value=null count from datamodel=Endpoint.Processes "
        "by Processes.dest Processes.process_current_directory Processes.no_such"
    )
    assert result.rows == [("WS1", "C:\\Users\\alice\\", "null", 3), ("WS2", "null", "null", 1)]


def test_rule_T6_time_span_buckets_like_bin() -> None:
    """span=1h floors _time to the hour (epoch-aligned): T0, T0+100, T0+200 fall in the
    hour starting 1699999200, T0+3700 in the next (1700002800). min(_time) is the earliest
    event time in the bucket, not the bucket start (T6)."""
    result = _run(
        "| tstats count min(_time) as firstTime from datamodel=Endpoint.Processes by _time span=1h"
    )
    assert result.columns == ["_time", "count", "firstTime"]
    assert result.rows == [(1699999200, 3, T0), (1700002800, 1, T0 + 3700)]
    after = _run(PROCESSES + " by span=1h _time Processes.dest")
    assert after.rows == [(1699999200, "WS1", 3), (1700002800, "WS2", 1)]


def test_rule_T5_T6_fillnull_value_keeps_the_time_bucket_a_number() -> None:
    """fillnull_value fills null BY fields only (T5); every event has a _time, so the
    floored time stays the number span=1h gives (T6), as without the option. ESCU's
    registry detections (`by _time span=1h ...` with fillnull_value=null) showed the
    bucket as the string "1699999200" before."""
    result = _run(
        "| tstats fillnull_value=null count from datamodel=Endpoint.Processes "
        "by _time span=1h Processes.dest"
    )
    assert result.rows == [(1699999200, "WS1", 3), (1700002800, "WS2", 1)]


def test_rule_T7_values_are_distinct_and_lexicographic() -> None:
    """alice ran cmd.exe (twice), 7z.exe: values() lists each once, in byte order
    ("7" < "c"); count(field) counts rows where the field has a value."""
    result = _run(
        "| tstats values(Processes.process_name) as names count(Processes.process_id) as pids "
        "count from datamodel=Endpoint.Processes where Processes.user=alice by Processes.user"
    )
    assert result.rows == [("alice", ["7z.exe", "cmd.exe"], 2, 3)]


def test_rule_T8_multivalue_cim_field_splits_in_by_and_counts_in_values() -> None:
    """Processes.tag is multivalue: process, report (the Sysmon add-on's ms-sysmon-process
    event type) and track_event_signatures (Splunk_TA_windows' windows_event_signature event
    type, which names every XmlWinEventLog sourcetype). By it, each row counts under all
    three values; values() of it lists the three."""
    result = _run(PROCESSES + " by Processes.tag")
    assert result.rows == [("process", 4), ("report", 4), ("track_event_signatures", 4)]
    vals = _run("| tstats values(Processes.tag) as tags from datamodel=Endpoint.Processes")
    assert vals.rows == [(["process", "report", "track_event_signatures"],)]


def test_rule_T3_where_or_binds_tighter_than_and() -> None:
    """`a OR b c` is `(a OR b) AND c` (rule 2.1.2): cmd.exe or whoami.exe, on WS2: only
    R3. Were AND tighter, R1 and R5 (cmd.exe) would count too."""
    result = _run(
        PROCESSES + " where Processes.process_name=cmd.exe OR "
        "Processes.process_name=WHOAMI.exe Processes.dest=WS2"
    )
    assert result.rows == [(1,)]


def test_rule_T3_where_in_not_and_wildcards() -> None:
    """IN and wildcards are case-insensitive search terms; NOT excludes: processes whose
    name is in (CMD.EXE, 7z.exe) and whose command line does not contain "dir": R1, R2."""
    result = _run(
        PROCESSES + ' where Processes.process_name IN ("CMD.EXE", "7z.exe") '
        'NOT Processes.process="*dir*" by Processes.process_name'
    )
    assert result.rows == [("7z.exe", 1), ("cmd.exe", 1)]


def test_rule_T4_count_min_max_time_and_drop_dm_object_name() -> None:
    """ESCU's shape: count, min/max(_time), by dest and user, then
    `rename Processes.* AS *` (drop_dm_object_name). alice: R1, R2, R5 (T0..T0+200);
    unknown: R3."""
    result = _run(
        "| tstats summariesonly=false allow_old_summaries=true fillnull_value=null count "
        "min(_time) as firstTime max(_time) as lastTime from datamodel=Endpoint.Processes "
        "by Processes.dest Processes.user | rename Processes.* AS * "
        "| table dest user count firstTime lastTime"
    )
    assert result.rows == [
        ("WS1", "alice", 3, T0, T0 + 200),
        ("WS2", "unknown", 1, T0 + 3700, T0 + 3700),
    ]


def test_rule_T9_summariesonly_changes_nothing() -> None:
    """The emulated model is complete: summariesonly=true gives what false gives."""
    spl = "| tstats {} count from datamodel=Endpoint.Processes by Processes.dest"
    assert _run(spl.format("summariesonly=true")).rows == _run(spl.format("")).rows


def test_rule_T11_indexed_fields_without_a_data_model() -> None:
    """No FROM: the events' index/sourcetype/source/host/_time; all five events."""
    result = _run("| tstats count where index=* by sourcetype")
    assert result.rows == [("XmlWinEventLog", 5)]


def test_rule_T2_nodename_and_quoted_dataset() -> None:
    """`datamodel="Endpoint.Processes"` and `datamodel=Endpoint where nodename=Processes`
    name the same dataset."""
    quoted = _run('| tstats count from datamodel="Endpoint.Processes"')
    node = _run("| tstats count from datamodel=Endpoint where nodename=Processes")
    assert quoted.rows == node.rows == [(4,)]


def test_security_4688_rows_follow_the_windows_addon() -> None:
    """A 4688 event (fields as our ingest names them) becomes a Processes row through
    Splunk_TA_windows' [source::XmlWinEventLog:Security] stanza (docs/cim-sources.md):
    dest=Computer, user=SubjectUserName, process_name/parent_process_name the basenames of
    NewProcessName/ParentProcessName, and process rebuilt by the TA's EVAL-process: the
    command line's first token ("reg") has no backslash, so process is NewProcessName + " "
    + the arguments. Without any add-on the event is in no data model."""
    rec = {
        "_time": T0,
        "source": "XmlWinEventLog:Security",
        "sourcetype": "XmlWinEventLog",
        "EventCode": "4688",
        "Computer": "DC01.lab",
        "SubjectUserName": "Administrator",
        "NewProcessName": "C:\\Windows\\System32\\reg.exe",
        "ParentProcessName": "C:\\Windows\\System32\\cmd.exe",
        "CommandLine": "reg save HKLM\\SYSTEM C:\\Windows\\Temp\\s",
    }
    spl = (
        PROCESSES + " by Processes.dest Processes.user Processes.process_name "
        "Processes.parent_process_name Processes.process"
    )
    no_addons = Knowledge(datamodels=bundled().datamodels)
    assert _run(spl, [rec], knowledge=no_addons).rows == []
    assert _run(spl, [rec]).rows == [
        (
            "DC01.lab",
            "Administrator",
            "reg.exe",
            "cmd.exe",
            "C:\\Windows\\System32\\reg.exe save HKLM\\SYSTEM C:\\Windows\\Temp\\s",
            1,
        )
    ]


def test_errors_unknown_model_and_dataset_name_the_position() -> None:
    with pytest.raises(SplSemanticError, match="unknown data model 'Endpont'") as err:
        _run("| tstats count from datamodel=Endpont.Processes")
    assert err.value.pos == len("| tstats count from datamodel=")
    with pytest.raises(SplSemanticError, match="has no dataset 'Process'"):
        _run("| tstats count from datamodel=Endpoint.Process")


def test_errors_tstats_not_first_prestats_append() -> None:
    with pytest.raises(SplSyntaxError, match="must come first"):
        _run("* | tstats count")
    with pytest.raises(SplUnsupportedError, match="append=true"):
        _run("* | tstats append=t count")
    with pytest.raises(SplUnsupportedError, match="prestats"):
        _run("| tstats prestats=t count")
