"""``| inputlookup NAME``: the lookup's rows as results, in file order; ``inputlookup
append=true NAME`` later in a pipeline: those rows after the results so far (L1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile.combine import stack
from stagehunt.compile.commands.registry import generates, transforms
from stagehunt.compile.lookup import LookupCompiler
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@generates(ast.InputlookupCmd)
def inputlookup(c: Compiler, cmd: ast.InputlookupCmd) -> Relation:
    return LookupCompiler(c.b, c.lookups, c.query).inputlookup(cmd)


@transforms(ast.InputlookupCmd)
def inputlookup_append(c: Compiler, rel: Relation, cmd: ast.InputlookupCmd) -> Relation:
    rows = LookupCompiler(c.b, c.lookups, c.query).inputlookup(cmd)
    return stack(c.b, [rel, rows])
