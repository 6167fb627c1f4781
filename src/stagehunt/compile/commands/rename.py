"""``rename old AS new``: ``*`` wildcards carry what they matched (``Processes.* AS *``);
renaming an absent field onto an existing one leaves the target null (8, rename)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from stagehunt.compile.commands.registry import transforms
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.RenameCmd, streaming=True)
def rename(c: Compiler, rel: Relation, cmd: ast.RenameCmd) -> Relation:
    for old, new in cmd.pairs:
        for src, dst in _mapping(rel, old, new):
            if src != dst:
                rel = c.b.project(rel, [(dst, rel.typed(src))], drop={src})
    return rel


def _mapping(rel: Relation, old: str, new: str) -> list[tuple[str, str]]:
    if "*" not in old:
        return [(old, new)]
    regex = re.compile("^" + "(.*)".join(re.escape(p) for p in old.split("*")) + "$")
    mapping: list[tuple[str, str]] = []
    for f in rel.fields:
        m = regex.match(f.name)
        if m:
            target = new
            for g in m.groups():
                target = target.replace("*", g, 1)
            mapping.append((f.name, target))
    return mapping
