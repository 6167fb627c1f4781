"""``lookup``: enrich results from a lookup table (compile/lookup.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.lookup import LookupCompiler
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.LookupCmd, streaming=True)
def lookup(c: Compiler, rel: Relation, cmd: ast.LookupCmd) -> Relation:
    return LookupCompiler(c.b, c.lookups, c.query).lookup(rel, cmd)
