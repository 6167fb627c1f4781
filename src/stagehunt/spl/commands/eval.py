"""``eval f=expr, g=expr``: assignments, left to right (§3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token, unescape_search

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("eval")
def parse_eval(p: Parser, tok: Token) -> ast.EvalCmd:
    assignments: list[ast.Assignment] = []
    while True:
        target = p.next(Mode.ARGS)
        if target.type is T.STRING:
            name = unescape_search(target.text)
        elif target.type is T.WORD:
            name = target.text
            if name.startswith("'"):
                if not name.endswith("'") or len(name) < 2:
                    raise p.error("unterminated '-quoted field name", target)
                name = name[1:-1]
        else:
            raise p.error(f"expected a field name to assign, found {target.describe()}", target)
        eq = p.next(Mode.ARGS)
        if eq.type is not T.OP or eq.text != "=":
            raise p.error(f"expected '=' after '{name}' in eval, found {eq.describe()}", eq)
        if p.at_command_end(Mode.EVAL) or p.peek(Mode.EVAL).type is T.COMMA:
            raise p.error(f"expected an expression after '{name}='", p.peek(Mode.EVAL))
        expr = p.expression()
        assignments.append(ast.Assignment(name, expr, target.pos))
        sep = p.peek(Mode.EVAL)
        if sep.type is T.COMMA:
            p.next(Mode.EVAL)
            continue
        if sep.type in (T.PIPE, T.EOF, T.RBRACKET):
            return ast.EvalCmd(tuple(assignments), tok.pos)
        raise p.error(f"unexpected {sep.describe()} in eval; expected ',' or '|'", sep)
