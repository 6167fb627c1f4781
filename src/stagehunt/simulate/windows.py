"""Sysmon and Security events rendered as Windows event XML, one ``<Event>`` per line.

That is how Splunk's ``XmlWinEventLog`` keeps ``_raw`` and how ``wevtutil qe /f:xml``
prints events, so ``stagehunt ingest`` (``ingest/winxml.py``) reads the output with the
same code path as real exports, and the normaliser — not the simulator — decides field
names, sourcetype and index. Field names and order per event follow the Sysmon manifest
(``shared/data/schemas/sysmon-schema.json``) and the Security auditing manifests.

Fidelity points a detection depends on:

* EID 11/12/13 carry ``User`` only from schema 4.80; EID 1 carries ``ParentUser`` only
  from 4.80. EID 11 never has ``CommandLine``.
* ``UtcTime`` (milliseconds, when the thing happened) precedes ``SystemTime`` (7-digit
  fraction, when the event was written) by a few milliseconds, as in real logs.
* Security 4688 writes pids in hex and the creator's image as ``ParentProcessName``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from xml.sax.saxutils import escape

from stagehunt.simulate.ids import image_hashes
from stagehunt.simulate.model import Micros, Proc, Session, WinHost

__all__ = [
    "SECURITY_CHANNEL",
    "SYSMON_CHANNEL",
    "image_info",
    "render_event",
    "security_4624",
    "security_4648",
    "security_4688",
    "security_5140",
    "security_5145",
    "sysmon_file_create",
    "sysmon_network_connect",
    "sysmon_process_create",
    "sysmon_registry_set",
    "system_time",
    "utc_time",
]

SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
SECURITY_CHANNEL = "Security"
_SYSMON_PROVIDER = ("Microsoft-Windows-Sysmon", "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}")
_SECURITY_PROVIDER = (
    "Microsoft-Windows-Security-Auditing",
    "{54849625-5478-4994-a5ba-3e3b0328c30d}",
)
#: Sysmon event id → manifest template version.
_SYSMON_VERSION = {"1": "5", "3": "5", "11": "2", "12": "2", "13": "2"}
#: Security event id → (version, task).
_SECURITY_META = {
    "4624": ("2", "12544"),
    "4648": ("0", "12544"),
    "4688": ("2", "13312"),
    "5140": ("1", "12808"),
    "5145": ("0", "12811"),
}

Data = Sequence[tuple[str, str]]

_MS = "Microsoft Corporation"
_WIN = "Microsoft® Windows® Operating System"
_WINVER = "10.0.19041.3636 (WinBuild.160101.0800)"

#: PE version resource per file name: FileVersion, Description, Product, Company,
#: OriginalFileName (what Sysmon EID 1 and MDE's ProcessVersionInfo* report).
_IMAGE_INFO: dict[str, tuple[str, str, str, str, str]] = {
    "robocopy.exe": (_WINVER, "Microsoft® Robust File Copy for Windows", _WIN, _MS, "robocopy.exe"),
    "xcopy.exe": (_WINVER, "Extended Copy Utility", _WIN, _MS, "XCOPY.EXE"),
    "cmd.exe": (_WINVER, "Windows Command Processor", _WIN, _MS, "Cmd.Exe"),
    "conhost.exe": (_WINVER, "Console Window Host", _WIN, _MS, "CONHOST.EXE"),
    "powershell.exe": (
        "10.0.19041.3570 (WinBuild.160101.0800)",
        "Windows PowerShell",
        _WIN,
        _MS,
        "PowerShell.EXE",
    ),
    "7z.exe": ("23.01", "7-Zip Console", "7-Zip", "Igor Pavlov", "7z.exe"),
    "explorer.exe": (_WINVER, "Windows Explorer", _WIN, _MS, "EXPLORER.EXE"),
    "net.exe": (_WINVER, "Net Command", _WIN, _MS, "net.exe"),
    "attrib.exe": (_WINVER, "Attribute Utility", _WIN, _MS, "ATTRIB.EXE"),
    "msiexec.exe": (
        _WINVER,
        "Windows® installer",
        "Windows Installer - Unicode",
        _MS,
        "msiexec.exe",
    ),
    "svchost.exe": (_WINVER, "Host Process for Windows Services", _WIN, _MS, "svchost.exe"),
    "services.exe": (_WINVER, "Services and Controller app", _WIN, _MS, "services.exe"),
    "taskhostw.exe": (_WINVER, "Host Process for Windows Tasks", _WIN, _MS, "taskhostw.exe"),
    "devenv.exe": (
        "17.9.34728.123",
        "Microsoft Visual Studio 2022",
        "Microsoft® Visual Studio®",
        _MS,
        "devenv.exe",
    ),
    "msbuild.exe": (
        "17.9.8+b34f75857",
        "MSBuild.exe",
        "Microsoft® Build Tools®",
        _MS,
        "MSBuild.exe",
    ),
    "ccmexec.exe": (
        "5.0.9106.1000",
        "CCM Executive Service",
        "Configuration Manager Client",
        _MS,
        "CcmExec.exe",
    ),
    "microsoft.management.services.intunewindowsagent.exe": (
        "1.77.107.0",
        "Microsoft Intune Management Extension",
        "Microsoft Intune Management Extension",
        _MS,
        "Microsoft.Management.Services.IntuneWindowsAgent.exe",
    ),
    "veeamagent.exe": (
        "12.1.1.56",
        "Veeam Agent",
        "Veeam Backup & Replication",
        "Veeam Software Group GmbH",
        "VeeamAgent.exe",
    ),
    "veeamtransportsvc.exe": (
        "12.1.1.56",
        "Veeam Transport Service",
        "Veeam Backup & Replication",
        "Veeam Software Group GmbH",
        "VeeamTransportSvc.exe",
    ),
    "contosopdf_setup_3.4.1.exe": (
        "3.4.1.0",
        "Contoso PDF Reader Setup",
        "Contoso PDF Reader",
        "Contoso Software",
        "setup.exe",
    ),
}


def image_info(image: str) -> tuple[str, str, str, str, str]:
    """Version resource of an image; ``-`` everywhere for one without (as Sysmon writes)."""
    name = image.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return _IMAGE_INFO.get(name, ("-", "-", "-", "-", "-"))


def _when(t: Micros) -> dt.datetime:
    return dt.datetime.fromtimestamp(t // 1_000_000, tz=dt.UTC)


def system_time(t: Micros, digits: int = 7) -> str:
    """``2024-05-14T09:12:03.1234567Z``: Windows writes 100 ns ticks (7 digits); Sysmon
    for Linux writes 9 digits."""
    fraction = f"{t % 1_000_000:06d}".ljust(digits, "0")
    return _when(t).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction}Z"


def utc_time(t: Micros) -> str:
    """Sysmon's ``UtcTime``: ``2024-05-14 09:12:03.123`` (UTC, milliseconds, no zone)."""
    return _when(t).strftime("%Y-%m-%d %H:%M:%S") + f".{(t % 1_000_000) // 1000:03d}"


