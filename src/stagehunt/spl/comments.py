"""SPL comments: ```` ```text``` ```` anywhere in a search, removed before anything else.

Splunk's Search Manual ("Add comments to searches"): a comment is enclosed in three
backticks and "the search processor replaces comments with a space when the search is
run" (``stats```note```count`` runs as ``stats count``). Comments may span lines and
contain quotes (ESCU: ```` ```Changes to the attribute "msDS-KeyCredentialLink" ...``` ````).

Three backticks inside a double-quoted string are part of the string, as a macro call
inside quotes is (the same manual: "Macros inside of quoted values are not expanded");
the manual does not say it for comments: see
``semantics.COMMENT_INSIDE_QUOTES_IS_TEXT``.

A comment is blanked rather than cut: every character but a line break becomes a space,
so offsets (and the caret of an error) still point into the text the user wrote.
"""

from __future__ import annotations

from stagehunt import semantics
from stagehunt.spl.errors import SplSyntaxError

FENCE = "```"


def strip_comments(text: str) -> str:
    """``text`` with every comment blanked out (same length, same line breaks)."""
    if FENCE not in text:
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:  # an escaped character, e.g. \" outside a string
            out.append(text[i : i + 2])
            i += 2
            continue
        if ch == '"' and semantics.COMMENT_INSIDE_QUOTES_IS_TEXT:
            j = end_of_string(text, i)
            out.append(text[i:j])
            i = j
            continue
        if text.startswith(FENCE, i):
            end = text.find(FENCE, i + len(FENCE))
            if end < 0:
                raise SplSyntaxError("unterminated comment: no closing ```", i, text)
            end += len(FENCE)
            out.append("".join(c if c in "\r\n" else " " for c in text[i:end]))
            i = end
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def end_of_string(text: str, i: int) -> int:
    """Offset just past the double-quoted string that opens at ``i`` (backslash escapes
    skipped); the end of ``text`` when it is not closed."""
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == '"':
            return j + 1
        j += 1
    return len(text)
