"""Linux telemetry: raw auditd records (``/var/log/audit/audit.log``) and Sysmon for Linux
events (``<Event>`` XML in the ``Linux-Sysmon/Operational`` channel).

auditd writes one logical event as several records sharing ``audit(<epoch>:<serial>)``:
for an ``execve`` a ``SYSCALL``, the ``EXECVE`` argv, ``CWD``, one ``PATH`` per file
touched and ``PROCTITLE``; a file creation is the ``openat`` ``SYSCALL`` with a
``PATH`` for the parent folder and one for the created name. Strings holding a space,
a double quote or a control character are written hex-encoded (``proctitle`` nearly
always is: NUL separates its arguments), exactly the cases ``ingest/auditd.py`` decodes.
Records carry ``node=`` (``name_format=hostname``) so events know their host, and the
``log_format=ENRICHED`` trailer with user names, as RHEL 8+/Ubuntu 22.04 write it.
"""

from __future__ import annotations

from stagehunt.simulate.model import LinuxHost, Micros, Proc
from stagehunt.simulate.windows import render_event, utc_time

__all__ = [
    "LINUX_SYSMON_CHANNEL",
    "audit_exec",
    "audit_mkdir",
    "audit_open_create",
    "encode",
    "linux_sysmon_event",
    "linux_sysmon_file_create",
    "linux_sysmon_process_create",
]

LINUX_SYSMON_CHANNEL = "Linux-Sysmon/Operational"
_LINUX_PROVIDER = ("Linux-Sysmon", "{ff032593-a8d3-4f13-b0d6-01fc615a0f97}")
_LINUX_VERSION = {"1": "5", "11": "2"}
_GS = "\x1d"  # separates the raw fields from the ENRICHED ones
#: The kernel cuts proctitle at this many bytes.
_PROCTITLE_MAX = 128


def encode(value: str) -> str:
    """A string as auditd logs an untrusted value: ``"quoted"``, or hex when it holds a
    double quote, a space or a control/non-ASCII byte."""
    data = value.encode("utf-8")
    if any(b == 0x22 or b < 0x21 or b > 0x7E for b in data):
        return data.hex().upper()
    return f'"{value}"'


def _stamp(t: Micros, serial: int) -> str:
    """``audit(1715677923.123:4567)``: the event id (milliseconds and serial)."""
    return f"audit({t // 1_000_000}.{(t % 1_000_000) // 1000:03d}:{serial})"


def _enriched(proc: Proc, syscall: str) -> str:
    """The ENRICHED trailer: names for the numbers of the SYSCALL record."""
    name = proc.session.account.name
    group = "root" if proc.session.account.uid == 0 else name
    ids = " ".join(
        f'{k}="{name if not k.endswith("GID") else group}"'
        for k in ("AUID", "UID", "GID", "EUID", "SUID", "FSUID", "EGID", "SGID", "FSGID")
    )
    return f"{_GS}ARCH=x86_64 SYSCALL={syscall} {ids}"


def _syscall(
    proc: Proc,
    *,
    number: int,
    name: str,
    exit_code: int,
    args: tuple[str, str, str, str],
    items: int,
    key: str,
) -> str:
    """The body of a SYSCALL record of ``proc``."""
    uid = proc.session.account.uid
    session = proc.session
    parent_pid = proc.parent.pid if proc.parent else 1
    comm = proc.name[:15]
    return (
        f"arch=c000003e syscall={number} success=yes exit={exit_code} "
        f"a0={args[0]} a1={args[1]} a2={args[2]} a3={args[3]} items={items} "
        f"ppid={parent_pid} pid={proc.pid} auid={uid} uid={uid} gid={uid} euid={uid} "
        f"suid={uid} fsuid={uid} egid={uid} sgid={uid} fsgid={uid} tty={session.tty} "
        f"ses={session.audit_session} comm={encode(comm)} exe={encode(proc.image)} "
        f'subj=unconfined key="{key}"' + _enriched(proc, name)
    )


def _path(item: int, name: str, *, inode: int, mode: str, owner: int, nametype: str) -> str:
    """The body of a PATH record."""
    return (
        f"item={item} name={encode(name)} inode={inode} dev=fd:00 mode={mode} "
        f"ouid={owner} ogid={owner} rdev=00:00 nametype={nametype} "
        "cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"
    )


def _proctitle(proc: Proc) -> str:
    """PROCTITLE: argv joined by NUL, cut at 128 bytes, hex-encoded when it must be."""
    data = "\x00".join(proc.argv).encode("utf-8")[:_PROCTITLE_MAX]
    text = data.decode("utf-8", errors="ignore")
    return f"proctitle={encode(text)}"


def _lines(host: LinuxHost, stamp: str, records: list[tuple[str, str]]) -> list[str]:
    return [f"node={host.name} type={kind} msg={stamp}: {body}" for kind, body in records]


def audit_exec(
    proc: Proc, host: LinuxHost, t: Micros, serial: int, pointers: tuple[int, int, int], inode: int
) -> list[str]:
    """The records of ``proc``'s successful ``execve`` (syscall 59)."""
    stamp = _stamp(t, serial)
    argv = " ".join(f"a{i}={encode(a)}" for i, a in enumerate(proc.argv))
    records = [
        (
            "SYSCALL",
            _syscall(
                proc,
                number=59,
                name="execve",
                exit_code=0,
                args=(f"{pointers[0]:x}", f"{pointers[1]:x}", f"{pointers[2]:x}", "8"),
                items=2,
                key="exec",
            ),
        ),
        ("EXECVE", f"argc={len(proc.argv)} {argv}"),
        ("CWD", f"cwd={encode(proc.cwd)}"),
        ("PATH", _path(0, proc.image, inode=inode, mode="0100755", owner=0, nametype="NORMAL")),
        (
            "PATH",
            _path(
                1,
                "/lib64/ld-linux-x86-64.so.2",
                inode=inode + 7,
                mode="0100755",
                owner=0,
                nametype="NORMAL",
            ),
        ),
        ("PROCTITLE", _proctitle(proc)),
    ]
    return _lines(host, stamp, records)


