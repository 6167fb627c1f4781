"""The bundled add-ons' search-time fields and the CIM data model rows they feed, on real
events (docs/cim-sources.md).

Each test loads specific files of ``shared/data/real`` (SOURCES.md gives their
provenance) into a store and reads one record's fields through the bundled knowledge.
Every expected value was read by hand from the named file and record and worked out from
the add-on's props.conf / transforms.conf rule quoted in the comment, never copied from
output.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stagehunt.api import run_spl
from stagehunt.compile import knowledge as knowledge_layer
from stagehunt.knowledge import Knowledge, bundled
from stagehunt.store.event_store import EventStore


def _real_dir() -> Path | None:
    """``shared/data/real`` next to the checkout (a worktree sits one level deeper)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "real"
        if candidate.is_dir():
            return candidate
    return None


REAL = _real_dir()
needs_real = pytest.mark.skipif(REAL is None, reason="shared real data not present")

OTRF = Path("OTRF-Security-Datasets")
SIGMA = Path("SigmaHQ-sigma/regression_data")
#: one Security 4688 (rundll32 comsvcs.dll MiniDump) and one 1102, WORKSTATION5
LSASS = OTRF / "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json"
#: 4624, 4634, 4672, 5140, 5145 on WORKSTATION6 and 4769, 4624 on MORDORDC (nxlog JSON)
COVENANT = OTRF / "covenant_copy_smb_CreateRequest_2020-09-22145302.json"
#: Sysmon for Linux through Azure Sentinel's Syslog table
SYSMON_LINUX = OTRF / "syslog_sysmon_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.json"
#: raw /var/log/audit/audit.log: two execve events (arp -a | grep -v ^?)
AUDITD = OTRF / "sh_arp_cache_2020-11-10074812.log"
#: one Security 4648 (pyevtx JSON)
EXPLICIT_LOGON = (
    SIGMA / "rules/windows/builtin/security/win_security_explicit_credential_local_logon"
    "/e3c6d245-7b8f-4e2a-c17f-a9d0e5b38f62.json"
)
#: one Windows Defender 1119 (pyevtx JSON)
DEFENDER = (
    SIGMA / "rules-emerging-threats/2026/Exploits/RedSun"
    "/win_defender_exploit_redsun_tiering_engine_detected_as_eicar"
    "/a7c3e5f2-8b1d-4e9a-b6c2-3d7f5e8a9b4c.json"
)

#: ESCU's `sysmon` macro (security_content macros/sysmon.yml, verbatim definition)
ESCU_SYSMON_MACRO = (
    "sourcetype=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational OR "
    "source=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational OR "
    "source=Syslog:Linux-Sysmon/Operational"
)


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return bundled()


@pytest.fixture(scope="module")
def store() -> Iterator[EventStore]:
    assert REAL is not None
    paths = [REAL / p for p in (LSASS, COVENANT, SYSMON_LINUX, AUDITD, EXPLICIT_LOGON, DEFENDER)]
    with EventStore() as s:
        s.load(paths)
        yield s


def _records(store: EventStore, spl: str, knowledge: Knowledge) -> list[dict[str, Any]]:
    return list(run_spl(spl, store, knowledge=knowledge).records())


def _one(rows: list[dict[str, Any]], **match: object) -> dict[str, Any]:
    """The single row whose fields equal ``match``."""
    found = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, len(found))
    return found[0]


def dataset_rows(store: EventStore, dataset: str, knowledge: Knowledge) -> list[dict[str, Any]]:
    """A data model dataset's rows (``Model.Dataset``) as tstats reads them, through
    ``| from datamodel:`` (docs/cim.md D7)."""
    return _records(store, f"| from datamodel:{dataset}", knowledge)


# --------------------------------------------------------------------------- the files


def test_every_bundled_file_loads_and_every_expression_parses(knowledge: Knowledge) -> None:
    """Each add-on stanza's evals, each event type's search and each data model
    dataset's constraint and calculations parse (KnowledgeError otherwise)."""
    texts = 0
    for addon in knowledge.addons:
        assert addon.sources, addon.name
        for stanza in addon.stanzas:
            assert stanza.match
            for calc in stanza.evals:
                knowledge_layer.eval_expression(calc.expression)
                texts += 1
        for et in addon.eventtypes:
            knowledge_layer.search_terms(et.search)
            texts += 1
    for model in knowledge.datamodels:
        assert model.sources, model.name
        for obj in model.objects:
            knowledge_layer.search_terms(obj.constraint)
            for calc in obj.calculations:
                knowledge_layer.eval_expression(calc.expression)
                texts += 1
    assert texts > 300
    names = {m.name for m in knowledge.datamodels}
    # every model ESCU's detections name (datamodel= / nodename=), Endpoint included
    assert {
        "Alerts",
        "Authentication",
        "Certificates",
        "Change",
        "Change_Analysis",
        "Email",
        "Endpoint",
        "Intrusion_Detection",
        "Network_Resolution",
        "Network_Sessions",
        "Network_Traffic",
        "Risk",
        "UEBA",
        "Updates",
        "Vulnerabilities",
        "Web",
    } <= names


