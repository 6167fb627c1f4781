"""``append [maxout=] [maxtime=] [extendtimerange=] [subsearch]`` and
``appendpipe [run_in_preview=] [subpipeline]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt import semantics
from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("append")
def parse_append(p: Parser, tok: Token) -> ast.AppendCmd:
    maxout = semantics.APPEND_SUBSEARCH_MAXOUT
    while (opt := p.option()) is not None:
        name, value = opt
        if name == "maxout":
            maxout = p.int_value(value, name)
        elif name == "maxtime":
            p.int_value(value, name)  # a time budget: nothing to cut here (rule A1)
        elif name == "extendtimerange":
            p.bool_value(value, name)  # no time picker: there is no range to extend
        else:
            raise p.error(f"unknown append option '{name}'", value)
    subsearch, _ = p.subsearch("append")
    p.end_of_command("append")
    return ast.AppendCmd(subsearch, maxout, tok.pos)


@command("appendpipe")
def parse_appendpipe(p: Parser, tok: Token) -> ast.AppendpipeCmd:
    while (opt := p.option()) is not None:
        if opt[0] != "run_in_preview":
            raise p.error(f"unknown appendpipe option '{opt[0]}'", opt[1])
    open_ = p.next(Mode.ARGS)
    if open_.type is not T.LBRACKET:
        raise p.error(f"appendpipe needs a [subpipeline], found {open_.describe()}", open_)
    # the subpipeline's commands run on the current results: its first command needs no
    # leading pipe (`appendpipe [stats count]`) and is never a search over the index
    commands: list[ast.Command] = []
    if p.peek(Mode.ARGS).type is T.PIPE:
        p.next(Mode.ARGS)
    while True:
        if p.peek(Mode.ARGS).type is T.RBRACKET:
            raise p.error("appendpipe needs a command in its [subpipeline]", p.peek(Mode.ARGS))
        commands.append(p.parse_command(first_command=False))
        nxt = p.next(Mode.ARGS)
        if nxt.type is T.RBRACKET:
            break
        if nxt.type is not T.PIPE:
            raise p.error(f"expected '|' or ']' in appendpipe, found {nxt.describe()}", nxt)
    p.end_of_command("appendpipe")
    return ast.AppendpipeCmd(tuple(commands), tok.pos)
