"""The recorder a scenario drives: it creates hosts, sessions and processes, and turns
each action (start a process, create a file, connect, set a registry value) into the
events every configured sensor would write — Sysmon, Security, MDE, auditd, Sysmon for
Linux — so that one action is consistent across formats by construction.

Events are collected per output file as (time, order, renderer) and rendered only when
written: record numbers (``EventRecordID``, auditd serials, MDE ``ReportId``) must grow
with time within a log, and a scenario does not have to produce its actions in time
order (a process's file writes are often generated before its sibling starts).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stagehunt.simulate import linux, mde, windows
from stagehunt.simulate.ids import IdFactory
from stagehunt.simulate.model import (
    SCHEMA_NEW,
    SCHEMA_OLD,
    Account,
    LinuxHost,
    Micros,
    Proc,
    Session,
    WinHost,
)

__all__ = ["BASE_TIME", "Timeline", "seconds"]

#: Every run happens on this day (UTC); a seed picks the time of day and the offsets.
BASE_TIME: Micros = int(dt.datetime(2024, 5, 14, tzinfo=dt.UTC).timestamp()) * 1_000_000

SYSTEM_SID = "S-1-5-18"


def seconds(value: float) -> Micros:
    """Seconds as the timeline's microseconds."""
    return round(value * 1_000_000)


@dataclass
class _Sink:
    """One output file: its pending events and how records are numbered."""

    kind: str  # "xml", "audit", "csv"
    first_id: int
    columns: tuple[str, ...] = ()
    entries: list[tuple[Micros, int, Callable[[int], str]]] = field(default_factory=list)


