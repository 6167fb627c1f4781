"""``| datamodel Model Dataset search|flat [strict_fields=b]`` and ``| from
datamodel:Model.Dataset`` (Search Reference, "datamodel" and "from"; docs/cim.md D6, D7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, T, Token, unescape_search

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


@command("from", generating=True)
def parse_from(p: Parser, tok: Token) -> ast.FromCmd:
    """``datamodel:"M.D"``, ``datamodel:M.D`` or ``datamodel M.D``."""
    head = p.next(Mode.ARGS)
    if head.type is not T.WORD:
        raise p.error(f"expected a dataset type such as datamodel:, found {head.describe()}", head)
    kind, colon, name = head.text.partition(":")
    if colon and name:
        dataset = Token(T.WORD, name, head.pos + len(kind) + 1, head.end)
    else:
        nxt = p.next(Mode.ARGS)
        if nxt.type not in (T.WORD, T.STRING):
            raise p.error(f"expected a dataset name after {head.text}, found {nxt.describe()}", nxt)
        text = unescape_search(nxt.text) if nxt.type is T.STRING else nxt.text
        dataset = Token(T.WORD, text, nxt.pos, nxt.end)
    p.end_of_command("from")
    if kind.lower() != "datamodel":
        raise SplUnsupportedError(
            f"from {kind}: is not supported (only datamodel:)", head.pos, p.text
        )
    return ast.FromCmd(kind.lower(), dataset.text, tok.pos, dataset.pos)