def render_event(
    *,
    provider: tuple[str, str],
    event_id: str,
    version: str,
    level: str,
    task: str,
    keywords: str,
    written: Micros,
    record_id: int,
    execution: tuple[int, int],
    channel: str,
    computer: str,
    user_sid: str | None,
    data: Data,
    time_digits: int = 7,
) -> str:
    """One event as a single line of XML, as Splunk's XmlWinEventLog ``_raw`` holds it."""
    security = f"<Security UserID='{user_sid}'/>" if user_sid else "<Security/>"
    parts = [
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>",
        f"<Provider Name='{provider[0]}' Guid='{provider[1]}'/>",
        f"<EventID>{event_id}</EventID><Version>{version}</Version><Level>{level}</Level>",
        f"<Task>{task}</Task><Opcode>0</Opcode><Keywords>{keywords}</Keywords>",
        f"<TimeCreated SystemTime='{system_time(written, time_digits)}'/>",
        f"<EventRecordID>{record_id}</EventRecordID><Correlation/>",
        f"<Execution ProcessID='{execution[0]}' ThreadID='{execution[1]}'/>",
        f"<Channel>{escape(channel)}</Channel><Computer>{escape(computer)}</Computer>",
        security,
        "</System><EventData>",
    ]
    for name, value in data:
        parts.append(f"<Data Name='{name}'>{escape(value)}</Data>")
    parts.append("</EventData></Event>")
    return "".join(parts)


