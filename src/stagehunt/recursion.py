"""Room on Python's stack for the deepest query the parser accepts.

Parsing, compiling and rendering walk a query's nesting recursively: measured, about 20
Python frames per level when the parser reads nested eval parentheses or calls, 6 per
operator when sqlglot renders a chain. Python's default limit of 1,000 frames stops at ~45
levels with a ``RecursionError``. The parser refuses nesting deeper than
``semantics.SPL_MAX_NESTING``, so a fixed number of frames per level is enough for every
stage; each stage calls :func:`ensure_room` first.
"""

from __future__ import annotations

import sys

from stagehunt import semantics

#: Python frames one level of nesting may take in any stage (measured ≤ 20, with room).
FRAMES_PER_LEVEL = 32
#: frames for what runs around a stage (the caller, the CLI, a test runner)
_MARGIN = 2_000
#: the limit is raised in steps of this many frames, so that calls from slightly different
#: depths ask for the same limit and only the first changes it (a test runner that saves
#: and restores the limit around each test, as hypothesis does, then sees no change)
_STEP = 10_000


def _depth() -> int:
    frame = sys._getframe(1)
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]
    return depth


def ensure_room() -> None:
    """Raise the interpreter's recursion limit (never lower it) so that a query nested
    ``SPL_MAX_NESTING`` deep fits above the current frame. Python 3.11 runs a call from
    Python to Python without growing the C stack, so the raised limit is safe (checked at
    150,000 frames on an 8 MiB stack)."""
    needed = _depth() + FRAMES_PER_LEVEL * semantics.SPL_MAX_NESTING + _MARGIN
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(-(-needed // _STEP) * _STEP)


# at import, before a caller that saves and restores the limit (a test runner) runs a stage
ensure_room()
