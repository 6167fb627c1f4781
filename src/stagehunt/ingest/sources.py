"""Where records come from: a file on disk or a member of a zip archive.

Readers take a :class:`Source`, never a bare path, so that an ``.evtx`` or ``.json``
inside a zip (the OTRF datasets ship as zips) is read exactly like one on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class Source:
    """One readable stream of records.

    ``name`` is what messages show (``archive.zip!inner.json`` for a member);
    ``path`` is set when the source is a plain file (some libraries want a path);
    ``open`` returns a fresh binary stream positioned at the start; ``temporary``
    marks a scratch copy (an extracted zip member) to delete once read.
    """

    name: str
    open: Callable[[], IO[bytes]]
    path: Path | None = None
    size: int | None = None
    temporary: bool = False

    @classmethod
    def from_path(cls, path: Path) -> Source:
        return cls(str(path), lambda: path.open("rb"), path, path.stat().st_size)

    def head(self, n: int = 64 * 1024) -> bytes:
        """The first ``n`` bytes, for content sniffing."""
        with self.open() as fh:
            return fh.read(n)
