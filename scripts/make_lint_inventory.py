"""Generate ``src/stagehunt/lint/inventory.json``, the field inventory the SPL linter uses.

Why a generated file: the linter must know, per data source and EventCode, which fields an
event can carry after ingest (Sysmon EID 11 has no ``CommandLine``; ``User`` on EID 11 only
from Sysmon schema 4.80). Those facts come from the Sysmon manifest
(``../shared/data/schemas/sysmon-schema.json``, every schema version) and from the ingest
mapping (``ingest/mappings/windows.json``: which CIM aliases are copied from which field), so
they are derived here, once, and kept as reviewable data instead of Python literals.

Security 4688/4648/5140/5145 and auditd field lists are written out below: they come from
Microsoft's event documentation (XML ``EventData`` names) and spl-semantics 9.8, not from a
machine-readable schema.

Usage: ``python scripts/make_lint_inventory.py [--schema PATH] [--out PATH]``
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = ROOT.parent / "shared" / "data" / "schemas" / "sysmon-schema.json"
WINDOWS_MAPPING = ROOT / "src" / "stagehunt" / "ingest" / "mappings" / "windows.json"
DEFAULT_OUT = ROOT / "src" / "stagehunt" / "lint" / "inventory.json"

SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
LINUX_SYSMON_CHANNEL = "Linux-Sysmon/Operational"
#: the source the ingest gives Sysmon for Linux events (mappings/windows.json)
LINUX_SYSMON_SOURCE = "Syslog:Linux-Sysmon/Operational"

#: Splunk default/internal fields every indexed event has (spl-semantics 1.2).
DEFAULT_FIELDS = [
    "_raw",
    "_time",
    "_indextime",
    "_cd",
    "_bkt",
    "host",
    "index",
    "linecount",
    "punct",
    "source",
    "sourcetype",
    "splunk_server",
    "timestamp",
]

#: Fields holding the event id on Windows events (windows.json ``event_fields``).
EVENT_CODE_FIELDS = ["EventCode", "EventID", "signature_id"]

#: Fields from <System> every Windows event carries after ingest (windows.json).
WINDOWS_SYSTEM_FIELDS = [
    "EventCode",
    "EventID",
    "signature_id",
    "Computer",
    "dest",
    "Channel",
    "Name",
    "Guid",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "SystemTime",
    "EventRecordID",
    "RecordNumber",
    "ProcessID",
    "ThreadID",
]

#: Security channel events the T1074 pack reads (XML EventData names).
SECURITY_EVENTS: dict[str, dict[str, Any]] = {
    "4688": {
        "name": "A new process has been created",
        "fields": [
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "NewProcessId",
            "NewProcessName",
            "TokenElevationType",
            "ProcessId",
            "CommandLine",
            "TargetUserSid",
            "TargetUserName",
            "TargetDomainName",
            "TargetLogonId",
            "ParentProcessName",
            "MandatoryLabel",
        ],
        "conditional": {
            "CommandLine": "Security 4688 carries CommandLine only when the policy "
            "'Include command line in process creation events' is enabled",
        },
    },
    "4648": {
        "name": "A logon was attempted using explicit credentials",
        "fields": [
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "LogonGuid",
            "TargetUserName",
            "TargetDomainName",
            "TargetLogonGuid",
            "TargetServerName",
            "TargetInfo",
            "ProcessId",
            "ProcessName",
            "IpAddress",
            "IpPort",
        ],
    },
    "5140": {
        "name": "A network share object was accessed",
        "fields": [
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "ObjectType",
            "IpAddress",
            "IpPort",
            "ShareName",
            "ShareLocalPath",
            "AccessMask",
            "AccessList",
        ],
    },
    "5145": {
        "name": "A network share object was checked for access",
        "fields": [
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "ObjectType",
            "IpAddress",
            "IpPort",
            "ShareName",
            "ShareLocalPath",
            "RelativeTargetName",
            "AccessMask",
            "AccessList",
            "AccessReason",
        ],
    },
}

#: Keys Splunk's linux:audit KV extraction gives (lower-case auditd names) plus the CIM
#: aliases normalise/linux.py adds. auditd records vary by type, so this list is not
#: exhaustive; ``absent_pattern`` states what can never occur instead (Windows-style names).
AUDITD_FIELDS = [
    "type",
    "msg",
    "arch",
    "syscall",
    "success",
    "exit",
    "a0",
    "a1",
    "a2",
    "a3",
    "items",
    "ppid",
    "pid",
    "auid",
    "uid",
    "gid",
    "euid",
    "suid",
    "fsuid",
    "egid",
    "sgid",
    "fsgid",
    "tty",
    "ses",
    "comm",
    "exe",
    "subj",
    "key",
    "cwd",
    "name",
    "inode",
    "dev",
    "mode",
    "ouid",
    "ogid",
    "rdev",
    "nametype",
    "proctitle",
    "argc",
    "process_path",
    "process_id",
    "parent_process_id",
    "user_id",
    "process_current_directory",
    "dest",
    "cmdline",
    "process",
    "process_name",
    "user",
]

#: Event ids Sysmon for Linux emits (its manifest is a subset of the Windows one).
LINUX_SYSMON_EVENT_IDS = ["1", "3", "4", "5", "9", "11", "16", "23", "255"]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def sysmon_events(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per decimal event id: latest field list, plus fields missing from older schemas.

    A field is *conditional* when some older schema version defined the same event
    without it: data from such an agent lacks the field (spl-semantics 9.6).
    """
    versions = sorted(schema["schemas"], key=_version_key)
    latest = schema["schemas"][versions[-1]]
    events: dict[str, dict[str, Any]] = {}
    for raw_id, event in latest.items():
        event_id = str(int(raw_id, 16)) if raw_id.lower().startswith("0x") else raw_id
        if not event_id.isdigit() or int(event_id) >= 0xF000:
            continue  # internal ids (0xf001...) are not emitted under these numbers
        conditional: dict[str, str] = {}
        for name in event["fields"]:
            since = None
            for version in versions:
                older = schema["schemas"][version].get(raw_id)
                if older is None or older["name"] != event["name"]:
                    continue
                if name not in older["fields"]:
                    since = None  # missing here: look for the first version that has it again
                    continue
                since = since or version
            first_seen = next(
                (
                    v
                    for v in versions
                    if raw_id in schema["schemas"][v]
                    and schema["schemas"][v][raw_id]["name"] == event["name"]
                ),
                None,
            )
            if since is not None and since != first_seen:
                conditional[name] = (
                    f"{name} exists on Sysmon EID {event_id} only from schema {since} on"
                )
        events[event_id] = {
            "name": event["name"],
            "fields": list(event["fields"]),
            "conditional": conditional,
        }
    return dict(sorted(events.items(), key=lambda kv: int(kv[0])))


