"""Tokenizer for SPL.

SPL has no single token grammar: ``TargetFilename=*\\Temp\\*`` is one value in a
``search``, while ``a-b`` is a subtraction in ``eval``. The parser therefore asks the
scanner for the next token *in a mode*: ``SEARCH`` (search terms), ``EVAL`` (expression
language) or ``ARGS`` (command arguments and field lists). Tokens carry their offset into
the query so every error can point at the character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from stagehunt.spl.errors import SplSyntaxError


class Mode(Enum):
    SEARCH = "search"
    EVAL = "eval"
    ARGS = "args"


class T(Enum):
    """Token types."""

    WORD = "word"  # bare word (SEARCH/ARGS), identifier (EVAL)
    STRING = "string"  # "double quoted", raw text between the quotes kept
    QFIELD = "qfield"  # 'single quoted' field name (EVAL)
    NUMBER = "number"  # EVAL only
    OP = "op"  # = == != < > <= >= + - * / % . (per mode)
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    PIPE = "|"
    LBRACKET = "["
    RBRACKET = "]"
    EOF = "end of query"


@dataclass(frozen=True)
class Token:
    type: T
    text: str  # for STRING/QFIELD: the content between the quotes, escapes unprocessed
    pos: int
    end: int

    def describe(self) -> str:
        """The token as an error message names it; a long one is cut (the query line
        under the message shows it whole)."""
        if self.type is T.EOF:
            return "end of query"
        text = self.text if len(self.text) <= _DESCRIBE_CHARS else self.text[:_DESCRIBE_CHARS] + "…"
        if self.type is T.STRING:
            return f'"{text}"'
        return f"'{text}'"


#: characters of a token an error message repeats
_DESCRIBE_CHARS = 40

_PUNCT = {
    "(": T.LPAREN,
    ")": T.RPAREN,
    ",": T.COMMA,
    "|": T.PIPE,
    "[": T.LBRACKET,
    "]": T.RBRACKET,
}
_COMPARISONS = ("<=", ">=", "!=", "==", "=", "<", ">")
_EVAL_OPS = (*_COMPARISONS, "+", "-", "*", "/", "%", ".")
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Characters that end a bare word in SEARCH / ARGS mode.
_SEARCH_STOP = set(' \t\r\n()|[]"=<>,')
_ARGS_STOP = set(' \t\r\n()|[]"=,')


class Scanner:
    """Mode-switching scanner over the whole query text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        #: the last token scanned, by (position, mode): the parser peeks before it takes
        self._last: tuple[int, Mode, Token] | None = None

    # -- public -----------------------------------------------------------------
    def peek(self, mode: Mode) -> Token:
        return self._cached(self.pos, mode)

    def next(self, mode: Mode) -> Token:
        tok = self._cached(self.pos, mode)
        self.pos = tok.end
        return tok

    def _cached(self, pos: int, mode: Mode) -> Token:
        last = self._last
        if last is not None and last[0] == pos and last[1] is mode:
            return last[2]
        tok = self._scan(pos, mode)
        self._last = (pos, mode, tok)
        return tok

    def at_space(self) -> bool:
        """True when the next character is whitespace (juxtaposition matters in a few places)."""
        return self.pos < len(self.text) and self.text[self.pos].isspace()

    def error(self, message: str, pos: int | None = None) -> SplSyntaxError:
        return SplSyntaxError(message, self.pos if pos is None else pos, self.text)

    # -- scanning ---------------------------------------------------------------
    def _skip_space(self, i: int) -> int:
        text = self.text
        while i < len(text) and text[i].isspace():
            i += 1
        return i

    def _scan(self, start: int, mode: Mode) -> Token:
        text = self.text
        i = self._skip_space(start)
        if i >= len(text):
            return Token(T.EOF, "", i, i)
        c = text[i]
        if c in _PUNCT:
            return Token(_PUNCT[c], c, i, i + 1)
        if c == '"':
            return self._quoted(i, '"', T.STRING)
        if mode is Mode.EVAL:
            return self._scan_eval(i)
        for op in _COMPARISONS:
            if not text.startswith(op, i):
                continue
            if mode is Mode.ARGS and op not in ("=", "!="):
                break  # '<' and '>' are ordinary characters in command arguments
            return Token(T.OP, op, i, i + len(op))
        stop = _SEARCH_STOP if mode is Mode.SEARCH else _ARGS_STOP
        j = i
        while j < len(text):
            ch = text[j]
            if ch in stop:
                break
            if ch == "!" and text.startswith("!=", j):
                break
            if ch == "\\" and j + 1 < len(text):
                j += 2  # an escaped character never ends a word
                continue
            j += 1
        if j == i:  # a lone stop character in ARGS mode such as '<'
            j = i + 1
        return Token(T.WORD, text[i:j], i, j)

    def _scan_eval(self, i: int) -> Token:
        text = self.text
        c = text[i]
        if c == "'":
            return self._quoted(i, "'", T.QFIELD)
        m = _NUMBER.match(text, i)
        if m and (c.isdigit() or (c == "." and m.end() > i + 1 and not self._after_value(i))):
            return Token(T.NUMBER, m.group(), i, m.end())
        m = _IDENT.match(text, i)
        if m:
            return Token(T.WORD, m.group(), i, m.end())
        for op in _EVAL_OPS:
            if text.startswith(op, i):
                return Token(T.OP, op, i, i + len(op))
        raise self.error(f"unexpected character {c!r} in expression", i)

    def _after_value(self, i: int) -> bool:
        """True when the text before ``i`` ends a value, so a ``.`` there is concatenation."""
        j = i - 1
        while j >= 0 and self.text[j].isspace():
            j -= 1
        return j >= 0 and (self.text[j].isalnum() or self.text[j] in "\"')_")

    def _quoted(self, i: int, quote: str, kind: T) -> Token:
        text = self.text
        j = i + 1
        while j < len(text):
            ch = text[j]
            if ch == "\\" and j + 1 < len(text):
                j += 2
                continue
            if ch == quote:
                return Token(kind, text[i + 1 : j], i, j + 1)
            j += 1
        raise self.error(f"unterminated {quote}-quoted string", i)


def unescape_search(raw: str) -> str:
    """Search-string escapes (rule 2.3.2): ``\\\\``, ``\\"`` and backslash-pipe are
    expanded; any other backslash sequence is left as it is (``\\T`` stays ``\\T``)."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw) and raw[i + 1] in '\\"|':
            out.append(raw[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def unescape_eval(raw: str) -> str:
    """Eval string-literal escapes (rule 3.2): ``\\\\``, ``\\"`` and ``\\t`` (TAB);
    unknown sequences such as ``\\d`` or ``\\.`` pass through unchanged for PCRE."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            if nxt in '\\"':
                out.append(nxt)
                i += 2
                continue
            if nxt == "t":
                out.append("\t")
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)
