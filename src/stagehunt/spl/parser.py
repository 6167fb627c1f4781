"""Recursive-descent parser: SPL text → :class:`~stagehunt.spl.ast.Pipeline`.

The parser holds what commands share: the pipeline, search expressions, eval
expressions and argument helpers; each command's own arguments are read by its module in
:mod:`stagehunt.spl.commands`. Search expressions use search precedence (rule 2.1.2: ``NOT`` >
``OR`` > ``AND``); eval expressions use eval precedence (rule 3.3: ``NOT`` > ``AND`` > ``OR``
> ``XOR``). Unknown commands are errors naming the command and its position.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stagehunt import semantics
from stagehunt.recursion import ensure_room
from stagehunt.spl import ast
from stagehunt.spl.commands import PARSERS, SPLUNK_COMMANDS, SPLUNK_GENERATING
from stagehunt.spl.errors import SplLimitError, SplSyntaxError, SplUnsupportedError
from stagehunt.spl.lexer import Mode, Scanner, T, Token, unescape_eval, unescape_search

#: ``bin span=`` time units in seconds (Splunk's spellings); months are calendar spans.
_SPAN_UNITS: dict[str, float] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
    **dict.fromkeys(("d", "day", "days"), 86400.0),
}
_MONTH_UNITS = frozenset(("mon", "month", "months"))
_SPAN = re.compile(r"(\d+(?:\.\d+)?)([A-Za-z]*)")
_WHOLE = re.compile(r"[+-]?[0-9]+")
_TRUE_WORDS = {"true", "t", "1", "yes"}
#: words that are operators even before '(' (``NOT (a=1)``); LIKE and IN are also functions
_OPERATOR_WORDS = frozenset(("AND", "OR", "XOR", "NOT"))
_FALSE_WORDS = {"false", "f", "0", "no"}


class Parser:
    """Parses one query. Use :func:`parse`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.s = Scanner(text)
        #: whether the command being parsed opens its pipeline (for commands that may
        #: either generate or append, such as ``inputlookup append=t``)
        self.first_command = True
        #: levels of nesting open at the current token (semantics.SPL_MAX_NESTING)
        self.depth = 0
        #: subsearches open at the current token (semantics.SPL_MAX_SUBSEARCH_NESTING)
        self.subsearches = 0

    # ------------------------------------------------------------------ helpers
    def deeper(self, tok: Token) -> None:
        """One more level of nesting opens at ``tok``; past the limit the query is refused
        there, which bounds every later stage's recursion (recursion.py)."""
        self.depth += 1
        if self.depth > semantics.SPL_MAX_NESTING:
            raise SplLimitError(
                f"nesting deeper than {semantics.SPL_MAX_NESTING} levels (parentheses, "
                "brackets, function calls and operators inside one another)",
                tok.pos,
                self.text,
            )

    def shallower(self, levels: int = 1) -> None:
        self.depth -= levels

    def peek(self, mode: Mode) -> Token:
        return self.s.peek(mode)

    def next(self, mode: Mode) -> Token:
        return self.s.next(mode)

    def error(self, message: str, tok: Token | int) -> SplSyntaxError:
        pos = tok if isinstance(tok, int) else tok.pos
        return SplSyntaxError(message, pos, self.text)

    def expect(self, ttype: T, mode: Mode, what: str) -> Token:
        tok = self.next(mode)
        if tok.type is not ttype:
            raise self.error(f"expected {what}, found {tok.describe()}", tok)
        return tok

    def at_keyword(self, mode: Mode, *words: str, case: bool = False) -> bool:
        tok = self.peek(mode)
        if tok.type is not T.WORD:
            return False
        text = tok.text if case else tok.text.lower()
        return text in words

    def at_command_end(self, mode: Mode = Mode.ARGS) -> bool:
        return self.peek(mode).type in (T.PIPE, T.EOF, T.RBRACKET)

    # ------------------------------------------------------------------ pipeline
    def parse_pipeline(self, nested: bool = False) -> ast.Pipeline:
        commands: list[ast.Command] = []
        first = self.peek(Mode.SEARCH)
        if nested:
            self.deeper(first)
            self.subsearches += 1
            if self.subsearches > semantics.SPL_MAX_SUBSEARCH_NESTING:
                raise SplLimitError(
                    f"subsearches nested deeper than {semantics.SPL_MAX_SUBSEARCH_NESTING} levels",
                    first.pos,
                    self.text,
                )
        if first.type is T.PIPE:
            self.next(Mode.SEARCH)
            commands.append(self.parse_command(first_command=True))
        elif (
            first.type is T.WORD
            and first.text.lower() == "search"
            and self._word_stands_alone(first)
        ):
            self.next(Mode.SEARCH)  # an explicit leading `search` is the implicit one
            commands.append(self.parse_search(first.pos))
        elif nested and self._names_generating_command(first):
            commands.append(self.parse_command(first_command=True))
        else:
            commands.append(self.parse_search(first.pos))
        while True:
            tok = self.peek(Mode.ARGS)
            if tok.type is T.EOF:
                if nested:
                    raise self.error("unterminated subsearch: expected ']'", tok)
                break
            if tok.type is T.RBRACKET:
                if not nested:
                    raise self.error("unexpected ']' without a subsearch '['", tok)
                break
            if tok.type is not T.PIPE:
                raise self.error(f"expected '|' or end of query, found {tok.describe()}", tok)
            self.next(Mode.ARGS)
            commands.append(self.parse_command(first_command=False))
        if nested:
            self.shallower()
            self.subsearches -= 1
        return ast.Pipeline(tuple(commands), self.text)

    def _names_generating_command(self, tok: Token) -> bool:
        """In a subsearch, a first word naming a generating command is that command
        (``append [mstats ...]``), unless it is a term's field (``tstats=x``)."""
        if tok.type is not T.WORD:
            return False
        name = tok.text.lower()
        syntax = PARSERS.get(name)
        known = (syntax is not None and syntax.generating) or name in SPLUNK_GENERATING
        return known and name != "search" and self._word_stands_alone(tok)

    def _word_stands_alone(self, tok: Token) -> bool:
        """True unless the word is the field of a term (``search=x``) or the only term."""
        nxt = self.s._scan(tok.end, Mode.SEARCH)
        return nxt.type is not T.OP

    def parse_command(self, first_command: bool) -> ast.Command:
        tok = self.next(Mode.ARGS)
        if tok.type is not T.WORD:
            raise self.error(f"expected a command name after '|', found {tok.describe()}", tok)
        name = tok.text.lower()
        syntax = PARSERS.get(name)
        if syntax is None:
            if name in SPLUNK_COMMANDS:
                raise SplUnsupportedError(
                    f"command '{tok.text}' is not supported", tok.pos, self.text
                )
            raise self.error(f"unknown command '{tok.text}'", tok)
        if syntax.generating and not first_command:
            raise self.error(f"'{name}' is a generating command and must come first", tok)
        self.first_command = first_command
        return syntax.parse(self, tok)

    # ------------------------------------------------------------------ search
    def parse_search(self, pos: int) -> ast.SearchCmd:
        if self.at_command_end(Mode.SEARCH):
            return ast.SearchCmd(None, pos)
        return ast.SearchCmd(self.search_and(), pos)

    def _search_stop(self) -> bool:
        return self.peek(Mode.SEARCH).type in (T.PIPE, T.EOF, T.RBRACKET, T.RPAREN)

    def _is_op_word(self, word: str) -> bool:
        tok = self.peek(Mode.SEARCH)
        return tok.type is T.WORD and tok.text == word

    def search_and(self) -> ast.SearchExpr:
        """Juxtaposition or AND: the loosest binding in search (rule 2.1.2)."""
        start = self.peek(Mode.SEARCH).pos
        items = [self.search_or()]
        while not self._search_stop():
            if self._is_op_word("AND"):
                tok = self.next(Mode.SEARCH)
                if self._search_stop():
                    raise self.error("expected a search term after AND", self.peek(Mode.SEARCH))
                del tok
            items.append(self.search_or())
        return items[0] if len(items) == 1 else ast.SearchAnd(tuple(items), start)

    def search_or(self) -> ast.SearchExpr:
        start = self.peek(Mode.SEARCH).pos
        items = [self.search_not()]
        while self._is_op_word("OR"):
            self.next(Mode.SEARCH)
            if self._search_stop():
                raise self.error("expected a search term after OR", self.peek(Mode.SEARCH))
            items.append(self.search_not())
        return items[0] if len(items) == 1 else ast.SearchOr(tuple(items), start)

    def search_not(self) -> ast.SearchExpr:
        if self._is_op_word("NOT"):
            tok = self.next(Mode.SEARCH)
            if self._search_stop():
                raise self.error("expected a search term after NOT", self.peek(Mode.SEARCH))
            self.deeper(tok)
            inner = self.search_not()
            self.shallower()
            return ast.SearchNot(inner, tok.pos)
        return self.search_primary()

    def search_primary(self) -> ast.SearchExpr:
        tok = self.next(Mode.SEARCH)
        if tok.type is T.LPAREN:
            if self.peek(Mode.SEARCH).type is T.RPAREN:
                raise self.error("empty parentheses in search", tok)
            self.deeper(tok)
            inner = self.search_and()
            self.shallower()
            close = self.next(Mode.SEARCH)
            if close.type is not T.RPAREN:
                raise self.error(f"expected ')' to close '(' at column {self._col(tok.pos)}", close)
            return inner
        if tok.type is T.LBRACKET:
            pipeline = self.parse_pipeline(nested=True)
            self.expect(T.RBRACKET, Mode.ARGS, "']' to close the subsearch")
            return ast.Subsearch(pipeline, tok.pos)
        if tok.type is T.STRING:
            field = self._field_condition(tok, unescape_search(tok.text))
            if field is not None:  # ``"result.message"="x"``: a quoted field name
                return field
            return ast.TermMatch(
                ast.SearchValue(unescape_search(tok.text), tok.pos, quoted=True), tok.pos
            )
        if tok.type is T.WORD:
            if tok.text in ("AND", "OR"):
                raise self.error(f"'{tok.text}' needs a search term before it", tok)
            directive = self._directive(tok)
            if directive is not None:
                return ast.TermMatch(directive, tok.pos)
            field = self._field_condition(tok, tok.text)
            if field is not None:
                return field
            return ast.TermMatch(ast.SearchValue(unescape_search(tok.text), tok.pos), tok.pos)
        if tok.type is T.OP:
            raise self.error(f"'{tok.text}' needs a field name before it", tok)
        if tok.type is T.EOF:
            raise self.error("unexpected end of query in search", tok)
        raise self.error(f"unexpected {tok.describe()} in search", tok)

    def _field_condition(self, tok: Token, name: str) -> ast.SearchExpr | None:
        """``name OP value`` or ``name IN (...)`` when the tokens after ``tok`` say so.

        A double-quoted string before the operator is a field name too
        (semantics.SEARCH_QUOTED_FIELD_NAME): ``"result.message"="x"``."""
        if tok.type is T.STRING and not semantics.SEARCH_QUOTED_FIELD_NAME:
            return None
        nxt = self.peek(Mode.SEARCH)
        if nxt.type is T.OP:
            op = self.next(Mode.SEARCH)
            value = self.search_value(op)
            return ast.FieldMatch(name, "=" if op.text == "==" else op.text, value, tok.pos)
        if nxt.type is T.WORD and nxt.text.upper() == "IN":
            after = self.s._scan(nxt.end, Mode.SEARCH)
            if after.type is T.LPAREN:
                self.next(Mode.SEARCH)
                self.next(Mode.SEARCH)
                values = self._in_values()
                return ast.FieldIn(name, tuple(values), tok.pos)
        return None

    def _in_values(self) -> list[ast.SearchValue]:
        values: list[ast.SearchValue] = []
        while True:
            tok = self.peek(Mode.SEARCH)
            if tok.type is T.RPAREN:
                if not values:
                    raise self.error("IN needs at least one value", tok)
                self.next(Mode.SEARCH)
                return values
            if tok.type is T.COMMA:
                self.next(Mode.SEARCH)
                continue
            if tok.type in (T.WORD, T.STRING):
                values.append(self.search_value(None))
                continue
            raise self.error(f"expected a value or ')' in IN list, found {tok.describe()}", tok)

    def _directive(self, tok: Token) -> ast.SearchValue | None:
        """``CASE(x)`` / ``TERM(x)`` (rule 2.4.2), recognised only when '(' follows at once."""
        upper = tok.text.upper()
        if upper not in ("CASE", "TERM") or not self.text.startswith("(", tok.end):
            return None
        self.next(Mode.SEARCH)  # '('
        inner = self.next(Mode.SEARCH)
        if inner.type not in (T.WORD, T.STRING):
            raise self.error(f"{upper}() needs a value", inner)
        self.expect(T.RPAREN, Mode.SEARCH, f"')' to close {upper}(")
        return ast.SearchValue(
            unescape_search(inner.text),
            inner.pos,
            quoted=inner.type is T.STRING,
            case_sensitive=upper == "CASE",
            term=upper == "TERM",
        )

    def search_value(self, op: Token | None) -> ast.SearchValue:
        tok = self.next(Mode.SEARCH)
        if tok.type is T.WORD:
            directive = self._directive(tok)
            if directive is not None:
                return directive
            return ast.SearchValue(unescape_search(tok.text), tok.pos)
        if tok.type is T.STRING:
            return ast.SearchValue(unescape_search(tok.text), tok.pos, quoted=True)
        where = f" after '{op.text}'" if op is not None else ""
        raise self.error(f"expected a value{where}, found {tok.describe()}", tok)

    def _col(self, pos: int) -> int:
        return pos - (self.text.rfind("\n", 0, pos) + 1) + 1

    # ------------------------------------------------------------------ eval expressions
    def expression(self) -> ast.Expr:
        return self.expr_xor()

    def _binary_level(
        self, ops: tuple[str, ...], operand: Callable[[], ast.Expr], keyword: bool
    ) -> ast.Expr:
        left = operand()
        chain = 0  # each operator nests the chain so far one level deeper
        while True:
            tok = self.peek(Mode.EVAL)
            text = tok.text.upper() if keyword else tok.text
            is_op = (tok.type is T.WORD) if keyword else (tok.type is T.OP)
            if not is_op or text not in ops:
                self.shallower(chain)
                return left
            self.next(Mode.EVAL)
            self._need_operand(tok)
            self.deeper(tok)
            chain += 1
            left = ast.BinOp(text, left, operand(), tok.pos)

    def _need_operand(self, op: Token) -> None:
        nxt = self.peek(Mode.EVAL)
        if nxt.type in (T.EOF, T.PIPE, T.COMMA, T.RPAREN, T.RBRACKET):
            raise self.error(f"expected an expression after '{op.text}'", nxt)

    def expr_xor(self) -> ast.Expr:
        return self._binary_level(("XOR",), self.expr_or, keyword=True)

    def expr_or(self) -> ast.Expr:
        return self._binary_level(("OR",), self.expr_and, keyword=True)

    def expr_and(self) -> ast.Expr:
        return self._binary_level(("AND",), self.expr_not, keyword=True)

    def expr_not(self) -> ast.Expr:
        tok = self.peek(Mode.EVAL)
        if tok.type is T.WORD and tok.text.upper() == "NOT":
            self.next(Mode.EVAL)
            self._need_operand(tok)
            self.deeper(tok)
            inner = self.expr_not()
            self.shallower()
            return ast.UnaryOp("NOT", inner, tok.pos)
        return self.expr_eq()

    def expr_eq(self) -> ast.Expr:
        left = self.expr_rel()
        chain = 0  # as in _binary_level
        while True:
            tok = self.peek(Mode.EVAL)
            if tok.type is T.OP and tok.text in ("=", "==", "!="):
                op = "=" if tok.text == "==" else tok.text
            elif tok.type is T.WORD and tok.text.upper() == "LIKE":
                op = "LIKE"
            elif tok.type is T.WORD and tok.text.upper() == "IN" and self._paren_after(tok):
                self.deeper(tok)
                chain += 1
                left = self._in_operator(left, tok)
                continue
            else:
                self.shallower(chain)
                return left
            self.next(Mode.EVAL)
            self._need_operand(tok)
            self.deeper(tok)
            chain += 1
            left = ast.BinOp(op, left, self.expr_rel(), tok.pos)

    def _paren_after(self, tok: Token) -> bool:
        return self.s._scan(tok.end, Mode.EVAL).type is T.LPAREN

    def _in_operator(self, left: ast.Expr, tok: Token) -> ast.Call:
        """``x IN (a, b, ...)``: eval's IN operator, the same test as ``in(x, a, b, ...)``
        (Search Reference, Comparison and Conditional functions, in())."""
        self.next(Mode.EVAL)  # IN
        self.next(Mode.EVAL)  # (
        values: list[ast.Expr] = [left]
        while True:
            if self.peek(Mode.EVAL).type is T.RPAREN and len(values) > 1:
                self.next(Mode.EVAL)
                return ast.Call("in", tuple(values), tok.pos)
            values.append(self.expression())
            sep = self.next(Mode.EVAL)
            if sep.type is T.RPAREN:
                return ast.Call("in", tuple(values), tok.pos)
            if sep.type is not T.COMMA:
                raise self.error(f"expected ',' or ')' in IN list, found {sep.describe()}", sep)

    def expr_rel(self) -> ast.Expr:
        return self._binary_level(("<", ">", "<=", ">="), self.expr_concat, keyword=False)

    def expr_concat(self) -> ast.Expr:
        return self._binary_level((".",), self.expr_add, keyword=False)

    def expr_add(self) -> ast.Expr:
        return self._binary_level(("+", "-"), self.expr_mul, keyword=False)

    def expr_mul(self) -> ast.Expr:
        return self._binary_level(("*", "/", "%"), self.expr_unary, keyword=False)

    def expr_unary(self) -> ast.Expr:
        tok = self.peek(Mode.EVAL)
        if tok.type is T.OP and tok.text in ("-", "+"):
            self.next(Mode.EVAL)
            self._need_operand(tok)
            self.deeper(tok)
            operand = self.expr_unary()
            self.shallower()
            if tok.text == "+":
                return operand
            if isinstance(operand, ast.Num):
                return ast.Num(-operand.value, "-" + operand.text, tok.pos)
            return ast.UnaryOp("-", operand, tok.pos)
        return self.expr_primary()

    def expr_primary(self) -> ast.Expr:
        tok = self.next(Mode.EVAL)
        if tok.type is T.NUMBER:
            return ast.Num(float(tok.text), tok.text, tok.pos)
        if tok.type is T.STRING:
            return ast.Str(unescape_eval(tok.text), tok.pos)
        if tok.type is T.QFIELD:
            return ast.FieldRef(tok.text, tok.pos)
        if tok.type is T.LPAREN:
            self.deeper(tok)
            inner = self.expression()
            self.shallower()
            self.expect(T.RPAREN, Mode.EVAL, f"')' to close '(' at column {self._col(tok.pos)}")
            return inner
        if tok.type is T.WORD:
            # a word before '(' is a function call, with or without space between
            # (``LIKE (f, "%x%")``, ``mvindex ('a{}.b', 1)``): juxtaposition means nothing else
            # in an expression
            if self.peek(Mode.EVAL).type is T.LPAREN and tok.text.upper() not in _OPERATOR_WORDS:
                return self._call(tok)
            if tok.text.upper() in ("AND", "OR", "XOR", "NOT", "LIKE"):
                raise self.error(f"'{tok.text}' needs an expression before it", tok)
            return ast.FieldRef(tok.text, tok.pos)
        if tok.type is T.EOF:
            raise self.error("unexpected end of query in expression", tok)
        raise self.error(f"unexpected {tok.describe()} in expression", tok)

    def _call(self, name: Token) -> ast.Call:
        self.next(Mode.EVAL)  # '('
        args: list[ast.Expr] = []
        if self.peek(Mode.EVAL).type is T.RPAREN:
            self.next(Mode.EVAL)
            return ast.Call(name.text.lower(), (), name.pos)
        self.deeper(name)
        while True:
            args.append(self.expression())
            tok = self.next(Mode.EVAL)
            if tok.type is T.RPAREN:
                self.shallower()
                return ast.Call(name.text.lower(), tuple(args), name.pos)
            if tok.type is not T.COMMA:
                raise self.error(
                    f"expected ',' or ')' in arguments of {name.text}(), found {tok.describe()}",
                    tok,
                )

    def expression_to_end(self, what: str) -> ast.Expr:
        """An eval expression that must run to the end of the command (where, ...)."""
        if self.at_command_end(Mode.EVAL):
            raise self.error(f"'{what}' needs an expression", self.peek(Mode.EVAL))
        expr = self.expression()
        end = self.peek(Mode.EVAL)
        if end.type not in (T.PIPE, T.EOF, T.RBRACKET):
            raise self.error(f"unexpected {end.describe()} after the {what} expression", end)
        return expr

    # ------------------------------------------------------------------ argument helpers
    def field_name(self, what: str) -> Token:
        tok = self.next(Mode.ARGS)
        if tok.type is T.WORD:
            return tok
        if tok.type is T.STRING:
            text, end = unescape_search(tok.text), tok.end
            # a quoted part glued to what follows is one argument: ESCU's
            # `drop_dm_object_name("All_Changes")` expands to `rename "All_Changes".* AS *`
            nxt = self.peek(Mode.ARGS)
            while nxt.pos == end and nxt.type in (T.WORD, T.STRING):
                self.next(Mode.ARGS)
                text += unescape_search(nxt.text) if nxt.type is T.STRING else nxt.text
                end = nxt.end
                nxt = self.peek(Mode.ARGS)
            return Token(T.WORD, text, tok.pos, end)
        raise self.error(f"expected {what}, found {tok.describe()}", tok)

    def field_list(self, stop_words: tuple[str, ...] = ()) -> list[Token]:
        out: list[Token] = []
        while not self.at_command_end():
            tok = self.peek(Mode.ARGS)
            if tok.type is T.COMMA:
                self.next(Mode.ARGS)
                continue
            if tok.type is T.WORD and tok.text.lower() in stop_words:
                break
            out.append(self.field_name("a field name"))
        return out

    def option(self) -> tuple[str, Token] | None:
        """``name=value`` if the next tokens are one, else None (nothing consumed)."""
        tok = self.peek(Mode.ARGS)
        if tok.type is not T.WORD:
            return None
        after = self.s._scan(tok.end, Mode.ARGS)
        if after.type is not T.OP or after.text != "=" or after.pos != tok.end:
            return None
        self.next(Mode.ARGS)
        self.next(Mode.ARGS)
        value = self.next(Mode.ARGS)
        if value.type not in (T.WORD, T.STRING):
            raise self.error(f"expected a value for {tok.text}=, found {value.describe()}", value)
        if value.type is T.STRING:
            value = Token(T.STRING, unescape_search(value.text), value.pos, value.end)
        return tok.text.lower(), value

    def int_value(self, tok: Token, what: str, maximum: int = semantics.WHOLE_NUMBER_MAX) -> int:
        """A whole-number argument from 0 to ``maximum``."""
        if _WHOLE.fullmatch(tok.text) is None:
            raise self.error(f"{what} must be a whole number, found {tok.describe()}", tok)
        if tok.text.startswith("-"):
            raise self.error(f"{what} must not be negative", tok)
        # past Python's 4,300-digit conversion limit a number is surely past ``maximum``
        value = int(tok.text) if len(tok.text) <= len(str(maximum)) + 1 else maximum + 1
        if value > maximum:
            raise SplLimitError(f"{what} must be at most {maximum:,}", tok.pos, self.text)
        return value

    def bool_value(self, tok: Token, what: str) -> bool:
        text = tok.text.lower()
        if text in _TRUE_WORDS:
            return True
        if text in _FALSE_WORDS:
            return False
        raise self.error(f"{what} must be true or false, found {tok.describe()}", tok)

    def subsearch(self, what: str) -> tuple[ast.Pipeline, int]:
        """``[ ... ]``: a nested pipeline and the position of its '['."""
        tok = self.next(Mode.ARGS)
        if tok.type is not T.LBRACKET:
            raise self.error(f"{what} needs a [subsearch], found {tok.describe()}", tok)
        pipeline = self.parse_pipeline(nested=True)
        self.expect(T.RBRACKET, Mode.ARGS, "']' to close the subsearch")
        return pipeline, tok.pos

    def end_of_command(self, name: str) -> None:
        tok = self.peek(Mode.ARGS)
        if tok.type not in (T.PIPE, T.EOF, T.RBRACKET):
            raise self.error(f"unexpected {tok.describe()} in '{name}'", tok)

    def time_span(self, tok: Token) -> tuple[float, int]:
        """``span=`` value: (seconds, 0), or (0, months) for a calendar span (``1mon``)."""
        m = _SPAN.fullmatch(tok.text)
        unit = m.group(2).lower() if m else ""
        if m is None or (unit and unit not in _SPAN_UNITS and unit not in _MONTH_UNITS):
            raise self.error(f"span must be a number with a time unit, found {tok.describe()}", tok)
        amount = float(m.group(1))
        if amount <= 0:
            raise self.error("span must be positive", tok)
        if unit in _MONTH_UNITS:
            if not amount.is_integer():
                raise self.error("a span in months must be a whole number", tok)
            return 0.0, int(amount)
        return amount * _SPAN_UNITS.get(unit, 1.0), 0

    def aggregation(self) -> ast.Aggregation:
        """One stats function ``func[(field|eval(expr))] [AS alias]`` (stats, tstats, ...)."""
        fn = self.next(Mode.ARGS)
        if fn.type is not T.WORD:
            raise self.error(f"expected a stats function, found {fn.describe()}", fn)
        func = fn.text.lower()
        arg: ast.Expr | None = None
        label = func
        if self.peek(Mode.ARGS).type is T.LPAREN and self.peek(Mode.ARGS).pos == fn.end:
            open_paren = self.next(Mode.ARGS)
            inner = self.peek(Mode.ARGS)
            if (
                inner.type is T.WORD
                and inner.text.lower() == "eval"
                and self.text.startswith("(", inner.end)
            ):
                self.next(Mode.ARGS)
                self.expect(T.LPAREN, Mode.EVAL, "'(' after eval")
                arg = self.expression()
                self.expect(T.RPAREN, Mode.EVAL, "')' to close eval(")
            else:
                field = self.field_name("a field name")
                arg = ast.FieldRef(field.text, field.pos)
            close = self.next(Mode.ARGS)
            if close.type is not T.RPAREN:
                raise self.error(
                    f"expected ')' to close {fn.text}(, found {close.describe()}", close
                )
            label = self.text[fn.pos : close.end]
            del open_paren
        alias = label
        if self.at_keyword(Mode.ARGS, "as"):
            self.next(Mode.ARGS)
            alias = self._alias_name()
        elif isinstance(arg, ast.BinOp | ast.UnaryOp | ast.Call | ast.Str | ast.Num):
            raise self.error(f"{fn.text}(eval(...)) needs 'AS name'", fn)
        return ast.Aggregation(func, arg, alias, fn.pos)

    def _alias_name(self) -> str:
        """A name after AS; ``(...)`` right after it belongs to it: ESCU's
        ``values(aceFlags) as aceFlags(inheritance)`` names the field
        ``aceFlags(inheritance)``."""
        name = self.field_name("a name after AS")
        nxt = self.peek(Mode.ARGS)
        if name.type is not T.WORD or nxt.type is not T.LPAREN or nxt.pos != name.end:
            return name.text
        depth = 0
        while True:
            tok = self.next(Mode.ARGS)
            if tok.type is T.LPAREN:
                depth += 1
            elif tok.type is T.RPAREN:
                depth -= 1
                if depth == 0:
                    return self.text[name.pos : tok.end]
            elif tok.type in (T.EOF, T.PIPE):
                raise self.error(f"expected ')' in the name after AS, found {tok.describe()}", tok)

    def aggregations_by(
        self,
        what: str,
        tok: Token,
        on_option: Callable[[str, Token], None] | None = None,
    ) -> tuple[list[ast.Aggregation], list[str]]:
        """``func(...) [AS x], ... [BY f, ...]`` to the end of the command (stats and its
        family); ``name=value`` options between functions go to ``on_option`` if given."""
        aggs: list[ast.Aggregation] = []
        by: list[str] = []
        while not self.at_command_end():
            opt = self.option() if on_option is not None else None
            if opt is not None and on_option is not None:
                on_option(*opt)
                continue
            nxt = self.peek(Mode.ARGS)
            if nxt.type is T.COMMA:
                self.next(Mode.ARGS)
                continue
            if nxt.type is T.WORD and nxt.text.lower() == "by":
                self.next(Mode.ARGS)
                fields = self.field_list()
                if not fields:
                    raise self.error("'by' needs at least one field", self.peek(Mode.ARGS))
                by = [f.text for f in fields]
                break
            aggs.append(self.aggregation())
        if not aggs:
            raise self.error(f"'{what}' needs at least one function such as count", tok)
        self.end_of_command(what)
        return aggs, by

    def sort_keys(self, stop_words: tuple[str, ...] = ()) -> tuple[list[ast.SortKey], bool]:
        """``[+|-]field``, ``num(f)``/``str(f)``/``ip(f)``/``auto(f)`` ... up to ``stop_words``;
        also whether a trailing ``d``/``desc`` reversed the order (sort, dedup sortby)."""
        keys: list[ast.SortKey] = []
        sticky: bool | None = None
        reverse = False
        while not self.at_command_end():
            tok = self.peek(Mode.ARGS)
            if tok.type is T.COMMA:
                self.next(Mode.ARGS)
                continue
            if tok.type is T.WORD and tok.text.lower() in stop_words:
                break
            tok = self.next(Mode.ARGS)
            if tok.type is not T.WORD:
                raise self.error(f"expected a sort field, found {tok.describe()}", tok)
            text = tok.text
            if text in ("-", "+"):
                desc = text == "-"
                if semantics.SORT_SPACED_SIGN_APPLIES_TO_ALL:
                    sticky = desc
                tok = self.next(Mode.ARGS)
                if tok.type is not T.WORD:
                    raise self.error(f"expected a field after '{text}' in sort", tok)
                text = tok.text
            elif text[0] in "+-" and len(text) > 1:
                desc = text[0] == "-"
                text = text[1:]
            else:
                if text.lower() in ("d", "desc") and self.at_command_end():
                    reverse = True
                    break
                desc = sticky if sticky is not None else False
            coerce = "auto"
            if (
                text.lower() in ("num", "str", "ip", "auto")
                and self.peek(Mode.ARGS).type is T.LPAREN
            ):
                coerce = text.lower()
                self.next(Mode.ARGS)
                inner = self.field_name(f"a field inside {coerce}()")
                self.expect(T.RPAREN, Mode.ARGS, f"')' to close {coerce}(")
                text = inner.text
            keys.append(ast.SortKey(text, desc, coerce, tok.pos))
        return keys, reverse


def parse_commands(text: str, start: int = 0) -> list[ast.Command]:
    """The commands of a subsearch template from ``start`` to the end of ``text``: ``eval
    ...`` or ``eval ... | where ...`` (foreach's ``[ ... ]``, the first word a command)."""
    ensure_room()
    parser = Parser(text)
    parser.s.pos = start
    commands = [parser.parse_command(first_command=False)]
    while True:
        tok = parser.peek(Mode.ARGS)
        if tok.type is T.EOF:
            return commands
        if tok.type is not T.PIPE:
            raise parser.error(
                f"expected '|' or the end of the subsearch, found {tok.describe()}", tok
            )
        parser.next(Mode.ARGS)
        commands.append(parser.parse_command(first_command=False))


def parse(text: str) -> ast.Pipeline:
    """Parse an SPL query (macros already expanded) into a pipeline."""
    if not text.strip():
        raise SplSyntaxError("empty query", 0, text)
    ensure_room()
    return Parser(text).parse_pipeline()