class Timeline:
    """Builds one scenario's telemetry; `write` puts it into files."""

    def __init__(self, seed: int, name: str = "") -> None:
        # the scenario name is part of the seed so that scenarios of one seed differ
        # (a string seed is hashed with SHA-512: stable across runs and platforms)
        self.rng = random.Random(f"{name}:{seed}")
        self.ids = IdFactory(self.rng)
        self._sinks: dict[str, _Sink] = {}
        self._order = 0
        self._inode = self.rng.randrange(1_000_000, 9_000_000)
        self._pointer = 0x55D0_0000_0000 + self.rng.getrandbits(32)
        self.start: Micros = BASE_TIME + seconds(self.rng.uniform(7.5 * 3600, 16 * 3600))

    # ------------------------------------------------------------------ plumbing

    def jitter(self, low: float, high: float) -> Micros:
        """A random delay in ``[low, high)`` seconds."""
        return seconds(self.rng.uniform(low, high))

    def _sink(self, name: str, kind: str, columns: tuple[str, ...] = ()) -> _Sink:
        sink = self._sinks.get(name)
        if sink is None:
            first = self.rng.randrange(10_000, 900_000)
            sink = _Sink(kind, first, columns)
            self._sinks[name] = sink
        return sink

    def _add(self, sink: _Sink, t: Micros, render: Callable[[int], str]) -> None:
        self._order += 1
        sink.entries.append((t, self._order, render))

    def _written(self, t: Micros) -> Micros:
        """When a sensor wrote an event about something at ``t`` (a few ms later)."""
        return t + self.rng.randrange(300, 9_000)

    # ------------------------------------------------------------------ actors

    def windows_host(
        self,
        fqdn: str,
        ip: str,
        *,
        domain: str = "CORP",
        schema: str | None = None,
        security_4688: bool = True,
        mde: bool = False,
    ) -> WinHost:
        """A Windows host; without ``schema`` the seed picks an old or a new Sysmon."""
        chosen = schema or self.rng.choice((SCHEMA_OLD, SCHEMA_NEW))
        return WinHost(
            fqdn=fqdn,
            domain=domain,
            ip=ip,
            schema=chosen,
            sysmon_pid=self.ids.windows_pid(fqdn),
            lsass_pid=self.ids.windows_pid(fqdn),
            security_4688=security_4688,
            mde=mde,
        )

    def linux_host(self, name: str, ip: str) -> LinuxHost:
        """A Linux host with auditd and Sysmon for Linux."""
        return LinuxHost(name=name, ip=ip, sysmon_pid=self.rng.randrange(600, 1800))

    def user(self, domain: str, name: str) -> Account:
        """A domain user."""
        return Account(domain, name, self.ids.user_sid(domain, name))

    @staticmethod
    def system() -> Account:
        """``NT AUTHORITY\\SYSTEM``."""
        return Account("NT AUTHORITY", "SYSTEM", SYSTEM_SID)

    @staticmethod
    def linux_user(name: str, uid: int) -> Account:
        """A Linux account (``root`` is uid 0)."""
        return Account("", name, str(uid), uid)

    def logon(
        self,
        host: WinHost,
        account: Account,
        at: Micros,
        *,
        elevated: bool = False,
        terminal_session: int | None = None,
    ) -> Session:
        """A logon session of ``account`` on ``host`` that began at ``at``."""
        logon_id = 0x3E7 if account.is_system else self.ids.logon_id()
        guid = self.ids.logon_guid(host.fqdn, logon_id, at / 1_000_000)
        term = terminal_session if terminal_session is not None else (0 if account.is_system else 1)
        return Session(account, logon_id, guid, at, elevated, term)

    def linux_logon(self, host: LinuxHost, account: Account, at: Micros, tty: str) -> Session:
        """An SSH/console session of ``account`` (auditd ``ses=``, ``tty=``)."""
        return Session(
            account,
            account.uid,
            self.ids.linux_logon_guid(host.name, account.uid),
            at,
            terminal_session=0,
            audit_session=self.rng.randrange(2, 40),
            tty=tty,
        )

    # ------------------------------------------------------------------ Windows

    def existing(
        self,
        host: WinHost,
        image: str,
        command_line: str,
        session: Session,
        started: Micros,
        *,
        parent: Proc | None = None,
        integrity: str | None = None,
        cwd: str = "C:\\Windows\\system32\\",
    ) -> Proc:
        """A process that was running before the simulated window (no event)."""
        return Proc(
            host=host.fqdn,
            image=image,
            command_line=command_line,
            pid=self.ids.windows_pid(host.fqdn),
            guid=self.ids.process_guid(host.fqdn, started / 1_000_000),
            start=started,
            session=session,
            integrity=integrity or ("System" if session.account.is_system else "Medium"),
            cwd=cwd,
            parent=parent,
        )

    def spawn(
        self,
        host: WinHost,
        parent: Proc,
        t: Micros,
        image: str,
        command_line: str,
        *,
        session: Session | None = None,
        integrity: str | None = None,
        cwd: str | None = None,
    ) -> Proc:
        """Start a process: Sysmon EID 1, Security 4688 and an MDE row where enabled."""
        proc = self.existing(
            host,
            image,
            command_line,
            session or parent.session,
            t,
            parent=parent,
            integrity=integrity or parent.integrity,
            cwd=cwd or parent.cwd,
        )
        self.sysmon(host, t, "1", windows.sysmon_process_create(proc, host))
        if host.security_4688:
            self.security(host, t, "4688", windows.security_4688(proc, host))
        if host.mde:
            row = mde.process_row(proc, host, self.ids.device_id(host.fqdn))
            self._csv("DeviceProcessEvents.csv", mde.PROCESS_COLUMNS, t, row)
        return proc

    def file_create(
        self,
        host: WinHost,
        proc: Proc,
        t: Micros,
        path: str,
        *,
        creation: Micros | None = None,
        size: int | None = None,
    ) -> None:
        """A file written by ``proc``: Sysmon EID 11 and an MDE ``FileCreated`` row."""
        self.sysmon(host, t, "11", windows.sysmon_file_create(proc, host, t, path, creation))
        if host.mde:
            nbytes = size if size is not None else self.rng.randrange(4_000, 4_000_000)
            row = mde.file_row(proc, host, self.ids.device_id(host.fqdn), t, path, nbytes)
            self._csv("DeviceFileEvents.csv", mde.FILE_COLUMNS, t, row)

    def sysmon(self, host: WinHost, t: Micros, event_id: str, data: windows.Data) -> None:
        """Queue a Sysmon event of ``host``."""
        sink = self._sink(f"{host.short}-sysmon.xml", "xml")
        written = self._written(t)
        tid = self.rng.randrange(1000, 9000) * 4

        def render(record_id: int) -> str:
            return windows.sysmon_event(host, event_id, written, record_id, tid, data)

        self._add(sink, written, render)

    def security(self, host: WinHost, t: Micros, event_id: str, data: windows.Data) -> None:
        """Queue a Security-log event of ``host``."""
        sink = self._sink(f"{host.short}-security.xml", "xml")
        written = self._written(t)
        tid = self.rng.randrange(100, 2000) * 4

        def render(record_id: int) -> str:
            return windows.security_event(host, event_id, written, record_id, tid, data)

        self._add(sink, written, render)

    def _csv(self, name: str, columns: tuple[str, ...], t: Micros, row: dict[str, str]) -> None:
        sink = self._sink(name, "csv", columns)

        def render(report_id: int) -> str:
            row["ReportId"] = str(report_id)
            return mde.render_csv(columns, [row]).split("\n", 1)[1].rstrip("\n")

        self._add(sink, t, render)

    # ------------------------------------------------------------------ Linux

    def linux_existing(
        self,
        host: LinuxHost,
        image: str,
        argv: list[str],
        session: Session,
        started: Micros,
        *,
        parent: Proc | None = None,
        cwd: str = "/",
    ) -> Proc:
        """A Linux process that was running before the window (no event)."""
        return Proc(
            host=host.name,
            image=image,
            command_line=" ".join(argv),
            pid=self.ids.linux_pid(host.name),
            guid=self.ids.linux_process_guid(host.name, started / 1_000_000),
            start=started,
            session=session,
            integrity="no level",
            cwd=cwd,
            parent=parent,
            argv=argv,
        )

    def linux_spawn(
        self,
        host: LinuxHost,
        parent: Proc,
        t: Micros,
        image: str,
        argv: list[str],
        *,
        cwd: str | None = None,
    ) -> Proc:
        """fork+execve: the auditd ``execve`` event and Sysmon for Linux EID 1."""
        proc = self.linux_existing(
            host, image, argv, parent.session, t, parent=parent, cwd=cwd or parent.cwd
        )
        pointers = (self._next_pointer(), self._next_pointer(), self._next_pointer())
        inode = self._next_inode()

        def audit(serial: int) -> str:
            return "\n".join(linux.audit_exec(proc, host, t, serial, pointers, inode))

        self._add(self._sink("audit.log", "audit"), t, audit)
        self._linux_sysmon(host, t, "1", linux.linux_sysmon_process_create(proc))
        return proc

    def linux_file_create(self, host: LinuxHost, proc: Proc, t: Micros, path: str) -> None:
        """``openat(O_CREAT)`` by ``proc``: the auditd event and Sysmon for Linux EID 11."""
        pointer = self._next_pointer()
        inodes = (self._next_inode(), self._next_inode())
        fd = self.rng.choice((3, 4))

        def audit(serial: int) -> str:
            lines = linux.audit_open_create(
                proc, host, t, serial, path, fd=fd, pointer=pointer, inodes=inodes
            )
            return "\n".join(lines)

        self._add(self._sink("audit.log", "audit"), t, audit)
        self._linux_sysmon(host, t, "11", linux.linux_sysmon_file_create(proc, t, path))

    def linux_mkdir(self, host: LinuxHost, proc: Proc, t: Micros, path: str) -> None:
        """``mkdir`` by ``proc`` (auditd only: Sysmon for Linux has no directory event)."""
        pointer = self._next_pointer()
        inodes = (self._next_inode(), self._next_inode())

        def audit(serial: int) -> str:
            return "\n".join(
                linux.audit_mkdir(proc, host, t, serial, path, pointer=pointer, inodes=inodes)
            )

        self._add(self._sink("audit.log", "audit"), t, audit)

    def _linux_sysmon(
        self, host: LinuxHost, t: Micros, event_id: str, data: list[tuple[str, str]]
    ) -> None:
        sink = self._sink(f"{host.name}-sysmon-linux.xml", "xml")
        written = self._written(t)

        def render(record_id: int) -> str:
            return linux.linux_sysmon_event(host, event_id, written, record_id, data)

        self._add(sink, written, render)

    def _next_inode(self) -> int:
        self._inode += self.rng.randrange(1, 50)
        return self._inode

    def _next_pointer(self) -> int:
        self._pointer += self.rng.randrange(0x20, 0x400) * 0x10
        return self._pointer

    # ------------------------------------------------------------------ output

    def render(self) -> dict[str, str]:
        """File name → content, events in time order, record numbers growing."""
        out: dict[str, str] = {}
        for name in sorted(self._sinks):
            sink = self._sinks[name]
            entries = sorted(sink.entries, key=lambda e: (e[0], e[1]))
            lines: list[str] = []
            number = sink.first_id
            for _, order, render in entries:
                lines.append(render(number))
                # auditd numbers every kernel event, logged or not: serials skip a few
                number += 1 if sink.kind != "audit" else 1 + order % 3
            if sink.kind == "csv":
                header = mde.render_csv(sink.columns, []).rstrip("\n")
                lines.insert(0, header)
            out[name] = "\n".join(lines) + "\n"
        return out

    def write(self, out: Path) -> list[Path]:
        """Write every file into ``out`` (created), never outside it."""
        root = out.resolve()
        root.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for name, text in self.render().items():
            target = (root / name).resolve()
            if target.parent != root:
                raise ValueError(f"refusing to write {name!r} outside {root}")
            target.write_text(text, encoding="utf-8", newline="\n")
            written.append(target)
        return written
