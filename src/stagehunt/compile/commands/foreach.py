"""``foreach``: a template of streaming commands run once per matching field, its
placeholders replaced by the field's name and what its wildcards matched (docs/commands.md,
C-foreach-1..5; Search Reference, foreach)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile import wildcards
from stagehunt.compile.commands.registry import is_streaming, transforms
from stagehunt.spl import ast
from stagehunt.spl.errors import SplError
from stagehunt.spl.parser import parse_commands

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.ForeachCmd, streaming=True)
def foreach(c: Compiler, rel: Relation, cmd: ast.ForeachCmd) -> Relation:
    # C-foreach-1: the wildcards match the fields the results have when foreach starts, in
    # their order; `*` does not match internal fields (semantics.FOREACH_SKIPS_INTERNAL)
    targets: list[tuple[str, list[str]]] = []
    for wildcard in cmd.fields:
        for name, _, parts in wildcards.mapping(rel.names(), wildcard, wildcard):
            if "*" in wildcard and name.startswith("_"):
                continue
            if name not in [t[0] for t in targets]:
                targets.append((name, parts))
    for name, parts in targets:
        text = _instance(cmd, name, parts)
        try:
            commands = parse_commands(text)
        except SplError as err:
            raise type(err)(
                f"in foreach for field '{name}': {err.message}", cmd.template_pos, c.query
            ) from None
        for sub in commands:
            if not is_streaming(sub):  # C-foreach-4
                raise c.error("foreach runs streaming commands only (eval, rex, ...)", cmd.pos)
            try:
                rel = c.command(rel, sub)
            except SplError as err:
                if err.query == c.query:
                    raise
                raise type(err)(
                    f"in foreach for field '{name}': {err.message}", cmd.template_pos, c.query
                ) from None
    return rel


def _instance(cmd: ast.ForeachCmd, name: str, parts: list[str]) -> str:
    """C-foreach-2/3: the template with each placeholder replaced."""
    values = {
        "fieldstr": name,
        "matchstr": "".join(parts),
        "matchseg1": parts[0] if len(parts) > 0 else "",
        "matchseg2": parts[1] if len(parts) > 1 else "",
        "matchseg3": parts[2] if len(parts) > 2 else "",
    }
    text = cmd.template
    for option, placeholder in cmd.placeholders:
        text = text.replace(placeholder, values[option])
    return text