def sysmon_event(
    host: WinHost, event_id: str, written: Micros, record_id: int, tid: int, data: Data
) -> str:
    """A Sysmon (Windows) event of ``host``."""
    return render_event(
        provider=_SYSMON_PROVIDER,
        event_id=event_id,
        version=_SYSMON_VERSION[event_id],
        level="4",
        task=event_id,
        keywords="0x8000000000000000",
        written=written,
        record_id=record_id,
        execution=(host.sysmon_pid, tid),
        channel=SYSMON_CHANNEL,
        computer=host.fqdn,
        user_sid="S-1-5-18",
        data=data,
    )


def security_event(
    host: WinHost, event_id: str, written: Micros, record_id: int, tid: int, data: Data
) -> str:
    """A Security-log event of ``host`` (written by LSASS, audit success)."""
    version, task = _SECURITY_META[event_id]
    return render_event(
        provider=_SECURITY_PROVIDER,
        event_id=event_id,
        version=version,
        level="0",
        task=task,
        keywords="0x8020000000000000",
        written=written,
        record_id=record_id,
        execution=(host.lsass_pid, tid),
        channel=SECURITY_CHANNEL,
        computer=host.fqdn,
        user_sid=None,
        data=data,
    )


# --------------------------------------------------------------------------- Sysmon


def _hashes_field(image: str) -> str:
    """Sysmon's ``Hashes`` with the common ``md5,sha256,IMPHASH`` configuration."""
    h = image_hashes(image)
    return f"MD5={h['MD5']},SHA256={h['SHA256']},IMPHASH={h['IMPHASH']}"


def sysmon_process_create(proc: Proc, host: WinHost) -> list[tuple[str, str]]:
    """EID 1 data; ``ParentUser`` only with schema ≥ 4.80."""
    version, description, product, company, original = image_info(proc.image)
    parent = proc.parent
    session = proc.session
    data = [
        ("RuleName", "-"),
        ("UtcTime", utc_time(proc.start)),
        ("ProcessGuid", proc.guid),
        ("ProcessId", str(proc.pid)),
        ("Image", proc.image),
        ("FileVersion", version),
        ("Description", description),
        ("Product", product),
        ("Company", company),
        ("OriginalFileName", original),
        ("CommandLine", proc.command_line),
        ("CurrentDirectory", proc.cwd),
        ("User", session.account.qualified),
        ("LogonGuid", session.logon_guid),
        ("LogonId", session.logon_id_hex),
        ("TerminalSessionId", str(session.terminal_session)),
        ("IntegrityLevel", proc.integrity),
        ("Hashes", _hashes_field(proc.image)),
        ("ParentProcessGuid", parent.guid if parent else "{00000000-0000-0000-0000-000000000000}"),
        ("ParentProcessId", str(parent.pid) if parent else "0"),
        ("ParentImage", parent.image if parent else "-"),
        ("ParentCommandLine", parent.command_line if parent else "-"),
    ]
    if host.new_schema:
        data.append(("ParentUser", parent.session.account.qualified if parent else "-"))
    return data


