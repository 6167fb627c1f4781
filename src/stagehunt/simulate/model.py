"""The things a simulated scenario is made of: hosts, accounts, logon sessions, processes.

Renderers (``windows``, ``linux``, ``mde``) read these so that one process yields the
same ProcessId, ProcessGuid, LogonId and parent in every event and every format that
mentions it — the property a hunter relies on when pivoting from a FileCreate to its
process and from there to its parent. Times are integer microseconds since the epoch:
floats would round the 7-digit SystemTime fractions differently on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Account", "LinuxHost", "Micros", "Proc", "Session", "WinHost"]

#: Epoch time in microseconds.
Micros = int

#: Sysmon configuration schema versions modelled: 4.50 (Sysmon 12/13.0x) has no ``User``
#: on EID 11/12/13 and no ``ParentUser`` on EID 1; 4.81 (Sysmon 13.3x+) has both.
SCHEMA_OLD = "4.50"
SCHEMA_NEW = "4.81"


@dataclass(frozen=True)
class Account:
    """A user as Windows or Linux names it.

    ``domain`` is the NetBIOS domain (``CORP``), ``NT AUTHORITY`` for built-in
    accounts, or empty on Linux, where ``uid`` is the number auditd logs.
    """

    domain: str
    name: str
    sid: str
    uid: int = 0

    @property
    def qualified(self) -> str:
        """``DOMAIN\\name`` as Sysmon's ``User`` holds it (the bare name on Linux)."""
        return f"{self.domain}\\{self.name}" if self.domain else self.name

    @property
    def is_system(self) -> bool:
        """Built-in service accounts log on without an interactive session."""
        return self.domain.upper() == "NT AUTHORITY" or self.sid == "S-1-5-18"


@dataclass(frozen=True)
class Session:
    """A logon session: every process started in it carries its LogonId and LogonGuid.

    An elevated (UAC "Run as administrator") process runs in the linked session,
    which has its own LogonId — a detail that keeps two cmd.exe of one user apart.
    """

    account: Account
    logon_id: int
    logon_guid: str
    logon_time: Micros
    elevated: bool = False
    terminal_session: int = 1
    #: Linux: auditd's session number (``ses=``) and terminal (``tty=``).
    audit_session: int = 4294967295
    tty: str = "(none)"

    @property
    def logon_id_hex(self) -> str:
        """The LogonId as Windows prints it (``0x3e7``)."""
        return hex(self.logon_id)


@dataclass
class WinHost:
    """A Windows computer and what it logs.

    ``schema`` is its Sysmon configuration schema; ``security_4688`` whether process
    creation auditing (with command line) is on; ``mde`` whether Defender for Endpoint
    exports of it are simulated.
    """

    fqdn: str
    domain: str
    ip: str
    schema: str
    sysmon_pid: int
    lsass_pid: int
    security_4688: bool = True
    mde: bool = False

    @property
    def short(self) -> str:
        """The NetBIOS name (``WKS-FIN-042``), used for machine accounts and file names."""
        return self.fqdn.split(".", 1)[0].upper()

    @property
    def new_schema(self) -> bool:
        """True when Sysmon writes ``User`` on file and registry events (schema ≥ 4.80)."""
        major, minor = (int(p) for p in self.schema.split("."))
        return (major, minor) >= (4, 80)


@dataclass
class LinuxHost:
    """A Linux computer with auditd and, optionally, Sysmon for Linux."""

    name: str
    ip: str
    sysmon_pid: int
    sysmon: bool = True


@dataclass
class Proc:
    """One process: where, what, who, and which process started it."""

    host: str
    image: str
    command_line: str
    pid: int
    guid: str
    start: Micros
    session: Session
    integrity: str
    cwd: str
    parent: Proc | None
    argv: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The executable's file name, whichever separator the OS uses."""
        return self.image.replace("\\", "/").rsplit("/", 1)[-1]