def test_data_model_children_and_constraints(knowledge: Knowledge) -> None:
    """Lineages and constraints as the CIM 8.5.0 models define them."""
    auth = knowledge.datamodel("Authentication")
    assert auth is not None
    assert [o.name for o in auth.lineage("Failed_Privileged_Authentication")] == [
        "Authentication",
        "Privileged_Authentication",
        "Failed_Privileged_Authentication",
    ]
    root = auth.object("Authentication")
    assert root is not None and root.constraint == "tag=authentication NOT (action=success user=*$)"
    failed = auth.object("Failed_Authentication")
    assert failed is not None and failed.constraint == 'action="failure" OR result="failure"'
    change = knowledge.datamodel("Change")
    assert change is not None
    assert {o.name for o in change.objects} >= {
        "All_Changes",
        "Account_Management",
        "Auditing_Changes",
        "Endpoint_Changes",
        "Network_Changes",
        "Instance_Changes",
    }
    ueba = knowledge.datamodel("UEBA")
    assert ueba is not None and ueba.object("UEBA_Anomalies") is not None


# --------------------------------------------------------------------------- Windows Security

SECURITY_FIELDS = (
    "EventCode RecordNumber NewProcessId Computer dest user src src_ip src_user action app "
    "signature Logon_Type authentication_service process process_name process_path process_id "
    "parent_process parent_process_name parent_process_path parent_process_id file_name "
    "file_path service_name object object_category change_type result Token_Elevation_Type_id "
    "eventtype tag"
)


@pytest.fixture(scope="module")
def security(store: EventStore, knowledge: Knowledge) -> list[dict[str, Any]]:
    return _records(store, f'source="XmlWinEventLog:Security" | table {SECURITY_FIELDS}', knowledge)


@needs_real
def test_security_4688_process_fields(security: list[dict[str, Any]]) -> None:
    """psh_lsass_memory_dump_comsvcs...json, the 4688 with NewProcessId 0x12d8:
    CommandLine '"C:\\Windows\\System32\\rundll32.exe" C:\\windows\\System32\\comsvcs.dll
    MiniDump 756 C:\\Users\\wardog\\AppData\\Local\\Temp\\lsass-comsvcs.dmp full',
    NewProcessName C:\\Windows\\System32\\rundll32.exe, ParentProcessName ...powershell.exe,
    ProcessId 0x17d4, SubjectUserName wardog, TargetUserName "-", Hostname WORKSTATION5."""
    e = _one(security, EventCode="4688", NewProcessId="0x12d8")
    # EVAL-process: the command line's first token has a backslash, so the whole line
    assert e["process"] == (
        '"C:\\Windows\\System32\\rundll32.exe" C:\\windows\\System32\\comsvcs.dll MiniDump 756 '
        "C:\\Users\\wardog\\AppData\\Local\\Temp\\lsass-comsvcs.dmp full"
    )
    # REPORT extract_new_process_name_for_windows_xml: after the last backslash
    assert e["process_name"] == "rundll32.exe"
    assert e["process_path"] == "C:\\Windows\\System32\\rundll32.exe"
    assert e["process_id"] == "0x12d8"
    # EXTRACT-parent_process (ParentProcessName) and its file name; EVAL-parent_process_id
    parent = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"
    assert e["parent_process"] == e["parent_process_path"] == parent
    assert e["parent_process_name"] == "powershell.exe"
    assert e["parent_process_id"] == "0x17d4"
    # EVAL-user: REPORT user (TargetUserName) is "-", so src_user (SubjectUserName)
    assert e["user"] == e["src_user"] == "wardog"
    assert e["dest"] == "WORKSTATION5"  # REPORT Computer_as_dest
    assert e["signature"] == "A new process has been created"  # windows_signatures lookup
    # TokenElevationType %%1936 -> REPORT Token_Elevation_Type_id (its digits)
    assert e["Token_Elevation_Type_id"] == "1936"
    # this export has no Keywords, so EVAL-action's 4688 rule (Audit Success) cannot fire,
    # and no action lookup lists 4688
    assert e["action"] is None
    assert {"windows_process_new", "windows_endpoint_processes", "wineventlog_security"} <= set(
        e["eventtype"]
    )
    assert {"process", "report", "execute", "start"} <= set(e["tag"])


