"""How much memory DuckDB may use when ``--memory-limit`` is not given.

DuckDB's own default is 80% of RAM, which leaves too little for the rest of the process
(Python holding a batch of rows, the readers' worker processes at ingest) and for the
machine. The CLI gives DuckDB ``DEFAULT_SHARE`` of the memory stagehunt may use: RAM, or a
container's cgroup limit when that is lower. Past its limit DuckDB spills to disk.
"""

from __future__ import annotations

import os
from pathlib import Path

#: share of the usable memory DuckDB gets by default
DEFAULT_SHARE = 0.5
#: cgroup v2's memory limit of this process's container ("max": none)
CGROUP_LIMIT = Path("/sys/fs/cgroup/memory.max")


def usable_bytes(cgroup: Path = CGROUP_LIMIT) -> int | None:
    """Physical memory, or the cgroup limit when lower; None when neither is known."""
    try:
        total: int | None = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        total = None
    try:
        text = cgroup.read_text(encoding="ascii").strip()
    except OSError:
        text = "max"
    if text.isdigit():
        total = min(int(text), total) if total else int(text)
    return total


def default_limit(usable: int | None) -> str | None:
    """DuckDB's ``memory_limit`` for ``usable`` bytes (in MiB), or None to keep DuckDB's."""
    if not usable:
        return None
    return f"{max(1, int(usable * DEFAULT_SHARE) // 2**20)}MiB"