def add_aliases(events: dict[str, dict[str, Any]], mapping: dict[str, Any], channel: str) -> None:
    """Add the CIM aliases ingest copies for ``channel`` (an alias shares its source's state)."""
    for rule in mapping["aliases"]:
        if channel not in rule["channels"]:
            continue
        targets = rule.get("event_ids") or list(events)
        pairs = {**rule.get("copy", {}), **rule.get("basename", {})}
        for event_id in targets:
            event = events.get(str(event_id))
            if event is None:
                continue
            for alias, origin in pairs.items():
                if origin not in event["fields"] or alias in event["fields"]:
                    continue
                event["fields"].append(alias)
                if origin in event["conditional"]:
                    event["conditional"][alias] = event["conditional"][origin]


def build(schema_path: Path) -> dict[str, Any]:
    """The whole inventory document."""
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    mapping = json.loads(WINDOWS_MAPPING.read_text(encoding="utf-8"))

    sysmon = sysmon_events(schema)
    linux = {k: copy.deepcopy(v) for k, v in sysmon.items() if k in LINUX_SYSMON_EVENT_IDS}
    for event in linux.values():  # Sysmon for Linux (2021+) always speaks the latest schema
        event["conditional"] = {}
    add_aliases(sysmon, mapping, SYSMON_CHANNEL)
    add_aliases(linux, mapping, LINUX_SYSMON_CHANNEL)

    security = {
        code: {
            "name": spec["name"],
            "fields": list(spec["fields"]),
            "conditional": dict(spec.get("conditional", {})),
        }
        for code, spec in SECURITY_EVENTS.items()
    }
    add_aliases(security, mapping, "Security")

    sysmon_source = f"XmlWinEventLog:{SYSMON_CHANNEL}"
    return {
        "_doc": [
            "Generated by scripts/make_lint_inventory.py: do not edit by hand.",
            "Field inventory per data source and EventCode, as events look after stagehunt ingest.",
            "'renderings': the sourcetype/source pairs a source is indexed under (legacy and",
            "modern Splunk add-ons, spl-semantics 9.1-9.3). 'fields': the latest schema's fields;",
            "'conditional': field -> why it may be missing (older schema, audit policy).",
            "'other_event_codes': regex of further EventCodes the source emits that are not",
            "listed (their fields are unknown); null = the list is complete.",
            "'absent_pattern': field names that never occur in the source.",
        ],
        "sysmon_schema": schema["source"],
        "default_fields": DEFAULT_FIELDS,
        "event_code_fields": EVENT_CODE_FIELDS,
        "sources": [
            {
                "name": "Sysmon",
                "renderings": [
                    {"sourcetype": sysmon_source, "source": sysmon_source},
                    {"sourcetype": "XmlWinEventLog", "source": sysmon_source},
                ],
                "common_fields": WINDOWS_SYSTEM_FIELDS,
                "other_event_codes": None,
                "absent_pattern": None,
                "events": sysmon,
            },
            {
                "name": "Windows Security",
                "renderings": [
                    {"sourcetype": "XmlWinEventLog:Security", "source": "XmlWinEventLog:Security"},
                    {"sourcetype": "XmlWinEventLog", "source": "XmlWinEventLog:Security"},
                    {"sourcetype": "WinEventLog:Security", "source": "WinEventLog:Security"},
                    {"sourcetype": "WinEventLog", "source": "WinEventLog:Security"},
                ],
                "common_fields": WINDOWS_SYSTEM_FIELDS,
                "other_event_codes": "^(11\\d\\d|4\\d\\d\\d|5\\d\\d\\d|6\\d\\d\\d)$",
                "absent_pattern": None,
                "events": security,
            },
            {
                "name": "Sysmon for Linux",
                "renderings": [
                    {"sourcetype": "sysmon:linux", "source": LINUX_SYSMON_SOURCE},
                ],
                "common_fields": WINDOWS_SYSTEM_FIELDS,
                "other_event_codes": None,
                "absent_pattern": None,
                "events": linux,
            },
            {
                "name": "Linux auditd",
                "renderings": [{"sourcetype": "linux:audit", "source": None}],
                "common_fields": [],
                "other_event_codes": None,
                "absent_pattern": "^[A-Z][a-z]",
                "events": {
                    "": {"name": "auditd event", "fields": AUDITD_FIELDS, "conditional": {}}
                },
            },
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    document = build(args.schema)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
