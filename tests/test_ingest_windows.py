"""Windows ingest over the real shared data: EVTX, event XML, pyevtx-rs JSON, Sentinel.

Counts per EventID are the ones stated in ``shared/data/real/SOURCES.md``; field values
were looked up by hand in the source files (``evtx_dump`` / the XML), and ``_time``
epochs computed by hand from SystemTime.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from stagehunt.ingest import evtx_reader, winxml
from stagehunt.ingest.normalise.windows import clean_key, parse_windows_time, windows_record
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID, Record, Reject
from stagehunt.ingest.shapes.pyevtx_json import SHAPE as PYEVTX
from stagehunt.ingest.shapes.sentinel_syslog import SHAPE as SENTINEL
from stagehunt.ingest.sources import Source

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
EVTX_SAMPLES = REAL / "sbousseaden-EVTX-ATTACK-SAMPLES"
MDE = REAL / "mdecrevoisier-EVTX-to-MITRE-Attack"
SIGMA = REAL / "SigmaHQ-sigma" / "regression_data"
OTRF = REAL / "OTRF-Security-Datasets"
PANACHE = EVTX_SAMPLES / "PanacheSysmon_vs_AtomicRedTeam01.evtx"
MCX2PROV = EVTX_SAMPLES / "sysmon_1_7_11_mcx2prov_uacbypass.evtx"
SYSMON = "Microsoft-Windows-Sysmon/Operational"
OPTS = IngestOptions()

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="shared real data not present")


def read_evtx(path: Path, opts: IngestOptions = OPTS) -> list[Record | Reject]:
    return list(evtx_reader.read(Source.from_path(path), opts))


def records(items: list[Record | Reject]) -> list[Record]:
    return [r for r in items if not isinstance(r, Reject)]


def rejects(items: list[Record | Reject]) -> list[Reject]:
    return [r for r in items if isinstance(r, Reject)]


# --------------------------------------------------------------------------- EVTX counts

EXPECTED_COUNTS = {
    EVTX_SAMPLES / "PanacheSysmon_vs_AtomicRedTeam01.evtx": {
        "1": 511, "13": 30, "7": 5, "11": 4, "3": 4, "12": 3,
        "19": 2, "20": 2, "21": 2, "5": 1, "10": 1,
    },
    MCX2PROV: {"1": 6, "11": 2, "7": 1},
    EVTX_SAMPLES / "sysmon_11_1_lolbas_downldr_desktopimgdownldr.evtx": {"1": 2, "11": 1},
    EVTX_SAMPLES / "sysmon_10_11_outlfank_dumpert_and_andrewspecial_memdump.evtx": {
        "10": 8, "11": 4, "1": 3,
    },
    EVTX_SAMPLES / "execution_evasion_visual_studio_prebuild_event.evtx": {"11": 22, "1": 7},
    EVTX_SAMPLES / "exec_msxsl_xsl_sysmon_1_7.evtx": {"1": 2, "7": 1},
    MDE / "ID11-LSASS credentials dump via Task Manager.evtx": {"11": 1},
    MDE / "ID11-New sethc file created from CMD copy.evtx": {"11": 2},
}  # fmt: skip


@pytest.mark.parametrize("path", list(EXPECTED_COUNTS), ids=lambda p: p.name)
def test_every_evtx_file_parses_with_the_stated_counts(path: Path) -> None:
    items = read_evtx(path)
    assert rejects(items) == []
    got = Counter(str(r["EventCode"]) for r in records(items))
    assert dict(got) == EXPECTED_COUNTS[path]
    for r in records(items):
        assert r["index"] == "wineventlog"
        assert r["sourcetype"] == f"XmlWinEventLog:{SYSMON}"
        assert r["source"] == f"XmlWinEventLog:{SYSMON}"
        assert r["EventCode"] == r["EventID"]
        assert isinstance(r["_time"], float)
        assert r["_raw"].startswith("<Event") and r["_raw"].rstrip().endswith("</Event>")  # type: ignore[union-attr]


def test_sigma_regression_evtx_all_parse() -> None:
    files = sorted(SIGMA.rglob("*.evtx"))
    assert len(files) == 175
    total = 0
    for path in files:
        items = read_evtx(path)
        assert rejects(items) == [], path
        total += len(items)
    assert total == 205


# --------------------------------------------------------------------------- hand-checked fields


def by_rid(items: list[Record | Reject]) -> dict[str, Record]:
    return {str(r[RECORD_ID]): r for r in records(items)}


def test_mcx2prov_makecab_cab_file_create() -> None:
    recs = by_rid(read_evtx(MCX2PROV))
    cab = recs["15877"]
    assert cab["EventCode"] == "11"
    assert cab["host"] == cab["Computer"] == cab["dest"] == "IEWIN7"
    assert cab["Image"] == r"C:\Windows\System32\makecab.exe"
    assert cab["TargetFilename"] == r"C:\Users\IEUser\AppData\Local\Temp\suspicious.cab"
    assert cab["file_path"] == cab["TargetFilename"]
    assert cab["file_name"] == "suspicious.cab"
    assert cab["process_name"] == "makecab.exe"
    assert "CommandLine" not in cab  # spl-semantics 9.5
    assert "User" not in cab  # schema < 4.80: FileCreate has no User (9.6)
    # 2019-05-11T09:50:13.509892Z: 18027 days * 86400 + 9h50m13s
    assert cab["_time"] == pytest.approx(18027 * 86400 + 9 * 3600 + 50 * 60 + 13 + 0.509892)
    assert cab["SystemTime"] == "2019-05-11T09:50:13.509892Z"


def test_mcx2prov_process_creation_fields() -> None:
    recs = by_rid(read_evtx(MCX2PROV))
    first = recs["15874"]
    assert first["EventCode"] == "1"
    assert first["Image"] == r"C:\Python27\python.exe"
    assert first["CommandLine"] == (
        r"python  winpwnage.py -u uac -i 12 -p c:\Users\IEUser\Desktop\hellox86.dll"
    )
    assert first["User"] == first["user"] == r"IEWIN7\IEUser"
    assert first["ParentImage"] == r"C:\Windows\System32\cmd.exe"
    assert first["ParentCommandLine"] == '"C:\\Windows\\system32\\cmd.exe" '  # trailing space kept
    assert first["process"] == first["CommandLine"]
    assert first["process_path"] == first["Image"]
    assert first["process_name"] == "python.exe"
    assert first["parent_process"] == first["ParentCommandLine"]
    assert first["parent_process_name"] == "cmd.exe"
    assert first["process_id"] == first["ProcessId"] == "1136"
    assert first["process_guid"] == "365ABB72-9AD0-5CD6-0000-001077FC1600"
    assert "RuleName" not in first  # empty <Data> is an absent field
    # System values under Splunk's XmlWinEventLog names
    assert first["Name"] == "Microsoft-Windows-Sysmon"
    assert first["Guid"] == "5770385F-C22A-43E0-BF4C-06F5698FFBD9"
    assert first["EventRecordID"] == first["RecordNumber"] == "15874"
    assert (first["Version"], first["Level"], first["Task"], first["Opcode"]) == (
        "5",
        "4",
        "1",
        "0",
    )
    assert first["Keywords"] == "0x8000000000000000"
    assert (first["ProcessID"], first["ThreadID"]) == ("2000", "1748")
    assert first["UserID"] == first["user_id"] == "S-1-5-18"
    assert first["_time"] == pytest.approx(18027 * 86400 + 9 * 3600 + 50 * 60 + 8 + 0.24899)


def test_panache_staging_command_line() -> None:
    recs = by_rid(read_evtx(PANACHE))
    copy = recs["3727"]
    assert copy["EventCode"] == "1" and copy["host"] == "MSEDGEWIN10"
    assert copy["CommandLine"] == (
        '"C:\\Windows\\system32\\cmd.exe" /c "for /R c: %%f in (*.docx) do copy %%f c:\\temp\\"'
    )
    assert recs["4053"]["CommandLine"] == (
        '"C:\\Windows\\system32\\cmd.exe" /c "rar a -r exfilthis.rar *.docx"'
    )
    assert {r["host"] for r in recs.values()} == {"MSEDGEWIN10"}


def test_modern_style_and_index_override() -> None:
    opts = IngestOptions(sourcetype_style="modern", index="hunt")
    r = records(read_evtx(MCX2PROV, opts))[0]
    assert r["sourcetype"] == "XmlWinEventLog"
    assert r["source"] == f"XmlWinEventLog:{SYSMON}"
    assert r["index"] == "hunt"


def test_userdata_event_is_flattened() -> None:
    path = next(SIGMA.rglob("win_wmi_activity_nteventlogfile_cleareventlog/*.evtx"))
    (r,) = records(read_evtx(path))
    assert r["EventCode"] == "5858"
    assert r["ClientMachine"] == "SWACHCHHANDA"
    assert r["User"] == r"swachchhanda\xodih"
    assert r["ResultCode"] == "0x80041003"
    assert r["sourcetype"] == "XmlWinEventLog:Microsoft-Windows-WMI-Activity/Operational"


def test_security_4648_fields_by_xml_names() -> None:
    path = next(SIGMA.rglob("win_security_explicit_credential_local_logon/*.evtx"))
    (r,) = records(read_evtx(path))
    assert r["EventCode"] == "4648"
    assert r["sourcetype"] == r["source"] == "XmlWinEventLog:Security"
    assert r["SubjectUserName"] == "xodih"
    assert r["TargetUserName"] == "testuser"
    assert r["ProcessName"] == r"C:\Users\xodih\OneDrive\Desktop\LegacyHive.exe"
    assert r["ProcessId"] == "0x378" and r["ProcessID"] == "876"  # EventData vs Execution


# --------------------------------------------------------------------------- EVTX vs JSON twin


def _json_objects(text: str) -> list[dict[str, object]]:
    decoder = json.JSONDecoder(parse_int=str, parse_float=str)
    out, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, i = decoder.raw_decode(text, i)
        out.append(obj)


def _comparable(r: Record) -> dict[str, object]:
    # The JSON twins were written with trailing blanks trimmed and, for a few, 7-digit
    # SystemTime: compare values with trailing blanks removed and time to the microsecond.
    out: dict[str, object] = {}
    for k, v in r.items():
        if k in ("_raw", "SystemTime"):
            continue
        out[k] = v.rstrip() if isinstance(v, str) else round(v, 5) if isinstance(v, float) else v
    return out


def test_evtx_and_pyevtx_json_twins_give_the_same_fields() -> None:
    same = differ = 0
    for json_path in sorted(SIGMA.rglob("*.json")):
        evtx_path = json_path.with_suffix(".evtx")
        if not evtx_path.exists():
            continue
        objs = _json_objects(json_path.read_text("utf-8"))
        from_evtx = records(read_evtx(evtx_path))
        assert len(objs) == len(from_evtx), json_path
        for obj, ev in zip(objs, from_evtx, strict=True):
            assert PYEVTX.matches(obj)
            rec = PYEVTX.to_record(obj, OPTS)
            assert not isinstance(rec, str), rec
            if _comparable(rec) == _comparable(ev):
                same += 1
            else:
                differ += 1
                # the one known case: the JSON twin itself says Explorer.exe, the EVTX .EXE
                assert json_path.stem == "ad691d92-15f2-4181-9aa4-723c74f9ddc3"
    assert same == 204 and differ == 1


REDSUN = (
    SIGMA
    / "rules-emerging-threats/2026/Exploits/RedSun"
    / "win_defender_exploit_redsun_tiering_engine_detected_as_eicar"
    / "a7c3e5f2-8b1d-4e9a-b6c2-3d7f5e8a9b4c"
)


def test_defender_data_names_with_spaces_are_cleaned_as_splunk_does() -> None:
    """Event data names are searched as Splunk's key/value extraction cleans them
    (transforms.conf CLEAN_KEYS): "Source Name" -> Source_Name. Values read by hand
    from the JSON twin; ``_raw`` keeps the names as written."""
    [from_evtx] = records(read_evtx(REDSUN.with_suffix(".evtx")))
    [obj] = _json_objects(REDSUN.with_suffix(".json").read_text("utf-8"))
    from_json = PYEVTX.to_record(obj, OPTS)
    assert not isinstance(from_json, str)
    for rec in (from_evtx, from_json):
        assert rec["EventCode"] == "1119"
        assert rec["Source_Name"] == "Real-Time Protection"
        assert rec["Threat_Name"] == "Tool:Win32/EICAR_Test_File"
        assert rec["Process_Name"] == r"C:\Users\xodih\Downloads\RedSun.exe"
        assert rec["Detection_User"] == r"swachchhanda\xodih"
        assert rec["Error_Code"] == "0x80070020"
        assert rec["State"] == "5"  # already clean: unchanged
        assert "Status_Description" not in rec  # empty in the event: no field
        assert [name for name in rec if " " in name] == []
    assert '<Data Name="Source Name">Real-Time Protection</Data>' in str(from_evtx["_raw"])


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("Source Name", "Source_Name"),
        ("Security intelligence Version", "Security_intelligence_Version"),
        ("Prozess-ID", "Prozess_ID"),
        ("a.b", "a_b"),
        ("_x", "x"),  # leading underscores go
        ("1Param", "Param"),  # and leading digits
        ("param1", "param1"),
        ("___", "___"),  # nothing would be left: kept as it is
    ],
)
def test_clean_key_rules(name: str, cleaned: str) -> None:
    assert clean_key(name) == cleaned


def test_names_that_clean_alike_become_one_multivalue_field() -> None:
    rec = windows_record(
        channel="Application",
        event_id="1",
        computer="h",
        system_time="2024-01-01T00:00:00Z",
        event_data={"Old Value": "a", "Old_Value": "b", "New Value": ""},
        system={},
        raw=None,
        record_id="1",
        opts=OPTS,
    )
    assert not isinstance(rec, str)
    assert rec["Old_Value"] == ["a", "b"]
    assert "New_Value" not in rec and "New Value" not in rec


def test_pyevtx_json_numbers_arrive_as_text() -> None:
    obj = json.loads(
        '{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},'
        '"EventID":11,"EventRecordID":7,"Channel":"Microsoft-Windows-Sysmon/Operational",'
        '"Computer":"h","Execution":{"#attributes":{"ProcessID":4,"ThreadID":8}},'
        '"TimeCreated":{"#attributes":{"SystemTime":"2020-01-01T00:00:00.1234567Z"}}},'
        '"EventData":{"ProcessId":42,"TargetFilename":"C:\\\\x.zip","Flag":true,"RuleName":""}}}',
        parse_int=str,
        parse_float=str,
    )
    r = PYEVTX.to_record(obj, OPTS)
    assert not isinstance(r, str)
    assert r["EventCode"] == "11" and r["ProcessId"] == "42" and r["ProcessID"] == "4"
    assert r["Flag"] == "true" and "RuleName" not in r
    assert r["file_name"] == "x.zip" and r[RECORD_ID] == "7"
    assert r["_time"] == pytest.approx(1577836800.1234567)


# --------------------------------------------------------------------------- Sentinel / Linux


def test_sentinel_sysmon_for_linux() -> None:
    path = next(OTRF.glob("syslog_sysmon_*.json"))
    got: Counter[str] = Counter()
    recs: list[Record] = []
    for line in path.read_text("utf-8").splitlines():
        obj = json.loads(line, parse_int=str, parse_float=str)
        assert SENTINEL.matches(obj)
        rec = SENTINEL.to_record(obj, OPTS)
        assert not isinstance(rec, str), rec
        got[str(rec["EventCode"])] += 1
        recs.append(rec)
    assert dict(got) == {"5": 50, "1": 31, "3": 6, "11": 4, "23": 2}
    for r in recs:
        assert r["index"] == "linux" and r["sourcetype"] == "sysmon:linux"
        # the source ESCU's data sources and `sysmon` macro name for Sysmon for Linux
        assert r["source"] == "Syslog:Linux-Sysmon/Operational"
        assert r["host"] == "UBUNTU5"
    shell = [r for r in recs if r.get("CommandLine") == "bash -i"]
    assert shell and shell[0]["process_name"] == "bash" and shell[0]["User"] == "tomcat"
    # Sysmon for Linux writes "&lt unknown process&gt " (no ';'): repaired, not lost
    assert any(r.get("Image") == "< unknown process> " for r in recs)
    files = {r["TargetFilename"] for r in recs if r["EventCode"] == "11"}
    assert "/opt/tomcat/logs/vulnapp-2.14.0.log" in files


def test_linux_index_yields_to_explicit_index() -> None:
    line = next(OTRF.glob("syslog_sysmon_*.json")).read_text("utf-8").splitlines()[0]
    rec = SENTINEL.to_record(json.loads(line), IngestOptions(index="x"))
    assert not isinstance(rec, str)
    assert rec["index"] == "x" and rec["sourcetype"] == "sysmon:linux"


# --------------------------------------------------------------------------- event XML files

SPLUNK_4688 = (
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
    "<Provider Name='Microsoft-Windows-Security-Auditing' "
    "Guid='{54849625-5478-4994-A5BA-3E3B0328C30D}'/><EventID>4688</EventID><Version>2</Version>"
    "<Level>0</Level><Task>13312</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords>"
    "<TimeCreated SystemTime='2020-10-19T12:28:31.0890000Z'/><EventRecordID>104</EventRecordID>"
    "<Correlation/><Execution ProcessID='4' ThreadID='8'/><Channel>Security</Channel>"
    "<Computer>WORKSTATION5</Computer><Security/></System><EventData>"
    "<Data Name='SubjectUserSid'>S-1-5-21-3940915590-64593676-1414006259-500</Data>"
    "<Data Name='SubjectUserName'>wardog</Data><Data Name='SubjectDomainName'>WORKSTATION5</Data>"
    "<Data Name='NewProcessId'>0x1410</Data>"
    "<Data Name='NewProcessName'>C:\\Windows\\System32\\esentutl.exe</Data>"
    "<Data Name='TokenElevationType'>%%1936</Data><Data Name='ProcessId'>0x16fc</Data>"
    "<Data Name='CommandLine'>esentutl.exe  /y /vss C:\\windows/system32/config/SAM "
    "/d C:\\ProgramData\\SAM</Data><Data Name='TargetUserName'>-</Data>"
    "<Data Name='ParentProcessName'>C:\\Windows\\System32\\cmd.exe</Data>"
    "<Data Name='MandatoryLabel'>S-1-16-12288</Data></EventData></Event>"
)


def _xml_file(tmp_path: Path, text: str, name: str = "events.xml") -> Source:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return Source.from_path(path)


def test_security_4688_classic_and_cim_names(tmp_path: Path) -> None:
    source = _xml_file(tmp_path, SPLUNK_4688 + "\n" + SPLUNK_4688.replace(">104<", ">105<") + "\n")
    assert winxml.sniff(source.head())
    items = list(winxml.read(source, OPTS))
    assert rejects(items) == []
    r = records(items)[0]
    assert len(records(items)) == 2
    assert r["EventCode"] == "4688" and r["sourcetype"] == "XmlWinEventLog:Security"
    assert r["New_Process_Name"] == r["NewProcessName"] == r"C:\Windows\System32\esentutl.exe"
    assert r["Process_Command_Line"] == r["CommandLine"] == r["process"]
    assert (
        r["CommandLine"]
        == r"esentutl.exe  /y /vss C:\windows/system32/config/SAM /d C:\ProgramData\SAM"
    )
    assert r["Creator_Process_Name"] == r["ParentProcessName"] == r"C:\Windows\System32\cmd.exe"
    assert r["New_Process_ID"] == "0x1410" and r["Creator_Process_ID"] == "0x16fc"
    assert r["Account_Name"] == r["SubjectUserName"] == r["user"] == "wardog"
    assert r["Account_Domain"] == "WORKSTATION5"
    assert r["Token_Elevation_Type"] == "%%1936"
    assert r["process_name"] == "esentutl.exe" and r["parent_process_name"] == "cmd.exe"
    assert r["process_path"] == r["NewProcessName"]
    assert r["parent_process_path"] == r["ParentProcessName"]
    assert r["_raw"] == SPLUNK_4688
    assert r["Guid"] == "{54849625-5478-4994-A5BA-3E3B0328C30D}"
    assert r["_time"] == pytest.approx(1603110511.089)


def test_wevtutil_output_with_events_wrapper_and_utf16(tmp_path: Path) -> None:
    doc = '<?xml version="1.0" encoding="UTF-16"?>\r\n<Events>\r\n' + SPLUNK_4688 + "\r\n</Events>"
    path = tmp_path / "wevtutil.xml"
    path.write_bytes(b"\xff\xfe" + doc.encode("utf-16-le"))
    source = Source.from_path(path)
    assert winxml.sniff(source.head())
    items = list(winxml.read(source, OPTS))
    assert rejects(items) == [] and len(items) == 1


def test_bad_event_in_the_middle_is_rejected_with_its_line(tmp_path: Path) -> None:
    broken = SPLUNK_4688.replace("</Computer>", "</Computr>")
    source = _xml_file(tmp_path, "\n".join([SPLUNK_4688, broken, SPLUNK_4688]) + "\n")
    items = list(winxml.read(source, OPTS))
    assert len(records(items)) == 2
    (bad,) = rejects(items)
    assert bad.position == "event 2 (line 2)" and "malformed XML" in bad.reason


BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE Event [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)


def test_xml_entity_bomb_is_rejected_not_expanded(tmp_path: Path) -> None:
    event = SPLUNK_4688.replace(">wardog<", ">&lol9;<")
    source = _xml_file(tmp_path, BOMB + event + "\n")
    assert winxml.sniff(source.head())
    items = list(winxml.read(source, OPTS))
    assert records(items) == []
    reasons = [r.reason for r in rejects(items)]
    assert any("DTD refused" in reason for reason in reasons)
    assert len(reasons) == 2  # the DTD, and the event that uses its entity
    assert winxml.event_from_xml(BOMB + event, OPTS) == (
        "DTD refused: entity declarations are never expanded (possible XML entity bomb)"
    )


def test_truncated_xml_file_reports_the_unterminated_event(tmp_path: Path) -> None:
    source = _xml_file(tmp_path, SPLUNK_4688 + "\n" + SPLUNK_4688[:300])
    items = list(winxml.read(source, OPTS))
    assert len(records(items)) == 1
    (bad,) = rejects(items)
    assert "unterminated" in bad.reason and bad.position == "event 2 (line 2)"


def test_sniffers_do_not_cross() -> None:
    assert evtx_reader.sniff(PANACHE.read_bytes()[:4096])
    assert not winxml.sniff(PANACHE.read_bytes()[:4096])
    head = next(OTRF.glob("syslog_sysmon_*.json")).read_bytes()[:4096]
    assert not winxml.sniff(head) and not evtx_reader.sniff(head)


# --------------------------------------------------------------------------- damaged EVTX


def _damaged(tmp_path: Path, name: str, data: bytes) -> list[Record | Reject]:
    path = tmp_path / name
    path.write_bytes(data)
    return read_evtx(path)


def test_truncated_evtx_keeps_good_records_and_reports_the_loss(tmp_path: Path) -> None:
    data = PANACHE.read_bytes()
    items = _damaged(tmp_path, "trunc.evtx", data[: len(data) // 2])
    good = records(items)
    assert 0 < len(good) < 565
    (bad,) = rejects(items)
    assert "truncated" in bad.reason and "partial chunk" in bad.reason
    assert bad.position.startswith("end of file (after record ")


def test_evtx_cut_inside_the_header_is_one_reject(tmp_path: Path) -> None:
    items = _damaged(tmp_path, "tiny.evtx", PANACHE.read_bytes()[:2000])
    assert len(items) == 1 and isinstance(items[0], Reject)
    assert items[0].position == "file header"


def test_bit_flipped_evtx_finishes_with_positioned_rejects(tmp_path: Path) -> None:
    data = bytearray(PANACHE.read_bytes())
    rng = random.Random(1)
    for _ in range(200):
        data[rng.randrange(4096, len(data))] ^= 0xFF
    items = _damaged(tmp_path, "flip.evtx", bytes(data))
    assert len(records(items)) > 100
    bad = rejects(items)
    assert bad
    for r in bad:
        assert r.path.endswith("flip.evtx")
        assert r.position.startswith(("record ", "chunk ", "after record ", "end of file"))


def test_spliced_evtx_keeps_both_halves(tmp_path: Path) -> None:
    data = PANACHE.read_bytes()
    other = MCX2PROV.read_bytes()
    items = _damaged(tmp_path, "splice.evtx", data[: 4096 + 65536 * 3 + 20000] + other[14096:])
    assert len(records(items)) >= 130
    assert rejects(items)


def test_bad_chunk_header_costs_only_that_chunk(tmp_path: Path) -> None:
    data = bytearray(PANACHE.read_bytes())
    data[4096:4104] = b"XXXXXXXX"
    items = _damaged(tmp_path, "chunk.evtx", bytes(data))
    (bad,) = rejects(items)
    assert bad.position == "chunk 0"
    assert len(records(items)) == 565 - 44  # chunk 0 holds records 1..44


def test_evtx_from_a_stream(tmp_path: Path) -> None:
    data = MCX2PROV.read_bytes()
    import io

    source = Source("archive.zip!x.evtx", lambda: io.BytesIO(data), None, len(data))
    items = list(evtx_reader.read(source, OPTS))
    assert len(records(items)) == 9


# --------------------------------------------------------------------------- normaliser unit


def test_time_formats() -> None:
    assert parse_windows_time("2019-05-11T09:50:13.5098920Z") == pytest.approx(1557568213.509892)
    assert parse_windows_time("2019-05-11 09:50:13.509") == pytest.approx(1557568213.509)
    assert parse_windows_time("2019-05-11T11:50:13+02:00") == pytest.approx(1557568213)
    assert parse_windows_time("2019-02-30T00:00:00Z") is None
    assert parse_windows_time("yesterday") is None


def test_windows_record_rejects_without_time_or_id() -> None:
    common = {
        "channel": "Security",
        "computer": "h",
        "event_data": {},
        "system": {},
        "raw": None,
        "record_id": None,
        "opts": OPTS,
    }
    assert windows_record(event_id="", system_time="2020-01-01T00:00:00Z", **common) == (  # type: ignore[arg-type]
        "event has no EventID"
    )
    assert "no readable time" in str(windows_record(event_id="1", system_time=None, **common))  # type: ignore[arg-type]
    ok = windows_record(
        event_id="1",
        system_time=None,
        **{**common, "event_data": {"UtcTime": "2020-01-01 00:00:00.000"}},
    )  # type: ignore[arg-type]
    assert isinstance(ok, dict) and ok["_time"] == 1577836800.0


def test_lower_case_channel_gets_the_canonical_sourcetype() -> None:
    r = windows_record(
        channel="security",
        event_id="5145",
        computer="h",
        system_time="2020-01-01T00:00:00Z",
        event_data={"ShareName": "\\\\*\\C$", "IpAddress": "10.0.0.1"},
        system={},
        raw=None,
        record_id="1",
        opts=OPTS,
    )
    assert isinstance(r, dict)
    assert r["sourcetype"] == "XmlWinEventLog:Security" and r["Channel"] == "security"
    assert r["ShareName"] == "\\\\*\\C$"


def test_fast_path_agrees_with_the_xml_parser_on_every_real_event() -> None:
    import evtx

    fast = 0
    for path in sorted(REAL.rglob("*.evtx")):
        for item in evtx.PyEvtxParser(str(path)).records():
            xml = item["data"]
            raw = xml[xml.find("?>") + 2 :].lstrip()
            quick = evtx_reader._fast_record(xml, raw, OPTS)
            root = winxml.parse_event_xml(raw)
            assert not isinstance(root, str)
            full = winxml.event_from_element(root, raw, OPTS)
            if quick is not None:
                fast += 1
                # XML parsers turn \r\n into \n (XML end-of-line rule); the fast path
                # keeps the value as recorded, like Splunk's regex extraction
                norm = {
                    k: v.replace("\r\n", "\n") if isinstance(v, str) and k != "_raw" else v
                    for k, v in quick.items()
                }
                assert norm == full, path
    assert fast >= 830  # all but the UserData event take the fast path
