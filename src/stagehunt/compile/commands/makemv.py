"""``makemv``: a field's value split into a multivalue field by a delimiter or by a
tokenizer's first group (docs/commands.md, C-makemv-1..4; Search Reference, makemv)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.regex import translate
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.MakemvCmd, streaming=True)
def makemv(c: Compiler, rel: Relation, cmd: ast.MakemvCmd) -> Relation:
    value = rel.typed(cmd.field)
    if value.is_null:
        return rel
    if cmd.tokenizer is not None:
        regex = translate(cmd.tokenizer, cmd.pos, c.query).text

        def split(text: exp.Expression) -> exp.Expression:
            return q.fn("regexp_extract_all", text, q.string(regex), q.number(1))
    else:

        def split(text: exp.Expression) -> exp.Expression:
            return q.fn("string_split", text, q.string(cmd.delim))

    if value.kind is Kind.MV:  # C-makemv-4: each value split, the pieces in order
        pieces = q.fn("flatten", q.fn("list_transform", value.sql, q.lam(split(q.element()))))
    else:
        pieces = split(ExprCompiler(rel, c.query, c.now).string(value))
    if not cmd.allowempty:  # C-makemv-3
        pieces = q.fn(
            "list_filter", pieces, q.lam(exp.NEQ(this=q.element(), expression=q.string("")))
        )
    nonempty = exp.GT(this=q.list_len(pieces), expression=q.number(0))
    return c.b.project(rel, [(cmd.field, Typed(q.case((nonempty, pieces)), Kind.MV))])