def sysmon_file_create(
    proc: Proc, host: WinHost, t: Micros, target: str, creation: Micros | None
) -> list[tuple[str, str]]:
    """EID 11 data. ``creation`` differs from ``t`` when the writer keeps the source's
    creation time (robocopy ``/COPY:T``, ``/COPYALL``); ``User`` only with schema ≥ 4.80."""
    data = [
        ("RuleName", "-"),
        ("UtcTime", utc_time(t)),
        ("ProcessGuid", proc.guid),
        ("ProcessId", str(proc.pid)),
        ("Image", proc.image),
        ("TargetFilename", target),
        ("CreationUtcTime", utc_time(creation if creation is not None else t)),
    ]
    if host.new_schema:
        data.append(("User", proc.session.account.qualified))
    return data


def sysmon_network_connect(
    proc: Proc,
    host: WinHost,
    t: Micros,
    *,
    source_port: int,
    dest_ip: str,
    dest_host: str,
    dest_port: int,
    dest_port_name: str,
) -> list[tuple[str, str]]:
    """EID 3 data (an outbound TCP connection)."""
    return [
        ("RuleName", "-"),
        ("UtcTime", utc_time(t)),
        ("ProcessGuid", proc.guid),
        ("ProcessId", str(proc.pid)),
        ("Image", proc.image),
        ("User", proc.session.account.qualified),
        ("Protocol", "tcp"),
        ("Initiated", "true"),
        ("SourceIsIpv6", "false"),
        ("SourceIp", host.ip),
        ("SourceHostname", host.fqdn),
        ("SourcePort", str(source_port)),
        ("SourcePortName", "-"),
        ("DestinationIsIpv6", "false"),
        ("DestinationIp", dest_ip),
        ("DestinationHostname", dest_host),
        ("DestinationPort", str(dest_port)),
        ("DestinationPortName", dest_port_name),
    ]


def sysmon_registry_set(
    proc: Proc, host: WinHost, t: Micros, target_object: str, details: str
) -> list[tuple[str, str]]:
    """EID 13 data (registry value set); ``User`` only with schema ≥ 4.80."""
    data = [
        ("RuleName", "-"),
        ("EventType", "SetValue"),
        ("UtcTime", utc_time(t)),
        ("ProcessGuid", proc.guid),
        ("ProcessId", str(proc.pid)),
        ("Image", proc.image),
        ("TargetObject", target_object),
        ("Details", details),
    ]
    if host.new_schema:
        data.append(("User", proc.session.account.qualified))
    return data


# --------------------------------------------------------------------------- Security

_LABELS = {
    "Low": "S-1-16-4096",
    "Medium": "S-1-16-8192",
    "High": "S-1-16-12288",
    "System": "S-1-16-16384",
}


def _subject(session: Session, host: WinHost) -> list[tuple[str, str]]:
    """The ``Subject*`` fields: a SYSTEM process is logged as the machine account."""
    account = session.account
    if account.is_system:
        return [
            ("SubjectUserSid", "S-1-5-18"),
            ("SubjectUserName", f"{host.short}$"),
            ("SubjectDomainName", host.domain),
            ("SubjectLogonId", "0x3e7"),
        ]
    return [
        ("SubjectUserSid", account.sid),
        ("SubjectUserName", account.name),
        ("SubjectDomainName", account.domain),
        ("SubjectLogonId", session.logon_id_hex),
    ]


def token_elevation(proc: Proc) -> str:
    """``%%1936`` full token (SYSTEM, UAC off), ``%%1937`` elevated, ``%%1938`` limited."""
    if proc.session.account.is_system:
        return "%%1936"
    return "%%1937" if proc.session.elevated else "%%1938"


def security_4688(proc: Proc, host: WinHost) -> list[tuple[str, str]]:
    """4688 (version 2) with the command line (the "include command line" policy on)."""
    parent = proc.parent
    return [
        *_subject(proc.session, host),
        ("NewProcessId", hex(proc.pid)),
        ("NewProcessName", proc.image),
        ("TokenElevationType", token_elevation(proc)),
        ("ProcessId", hex(parent.pid) if parent else "0x0"),
        ("CommandLine", proc.command_line),
        ("TargetUserSid", "S-1-0-0"),
        ("TargetUserName", "-"),
        ("TargetDomainName", "-"),
        ("TargetLogonId", "0x0"),
        ("ParentProcessName", parent.image if parent else ""),
        ("MandatoryLabel", _LABELS.get(proc.integrity, "S-1-16-8192")),
    ]