@needs_real
def test_security_4624_network_logon(security: list[dict[str, Any]]) -> None:
    """covenant_copy_smb...json RecordNumber 933021: 4624 on WORKSTATION6, LogonType 3,
    TargetUserName pgustavo, SubjectUserName "-", IpAddress 172.18.39.5, Kerberos,
    Keywords -9214364837600034816 (0x8020000000000000: Audit Success)."""
    e = _one(security, EventCode="4624", RecordNumber="933021")
    assert e["user"] == "pgustavo"  # REPORT user: Target_User_Name
    assert e["src"] == "172.18.39.5"  # EVAL-src: 4624 -> IpAddress
    assert e["src_ip"] == "172.18.39.5"  # EXTRACT-1IpAddress (not a loopback)
    assert e["src_user"] is None  # EVAL-src_user: SubjectUserName is "-"
    assert e["Logon_Type"] == "3"  # REPORT LogonType_as_Logon_Type
    assert e["action"] == "success"  # windows_actions lookup on Keywords "Audit Success"
    assert e["app"] == "win:remote"  # windows_apps lookup: Logon_Type 3
    assert e["authentication_service"] == "Kerberos"
    assert e["dest"] == "WORKSTATION6.theshire.local"
    assert e["signature"] == "An account was successfully logged on"
    assert {"authentication", "remote"} <= set(e["tag"])


@needs_real
def test_security_4624_loopback_machine_logon(security: list[dict[str, Any]]) -> None:
    """covenant_copy_smb...json RecordNumber 2193190: 4624 on MORDORDC, TargetUserName
    MORDORDC$, IpAddress ::1."""
    e = _one(security, EventCode="4624", RecordNumber="2193190")
    assert e["user"] == "MORDORDC$"
    assert e["src"] == "::1"  # EVAL-src takes IpAddress as it is
    assert e["src_ip"] is None  # EXTRACT-1IpAddress skips ::1


@needs_real
def test_security_share_access_and_kerberos(security: list[dict[str, Any]]) -> None:
    """covenant_copy_smb...json RecordNumber 933024 (5140: ShareName \\\\*\\C$,
    ShareLocalPath \\??\\C:\\, SubjectUserName pgustavo, IpAddress 172.18.39.5) and
    2193139 (4769: ServiceName WORKSTATION6$, TargetUserName pgustavo@THESHIRE.LOCAL,
    IpAddress ::ffff:172.18.39.5, Status 0x0)."""
    share = _one(security, EventCode="5140", RecordNumber="933024")
    assert share["file_name"] == "\\\\*\\C$"  # EVAL-file_name: ShareName
    assert share["file_path"] == "\\??\\C:\\"  # EVAL-file_path: ShareLocalPath
    assert share["user"] == share["src_user"] == "pgustavo"  # EVAL-user: 5140 -> Subject
    assert share["src"] == "172.18.39.5"  # REPORT src: Source_Workstation <- IpAddress
    assert share["action"] == "success"
    tgs = _one(security, EventCode="4769", RecordNumber="2193139")
    assert tgs["service_name"] == "WORKSTATION6$"  # FIELDALIAS ServiceName AS service_name
    assert tgs["user"] == "pgustavo@THESHIRE.LOCAL"
    assert tgs["src"] == "::ffff:172.18.39.5"
    assert tgs["action"] == "success"
    assert "authentication" in tgs["tag"]  # windows_service_ticket_granted


@needs_real
def test_security_4648_explicit_credentials(security: list[dict[str, Any]]) -> None:
    """e3c6d245-...json (Sigma regression data): 4648 on swachchhanda, SubjectUserName xodih,
    TargetUserName testuser, TargetServerName localhost, ProcessName
    C:\\Users\\xodih\\OneDrive\\Desktop\\LegacyHive.exe, IpAddress "-", Keywords
    0x8020000000000000."""
    e = _one(security, EventCode="4648")
    assert e["dest"] == "localhost"  # REPORT Target_Server_Name_as_dest
    assert e["user"] == "testuser"
    assert e["src_user"] == "xodih"
    assert e["src"] is None  # no Workstation field; IpAddress "-" fails [^-]
    assert e["app"] == "win:remote"  # windows_apps lookup: EventCode 4648
    assert e["action"] == "success"
    # EVAL-process_name: 4648 is not one of the codes that take the file name
    assert e["process_name"] == "C:\\Users\\xodih\\OneDrive\\Desktop\\LegacyHive.exe"
    assert {"authentication", "privileged"} <= set(e["tag"])


