"""``replace``: whole field values swapped for others, with ``*`` wildcards carrying what
they matched (docs/commands.md, C-replace-1..5; Search Reference, replace)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile import wildcards
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.ReplaceCmd, streaming=True)
def replace_(c: Compiler, rel: Relation, cmd: ast.ReplaceCmd) -> Relation:
    if cmd.fields:
        names: list[str] = []
        for f in cmd.fields:
            names += [n for n in wildcards.expand(rel.names(), f) if n not in names]
    else:  # C-replace-4: every field but the internal ones
        names = [n for n in rel.names() if not n.startswith("_")]
    ec = ExprCompiler(rel, c.query, c.now)
    assignments: list[tuple[str, Typed]] = []
    for name in names:
        value = rel.typed(name)
        if value.is_null:
            continue
        if value.kind is Kind.MV:  # C-replace-5: each value
            edited = q.fn("list_transform", value.sql, q.lam(_replaced(q.element(), cmd.pairs)))
            assignments.append((name, Typed(edited, Kind.MV)))
        else:
            assignments.append((name, Typed(_replaced(ec.string(value), cmd.pairs), Kind.STR)))
    return c.b.project(rel, assignments) if assignments else rel


def _replaced(text: exp.Expression, pairs: tuple[tuple[str, str], ...]) -> exp.Expression:
    """C-replace-1..3: the value's replacement, else the value. Exact values first, the
    later pair winning; then wildcard values, the one with the most literal characters
    ("fuller match") winning, ties to the earlier pair."""
    exact = [(old, new) for old, new in reversed(pairs) if "*" not in old]
    wild = sorted(
        (pair for pair in pairs if "*" in pair[0]),
        key=lambda pair: -len(pair[0].replace("*", "")),
    )
    whens: list[tuple[exp.Expression, exp.Expression]] = []
    for old, new in exact:
        whens.append((exp.EQ(this=text, expression=q.string(old)), q.string(new)))
    for old, new in wild:
        regex = wildcards.re2_pattern(old)
        hit = q.fn("regexp_full_match", text, q.string(regex))
        if "*" in new:
            rewrite = "".join(
                re.sub(r"\\", r"\\\\", part) + (f"\\{i + 1}" if i < new.count("*") else "")
                for i, part in enumerate(new.split("*"))
            )
            out: exp.Expression = q.fn("regexp_replace", text, q.string(regex), q.string(rewrite))
        else:
            out = q.string(new)
        whens.append((hit, out))
    return q.case(*whens, default=text)
