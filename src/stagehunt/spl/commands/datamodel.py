"""``| datamodel Model Dataset search|flat [strict_fields=b]`` and ``| from
datamodel:Model.Dataset`` (Search Reference, "datamodel" and "from"; docs/cim.md D6, D7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser

_OPTIONS = ("strict_fields", "allow_old_summaries", "summariesonly")


@command("datamodel", generating=True)
def parse_datamodel(p: Parser, tok: Token) -> ast.DatamodelCmd:
    words: list[Token] = []
    strict = True
    while not p.at_command_end():
        opt = p.option()
        if opt is not None:
            name, value = opt
            if name not in _OPTIONS:
                raise p.error(f"unknown datamodel option '{name}'", value)
            if name == "strict_fields":
                strict = p.bool_value(value, name)
            else:
                p.bool_value(value, name)
            continue
        words.append(p.field_name("a data model, dataset or search mode"))
    p.end_of_command("datamodel")
    if len(words) < 3:
        raise SplUnsupportedError(
            "datamodel without a search mode returns the model's JSON, which is not "
            "supported; use 'datamodel MODEL DATASET search' (or flat)",
            tok.pos,
            p.text,
        )
    if len(words) > 3:
        raise p.error(f"unexpected '{words[3].text}' in datamodel", words[3])
    mode = words[2].text.lower()
    if mode not in ("search", "flat"):
        raise SplUnsupportedError(
            f"datamodel search mode '{words[2].text}' is not supported (search, flat)",
            words[2].pos,
            p.text,
        )
    return ast.DatamodelCmd(words[0].text, words[1].text, mode == "flat", strict, tok.pos)
