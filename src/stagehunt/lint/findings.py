"""What the linter reports: one located, explained, fixable problem per finding."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One problem in a query.

    ``pos`` is the offset into the query text; ``line``/``column`` (1-based) are derived
    from it so a CLI can print them and an editor can jump there. ``message`` says what goes
    wrong at run time (one line), ``fix`` what to write instead.
    """

    rule: str
    pos: int
    line: int
    column: int
    message: str
    fix: str

    def render(self) -> str:
        """``line:column RULE message`` then the fix, as the CLI prints a finding."""
        return f"{self.line}:{self.column} {self.rule} {self.message}\n    fix: {self.fix}"


def line_column(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of offset ``pos`` (same convention as `SplError`)."""
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


def make(rule: str, text: str, pos: int, message: str, fix: str) -> Finding:
    """A finding at ``pos`` of ``text``, with line/column filled in."""
    line, column = line_column(text, pos)
    return Finding(rule, pos, line, column, message, fix)
