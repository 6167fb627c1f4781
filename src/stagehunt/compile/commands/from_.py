"""``| from <type>:<name>``: ``datamodel:`` gives the dataset's rows as ``datamodel ...
search`` does (docs/cim.md D7), ``lookup:``/``inputlookup:`` the lookup's rows as inputlookup
gives them (F1); other dataset types are refused with the reason (F2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile import datamodel
from stagehunt.compile.commands.registry import generates
from stagehunt.compile.lookup import LookupCompiler
from stagehunt.spl import ast
from stagehunt.spl.errors import SplUnsupportedError

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@generates(ast.FromCmd)
def from_(c: Compiler, cmd: ast.FromCmd) -> Relation:
    if cmd.dataset_type in ("lookup", "inputlookup"):
        node = ast.InputlookupCmd(cmd.name, cmd.pos)
        return LookupCompiler(c.b, c.lookups, c.query).inputlookup(node)
    if cmd.dataset_type == "datamodel":
        knowledge = c.data_knowledge()
        model, obj = datamodel.resolve(c, knowledge, cmd.name, cmd.name_pos)
        return datamodel.object_rows(c, knowledge, model, obj, extra=("_raw",))
    raise SplUnsupportedError(
        f"from {cmd.dataset_type}: is not supported: only datamodel:, lookup: and "
        "inputlookup: datasets exist here (saved searches, views and indexes do not)",
        cmd.pos,
        c.query,
    )
