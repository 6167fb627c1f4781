"""Microsoft Defender for Endpoint advanced-hunting rows (DeviceProcessEvents,
DeviceFileEvents) as the portal's CSV export writes them.

Column names and value styles are Microsoft's: ``Timestamp`` with 7 fraction digits,
``FolderPath`` the full path including the file name, accounts in lower case as the
sensor reports them, ``LogonId`` in decimal. ``ingest/mde.py`` reads these files and
labels them ``index=mde`` with ``sourcetype=mde:<Table>``, so a hunt written against
Defender sees the same process and file as the Sysmon events of the same run.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from stagehunt.simulate.ids import file_hashes, image_hashes
from stagehunt.simulate.model import Micros, Proc, WinHost
from stagehunt.simulate.windows import image_info, system_time

__all__ = [
    "FILE_COLUMNS",
    "PROCESS_COLUMNS",
    "file_row",
    "process_row",
    "render_csv",
]

PROCESS_COLUMNS = (
    "Timestamp",
    "DeviceId",
    "DeviceName",
    "ActionType",
    "FileName",
    "FolderPath",
    "SHA1",
    "SHA256",
    "MD5",
    "ProcessVersionInfoCompanyName",
    "ProcessVersionInfoProductName",
    "ProcessVersionInfoOriginalFileName",
    "ProcessVersionInfoFileDescription",
    "ProcessId",
    "ProcessCommandLine",
    "ProcessIntegrityLevel",
    "ProcessTokenElevation",
    "ProcessCreationTime",
    "AccountDomain",
    "AccountName",
    "AccountSid",
    "LogonId",
    "InitiatingProcessAccountDomain",
    "InitiatingProcessAccountName",
    "InitiatingProcessAccountSid",
    "InitiatingProcessLogonId",
    "InitiatingProcessIntegrityLevel",
    "InitiatingProcessSHA256",
    "InitiatingProcessFileName",
    "InitiatingProcessId",
    "InitiatingProcessCommandLine",
    "InitiatingProcessCreationTime",
    "InitiatingProcessFolderPath",
    "InitiatingProcessParentId",
    "InitiatingProcessParentFileName",
    "ReportId",
)

FILE_COLUMNS = (
    "Timestamp",
    "DeviceId",
    "DeviceName",
    "ActionType",
    "FileName",
    "FolderPath",
    "SHA1",
    "SHA256",
    "MD5",
    "FileSize",
    "InitiatingProcessAccountDomain",
    "InitiatingProcessAccountName",
    "InitiatingProcessAccountSid",
    "InitiatingProcessSHA256",
    "InitiatingProcessFolderPath",
    "InitiatingProcessFileName",
    "InitiatingProcessId",
    "InitiatingProcessCommandLine",
    "InitiatingProcessCreationTime",
    "InitiatingProcessIntegrityLevel",
    "InitiatingProcessParentId",
    "InitiatingProcessParentFileName",
    "ShareName",
    "RequestProtocol",
    "ReportId",
)


def _elevation(proc: Proc) -> str:
    """MDE's token elevation names."""
    if proc.session.account.is_system:
        return "TokenElevationTypeDefault"
    return "TokenElevationTypeFull" if proc.session.elevated else "TokenElevationTypeLimited"


def _initiating(proc: Proc | None) -> dict[str, str]:
    """The ``InitiatingProcess*`` columns describing ``proc`` (the actor)."""
    if proc is None:
        return {}
    account = proc.session.account
    parent = proc.parent
    return {
        "InitiatingProcessAccountDomain": account.domain.lower(),
        "InitiatingProcessAccountName": account.name.lower(),
        "InitiatingProcessAccountSid": account.sid,
        "InitiatingProcessLogonId": str(proc.session.logon_id),
        "InitiatingProcessIntegrityLevel": proc.integrity,
        "InitiatingProcessSHA256": image_hashes(proc.image)["SHA256"].lower(),
        "InitiatingProcessFileName": proc.name.lower(),
        "InitiatingProcessId": str(proc.pid),
        "InitiatingProcessCommandLine": proc.command_line,
        "InitiatingProcessCreationTime": system_time(proc.start),
        "InitiatingProcessFolderPath": proc.image.lower(),
        "InitiatingProcessParentId": str(parent.pid) if parent else "",
        "InitiatingProcessParentFileName": parent.name.lower() if parent else "",
    }


def process_row(proc: Proc, host: WinHost, device_id: str) -> dict[str, str]:
    """A ``ProcessCreated`` row of DeviceProcessEvents (the actor is the parent)."""
    hashes = image_hashes(proc.image)
    _, description, product, company, original = image_info(proc.image)
    account = proc.session.account
    row = {
        "Timestamp": system_time(proc.start),
        "DeviceId": device_id,
        "DeviceName": host.fqdn.lower(),
        "ActionType": "ProcessCreated",
        "FileName": proc.name.lower(),
        "FolderPath": proc.image,
        "SHA1": hashes["SHA1"].lower(),
        "SHA256": hashes["SHA256"].lower(),
        "MD5": hashes["MD5"].lower(),
        "ProcessVersionInfoCompanyName": company if company != "-" else "",
        "ProcessVersionInfoProductName": product if product != "-" else "",
        "ProcessVersionInfoOriginalFileName": original if original != "-" else "",
        "ProcessVersionInfoFileDescription": description if description != "-" else "",
        "ProcessId": str(proc.pid),
        "ProcessCommandLine": proc.command_line,
        "ProcessIntegrityLevel": proc.integrity,
        "ProcessTokenElevation": _elevation(proc),
        "ProcessCreationTime": system_time(proc.start),
        "AccountDomain": account.domain.lower(),
        "AccountName": account.name.lower(),
        "AccountSid": account.sid,
        "LogonId": str(proc.session.logon_id),
        **_initiating(proc.parent),
    }
    return row


def file_row(
    proc: Proc, host: WinHost, device_id: str, t: Micros, path: str, size: int
) -> dict[str, str]:
    """A ``FileCreated`` row of DeviceFileEvents (the actor is the writing process)."""
    hashes = file_hashes(path, size)
    row = {
        "Timestamp": system_time(t),
        "DeviceId": device_id,
        "DeviceName": host.fqdn.lower(),
        "ActionType": "FileCreated",
        "FileName": path.rsplit("\\", 1)[-1],
        "FolderPath": path,
        "SHA1": hashes["SHA1"],
        "SHA256": hashes["SHA256"],
        "MD5": hashes["MD5"],
        "FileSize": str(size),
        **_initiating(proc),
    }
    row.pop("InitiatingProcessLogonId", None)  # not a DeviceFileEvents column
    return row


def render_csv(columns: Sequence[str], rows: Sequence[dict[str, str]]) -> str:
    """The CSV text: header, then rows; missing cells empty (an absent value)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buf.getvalue()
