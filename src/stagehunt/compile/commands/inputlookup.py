"""``| inputlookup NAME``: the lookup's rows as results, in file order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile.commands.registry import generates
from stagehunt.compile.lookup import LookupCompiler
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@generates(ast.InputlookupCmd)
def inputlookup(c: Compiler, cmd: ast.InputlookupCmd) -> Relation:
    return LookupCompiler(c.b, c.lookups, c.query).inputlookup(cmd)
