"""``bin`` / ``bucket``: floor a field to multiples of a span (compile/binning.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile import binning
from stagehunt.compile.commands.registry import transforms
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.BinCmd, streaming=True)
def bin_(c: Compiler, rel: Relation, cmd: ast.BinCmd) -> Relation:
    return binning.bin_(c.b, rel, cmd, c.query, c.now)