@needs_real
def test_security_1102_audit_log_cleared(security: list[dict[str, Any]]) -> None:
    """psh_lsass_memory_dump_comsvcs...json: the 1102 (no EventData in this export)."""
    e = _one(security, EventCode="1102")
    # windows_audit_changes lookup (1102: cleared, audit, audit log), EVAL-object,
    # xmlsecurity_change_audit_and_account_management lookup (result)
    assert (e["action"], e["change_type"], e["object_category"]) == (
        "cleared",
        "audit",
        "audit log",
    )
    assert e["object"] == "audit log"
    assert e["result"] == "The audit log was cleared"
    assert {"audit", "change", "cleared"} <= set(e["tag"])


# --------------------------------------------------------------------------- other channels


@needs_real
def test_windows_defender_detection(store: EventStore, knowledge: Knowledge) -> None:
    """a7c3e5f2-...json (Sigma regression data): Defender 1119 with Threat Name
    Tool:Win32/EICAR_Test_File, Action Name Quarantine, Detection User swachchhanda\\xodih,
    Severity Name Severe, Path file:_C:\\Users\\xodih\\AppData\\Local\\Temp\\RS-{...}\\
    TieringEngineService.exe."""
    [e] = _records(
        store,
        'source="XmlWinEventLog:Microsoft-Windows-Windows Defender/Operational" '
        "| table signature action user src_user severity vendor_product file_name dest tag",
        knowledge,
    )
    assert e["signature"] == "Tool:Win32/EICAR_Test_File"  # EVAL-signature = Threat_Name
    assert e["action"] == "blocked"  # EVAL-action: quarantine -> blocked
    assert e["user"] == e["src_user"] == "swachchhanda\\xodih"
    assert e["severity"] == "critical"  # windows_defender_severity lookup: Severe
    assert e["vendor_product"] == "Microsoft Defender Antivirus"
    assert e["file_name"] == "TieringEngineService.exe"
    assert e["dest"] == "swachchhanda"
    # 1119 is neither 1116/1117 (attack) nor 5004/5007 (operations): no malware tags
    assert "malware" not in (e["tag"] or [])


@needs_real
def test_sysmon_for_linux_process_and_network(store: EventStore, knowledge: Knowledge) -> None:
    """syslog_sysmon_log4shell...json: EventRecordID 245762 (EID 1: Image /bin/bash,
    CommandLine "bash -i", ProcessId 17794, ParentImage /bin/bash, ParentCommandLine bash,
    ParentProcessId 17790, User tomcat, Security UserId 0) and 245785 (EID 3: Image bash,
    User "-", 192.168.2.5:39634 -> 192.168.2.6:443 tcp, DestinationHostname "-")."""
    rows = _records(
        store,
        'sourcetype="sysmon:linux" | table EventRecordID source process process_name '
        "process_path process_id parent_process parent_process_name parent_process_id user "
        "dest dest_port src src_port transport app direction action signature tag",
        knowledge,
    )
    proc = _one(rows, EventRecordID="245762")
    assert proc["source"] == "Syslog:Linux-Sysmon/Operational"
    assert proc["process"] == "bash -i"
    assert proc["process_name"] == "bash"  # "bash" is all word characters: stripped
    assert proc["process_path"] == "/bin/bash"
    assert proc["process_id"] == "17794"
    assert (proc["parent_process"], proc["parent_process_name"]) == ("bash", "bash")
    assert proc["parent_process_id"] == "17790"
    assert proc["user"] == "root"  # EVAL-user: not EID 3, UserId 0 -> root
    assert proc["dest"] == "UBUNTU5"
    assert proc["action"] == "allowed"
    assert proc["signature"] == "Process creation"
    assert {"process", "report"} <= set(proc["tag"])
    net = _one(rows, EventRecordID="245785")
    assert net["dest"] == "192.168.2.6"  # DestinationHostname "-" -> DestinationIp
    assert (net["dest_port"], net["src"], net["src_port"]) == ("443", "192.168.2.5", "39634")
    assert net["transport"] == "tcp"
    assert net["app"] == "bash"  # EVAL-app: Image
    assert net["direction"] == "outbound"  # Initiated true
    assert net["user"] == "-"  # EVAL-user: EID 3 -> User
    assert {"network", "communicate"} <= set(net["tag"])


