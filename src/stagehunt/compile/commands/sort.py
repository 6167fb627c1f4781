"""``sort``: Splunk's comparison per key (7.4), missing values last (7.5), stable (7.6),
at most 10,000 results unless a count is given (7.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt import semantics
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.ordering import renumber, sort_order
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.SortCmd)
def sort(c: Compiler, rel: Relation, cmd: ast.SortCmd) -> Relation:
    limit = semantics.SORT_DEFAULT_LIMIT if cmd.limit is None else cmd.limit
    return renumber(c.b, rel, sort_order(rel, cmd.keys, cmd.reverse), limit or None)
