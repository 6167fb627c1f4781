"""``spath [input=<field>] [output=<field>] [path=<datapath> | <datapath>]``, ``fromjson``,
``xmlkv``, ``extract``/``kv`` and ``multikv`` (docs/commands.md, C-spath, C-fromjson,
C-xmlkv, C-extract)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("spath")
def parse_spath(p: Parser, tok: Token) -> ast.SpathCmd:
    source = "_raw"
    output: str | None = None
    path: str | None = None
    while not p.at_command_end():
        opt = p.option()
        if opt is None:
            if path is not None:
                raise p.error("spath takes one path", p.peek(Mode.ARGS))
            path = p.field_name("a path").text
            continue
        name, value = opt
        if name == "input":
            source = value.text
        elif name == "output":
            output = value.text
        elif name == "path":
            path = value.text
        else:
            raise p.error(f"unknown spath option '{name}'", value)
    return ast.SpathCmd(source, output, path, tok.pos)


@command("fromjson")
def parse_fromjson(p: Parser, tok: Token) -> ast.FromjsonCmd:
    field: str | None = None
    prefix = ""
    while not p.at_command_end():
        opt = p.option()
        if opt is None:
            if field is not None:
                raise p.error("fromjson takes one field", p.peek(Mode.ARGS))
            field = p.field_name("the field holding JSON").text
            continue
        if opt[0] != "prefix":
            raise p.error(f"unknown fromjson option '{opt[0]}'", opt[1])
        prefix = opt[1].text
    if field is None:
        raise p.error("'fromjson' needs a field", tok)
    return ast.FromjsonCmd(field, prefix, tok.pos)


@command("xmlkv")
def parse_xmlkv(p: Parser, tok: Token) -> ast.XmlkvCmd:
    field = "_raw"
    while not p.at_command_end():
        opt = p.option()
        if opt is None:
            field = p.field_name("the field holding XML").text
            continue
        if opt[0] != "maxinputs":  # C-xmlkv-2: a batching hint, no effect on results
            raise p.error(f"unknown xmlkv option '{opt[0]}'", opt[1])
        p.int_value(opt[1], "maxinputs")
    return ast.XmlkvCmd(field, tok.pos)


@command("extract", "kv")
def parse_extract(p: Parser, tok: Token) -> ast.ExtractCmd:
    opts: dict[str, Token] = {}
    while not p.at_command_end():
        opt = p.option()
        if opt is None:
            bad = p.peek(Mode.ARGS)
            raise SplUnsupportedError(
                f"{tok.text} with transforms.conf stanza names is not supported", bad.pos, p.text
            )
        if opt[0] not in ("pairdelim", "kvdelim"):
            raise SplUnsupportedError(
                f"{tok.text} option '{opt[0]}' is not supported", opt[1].pos, p.text
            )
        opts[opt[0]] = opt[1]
    pair = opts.get("pairdelim")
    kv = opts.get("kvdelim")
    if (pair is None) != (kv is None):
        missing = "kvdelim" if kv is None else "pairdelim"
        raise SplUnsupportedError(f"{tok.text} needs {missing}= too", tok.pos, p.text)
    return ast.ExtractCmd(pair.text if pair else None, kv.text if kv else None, tok.pos)


@command("multikv")
def parse_multikv(p: Parser, tok: Token) -> ast.Command:
    raise SplUnsupportedError(
        "multikv (tables in an event's text) is not supported", tok.pos, p.text
    )
