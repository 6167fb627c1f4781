"""``table``: these fields in this order; a field no result has is an empty column (8, T4)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.kinds import Kind
from stagehunt.compile.relation import Field, alias_for, materialize
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.TableCmd)
def table(c: Compiler, rel: Relation, cmd: ast.TableCmd) -> Relation:
    rel = materialize(c.b, rel, rel.matching(cmd.fields))
    fields: list[Field] = []
    pinned: set[str] = set()
    taken = {f.alias.lower() for f in rel.fields} | {h.lower() for h in rel.hidden}
    for name in rel.matching(cmd.fields):
        f = rel.get(name)
        if f is None:
            if not semantics.TABLE_SHOWS_ABSENT_FIELDS:
                continue
            f = Field(name, alias_for(name, taken), Kind.NULL)
        fields.append(f)
        pinned.add(name)
    select = [
        q.alias(q.null_str(), q.ident(f.alias)) if f.kind is Kind.NULL else q.col(f.alias)
        for f in fields
    ] + [q.col(h) for h in rel.hidden]
    source = c.b.add(q.select(*select).from_(exp.to_identifier(rel.source), copy=False))
    return replace(rel, source=source, fields=tuple(fields), pinned=frozenset(pinned), dynamic=())
