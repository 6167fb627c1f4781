"""Identifiers that look like the real ones: Sysmon GUIDs, process ids, logon sessions,
SIDs, file hashes, MDE device ids.

A hunter pivots on these values (ProcessGuid → ParentProcessGuid, LogonId across
events, a hash across hosts), so a simulator that emits random noise here would let a
query pass that breaks on real data. Each value follows the layout the producer uses:

* Sysmon (Windows) ``ProcessGuid``: the first 4 bytes of the machine GUID, the
  process start time in seconds split low/high 16 bits, then a per-boot counter;
  ``LogonGuid``: the same machine part and the logon time, then the LogonId little-endian.
* Sysmon for Linux: the same layout, and ``LogonGuid`` with the uid little-endian.
* Windows process ids are multiples of 4; Linux pids grow from a per-host counter.

Every random choice comes from the ``random.Random`` handed in, so a seed reproduces
the same identifiers; values that never change between runs of one binary (hashes of an
image) are derived from the path alone, as they would be on a real fleet.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["IdFactory", "file_hashes", "image_hashes"]


def _digest(kind: str, key: str) -> str:
    """A stable hex digest of ``key`` for hash ``kind`` (same length as the real one)."""
    data = f"stagehunt-sim:{kind}:{key.lower()}".encode()
    if kind == "md5":
        return hashlib.md5(data).hexdigest()
    if kind == "sha1":
        return hashlib.sha1(data).hexdigest()
    return hashlib.sha256(data).hexdigest()


def image_hashes(image: str) -> dict[str, str]:
    """MD5/SHA1/SHA256/IMPHASH of an executable, stable per path (a binary's hash does
    not depend on which simulation run saw it)."""
    return {
        "MD5": _digest("md5", image).upper(),
        "SHA1": _digest("sha1", image).upper(),
        "SHA256": _digest("sha256", image).upper(),
        "IMPHASH": _digest("md5", "imp:" + image).upper(),
    }


def file_hashes(path: str, salt: int) -> dict[str, str]:
    """Hashes of a copied data file: stable per (path, content ``salt``)."""
    key = f"{path}#{salt}"
    return {
        "MD5": _digest("md5", key),
        "SHA1": _digest("sha1", key),
        "SHA256": _digest("sha256", key),
    }


class IdFactory:
    """Per-run identifier source: machine GUID parts, pids, logon sessions, SIDs."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._machine: dict[str, str] = {}
        self._device: dict[str, str] = {}
        self._pids: dict[str, set[int]] = {}
        self._linux_pid: dict[str, int] = {}
        self._domain_sids: dict[str, str] = {}
        self._rids: dict[tuple[str, str], int] = {}
        self._next_rid = 1100 + rng.randrange(0, 400)

    # ---------------------------------------------------------------- machine parts

    def machine_part(self, host: str) -> str:
        """The 8 hex digits Sysmon takes from the machine GUID: fixed per host in a run."""
        key = host.lower()
        if key not in self._machine:
            self._machine[key] = f"{self.rng.getrandbits(32):08x}"
        return self._machine[key]

    def device_id(self, host: str) -> str:
        """MDE ``DeviceId``: 40 hex digits, fixed per host."""
        key = host.lower()
        if key not in self._device:
            self._device[key] = f"{self.rng.getrandbits(160):040x}"
        return self._device[key]

    # ---------------------------------------------------------------- processes

    def process_guid(self, host: str, start: float) -> str:
        """A Windows Sysmon ProcessGuid for a process started at epoch ``start``."""
        t = int(start)
        seq = self.rng.getrandbits(16)
        tail = f"00000000{self.rng.randrange(0x04, 0x40):02x}00"
        return f"{{{self.machine_part(host)}-{t & 0xFFFF:04x}-{t >> 16:04x}-{seq:04x}-{tail}}}"

    def linux_process_guid(self, host: str, start: float) -> str:
        """A Sysmon-for-Linux ProcessGuid (random tail ending in ``0000``, as it writes)."""
        t = int(start)
        seq = self.rng.getrandbits(16)
        tail = f"{self.rng.getrandbits(32):08x}0000"
        return f"{{{self.machine_part(host)}-{t & 0xFFFF:04x}-{t >> 16:04x}-{seq:04x}-{tail}}}"

    def windows_pid(self, host: str) -> int:
        """A process id not in use on ``host`` in this run (Windows pids are multiples of 4)."""
        used = self._pids.setdefault(host.lower(), set())
        while True:
            pid = self.rng.randrange(300, 16000) * 4
            if pid not in used:
                used.add(pid)
                return pid

    def linux_pid(self, host: str) -> int:
        """The next pid on a Linux host: the kernel hands them out in increasing order."""
        key = host.lower()
        current = self._linux_pid.get(key)
        if current is None:
            current = self.rng.randrange(2000, 60000)
        current += self.rng.randrange(1, 6)
        self._linux_pid[key] = current
        return current

    # ---------------------------------------------------------------- sessions

    def logon_id(self) -> int:
        """A fresh interactive/network LogonId."""
        return self.rng.randrange(0x20000, 0x9FFFFFF)

    def logon_guid(self, host: str, logon_id: int, logon_time: float) -> str:
        """Sysmon's LogonGuid: machine part, logon time, LogonId little-endian."""
        t = int(logon_time)
        le = logon_id.to_bytes(8, "little").hex()
        return f"{{{self.machine_part(host)}-{t & 0xFFFF:04x}-{t >> 16:04x}-{le[:4]}-{le[4:]}}}"

    def linux_logon_guid(self, host: str, uid: int) -> str:
        """Sysmon for Linux's LogonGuid: machine part, zeros, the uid little-endian."""
        le = uid.to_bytes(8, "little").hex()
        return f"{{{self.machine_part(host)}-0000-0000-{le[:4]}-{le[4:]}}}"

    def guid(self) -> str:
        """A random GUID in braces (Kerberos logon GUIDs, MSI product codes, ...)."""
        v = f"{self.rng.getrandbits(128):032x}"
        return f"{{{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}}}"

    # ---------------------------------------------------------------- accounts

    def domain_sid(self, domain: str) -> str:
        """``S-1-5-21-a-b-c`` of a domain, fixed per domain in a run."""
        key = domain.upper()
        if key not in self._domain_sids:
            parts = [self.rng.randrange(10**8, 4 * 10**9) for _ in range(3)]
            self._domain_sids[key] = "S-1-5-21-" + "-".join(str(p) for p in parts)
        return self._domain_sids[key]

    def user_sid(self, domain: str, name: str) -> str:
        """A user's SID: the domain SID and a RID handed out in order."""
        key = (domain.upper(), name.lower())
        if key not in self._rids:
            self._rids[key] = self._next_rid
            self._next_rid += self.rng.randrange(1, 40)
        return f"{self.domain_sid(domain)}-{self._rids[key]}"
