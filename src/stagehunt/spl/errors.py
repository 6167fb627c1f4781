"""Located errors: every problem in a query names its line, column and shows a caret."""

from __future__ import annotations


class SplError(Exception):
    """A problem with an SPL query at a known offset.

    ``message`` is one line; ``render()`` adds the query line and a caret under the
    offending character so the user sees where to look.
    """

    kind = "syntax error"

    def __init__(self, message: str, pos: int, query: str) -> None:
        super().__init__(message)
        self.message = message
        self.pos = max(0, min(pos, len(query)))
        self.query = query

    @property
    def line(self) -> int:
        return self.query.count("\n", 0, self.pos) + 1

    @property
    def column(self) -> int:
        return self.pos - (self.query.rfind("\n", 0, self.pos) + 1) + 1

    def one_line(self) -> str:
        """The message with its position, e.g. ``syntax error at line 1, column 5: ...``."""
        return f"{self.kind} at line {self.line}, column {self.column}: {self.message}"

    def render(self) -> str:
        """One-line message, then the offending query line with a caret under the position."""
        start = self.query.rfind("\n", 0, self.pos) + 1
        end = self.query.find("\n", self.pos)
        text = self.query[start : end if end >= 0 else len(self.query)]
        caret = " " * (self.column - 1) + "^"
        return f"{self.one_line()}\n  {text}\n  {caret}"

    def __str__(self) -> str:
        return self.one_line()


class SplSyntaxError(SplError):
    """The query does not parse."""


class SplUnsupportedError(SplError):
    """The query parses but uses something the engine does not run (yet).

    ``needs`` names what is missing when the command itself is understood but has nothing
    to run on here ("a GeoIP database", "a metrics store"), so that a census can count
    those apart from commands not built yet."""

    kind = "not supported"

    def __init__(self, message: str, pos: int, query: str, *, needs: str | None = None) -> None:
        super().__init__(message, pos, query)
        self.needs = needs


class SplSemanticError(SplError):
    """The query parses but is invalid (unknown function, wrong argument count, ...)."""

    kind = "error"


class SplLimitError(SplError):
    """The query goes past a documented limit of stagehunt (nesting depth, a generator's
    count, a number the engines cannot hold: docs/reliability.md)."""

    kind = "error"
