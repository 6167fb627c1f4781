"""``append``: the subsearch's results after the current ones (A1-A3);
``appendpipe``: the subpipeline run over the current results, its output after them
(A4). Fields any side has are kept, null elsewhere, one kind per field (compile/combine.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile.combine import limit, stack
from stagehunt.compile.commands.registry import transforms
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.AppendCmd)
def append(c: Compiler, rel: Relation, cmd: ast.AppendCmd) -> Relation:
    sub = limit(c.b, c.pipeline(cmd.subsearch), cmd.maxout)
    return stack(c.b, [rel, sub], events=rel.events and sub.events)


@transforms(ast.AppendpipeCmd)
def appendpipe(c: Compiler, rel: Relation, cmd: ast.AppendpipeCmd) -> Relation:
    sub = rel
    for command in cmd.commands:
        sub = c.command(sub, command)
    return stack(c.b, [rel, sub], events=rel.events and sub.events)
