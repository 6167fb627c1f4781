"""``fields [+|-] f ...``: keep (``_time`` and ``_raw`` too) or remove fields (8)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.relation import materialize
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.FieldsCmd, streaming=True)
def fields(c: Compiler, rel: Relation, cmd: ast.FieldsCmd) -> Relation:
    names = rel.matching(cmd.fields)
    if not cmd.remove:
        rel = materialize(c.b, rel, names)
    if cmd.remove:
        keep = [f for f in rel.fields if f.name not in names]
    else:
        listed = [rel.get(n) for n in names]
        keep = [f for f in listed if f is not None]
        keep += [f for f in rel.fields if f.name in ("_time", "_raw") and f not in keep]
    select = [q.col(f.alias) for f in keep] + [q.col(h) for h in rel.hidden]
    source = c.b.add(q.select(*select).from_(exp.to_identifier(rel.source), copy=False))
    # run-time maps: removed names are masked; `fields +` keeps only what it lists
    dynamic = (
        tuple(replace(d, masked=d.masked | set(names)) for d in rel.dynamic) if cmd.remove else ()
    )
    return replace(
        rel,
        source=source,
        fields=tuple(keep),
        pinned=rel.pinned & {f.name for f in keep},
        dynamic=dynamic,
    )
