"""``| inputlookup NAME``: the lookup's rows; later in a pipeline, ``inputlookup
append=true NAME`` appends them to the results so far."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("inputlookup")
def parse_inputlookup(p: Parser, tok: Token) -> ast.InputlookupCmd:
    first = p.first_command
    append = False
    while (opt := p.option()) is not None:
        if opt[0] == "append":
            append = p.bool_value(opt[1], "append")
    table = p.field_name("a lookup name")
    while (opt := p.option()) is not None:  # options may also follow the name
        if opt[0] == "append":
            append = p.bool_value(opt[1], "append")
    p.end_of_command("inputlookup")
    if not first and not append:
        raise p.error("'inputlookup' must be the first command unless it has append=true", tok)
    return ast.InputlookupCmd(table.text, tok.pos, append=append and not first)
