"""``rename old AS new``: ``*`` wildcards carry what they matched (``Processes.* AS *``);
renaming an absent field onto an existing one leaves the target null (8, rename)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import dynamic, wildcards
from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.kinds import Typed
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.RenameCmd, streaming=True)
def rename(c: Compiler, rel: Relation, cmd: ast.RenameCmd) -> Relation:
    names = [f.name for f in rel.fields]  # the fields in place, renamed as we go
    values: dict[str, Typed] = {f.name: rel.typed(f.name) for f in rel.fields}
    changed = False
    for old, new in cmd.pairs:
        for src, dst in _mapping(names, old, new):
            if src != dst:
                changed = True
                _rename_field(names, values, src, dst)
        if "*" in old and rel.dynamic:
            if changed:
                rel, changed = _project(c, rel, names, values), False
            rel = _rename_dynamic(c, rel, old, new)
            names = [f.name for f in rel.fields]
            values = {f.name: rel.typed(f.name) for f in rel.fields}
    return _project(c, rel, names, values) if changed else rel


def _rename_field(names: list[str], values: dict[str, Typed], src: str, dst: str) -> None:
    """``dst`` takes ``src``'s value and its place among the fields; a field already
    called ``dst`` goes (when ``src`` is absent, ``dst`` is left null: 8, rename)."""
    if dst in values:
        names.remove(dst)
        del values[dst]
    if src not in values:
        return
    names[names.index(src)] = dst
    values[dst] = values.pop(src)


def _project(c: Compiler, rel: Relation, names: list[str], values: dict[str, Typed]) -> Relation:
    """One CTE with the fields under their new names, in their places."""
    return c.b.project(rel, [(n, values[n]) for n in names], drop={f.name for f in rel.fields})


def _rename_dynamic(c: Compiler, rel: Relation, old: str, new: str) -> Relation:
    """Fields named at run time (spath, xmlkv, ...) that the wildcard matches: a new map of
    them under their new names (docs/commands.md, "Fields named at run time")."""
    regex = wildcards.re2_pattern(old)
    rewrite = "".join(
        part.replace("\\", "\\\\") + (f"\\{i + 1}" if i < new.count("*") else "")
        for i, part in enumerate(new.split("*"))
    )
    merged = (
        q.fn("map_concat", *[q.col(d.column) for d in rel.dynamic])
        if len(rel.dynamic) > 1
        else q.col(rel.dynamic[0].column)
    )
    entry = q.element()
    key = exp.Dot(this=entry, expression=exp.to_identifier("key"))
    value = exp.Dot(this=entry, expression=exp.to_identifier("value"))
    matching = q.fn(
        "list_filter",
        q.fn("map_entries", merged),
        q.lam(q.fn("regexp_full_match", key, q.string(regex))),
    )
    renamed = q.fn(
        "list_transform",
        matching,
        q.lam(
            exp.Struct(
                expressions=[
                    exp.PropertyEQ(
                        this=exp.to_identifier("key"),
                        expression=q.fn("regexp_replace", key, q.string(regex), q.string(rewrite)),
                    ),
                    exp.PropertyEQ(this=exp.to_identifier("value"), expression=value),
                ]
            )
        ),
    )
    return dynamic.add_map(c.b, rel, q.fn("map_from_entries", renamed))


def _mapping(names: list[str], old: str, new: str) -> list[tuple[str, str]]:
    if "*" not in old:
        return [(old, new)]
    regex = re.compile("^" + "(.*)".join(re.escape(p) for p in old.split("*")) + "$")
    mapping: list[tuple[str, str]] = []
    for name in list(names):
        m = regex.match(name)
        if m:
            target = new
            for g in m.groups():
                target = target.replace("*", g, 1)
            mapping.append((name, target))
    return mapping
