"""Where the shared real logs are: ``shared/data/real`` beside the checkout.

`stagehunt validate` includes them by default when they are present, so a new user gets
the real-data row of the matrix without spelling out ``--real DIR``. The search is the one
the ESCU content finder (:func:`stagehunt.escu.content.beside_checkout`) and the tests
use: the current folder, the repository, and every folder they sit in (a git worktree is
a level deeper than its checkout). No copy ships in the package: the set is 30 MB of
third-party logs with their own licences (``SOURCES.md`` beside them).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: the real set, relative to the folder that holds the checkout's ``shared`` folder
RELATIVE = Path("shared") / "data" / "real"
#: the repository root (``src/stagehunt/real_data.py`` → two folders up)
REPO = Path(__file__).resolve().parents[2]


def find_real(starts: Sequence[Path] | None = None) -> Path | None:
    """``shared/data/real`` in ``starts`` (default: the current folder and the repository)
    or a folder they sit in, resolved; None when there is none."""
    for start in starts if starts is not None else (Path.cwd().resolve(), REPO):
        for base in (start, *start.parents):
            candidate = base / RELATIVE
            if candidate.is_dir():
                return candidate.resolve()
    return None
