"""The scenarios: the seed's five adversary tests and its five false-positive classes.

Each builder drives a `Timeline` the way the activity unfolds on a real machine —
which process starts which, under which logon, how many files land where and how
fast — because the seed detection's verdict depends on exactly that shape: it groups
by ``host, Actor, Image, CommandLine`` and needs five events in one group, so whether
a tool runs once per share or every fifteen minutes with the same command line decides
whether it fires. The expected seed verdict of each scenario, and why, is recorded
next to it (``seed_fires``, ``seed_why``) and checked by the tests.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from stagehunt.simulate import windows
from stagehunt.simulate.model import SCHEMA_NEW, Micros, Proc, WinHost
from stagehunt.simulate.timeline import BASE_TIME, Timeline, seconds

__all__ = ["SCENARIOS", "Scenario"]

Kind = Literal["adversary", "benign"]

_SYS32 = "C:\\Windows\\System32"
_CMD = f"{_SYS32}\\cmd.exe"
_CONHOST = f"{_SYS32}\\conhost.exe"
_POWERSHELL = f"{_SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe"
_EXPLORER = "C:\\Windows\\explorer.exe"
_SERVICES = f"{_SYS32}\\services.exe"
_USERS = ("jdoe", "asmith", "mgarcia", "tnguyen", "rpatel", "kwilson", "lchen", "bmoreau")
_DOMAIN_DNS = "corp.df00tech.com"

#: Business documents a collector goes for (base names; extensions added per pick).
_DOC_STEMS = (
    "Q3-2024-forecast",
    "payroll-2024-05",
    "board-minutes-2024-04",
    "M&A-targets-draft",
    "customer-master-export",
    "vendor-bank-details",
    "audit-findings-FY23",
    "pricing-model-v7",
    "contract-Contoso-renewal",
    "budget FY25 v2",
    "org-chart-2024",
    "salary-bands",
    "tax-filings-2023",
    "strategy-2025",
    "wire-transfers-April",
    "credit-facility-terms",
    "investor-update-Q1",
    "headcount-plan",
    "SOX-controls-matrix",
    "cap-table",
    "litigation-hold-list",
    "bonus-pool-2024",
    "supplier-scorecard",
    "treasury-cashflow",
)
_DOC_EXTS = (".xlsx", ".docx", ".pdf", ".pptx", ".csv")


@dataclass(frozen=True)
class Scenario:
    """A named simulation: what it models and what the verbatim seed does on it."""

    name: str
    kind: Kind
    description: str
    models: str
    build: Callable[[Timeline], None]
    seed_fires: bool
    seed_why: str


# --------------------------------------------------------------------------- helpers


def _documents(rng: random.Random, n: int, exts: tuple[str, ...] = _DOC_EXTS) -> list[str]:
    """``n`` distinct document file names; numbered invoices once the stems run out."""
    names: list[str] = []
    stems = list(_DOC_STEMS)
    rng.shuffle(stems)
    for stem in stems:
        if len(names) >= n:
            break
        names.append(stem + rng.choice(exts))
    number = rng.randrange(10_000, 90_000)
    while len(names) < n:
        number += rng.randrange(1, 40)
        names.append(f"INV-{number}.pdf")
    return names


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` items split into ``parts`` non-empty groups."""
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    bounds = [0, *cuts, total]
    return [bounds[i + 1] - bounds[i] for i in range(parts)]


def _workstation(
    tl: Timeline, prefix: str, *, mde: bool = False, schema: str | None = None
) -> WinHost:
    """A domain workstation named like the fleet's (``WKS-FIN-0421.corp...``)."""
    number = tl.rng.randrange(100, 999)
    ip = f"10.20.{tl.rng.randrange(10, 60)}.{tl.rng.randrange(20, 250)}"
    return tl.windows_host(f"{prefix}-{number:04d}.{_DOMAIN_DNS}", ip, mde=mde, schema=schema)


def _desktop(tl: Timeline, host: WinHost, user: str) -> tuple[Proc, Proc]:
    """The user's interactive logon: (services.exe, explorer.exe), both already running."""
    boot = tl.start - seconds(tl.rng.uniform(4 * 3600, 30 * 3600))
    system = tl.logon(host, tl.system(), boot)
    services = tl.existing(host, _SERVICES, _SERVICES, system, boot + seconds(4))
    account = tl.user("CORP", user)
    logon_at = tl.start - seconds(tl.rng.uniform(900, 4 * 3600))
    session = tl.logon(host, account, logon_at)
    explorer = tl.existing(
        host,
        _EXPLORER,
        "C:\\Windows\\Explorer.EXE",
        session,
        logon_at + seconds(tl.rng.uniform(5, 20)),
        cwd="C:\\Windows\\system32\\",
    )
    return services, explorer


def _copy_times(tl: Timeline, t: Micros, n: int, low: float, high: float) -> list[Micros]:
    """``n`` increasing times after ``t``, ``low``-``high`` seconds apart (copy pace)."""
    times: list[Micros] = []
    for _ in range(n):
        t += tl.jitter(low, high)
        times.append(t)
    return times


def _old(tl: Timeline, t: Micros) -> Micros:
    """A source file's creation time, days to months before ``t`` (kept by /COPY:T)."""
    return t - seconds(tl.rng.uniform(3 * 86400, 400 * 86400))


