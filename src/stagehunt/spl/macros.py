"""Search macros: `` `name` `` and `` `name(arg, ...)` `` expanded from a ``macros.conf`` file.

Splunk expands macros textually before parsing, so we do too. Stanzas follow
``macros.conf``: ``[name]`` or ``[name(N)]`` for N arguments, ``definition = ...``
(continuation lines end in a backslash), ``args = a, b`` naming ``$a$``/``$b$`` in the
definition. Comments (```` ```...``` ````) are blanked first, in the query and in each
definition (:mod:`stagehunt.spl.comments`). Outside quotes a backslash escapes the next
character (rule 2.3.2), so ``\\"`` there opens no string and ``\\` `` calls no macro.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from stagehunt import semantics
from stagehunt.conftext import read_conf_text
from stagehunt.spl.comments import end_of_string, strip_comments
from stagehunt.spl.errors import SplLimitError, SplSemanticError, SplSyntaxError

_STANZA = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")


class MacroFileError(ValueError):
    """A macros.conf that cannot be read as text (not UTF-8)."""


class UnknownMacro(SplSemanticError):
    """A macro call that names no macro of the library (name and number of arguments)."""

    def __init__(self, key: str, pos: int, query: str) -> None:
        super().__init__(f"unknown macro `{key}`", pos, query)
        self.key = key


@dataclass(frozen=True)
class Macro:
    name: str
    args: tuple[str, ...]
    definition: str
    #: macros.conf ``description`` (why the macro is there; not used in expansion)
    description: str = ""
    #: an argument written as one double-quoted string is substituted without its quotes
    #: (for definitions that quote ``$arg$`` themselves; not a macros.conf setting)
    unquote_args: bool = False


#: What `MacroLibrary._expand` looks at: an escape, a string's quote, a macro's backtick.
_SPECIAL = re.compile(r'[\\"`]')


class MacroLibrary:
    """Macros by ``name`` (no args) or ``name(N)``."""

    def __init__(self, macros: dict[str, Macro] | None = None) -> None:
        self.macros: dict[str, Macro] = dict(macros or {})

    @classmethod
    def from_file(cls, path: Path) -> MacroLibrary:
        return cls.from_text(read_conf_text(path, MacroFileError))

    @classmethod
    def from_text(cls, text: str) -> MacroLibrary:
        stanzas: dict[str, dict[str, str]] = {}
        current: dict[str, str] | None = None
        key: str | None = None
        continuing = False
        for raw in text.splitlines():
            if continuing and current is not None and key is not None:
                line = raw.rstrip()
                continuing = line.endswith("\\")
                current[key] += "\n" + (line[:-1] if continuing else line)
                continue
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            m = _STANZA.match(line)
            if m:
                current = stanzas.setdefault(m.group("name").strip(), {})
                continue
            if current is None or "=" not in line:
                continue
            key, _, value = line.partition("=")
            key = key.strip()
            value = value.strip()
            continuing = value.endswith("\\")
            current[key] = value[:-1] if continuing else value
        macros: dict[str, Macro] = {}
        for name, body in stanzas.items():
            args = tuple(a.strip() for a in body.get("args", "").split(",") if a.strip())
            macros[name] = Macro(
                name, args, body.get("definition", ""), body.get("description", "")
            )
        return cls(macros)

    def expand(self, query: str, used: list[str] | None = None) -> str:
        """Expand every macro call in ``query`` (recursively), comments blanked first;
        the keys of the macros expanded (``name`` or ``name(N)``) are appended to ``used``."""
        query = strip_comments(query)
        budget = [semantics.MACRO_MAX_EXPANDED_CHARS]
        return self._expand(query, query, (), 0, budget, used)

    def _expand(
        self,
        text: str,
        original: str,
        chain: tuple[str, ...],
        at: int,
        budget: list[int],
        used: list[str] | None = None,
    ) -> str:
        """``text`` with its calls expanded; ``chain`` holds the macros being expanded
        around it, called at ``at`` in ``original``; ``budget`` the characters left."""
        if "`" not in text:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            special = _SPECIAL.search(text, i)  # plain text between is copied whole
            if special is None:
                out.append(text[i:])
                break
            if special.start() > i:
                out.append(text[i : special.start()])
                i = special.start()
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):  # escaped: \" opens no string
                out.append(text[i : i + 2])
                i += 2
                continue
            if ch == '"':  # backticks inside quoted strings are literal
                j = end_of_string(text, i)
                out.append(text[i:j])
                i = j
                continue
            if ch != "`":
                out.append(ch)
                i += 1
                continue
            end = text.find("`", i + 1)
            if end < 0:
                raise SplSyntaxError("unterminated macro: missing closing backtick", i, text)
            call = text[i + 1 : end].strip()
            key, definition = self._substitute(call, i, text, used)
            where = i if not chain else at
            _check_chain((*chain, key), where, original)
            expanded = self._expand(definition, original, (*chain, key), where, budget, used)
            budget[0] -= len(expanded)
            if budget[0] < 0:
                raise SplLimitError(
                    f"macros expand to more than {semantics.MACRO_MAX_EXPANDED_CHARS:,} characters",
                    where,
                    original,
                )
            out.append(expanded)
            i = end + 1
        return "".join(out)

    def _substitute(
        self, call: str, pos: int, text: str, used: list[str] | None = None
    ) -> tuple[str, str]:
        """The key of the macro ``call`` names and its definition, arguments in place."""
        m = re.fullmatch(r"(?P<name>[^()\s]+)\s*(?:\((?P<args>.*)\))?", call, re.S)
        if not m:
            raise SplSyntaxError(f"malformed macro call `{call}`", pos, text)
        name = m.group("name")
        args = _split_args(m.group("args")) if m.group("args") is not None else []
        key = f"{name}({len(args)})" if args else name
        macro = self.macros.get(key)
        if macro is None:
            raise UnknownMacro(key, pos, text)
        if len(macro.args) != len(args):
            raise SplSemanticError(
                f"macro `{key}` declares {len(macro.args)} args but was given {len(args)}",
                pos,
                text,
            )
        if used is not None:
            used.append(key)
        definition = strip_comments(macro.definition)
        for arg_name, value in zip(macro.args, args, strict=True):
            if macro.unquote_args and _one_string(value):
                value = value[1:-1]
            definition = definition.replace(f"${arg_name}$", value)
        return key, definition


def _check_chain(chain: tuple[str, ...], pos: int, query: str) -> None:
    """A macro that (through others) calls itself never ends; a chain deeper than
    semantics.MACRO_MAX_DEPTH is refused too. Both name the calls, from the query's own."""
    last = chain[-1]
    if last in chain[:-1]:
        cycle = chain[chain.index(last) :]
        raise SplSemanticError(f"recursive macro: {_names(cycle)}", pos, query)
    if len(chain) > semantics.MACRO_MAX_DEPTH:
        raise SplLimitError(
            f"macro calls nested deeper than {semantics.MACRO_MAX_DEPTH} levels: {_names(chain)}",
            pos,
            query,
        )


def _names(chain: tuple[str, ...]) -> str:
    """`a` → `b` → `c`; a long chain keeps its first three and last two calls."""
    shown = [f"`{k}`" for k in chain]
    if len(shown) > 6:
        shown = [*shown[:3], "…", *shown[-2:]]
    return " → ".join(shown)


def _one_string(text: str) -> bool:
    return len(text) >= 2 and text[0] == '"' and end_of_string(text, 0) == len(text)


def _split_args(text: str) -> list[str]:
    args: list[str] = []
    depth = 0
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            j = end_of_string(text, i)
            current.append(text[i:j])
            i = j
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    args.append("".join(current).strip())
    return args
