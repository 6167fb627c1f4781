"""One status per detection, and the reason grouped by command, function or construct.

Every detection gets exactly one :class:`Status`:

- ``compiled``: the SPL compiled (``escu compile``), nothing ran;
- ``unsupported``: stagehunt does not run something in it (reason + position in the
  expanded SPL): a command, option, function or syntax;
- ``missing``: the content lacks something the detection needs (a lookup's file or
  definition, a macro that neither ESCU nor stagehunt ships);
- ``error``: it failed for another reason (at compile time: a stagehunt bug; at run
  time: the engine refused or failed the query);
- ``ran``: it ran, with N result rows (``fired`` when N > 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from stagehunt.compile import CompiledQuery
from stagehunt.escu.content import Detection
from stagehunt.lookups import LookupTable
from stagehunt.result import ResultTable
from stagehunt.spl.errors import SplError


class Status(StrEnum):
    COMPILED = "compiled"
    UNSUPPORTED = "unsupported"
    MISSING = "missing"
    ERROR = "error"
    RAN = "ran"


#: ``--status`` choices: the statuses, and ``fired`` (ran with rows)
FIRED = "fired"
STATUS_CHOICES = (*(s.value for s in Status), FIRED)


@dataclass
class Outcome:
    """What happened to one detection."""

    detection: Detection
    status: Status
    #: the SPL after comments and macros (None when expansion itself failed)
    expanded: str | None = None
    reason: str | None = None
    #: the reason's group for counts: ``command tstats``, ``function foo``, ...
    group: str | None = None
    #: the error, for its position and caret (``error.query`` is the text it points into)
    error: SplError | None = None
    #: things worth knowing that are not failures (KV store lookups read empty, overrides)
    notes: list[str] = field(default_factory=list)
    compiled: CompiledQuery | None = None
    #: the lookup tables compiling it loaded, when it failed (kept with the failure)
    lookups_read: tuple[LookupTable, ...] = ()
    #: the result (``ran``), maybe cut to the first rows; ``row_count`` counts them all
    result: ResultTable | None = None
    row_count: int | None = None
    seconds: float = 0.0

    @property
    def rows(self) -> int | None:
        if self.row_count is not None:
            return self.row_count
        return len(self.result.rows) if self.result is not None else None

    @property
    def fired(self) -> bool:
        return self.status is Status.RAN and bool(self.rows)

    def matches(self, wanted: str) -> bool:
        """Whether this outcome is what ``--status wanted`` selects."""
        return self.fired if wanted == FIRED else self.status.value == wanted

    def describe(self) -> str:
        """The status in a few words: ``ran (3 rows)``, ``unsupported: ...``."""
        if self.status is Status.RAN:
            n = self.rows or 0
            return f"ran ({n} row{'s' if n != 1 else ''})"
        if self.reason:
            return f"{self.status.value}: {self.reason}"
        return self.status.value


_COMMAND = re.compile(r"^command '([^']+)' is not supported$")
_UNKNOWN_COMMAND = re.compile(r"^unknown command '([^']+)'$")
_FUNCTION = re.compile(r"(?:unknown|unsupported) function '?([A-Za-z_][\w.]*)'?")
_FUNCTION_NOT_SUPPORTED = re.compile(r"^(?:function )?'?([A-Za-z_]\w*)\(\)'? is not supported")
_QUOTED = re.compile(r"'([^']*)'")


def group_of(message: str, command: str | None) -> str:
    """A stable label for counting reasons: the command or function named, else the
    message (quoted specifics shortened, numbers as N) prefixed by the command it is in."""
    m = _COMMAND.match(message)
    if m:
        return f"command {m.group(1)}"
    m = _UNKNOWN_COMMAND.match(message)
    if m:
        return f"unknown command {m.group(1)}"
    m = _FUNCTION.search(message) or _FUNCTION_NOT_SUPPORTED.match(message)
    if m:
        return f"function {m.group(1)}"
    text = _QUOTED.sub(_shorten, message)
    return f"{command}: {text}" if command else text


def _shorten(m: re.Match[str]) -> str:
    inner = re.sub(r"(?<==)\d+", "N", m.group(1))
    return f"'{inner}'" if len(inner) <= 24 else "'…'"


def command_at(text: str, pos: int) -> str | None:
    """The name of the command whose text holds offset ``pos`` (the innermost, for a
    subsearch), found by scanning pipes and brackets outside quotes; ``search`` for the
    implicit search that starts a query without a pipe."""
    starts: list[int] = [0]  # where the current command's text starts, per bracket depth
    implicit = True  # the query's first command, written without `|`
    i = 0
    end = min(pos, len(text))
    while i < end:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if ch == "[":
            starts.append(i + 1)
        elif ch == "]" and len(starts) > 1:
            starts.pop()
        elif ch == "|":
            starts[-1] = i + 1
            implicit = implicit and len(starts) > 1
        i += 1
    if implicit and len(starts) == 1:
        return "search"
    m = re.match(r"\s*([A-Za-z_][\w-]*)", text[starts[-1] :])
    return m.group(1).lower() if m else None