def security_4648(
    proc: Proc,
    host: WinHost,
    *,
    target_user: str,
    target_domain: str,
    target_logon_guid: str,
    server: str,
    server_ip: str,
) -> list[tuple[str, str]]:
    """4648: ``proc`` presented explicit credentials to ``server`` (e.g. ``net use /user:``)."""
    return [
        *_subject(proc.session, host),
        ("LogonGuid", "{00000000-0000-0000-0000-000000000000}"),
        ("TargetUserName", target_user),
        ("TargetDomainName", target_domain),
        ("TargetLogonGuid", target_logon_guid),
        ("TargetServerName", server),
        ("TargetInfo", f"cifs/{server}"),
        ("ProcessId", hex(proc.pid)),
        ("ProcessName", proc.image),
        ("IpAddress", server_ip),
        ("IpPort", "445"),
    ]


def security_4624(
    session: Session, *, workstation: str, ip: str, port: int, logon_guid: str
) -> list[tuple[str, str]]:
    """4624 type 3 (network, Kerberos) on a server, for the session an SMB client opened."""
    account = session.account
    return [
        ("SubjectUserSid", "S-1-0-0"),
        ("SubjectUserName", "-"),
        ("SubjectDomainName", "-"),
        ("SubjectLogonId", "0x0"),
        ("TargetUserSid", account.sid),
        ("TargetUserName", account.name),
        ("TargetDomainName", account.domain),
        ("TargetLogonId", session.logon_id_hex),
        ("LogonType", "3"),
        ("LogonProcessName", "Kerberos"),
        ("AuthenticationPackageName", "Kerberos"),
        ("WorkstationName", "-"),
        ("LogonGuid", logon_guid),
        ("TransmittedServices", "-"),
        ("LmPackageName", "-"),
        ("KeyLength", "0"),
        ("ProcessId", "0x0"),
        ("ProcessName", "-"),
        ("IpAddress", ip),
        ("IpPort", str(port)),
        ("ImpersonationLevel", "%%1833"),
        ("RestrictedAdminMode", "-"),
        ("TargetOutboundUserName", "-"),
        ("TargetOutboundDomainName", "-"),
        ("VirtualAccount", "%%1843"),
        ("TargetLinkedLogonId", "0x0"),
        ("ElevatedToken", "%%1842"),
    ]


def _share_access(session: Session, ip: str, port: int, share: str, local_path: str) -> Data:
    """The subject and share fields 5140 and 5145 have in common, in their order."""
    account = session.account
    return [
        ("SubjectUserSid", account.sid),
        ("SubjectUserName", account.name),
        ("SubjectDomainName", account.domain),
        ("SubjectLogonId", session.logon_id_hex),
        ("ObjectType", "File"),
        ("IpAddress", ip),
        ("IpPort", str(port)),
        ("ShareName", share),
        ("ShareLocalPath", local_path),
    ]


def security_5140(session: Session, *, ip: str, port: int, share: str, local_path: str) -> Data:
    """5140: a network share was accessed (first access of the session)."""
    return [
        *_share_access(session, ip, port, share, local_path),
        ("AccessMask", "0x1"),
        ("AccessList", "%%4416"),
    ]


def security_5145(
    session: Session,
    *,
    ip: str,
    port: int,
    share: str,
    local_path: str,
    relative_target: str,
    write: bool,
) -> Data:
    """5145: a share object was checked for access (one per file/folder touched)."""
    mask, access = ("0x100116", "%%1541 %%4417 %%4418 %%4420") if write else ("0x1", "%%4416")
    return [
        *_share_access(session, ip, port, share, local_path),
        ("RelativeTargetName", relative_target),
        ("AccessMask", mask),
        ("AccessList", access),
        ("AccessReason", "-"),
    ]