def _powershell_startup(tl: Timeline, host: WinHost, ps: Proc, user: str) -> Micros:
    """PowerShell's AppLocker probe: two ``__PSScriptPolicyTest_*`` files in %TEMP%."""
    t = ps.start + tl.jitter(0.3, 0.9)
    temp = f"C:\\Users\\{user}\\AppData\\Local\\Temp"
    for ext in (".ps1", ".psm1"):
        token = "".join(tl.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
        stem = f"__PSScriptPolicyTest_{token[:8]}.{token[:3]}"
        tl.file_create(host, ps, t, f"{temp}\\{stem}{ext}", size=1)
        t += tl.jitter(0.001, 0.01)
    return t


# --------------------------------------------------------------------------- adversary 1


def _adversary_1(tl: Timeline) -> None:
    """robocopy /E /COPYALL of a share and two profile folders into %TEMP%\\df00tech-stage."""
    rng = tl.rng
    host = _workstation(tl, "WKS-FIN", mde=True)
    user = rng.choice(_USERS)
    _, explorer = _desktop(tl, host, user)
    # /COPYALL needs the auditing privilege: the operator uses an elevated prompt,
    # which runs in the linked (elevated) logon session.
    elevated = tl.logon(host, explorer.session.account, explorer.session.logon_time, elevated=True)
    t = tl.start
    cmd = tl.spawn(host, explorer, t, _CMD, f'"{_CMD}" ', session=elevated, integrity="High")
    tl.spawn(
        host, cmd, t + tl.jitter(0.01, 0.05), _CONHOST, f"\\??\\{_CONHOST} 0xffffffff -ForceV1"
    )
    stage = f"C:\\Users\\{user}\\AppData\\Local\\Temp\\df00tech-stage"
    sources = [
        ("\\\\FILESRV01\\Finance", "Finance", ("2024\\Q2", "2024\\Q3", "Payroll"), 0.05, 0.4),
        (f"C:\\Users\\{user}\\Documents", "Documents", ("", "Contracts"), 0.005, 0.08),
        (f"C:\\Users\\{user}\\Desktop", "Desktop", ("",), 0.005, 0.05),
    ]
    total = rng.randrange(12, 41)
    names = _documents(rng, total)
    counts = _split(rng, total, len(sources))
    t += tl.jitter(15, 60)
    for (src, label, subdirs, low, high), count in zip(sources, counts, strict=True):
        target = f"{stage}\\{label}"
        line = f"robocopy  {src} {target} /E /COPYALL /R:0 /W:0"
        proc = tl.spawn(host, cmd, t, f"{_SYS32}\\Robocopy.exe", line)
        batch, names = names[:count], names[count:]
        for when, name in zip(_copy_times(tl, t, count, low, high), batch, strict=True):
            sub = rng.choice(subdirs)
            path = f"{target}\\{sub}\\{name}" if sub else f"{target}\\{name}"
            tl.file_create(host, proc, when, path, creation=_old(tl, when))
            t = when
        t += tl.jitter(20, 90)  # reading the summary, typing the next command


# --------------------------------------------------------------------------- adversary 2


def _adversary_2(tl: Timeline) -> None:
    """cmd ``copy`` into %TEMP%\\df00tech-collection, then a password-protected 7-Zip archive."""
    rng = tl.rng
    host = _workstation(tl, "WKS-HR")
    user = rng.choice(_USERS)
    _, explorer = _desktop(tl, host, user)
    t = tl.start
    ps = tl.spawn(host, explorer, t, _POWERSHELL, f'"{_POWERSHELL}" ', cwd=f"C:\\Users\\{user}\\")
    t = _powershell_startup(tl, host, ps, user) + tl.jitter(20, 60)
    temp = f"C:\\Users\\{user}\\AppData\\Local\\Temp"
    collection = f"{temp}\\df00tech-collection"
    tl.spawn(host, ps, t, _CMD, f'"{_CMD}" /c mkdir {collection}')
    docs = f"C:\\Users\\{user}\\Documents"
    patterns = (".xlsx", ".docx", ".pdf")
    total = rng.randrange(12, 31)
    per = _split(rng, total, len(patterns))
    for ext, count in zip(patterns, per, strict=True):
        t += tl.jitter(8, 40)
        line = f'"{_CMD}" /c copy /Y {docs}\\*{ext} {collection}\\'
        proc = tl.spawn(host, ps, t, _CMD, line)
        names = [n.rsplit(".", 1)[0] + ext for n in _documents(rng, count, (ext,))]
        when = t + tl.jitter(0.02, 0.06)
        for name in names:
            tl.file_create(host, proc, when, f"{collection}\\{name}")
            when += tl.jitter(0.004, 0.03)
    t += tl.jitter(20, 70)
    password = rng.choice(("Infected2024!", "df00tech#exfil", "Spring2024$", "x7Kq!pL2"))
    archive = f"{temp}\\df00tech-exfil.zip"
    seven = "C:\\Program Files\\7-Zip\\7z.exe"
    line = f'"{seven}" a -tzip -p{password} -mem=AES256 {archive} {collection}\\*'
    proc = tl.spawn(host, ps, t, seven, line)
    tl.file_create(host, proc, t + tl.jitter(0.05, 0.2), archive)


# --------------------------------------------------------------------------- adversary 3


def _adversary_3(tl: Timeline) -> None:
    """PowerShell Copy-Item into C:\\ProgramData\\MicrosoftUpdates, hidden with attrib +h."""
    rng = tl.rng
    host = _workstation(tl, "WKS-ENG", mde=True)
    user = rng.choice(_USERS)
    _, explorer = _desktop(tl, host, user)
    stage = "C:\\ProgramData\\MicrosoftUpdates"
    script = (
        f"New-Item -ItemType Directory -Path '{stage}' -Force | Out-Null; "
        f"Get-ChildItem -Path $env:USERPROFILE\\Documents -Include *.docx,*.xlsx,*.pdf,*.pptx "
        f"-Recurse | Copy-Item -Destination '{stage}\\' -Force; "
        "Set-ItemProperty -Path 'HKCU:\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer"
        "\\Advanced' -Name Hidden -Value 2; "
        f"attrib +h '{stage}'"
    )
    t = tl.start
    line = f'"{_POWERSHELL}" -NoProfile -ExecutionPolicy Bypass -Command "{script}"'
    ps = tl.spawn(host, explorer, t, _POWERSHELL, line, cwd=f"C:\\Users\\{user}\\")
    tl.spawn(host, ps, t + tl.jitter(0.01, 0.04), _CONHOST, f"\\??\\{_CONHOST} 0xffffffff -ForceV1")
    t = _powershell_startup(tl, host, ps, user) + tl.jitter(0.3, 1.2)
    count = rng.randrange(12, 36)
    for when, name in zip(
        _copy_times(tl, t, count, 0.01, 0.12),
        _documents(rng, count, (".docx", ".xlsx", ".pdf", ".pptx")),
        strict=True,
    ):
        tl.file_create(host, ps, when, f"{stage}\\{name}")
        t = when
    t += tl.jitter(0.05, 0.3)
    sid = ps.session.account.sid
    key = f"HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced\\Hidden"
    tl.sysmon(host, t, "13", windows.sysmon_registry_set(ps, host, t, key, "DWORD (0x00000002)"))
    t += tl.jitter(0.05, 0.2)
    tl.spawn(host, ps, t, f"{_SYS32}\\attrib.exe", f'"{_SYS32}\\attrib.exe" +h {stage}')


# --------------------------------------------------------------------------- adversary 4


def _adversary_4(tl: Timeline) -> None:
    """Linux: find -exec cp into /tmp/.df00tech_stage/, cp -r ~/.ssh, then tar czf."""
    rng = tl.rng
    host = tl.linux_host(
        f"app-srv-{rng.randrange(1, 40):02d}",
        f"10.30.{rng.randrange(1, 9)}.{rng.randrange(10, 200)}",
    )
    user = rng.choice(("alice", "deploy", "jenkins", "ops"))
    uid = 1000 + rng.randrange(1, 30)
    account = tl.linux_user(user, uid)
    root = tl.linux_user("root", 0)
    login = tl.start - seconds(rng.uniform(60, 1800))
    root_session = tl.linux_logon(host, root, login - seconds(86400), "(none)")
    sshd = tl.linux_existing(
        host,
        "/usr/sbin/sshd",
        ["sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"],
        root_session,
        login - seconds(86400),
    )
    session = tl.linux_logon(host, account, login, "pts0")
    priv = tl.linux_existing(
        host, "/usr/sbin/sshd", [f"sshd: {user} [priv]"], root_session, login, parent=sshd
    )
    home = f"/home/{user}"
    bash = tl.linux_existing(
        host, "/usr/bin/bash", ["-bash"], session, login + seconds(0.4), parent=priv, cwd=home
    )
    stage = "/tmp/.df00tech_stage"
    t = tl.start
    mkdir = tl.linux_spawn(host, bash, t, "/usr/bin/mkdir", ["mkdir", "-p", stage])
    tl.linux_mkdir(host, mkdir, t + tl.jitter(0.0005, 0.002), stage)
    t += tl.jitter(10, 40)
    find_argv = [
        "find",
        home,
        "-type",
        "f",
        "(",
        "-name",
        "*.pdf",
        "-o",
        "-name",
        "*.docx",
        "-o",
        "-name",
        "*.xlsx",
        "-o",
        "-name",
        "*.kdbx",
        ")",
        "-exec",
        "cp",
        "{}",
        f"{stage}/",
        ";",
    ]
    find = tl.linux_spawn(host, bash, t, "/usr/bin/find", find_argv)
    count = rng.randrange(12, 31)
    names = [*_documents(rng, count - 1, (".pdf", ".docx", ".xlsx")), "Passwords.kdbx"]
    folders = ("Documents", "Documents/finance", "Downloads", "projects/q3")
    when = t + tl.jitter(0.02, 0.1)
    for name in names:
        source = f"{home}/{rng.choice(folders)}/{name}"
        target = f"{stage}/{source.rsplit('/', 1)[1]}"
        cp = tl.linux_spawn(host, find, when, "/usr/bin/cp", ["cp", source, f"{stage}/"])
        tl.linux_file_create(host, cp, when + tl.jitter(0.0005, 0.002), target)
        when += tl.jitter(0.004, 0.03)
    t = when + tl.jitter(8, 30)
    cp = tl.linux_spawn(host, bash, t, "/usr/bin/cp", ["cp", "-r", f"{home}/.ssh", f"{stage}/ssh"])
    t += tl.jitter(0.0005, 0.002)
    tl.linux_mkdir(host, cp, t, f"{stage}/ssh")
    for key in ("authorized_keys", "id_ed25519", "id_ed25519.pub", "known_hosts", "config"):
        t += tl.jitter(0.0003, 0.002)
        tl.linux_file_create(host, cp, t, f"{stage}/ssh/{key}")
    t += tl.jitter(10, 45)
    archive = "/tmp/.df00tech_stage.tar.gz"
    tar = tl.linux_spawn(
        host, bash, t, "/usr/bin/tar", ["tar", "czf", archive, "-C", "/tmp", ".df00tech_stage"]
    )
    t += tl.jitter(0.001, 0.004)
    tl.linux_file_create(host, tar, t, archive)
    tl.linux_spawn(host, tar, t + tl.jitter(0.0005, 0.002), "/usr/bin/gzip", ["gzip"])


# --------------------------------------------------------------------------- adversary 5


def _adversary_5(tl: Timeline) -> None:
    """net use \\\\FILESRV01\\C$ with stolen credentials, xcopy /E /H /Y to the share."""
    rng = tl.rng
    host = _workstation(tl, "WKS-OPS")
    server = tl.windows_host(f"FILESRV01.{_DOMAIN_DNS}", "10.20.5.21")
    user = rng.choice(_USERS)
    _, explorer = _desktop(tl, host, user)
    t = tl.start
    cmd = tl.spawn(host, explorer, t, _CMD, f'"{_CMD}" ', cwd=f"C:\\Users\\{user}\\")
    tl.spawn(
        host, cmd, t + tl.jitter(0.01, 0.05), _CONHOST, f"\\??\\{_CONHOST} 0xffffffff -ForceV1"
    )
    t += tl.jitter(10, 40)
    password = rng.choice(("Backup2024!", "Svc#Bkp-19", "Winter2023!"))
    remote = "\\\\FILESRV01\\C$"
    net = tl.spawn(
        host, cmd, t, f"{_SYS32}\\net.exe", f"net  use {remote} /user:CORP\\svc_backup {password}"
    )
    # The SMB session: the kernel (System, pid 4) connects, the credentials are explicit.
    boot = tl.start - seconds(rng.uniform(86400, 20 * 86400))
    kernel_session = tl.logon(host, tl.system(), boot)
    kernel = tl.existing(host, "System", "", kernel_session, boot)
    kernel.pid = 4
    t += tl.jitter(0.01, 0.05)
    source_port = rng.randrange(49700, 65000)
    tl.sysmon(
        host,
        t,
        "3",
        windows.sysmon_network_connect(
            kernel,
            host,
            t,
            source_port=source_port,
            dest_ip=server.ip,
            dest_host=server.fqdn,
            dest_port=445,
            dest_port_name="microsoft-ds",
        ),
    )
    svc = tl.user("CORP", "svc_backup")
    kerberos_guid = tl.ids.guid()
    tl.security(
        host,
        t,
        "4648",
        windows.security_4648(
            net,
            host,
            target_user="svc_backup",
            target_domain="CORP",
            target_logon_guid=kerberos_guid,
            server="FILESRV01",
            server_ip=server.ip,
        ),
    )
    remote_session = tl.logon(server, svc, t + tl.jitter(0.005, 0.02))
    t += tl.jitter(0.02, 0.06)
    tl.security(
        server,
        t,
        "4624",
        windows.security_4624(
            remote_session,
            workstation=host.short,
            ip=host.ip,
            port=source_port,
            logon_guid=kerberos_guid,
        ),
    )
    tl.security(
        server,
        t + tl.jitter(0.001, 0.01),
        "5140",
        windows.security_5140(
            remote_session, ip=host.ip, port=source_port, share="\\\\*\\C$", local_path="\\??\\C:\\"
        ),
    )
    t += tl.jitter(15, 60)
    source = f"C:\\Users\\{user}\\Documents\\Projects"
    target_rel = "Windows\\Temp\\df00tech-remote"
    line = f"xcopy  {source} {remote}\\{target_rel}\\ /E /H /Y"
    tl.spawn(host, cmd, t, f"{_SYS32}\\xcopy.exe", line)
    server_boot = tl.start - seconds(rng.uniform(86400, 40 * 86400))
    server_kernel = tl.existing(
        server, "System", "", tl.logon(server, tl.system(), server_boot), server_boot
    )
    server_kernel.pid = 4
    count = rng.randrange(12, 36)
    subdirs = ("", "Roadmap", "Designs", "Customers")
    when = t + tl.jitter(0.05, 0.2)

    def share_access(at: Micros, relative: str) -> None:
        """5145 on the server: the SMB session writes ``relative`` on C$."""
        data = windows.security_5145(
            remote_session,
            ip=host.ip,
            port=source_port,
            share="\\\\*\\C$",
            local_path="\\??\\C:\\",
            relative_target=relative,
            write=True,
        )
        tl.security(server, at, "5145", data)

    share_access(when, target_rel)
    for name in _documents(rng, count):
        sub = rng.choice(subdirs)
        rel = f"{target_rel}\\{sub}\\{name}" if sub else f"{target_rel}\\{name}"
        when += tl.jitter(0.02, 0.25)
        share_access(when, rel)
        # SMB writes reach the server's disk through the kernel: Sysmon says "System"
        tl.file_create(server, server_kernel, when + tl.jitter(0.001, 0.01), f"C:\\{rel}")
    t = when + tl.jitter(20, 90)
    tl.spawn(host, cmd, t, f"{_SYS32}\\net.exe", f"net  use {remote} /delete")


# --------------------------------------------------------------------------- benign


def _benign_installer(tl: Timeline) -> None:
    """A setup bootstrapper extracts its payload to %TEMP%, msiexec installs it."""
    rng = tl.rng
    host = _workstation(tl, "WKS-MKT")
    user = rng.choice(_USERS)
    services, explorer = _desktop(tl, host, user)
    t = tl.start
    downloads = f"C:\\Users\\{user}\\Downloads"
    setup_image = f"{downloads}\\ContosoPDF_Setup_3.4.1.exe"
    setup = tl.spawn(host, explorer, t, setup_image, f'"{setup_image}" ', cwd=f"{downloads}\\")
    payload = f"C:\\Users\\{user}\\AppData\\Local\\Temp\\{tl.ids.guid()}"
    files = ["ContosoPDF.msi", "Data1.cab", "setup.ini", "license.rtf", "0x0409.ini", "ISSetup.dll"]
    extra = rng.randrange(20, 45)
    files += [f"{stem}.dll" for stem in (f"cpdf{n:02d}" for n in range(extra))]
    when = t + tl.jitter(0.5, 2)
    for name in files:
        tl.file_create(host, setup, when, f"{payload}\\{name}")
        when += tl.jitter(0.005, 0.05)
    msi_line = f'"{_SYS32}\\msiexec.exe" /i "{payload}\\ContosoPDF.msi" /qb REBOOT=ReallySuppress'
    t = when + tl.jitter(0.3, 1)
    tl.spawn(host, setup, t, f"{_SYS32}\\msiexec.exe", msi_line)
    system = services.session
    service = tl.existing(
        host,
        f"{_SYS32}\\msiexec.exe",
        f"{_SYS32}\\msiexec.exe /V",
        system,
        t + tl.jitter(0.1, 0.3),
        parent=services,
    )
    t += tl.jitter(1, 3)
    cached = f"C:\\Windows\\Installer\\{rng.getrandbits(24):x}.msi"
    tl.file_create(host, service, t, cached)
    for _ in range(3):
        t += tl.jitter(0.05, 0.3)
        tl.file_create(host, service, t, f"C:\\Windows\\Installer\\MSI{rng.getrandbits(16):X}.tmp")
    embed = f"{_SYS32}\\MsiExec.exe -Embedding {rng.getrandbits(128):032X} E Global\\MSI0000"
    tl.spawn(host, service, t + tl.jitter(0.1, 0.4), f"{_SYS32}\\MsiExec.exe", embed)
    work = "C:\\Windows\\Temp\\ContosoPDF_Install"
    for n in range(rng.randrange(15, 31)):
        t += tl.jitter(0.01, 0.08)
        tl.file_create(host, service, t, f"{work}\\res{n:03d}.bin")
    target = "C:\\Program Files\\Contoso\\PDF Reader"
    for name in ("ContosoPDF.exe", "cpdfcore.dll", "cpdfrender.dll", "updater.exe", "eula.rtf"):
        t += tl.jitter(0.01, 0.1)
        tl.file_create(host, service, t, f"{target}\\{name}")


def _benign_backup(tl: Timeline) -> None:
    """Veeam's transport agent stages SQL transaction-log backups under ProgramData."""
    rng = tl.rng
    host = tl.windows_host(
        f"SQL{rng.randrange(1, 9):02d}.{_DOMAIN_DNS}", f"10.20.6.{rng.randrange(10, 90)}"
    )
    boot = tl.start - seconds(rng.uniform(3 * 86400, 30 * 86400))
    system = tl.logon(host, tl.system(), boot)
    services = tl.existing(host, _SERVICES, _SERVICES, system, boot + seconds(4))
    base = "C:\\Program Files (x86)\\Veeam\\Backup Transport"
    transport = tl.existing(
        host,
        f"{base}\\VeeamTransportSvc.exe",
        f'"{base}\\VeeamTransportSvc.exe"',
        system,
        boot + seconds(40),
        parent=services,
    )
    staging = f"C:\\ProgramData\\Veeam\\Backup\\LogStaging\\{host.short}"
    databases = [
        "ERP",
        "CRM",
        "HR_Payroll",
        "Reporting",
        "SharePoint_Content",
        "msdb",
        "Finance_DW",
        "Intranet",
    ]
    dbs = rng.sample(databases, rng.randrange(6, 9))
    t = tl.start
    agent_image = f"{base}\\x64\\VeeamAgent.exe"
    line = (
        f'"{agent_image}" -l "C:\\ProgramData\\Veeam\\Backup\\Svc.VeeamAgent.log" '
        f'--log-backup --job "{host.short} SQL Log Backup" --stg "{staging}"'
    )
    for run in range(2):
        agent = tl.spawn(host, transport, t, agent_image, line)
        when = t + tl.jitter(1, 4)
        stamp = run * 15
        for db in dbs:
            for part in range(rng.randrange(1, 4)):
                when += tl.jitter(0.2, 2)
                tl.file_create(host, agent, when, f"{staging}\\{db}_{stamp:02d}_{part}.trn")
        when += tl.jitter(1, 3)
        tl.file_create(host, agent, when, f"{staging}\\{host.short}_LogBackup_{run}.vlb")
        t += seconds(900) + tl.jitter(-5, 5)


def _benign_sccm_intune(tl: Timeline) -> None:
    """SCCM fills ccmcache and an install script xcopies config into ProgramData; Intune's
    management extension downloads and stages a Win32 app under ProgramData."""
    rng = tl.rng
    sccm = _workstation(tl, "WKS-SALES")
    boot = tl.start - seconds(rng.uniform(86400, 9 * 86400))
    system = tl.logon(sccm, tl.system(), boot)
    services = tl.existing(sccm, _SERVICES, _SERVICES, system, boot + seconds(4))
    ccm = tl.existing(
        sccm,
        "C:\\Windows\\CCM\\CcmExec.exe",
        '"C:\\Windows\\CCM\\CcmExec.exe"',
        system,
        boot + seconds(50),
        parent=services,
    )
    cache = (
        f"C:\\Windows\\ccmcache\\{rng.choice('abcdefghijklmnopqrstuvwxyz')}{rng.randrange(1, 9)}"
    )
    t = tl.start
    package = [
        "install.cmd",
        "ContosoCRMClient.msi",
        "Config\\app.config",
        "Config\\endpoints.json",
        "Config\\certs.pem",
    ]
    package += [f"Config\\templates\\tpl{n:02d}.xml" for n in range(rng.randrange(10, 25))]
    for name in package:
        t += tl.jitter(0.05, 0.4)
        tl.file_create(sccm, ccm, t, f"{cache}\\{name}")
    t += tl.jitter(2, 10)
    cmd = tl.spawn(sccm, ccm, t, _CMD, f'"{_CMD}" /c install.cmd', cwd=f"{cache}\\")
    t += tl.jitter(0.2, 1)
    line = f'xcopy  /E /Y /I "{cache}\\Config" "C:\\ProgramData\\Contoso\\CRMClient\\Config"'
    xcopy = tl.spawn(sccm, cmd, t, f"{_SYS32}\\xcopy.exe", line)
    for name in package[2:]:
        t += tl.jitter(0.005, 0.04)
        tl.file_create(sccm, xcopy, t, f"C:\\ProgramData\\Contoso\\CRMClient\\{name}")

    intune = _workstation(tl, "WKS-REMOTE")
    boot = tl.start - seconds(rng.uniform(86400, 9 * 86400))
    system = tl.logon(intune, tl.system(), boot)
    services = tl.existing(intune, _SERVICES, _SERVICES, system, boot + seconds(4))
    ime_dir = "C:\\Program Files (x86)\\Microsoft Intune Management Extension"
    ime = tl.existing(
        intune,
        f"{ime_dir}\\Microsoft.Management.Services.IntuneWindowsAgent.exe",
        f'"{ime_dir}\\Microsoft.Management.Services.IntuneWindowsAgent.exe"',
        system,
        boot + seconds(70),
        parent=services,
    )
    app = tl.ids.guid().strip("{}")
    root = "C:\\ProgramData\\Microsoft\\IntuneManagementExtension"
    t = tl.start + tl.jitter(60, 600)
    tl.file_create(intune, ime, t, f"{root}\\Content\\Incoming\\{app}_1.bin")
    t += tl.jitter(5, 20)
    tl.file_create(intune, ime, t, f"{root}\\Content\\Staging\\{app}_1.zip")
    for n in range(rng.randrange(12, 30)):
        t += tl.jitter(0.01, 0.1)
        tl.file_create(intune, ime, t, f"{root}\\Content\\Staging\\{app}_1\\payload{n:02d}.dat")
    t += tl.jitter(0.5, 2)
    tl.file_create(intune, ime, t, f"{root}\\Logs\\AppWorkload.log")


def _benign_log_aggregation(tl: Timeline) -> None:
    """A scheduled task robocopies IIS logs into C:\\ProgramData\\LogShipper every 15 minutes."""
    rng = tl.rng
    host = tl.windows_host(
        f"WEB{rng.randrange(1, 9):02d}.{_DOMAIN_DNS}", f"10.20.7.{rng.randrange(10, 90)}"
    )
    boot = tl.start - seconds(rng.uniform(3 * 86400, 30 * 86400))
    system = tl.logon(host, tl.system(), boot)
    services = tl.existing(host, _SERVICES, _SERVICES, system, boot + seconds(4))
    schedule = tl.existing(
        host,
        f"{_SYS32}\\svchost.exe",
        f"{_SYS32}\\svchost.exe -k netsvcs -p -s Schedule",
        system,
        boot + seconds(9),
        parent=services,
    )
    spool = "C:\\ProgramData\\LogShipper\\spool"
    line = f"robocopy  C:\\inetpub\\logs\\LogFiles {spool} *.log /S /XO /R:1 /W:5 /NP /NJH /NJS"
    sites = ("W3SVC1", "W3SVC2", "W3SVC3")
    day = "240514"
    today = BASE_TIME + tl.jitter(0, 2)
    runs = 8
    t = tl.start - (tl.start % seconds(900)) + seconds(900)  # the next quarter hour
    for run in range(runs):
        start = t + tl.jitter(0.5, 3)
        cmd = tl.spawn(
            host,
            schedule,
            start,
            _CMD,
            f'{_CMD} /c "C:\\Scripts\\LogShipper\\ship-logs.cmd"',
            cwd=f"{_SYS32}\\",
        )
        tl.spawn(
            host,
            cmd,
            start + tl.jitter(0.01, 0.04),
            _CONHOST,
            f"\\??\\{_CONHOST} 0xffffffff -ForceV1",
        )
        when = start + tl.jitter(0.1, 0.4)
        robo = tl.spawn(host, cmd, when, f"{_SYS32}\\Robocopy.exe", line)
        changed = [s for s in sites if run == 0 or rng.random() < 0.8] or [sites[0]]
        for site in changed:
            when += tl.jitter(0.01, 0.2)
            # robocopy's default /COPY:DAT keeps the source's times: IIS opened
            # today's log at midnight UTC
            tl.file_create(host, robo, when, f"{spool}\\{site}\\u_ex{day}.log", creation=today)
        if run == 0:  # the first run also finds yesterday's closed logs
            for site in sites:
                when += tl.jitter(0.01, 0.2)
                created = today - seconds(86400) + tl.jitter(0, 2)
                tl.file_create(
                    host, robo, when, f"{spool}\\{site}\\u_ex240513.log", creation=created
                )
        t += seconds(900)


def _benign_dev_build(tl: Timeline) -> None:
    """A developer's post-build step robocopies/xcopies build output into C:\\Temp\\build."""
    rng = tl.rng
    host = _workstation(tl, "DEV-WKS", schema=SCHEMA_NEW)
    user = rng.choice(_USERS)
    _, explorer = _desktop(tl, host, user)
    vs = "C:\\Program Files\\Microsoft Visual Studio\\2022\\Professional"
    devenv = tl.existing(
        host,
        f"{vs}\\Common7\\IDE\\devenv.exe",
        f'"{vs}\\Common7\\IDE\\devenv.exe" "C:\\src\\contoso-app\\ContosoApp.sln"',
        explorer.session,
        tl.start - seconds(3000),
        parent=explorer,
        cwd="C:\\src\\contoso-app\\",
    )
    msbuild_image = f"{vs}\\MSBuild\\Current\\Bin\\amd64\\MSBuild.exe"
    msbuild = tl.existing(
        host,
        msbuild_image,
        f'"{msbuild_image}" /nologo /nodemode:1 /nodeReuse:true /low:false',
        explorer.session,
        tl.start - seconds(2900),
        parent=devenv,
        cwd="C:\\src\\contoso-app\\",
    )
    out = "C:\\src\\contoso-app\\src\\Contoso.App\\bin\\Release\\net8.0"
    dest = "C:\\Temp\\build\\contoso-app"
    robo_line = f'robocopy  "{out}" "{dest}" /E /NFL /NDL /NJH /NJS /NP'
    xcopy_line = (
        f'xcopy  "C:\\src\\contoso-app\\src\\Contoso.App\\wwwroot" "{dest}\\wwwroot\\" /E /Y /I /Q'
    )
    outputs = [
        "Contoso.App.dll",
        "Contoso.App.pdb",
        "Contoso.App.exe",
        "Contoso.Core.dll",
        "Contoso.Core.pdb",
        "appsettings.json",
    ]
    outputs += [
        f"{lib}.dll"
        for lib in (
            "Newtonsoft.Json",
            "Serilog",
            "Dapper",
            "Polly",
            "AutoMapper",
            "FluentValidation",
            "MediatR",
            "Microsoft.Data.SqlClient",
            "Azure.Identity",
            "Azure.Core",
            "System.IdentityModel.Tokens.Jwt",
            "Humanizer",
            "NodaTime",
        )[: rng.randrange(8, 14)]
    ]
    assets = [
        "css\\site.css",
        "js\\site.js",
        "js\\app.bundle.js",
        "lib\\bootstrap.min.css",
        "favicon.ico",
        "img\\logo.svg",
    ]
    temp = f"C:\\Users\\{user}\\AppData\\Local\\Temp\\MSBuildTemp"
    t = tl.start
    for build in range(6):
        t += tl.jitter(20, 60)  # compile
        script = f"{temp}\\tmp{rng.getrandbits(32):08x}.exec.cmd"
        tl.file_create(host, msbuild, t, script, size=512)
        cmd = tl.spawn(
            host,
            msbuild,
            t + tl.jitter(0.01, 0.05),
            _CMD,
            f"{_CMD} /Q /C {script}",
            cwd="C:\\src\\contoso-app\\src\\Contoso.App\\",
        )
        t += tl.jitter(0.05, 0.2)
        robo = tl.spawn(host, cmd, t, f"{_SYS32}\\Robocopy.exe", robo_line)
        copied = outputs if build == 0 else outputs[: rng.randrange(2, 6)]
        for name in copied:
            t += tl.jitter(0.002, 0.03)
            tl.file_create(host, robo, t, f"{dest}\\{name}")
        t += tl.jitter(0.05, 0.2)
        xcopy = tl.spawn(host, cmd, t, f"{_SYS32}\\xcopy.exe", xcopy_line)
        for name in assets:
            t += tl.jitter(0.002, 0.02)
            tl.file_create(host, xcopy, t, f"{dest}\\wwwroot\\{name}")
        t += tl.jitter(240, 1500)  # edit, test, rebuild


# --------------------------------------------------------------------------- registry

_NO_CMDLINE = (
    "its EID 11 events have no CommandLine, so `stats ... by host, Actor, Image, CommandLine` "
    "drops them"
)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "adversary-1-robocopy-temp",
            "adversary",
            "robocopy /E /COPYALL of a file share and two profile folders into "
            "%TEMP%\\df00tech-stage\\ from an elevated cmd.exe (Sysmon, Security 4688, MDE).",
            "seed test 1: Stage Sensitive Files to Temp Directory Using Robocopy",
            _adversary_1,
            False,
            "three robocopy runs, one per source, so each (host, Actor, Image, CommandLine) "
            f"group holds 1 event (< 5); {_NO_CMDLINE}; 4688 is XmlWinEventLog:Security, "
            "not the WinEventLog:Security the seed names",
        ),
        Scenario(
            "adversary-2-7zip-password",
            "adversary",
            "cmd.exe `copy /Y` of documents into %TEMP%\\df00tech-collection\\, then "
            "7z.exe a -p<password> df00tech-exfil.zip.",
            "seed test 2: Stage and Compress Data Using 7-Zip from Command Line",
            _adversary_2,
            False,
            "three `cmd /c copy` processes with different command lines (1 event per group); "
            "7z.exe's command line has no copy tool; the .zip FileCreate (ArchiveCreated) "
            f"has no CommandLine and is dropped by stats, as are the other EID 11 ({_NO_CMDLINE})",
        ),
        Scenario(
            "adversary-3-copyitem-programdata",
            "adversary",
            "powershell.exe Copy-Item of documents into C:\\ProgramData\\MicrosoftUpdates\\, "
            "folder hidden with attrib +h and Explorer's Hidden=2 (Sysmon 1/11/13, MDE).",
            "seed test 3: Stage Data Using PowerShell Copy-Item to ProgramData",
            _adversary_3,
            False,
            f"Copy-Item is a cmdlet, so one powershell.exe EID 1 matches (1 < 5); {_NO_CMDLINE}",
        ),
        Scenario(
            "adversary-4-linux-cp-tar",
            "adversary",
            "Linux: find -exec cp of documents and cp -r ~/.ssh into /tmp/.df00tech_stage/, "
            "then tar czf (auditd execve/openat/mkdir + Sysmon for Linux EID 1/11).",
            "seed test 4: Linux Data Staging Using cp and tar",
            _adversary_4,
            False,
            "every event is index=linux (linux:audit, sysmon:linux); the seed searches only "
            "index=wineventlog, and its paths use backslashes",
        ),
        Scenario(
            "adversary-5-smb-remote-staging",
            "adversary",
            "net use \\\\FILESRV01\\C$ with a service account's password, xcopy /E /H /Y into "
            "\\\\FILESRV01\\C$\\Windows\\Temp\\df00tech-remote\\ (Sysmon 1/3/11, Security "
            "4648 on the client, 4624/5140/5145 on the server).",
            "seed test 5: Remote Data Staging via Network Share Copy",
            _adversary_5,
            False,
            "one xcopy EID 1 (1 < 5); net.exe's command line has no copy tool; the server's "
            f"FileCreate events are written by System and {_NO_CMDLINE}",
        ),
        Scenario(
            "benign-installer-msi",
            "benign",
            "A setup bootstrapper extracts ~30-50 files (with Data1.cab) to %TEMP%\\{GUID}\\, "
            "msiexec caches the MSI and unpacks resources into C:\\Windows\\Temp\\.",
            "FP class: software installation / MSI packages extracting to temp directories",
            _benign_installer,
            False,
            f"no copy tool on any command line; {_NO_CMDLINE}",
        ),
        Scenario(
            "benign-backup-agent",
            "benign",
            "Veeam's transport agent (VeeamAgent.exe, SYSTEM) writes SQL transaction-log "
            "backups into C:\\ProgramData\\Veeam\\Backup\\LogStaging\\ twice, 15 minutes apart.",
            "FP class: backup agents (Veeam, Backup Exec, Windows Backup) staging files",
            _benign_backup,
            False,
            f"VeeamAgent.exe's command line names no copy tool; {_NO_CMDLINE}",
        ),
        Scenario(
            "benign-sccm-intune",
            "benign",
            "CcmExec fills C:\\Windows\\ccmcache\\ and an install.cmd xcopies config into "
            "C:\\ProgramData\\; Intune's management extension stages a Win32 app (.zip) under "
            "C:\\ProgramData\\Microsoft\\IntuneManagementExtension\\.",
            "FP class: software deployment tools (SCCM, Intune) copying update packages",
            _benign_sccm_intune,
            False,
            "the xcopy into ProgramData runs once per host (1 < 5); the .zip and other "
            f"FileCreate events are dropped ({_NO_CMDLINE})",
        ),
        Scenario(
            "benign-log-aggregation",
            "benign",
            "A scheduled task (SYSTEM) runs robocopy of IIS *.log into "
            "C:\\ProgramData\\LogShipper\\spool\\ every 15 minutes, 8 runs.",
            "FP class: log aggregation tools consolidating logs for shipping",
            _benign_log_aggregation,
            True,
            "the same robocopy command line runs 8 times on one host as SYSTEM: one group "
            "with EventCount 8 >= 5 (BulkCopyCommand) — a false positive",
        ),
        Scenario(
            "benign-dev-build-robocopy",
            "benign",
            "Visual Studio/MSBuild post-build step: cmd.exe runs robocopy and xcopy of build "
            "output into C:\\Temp\\build\\ on each of 6 builds.",
            "FP class: developers using robocopy/xcopy in build scripts",
            _benign_dev_build,
            True,
            "each build repeats the same robocopy and xcopy command lines: two groups with "
            "EventCount 6 >= 5 — false positives",
        ),
    )
}
