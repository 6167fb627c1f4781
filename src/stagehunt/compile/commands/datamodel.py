"""``| datamodel M D search|flat`` and ``| from datamodel:M.D``: a data model dataset's
events (docs/cim.md D6, D7; rows built by compile/datamodel.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile import datamodel
from stagehunt.compile.commands.registry import generates
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@generates(ast.DatamodelCmd)
def datamodel_(c: Compiler, cmd: ast.DatamodelCmd) -> Relation:
    knowledge = c.data_knowledge()
    model, obj = datamodel.resolve(c, knowledge, cmd.model, cmd.pos, cmd.dataset)
    if cmd.strict_fields:
        return datamodel.object_rows(
            c, knowledge, model, obj, prefixed=not cmd.flat, extra=("_raw",)
        )
    rel = datamodel.events(c, knowledge, model, obj)
    if cmd.flat:
        return rel
    prefixed = [
        (target, rel.typed(source))
        for source, target in datamodel.dataset_fields(model, obj)
        if target != source
    ]
    return c.b.project(rel, prefixed)


@generates(ast.FromCmd)
def from_(c: Compiler, cmd: ast.FromCmd) -> Relation:
    knowledge = c.data_knowledge()
    model, obj = datamodel.resolve(c, knowledge, cmd.dataset, cmd.dataset_pos)
    return datamodel.object_rows(c, knowledge, model, obj, extra=("_raw",))