@needs_real
def test_escu_sysmon_macro_matches_sysmon_for_linux(
    store: EventStore, knowledge: Knowledge
) -> None:
    """ESCU's `sysmon` macro names Sysmon for Linux by source=Syslog:Linux-Sysmon/Operational;
    the file has 31 EID 1 events (SOURCES.md; test_ingest_windows counts them too)."""
    rows = _records(
        store, f"({ESCU_SYSMON_MACRO}) EventCode=1 index=linux | stats count", knowledge
    )
    assert rows == [{"count": 31}]


@needs_real
def test_auditd_execve(store: EventStore, knowledge: Knowledge) -> None:
    """sh_arp_cache...log, msg=audit(1604994496.155:92733): SYSCALL success=yes
    exe="/usr/sbin/arp" comm="arp", EXECVE a0="arp" a1="-a" (no cmd field)."""
    rows = _records(
        store,
        'sourcetype="linux:audit" | table event_id unix_time app action event_result command '
        "process process_name",
        knowledge,
    )
    e = _one(rows, event_id="92733")  # REPORT-auditd_stamp
    assert e["unix_time"] == "1604994496.155"
    assert e["app"] == "/usr/sbin/arp"  # FIELDALIAS exe AS app
    assert e["event_result"] == "yes"  # EVAL-event_result: success
    assert e["action"] == "success"  # action_translation lookup: yes -> success
    assert e["command"] == "/usr/sbin/arp"  # EVAL-command: no cmd -> exe
    # left as ingested (see linux_auditd.yml): the EXECVE arguments and the exe's name
    assert (e["process"], e["process_name"]) == ("arp -a", "arp")


def test_defender_for_endpoint_process_export(knowledge: Knowledge, tmp_path: Path) -> None:
    """An advanced-hunting DeviceProcessEvents row (written here in the export's layout:
    no such export is among the real files). Splunk_TA_MS_Security's EVAL-process joins
    FolderPath's folder, the command's first token and its arguments."""
    header = [
        "Timestamp",
        "DeviceId",
        "DeviceName",
        "ActionType",
        "FileName",
        "FolderPath",
        "ProcessCommandLine",
        "ProcessId",
        "AccountDomain",
        "AccountName",
        "InitiatingProcessFileName",
        "InitiatingProcessFolderPath",
        "InitiatingProcessCommandLine",
        "InitiatingProcessId",
        "ReportId",
    ]
    row = [
        "2024-03-01T10:00:00Z",
        "4f1c0a7e",
        "ws01.corp.local",
        "ProcessCreated",
        "7z.exe",
        "C:\\Program Files\\7-Zip\\7z.exe",
        '7z.exe a -pSecret C:\\Users\\Public\\s.7z "C:\\Users\\bob\\Documents"',
        "812",
        "corp",
        "bob",
        "cmd.exe",
        "C:\\Windows\\System32\\cmd.exe",
        'cmd.exe /c "stage.bat"',
        "640",
        "10533",
    ]
    out = io.StringIO()
    csv.writer(out).writerows([header, row])
    path = tmp_path / "DeviceProcessEvents.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    with EventStore(in_memory=True) as s:
        s.load([path])
        [e] = _records(
            s,
            "sourcetype=mde:DeviceProcessEvents | table process process_name process_path "
            "parent_process parent_process_name user dest action tag",
            knowledge,
        )
    # folder of FolderPath + "\" + first token + " " + the arguments
    assert e["process"] == (
        "C:\\Program Files\\7-Zip\\7z.exe a -pSecret C:\\Users\\Public\\s.7z "
        '"C:\\Users\\bob\\Documents"'
    )
    assert e["parent_process"] == 'C:\\Windows\\System32\\cmd.exe /c "stage.bat"'
    assert (e["process_name"], e["parent_process_name"]) == ("7z.exe", "cmd.exe")
    assert e["user"] == "bob"  # EVAL-user: DeviceProcessEvents -> AccountName
    assert (e["dest"], e["action"]) == ("ws01.corp.local", "allowed")
    assert {"process", "report"} <= set(e["tag"])


# --------------------------------------------------------------------------- data model rows


