"""``addtotals [row=<b>] [col=<b>] [labelfield=<f>] [label=<s>] [fieldname=<f>]
[<field-list>]`` (docs/commands.md, C-addtotals)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("addtotals")
def parse_addtotals(p: Parser, tok: Token) -> ast.AddtotalsCmd:
    row, col = True, False
    labelfield: str | None = None
    label, fieldname = "Total", "Total"
    fields: list[str] = []
    while not p.at_command_end():
        if p.peek(Mode.ARGS).type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        opt = p.option()
        if opt is None:
            fields.append(p.field_name("a field to add up").text)
            continue
        name, value = opt
        if name == "row":
            row = p.bool_value(value, "row")
        elif name == "col":
            col = p.bool_value(value, "col")
        elif name == "labelfield":
            labelfield = value.text
        elif name == "label":
            label = value.text
        elif name == "fieldname":
            fieldname = value.text
        else:
            raise p.error(f"unknown addtotals option '{name}'", value)
    return ast.AddtotalsCmd(row, col, labelfield, label, fieldname, tuple(fields), tok.pos)