def audit_open_create(
    proc: Proc,
    host: LinuxHost,
    t: Micros,
    serial: int,
    path: str,
    *,
    fd: int,
    pointer: int,
    inodes: tuple[int, int],
    truncate: bool = False,
) -> list[str]:
    """The records of ``openat(AT_FDCWD, path, O_WRONLY|O_CREAT|O_EXCL or O_TRUNC)``."""
    stamp = _stamp(t, serial)
    parent = path.rsplit("/", 1)[0] + "/"
    flags = "241" if truncate else "c1"
    uid = proc.session.account.uid
    records = [
        (
            "SYSCALL",
            _syscall(
                proc,
                number=257,
                name="openat",
                exit_code=fd,
                args=("ffffff9c", f"{pointer:x}", flags, "1a4"),
                items=2,
                key="tmp_write",
            ),
        ),
        ("CWD", f"cwd={encode(proc.cwd)}"),
        ("PATH", _path(0, parent, inode=inodes[0], mode="040700", owner=uid, nametype="PARENT")),
        ("PATH", _path(1, path, inode=inodes[1], mode="0100644", owner=uid, nametype="CREATE")),
        ("PROCTITLE", _proctitle(proc)),
    ]
    return _lines(host, stamp, records)


def audit_mkdir(
    proc: Proc,
    host: LinuxHost,
    t: Micros,
    serial: int,
    path: str,
    *,
    pointer: int,
    inodes: tuple[int, int],
) -> list[str]:
    """The records of ``mkdir(path, 0700)`` (syscall 83)."""
    stamp = _stamp(t, serial)
    parent = path.rstrip("/").rsplit("/", 1)[0] + "/"
    uid = proc.session.account.uid
    records = [
        (
            "SYSCALL",
            _syscall(
                proc,
                number=83,
                name="mkdir",
                exit_code=0,
                args=(f"{pointer:x}", "1c0", "0", "0"),
                items=2,
                key="tmp_write",
            ),
        ),
        ("CWD", f"cwd={encode(proc.cwd)}"),
        ("PATH", _path(0, parent, inode=inodes[0], mode="041777", owner=0, nametype="PARENT")),
        ("PATH", _path(1, path, inode=inodes[1], mode="040700", owner=uid, nametype="CREATE")),
        ("PROCTITLE", _proctitle(proc)),
    ]
    return _lines(host, stamp, records)


# --------------------------------------------------------------------------- Sysmon for Linux


def linux_sysmon_event(
    host: LinuxHost, event_id: str, written: Micros, record_id: int, data: list[tuple[str, str]]
) -> str:
    """A Sysmon for Linux event (9-digit SystemTime, ``Security UserId='0'``)."""
    return render_event(
        provider=_LINUX_PROVIDER,
        event_id=event_id,
        version=_LINUX_VERSION[event_id],
        level="4",
        task=event_id,
        keywords="0x8000000000000000",
        written=written,
        record_id=record_id,
        execution=(host.sysmon_pid, host.sysmon_pid),
        channel=LINUX_SYSMON_CHANNEL,
        computer=host.name,
        user_sid="0",
        data=data,
        time_digits=9,
    )


def linux_sysmon_process_create(proc: Proc) -> list[tuple[str, str]]:
    """EID 1 as Sysmon for Linux writes it: no version resource, ``no level`` integrity."""
    parent = proc.parent
    session = proc.session
    return [
        ("RuleName", "-"),
        ("UtcTime", utc_time(proc.start)),
        ("ProcessGuid", proc.guid),
        ("ProcessId", str(proc.pid)),
        ("Image", proc.image),
        ("FileVersion", "-"),
        ("Description", "-"),
        ("Product", "-"),
        ("Company", "-"),
        ("OriginalFileName", "-"),
        ("CommandLine", proc.command_line),
        ("CurrentDirectory", proc.cwd),
        ("User", session.account.name),
        ("LogonGuid", session.logon_guid),
        ("LogonId", str(session.account.uid)),
        ("TerminalSessionId", str(session.audit_session)),
        ("IntegrityLevel", "no level"),
        ("Hashes", "-"),
        ("ParentProcessGuid", parent.guid if parent else "{00000000-0000-0000-0000-000000000000}"),
        ("ParentProcessId", str(parent.pid) if parent else "0"),
        ("ParentImage", parent.image if parent else "-"),
        ("ParentCommandLine", parent.command_line if parent else "-"),
        ("ParentUser", parent.session.account.name if parent else "-"),
    ]


def linux_sysmon_file_create(proc: Proc, t: Micros, target: str) -> list[tuple[str, str]]:
    """EID 11 as Sysmon for Linux writes it (with ``User``)."""
    return [
        ("RuleName", "-"),
        ("UtcTime", utc_time(t)),
        ("ProcessGuid", proc.guid),
        ("ProcessId", str(proc.pid)),
        ("Image", proc.image),
        ("TargetFilename", target),
        ("CreationUtcTime", utc_time(t)),
        ("User", proc.session.account.name),
    ]