def _by(rows: list[dict[str, Any]], **match: object) -> list[dict[str, Any]]:
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


@needs_real
def test_endpoint_processes_rows(store: EventStore, knowledge: Knowledge) -> None:
    """The 4688 of test_security_4688_process_fields and the Sysmon for Linux EID 1 of
    test_sysmon_for_linux_process_and_network, as Endpoint.Processes rows."""
    rows = dataset_rows(store, "Endpoint.Processes", knowledge)
    # the 4689 of the same process is a row too (windows_endpoint_processes: process,
    # report); its parent_process_id is null (EVAL-parent_process_id: 4688 and 4696 only)
    win_rows = _by(
        rows, **{"sourcetype": "XmlWinEventLog:Security", "Processes.process_id": "0x12d8"}
    )
    assert len(win_rows) == 2
    [win] = _by(win_rows, **{"Processes.parent_process_id": "0x17d4"})
    assert win["Processes.process_name"] == "rundll32.exe"
    assert win["Processes.parent_process_name"] == "powershell.exe"
    assert win["Processes.user"] == "wardog"
    assert win["Processes.dest"] == "WORKSTATION5"
    [lin] = _by(rows, **{"sourcetype": "sysmon:linux", "Processes.process_id": "17794"})
    assert lin["source"] == "Syslog:Linux-Sysmon/Operational"
    assert lin["Processes.process"] == "bash -i"
    assert lin["Processes.user"] == "root"
    # every Security 4688 and every Sysmon for Linux EID 1/5 (process/report tags) is a row;
    # no 4624 is
    assert not _by(rows, **{"Processes.process_id": "0x0", "sourcetype": "XmlWinEventLog:Security"})


@needs_real
def test_authentication_rows(store: EventStore, knowledge: Knowledge) -> None:
    """Authentication keeps tag=authentication events but not successful logons of machine
    accounts (NOT (action=success user=*$)); its calculations fill src with "unknown"."""
    rows = dataset_rows(store, "Authentication.Authentication", knowledge)
    users = {r["Authentication.user"] for r in rows}
    assert "MORDORDC$" not in users and "WORKSTATION6$" not in users
    [logon] = _by(
        rows, **{"Authentication.signature_id": "4624", "Authentication.user": "pgustavo"}
    )
    assert logon["Authentication.src"] == "172.18.39.5"
    assert logon["Authentication.action"] == "success"
    assert logon["Authentication.app"] == "win:remote"
    assert logon["Authentication.dest"] == "WORKSTATION6.theshire.local"
    [explicit] = _by(rows, **{"Authentication.signature_id": "4648"})
    assert explicit["Authentication.src"] == "unknown"  # src null -> the calculation's fill
    assert explicit["Authentication.user"] == "testuser"
    privileged = dataset_rows(store, "Authentication.Privileged_Authentication", knowledge)
    # 4648 (windows_logon_explicit) is tagged privileged; the pgustavo 4624 is not
    assert _by(privileged, **{"Authentication.signature_id": "4648"})
    assert not _by(privileged, **{"Authentication.signature_id": "4624"})


@needs_real
def test_change_auditing_rows(store: EventStore, knowledge: Knowledge) -> None:
    """The 1102 feeds Change.Auditing_Changes (tags change, audit)."""
    rows = dataset_rows(store, "Change.Auditing_Changes", knowledge)
    [cleared] = _by(rows, **{"All_Changes.result_id": "1102"})
    assert cleared["All_Changes.action"] == "cleared"
    assert cleared["All_Changes.object_category"] == "audit log"
    assert cleared["All_Changes.result"] == "The audit log was cleared"
    assert cleared["All_Changes.user"] == "unknown"  # no Subject in this export


@needs_real
def test_network_traffic_rows(store: EventStore, knowledge: Knowledge) -> None:
    """The Sysmon for Linux EID 3 of test_sysmon_for_linux_process_and_network as an
    All_Traffic row (tags network, communicate)."""
    rows = dataset_rows(store, "Network_Traffic.All_Traffic", knowledge)
    [conn] = _by(rows, **{"All_Traffic.src_port": "39634"})
    assert conn["All_Traffic.dest"] == "192.168.2.6"
    assert conn["All_Traffic.dest_port"] == "443"
    assert conn["All_Traffic.transport"] == "tcp"
    assert conn["All_Traffic.action"] == "allowed"
    assert conn["All_Traffic.vendor_product"] == "Sysmon For Linux"
