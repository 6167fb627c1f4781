"""Eval expressions → typed SQL (spl-semantics.md §3, shared by eval, where, stats eval()).

Comparisons are case-sensitive and numeric when both sides are numbers (3.6, 3.7); a
multivalue operand matches when any value does (3.14); null propagates through arithmetic
and concatenation (3.11) and comparisons with null are not true (3.12).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import sqlfn as q
from stagehunt.compile.kinds import NULL, Kind, Typed
from stagehunt.compile.relation import Relation
from stagehunt.spl import ast
from stagehunt.spl.errors import SplSemanticError

_CMP = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, ">": exp.GT, "<=": exp.LTE, ">=": exp.GTE}


class ExprCompiler:
    """Compiles eval expressions against one relation."""

    def __init__(self, rel: Relation, query: str, now: float) -> None:
        self.rel = rel
        self.query = query
        self.now = now
        #: bound names inside mvfilter/mvmap: field name -> element expression
        self.bound: dict[str, Typed] = {}

    def error(self, message: str, pos: int) -> SplSemanticError:
        return SplSemanticError(message, pos, self.query)

    # ------------------------------------------------------------------ entry points
    def value(self, node: ast.Expr) -> Typed:
        """An expression whose result is stored in a field (never a Boolean, rule 3.9)."""
        t = self.compile(node)
        if t.kind is Kind.BOOL:
            raise self.error(
                "the result of an eval expression cannot be a Boolean; use if(...)", node.pos
            )
        return t

    def condition(self, node: ast.Expr, what: str = "a condition") -> exp.Expression:
        """A Boolean expression (where, if, case): TRUE keeps, FALSE and NULL do not."""
        t = self.compile(node)
        if t.kind is Kind.NULL:
            return exp.Null()
        if t.kind is not Kind.BOOL:
            raise self.error(
                f"{what} must be a Boolean expression (a comparison or test)", node.pos
            )
        return t.sql

    # ------------------------------------------------------------------ dispatch
    def compile(self, node: ast.Expr) -> Typed:
        if isinstance(node, ast.Str):
            return Typed(q.string(node.value), Kind.STR)
        if isinstance(node, ast.Num):
            return Typed(q.number(node.value), Kind.NUM)
        if isinstance(node, ast.FieldRef):
            if node.name in self.bound:
                return self.bound[node.name]
            return self.rel.typed(node.name)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            from stagehunt.compile.functions import call

            return call(self, node)
        raise AssertionError(node)

    def unary(self, node: ast.UnaryOp) -> Typed:
        if node.op == "NOT":
            inner = self.condition(node.operand, "the operand of NOT")
            return Typed(exp.Not(this=exp.paren(inner, copy=False)), Kind.BOOL)
        operand = self.compile(node.operand)
        if operand.is_null:
            return NULL
        return Typed(exp.Neg(this=exp.paren(self.number(operand), copy=False)), Kind.NUM)

    def binary(self, node: ast.BinOp) -> Typed:
        op = node.op
        if op in ("AND", "OR", "XOR"):
            left = self.condition(node.left, f"the left side of {op}")
            right = self.condition(node.right, f"the right side of {op}")
            if op == "AND":
                return Typed(exp.and_(left, right, copy=False), Kind.BOOL)
            if op == "OR":
                return Typed(exp.paren(exp.or_(left, right, copy=False), copy=False), Kind.BOOL)
            return Typed(exp.NEQ(this=left, expression=right), Kind.BOOL)
        a = self.compile(node.left)
        b = self.compile(node.right)
        if op in _CMP:
            return self.comparison(op, a, b)
        if op == "LIKE":
            return like(a, b)
        if a.is_null or b.is_null:
            return NULL  # rule 3.11
        if op == ".":
            return Typed(exp.DPipe(this=self.string(a), expression=self.string(b)), Kind.STR)
        if op == "+" and a.kind is not Kind.NUM and b.kind is not Kind.NUM:
            return self.plus_strings(a, b)
        left, right = self.number(a), self.number(b)
        if op == "+":
            return Typed(exp.Add(this=left, expression=right), Kind.NUM)
        if op == "-":
            return Typed(exp.Sub(this=left, expression=right), Kind.NUM)
        if op == "*":
            return Typed(exp.Mul(this=left, expression=right), Kind.NUM)
        zero_safe = exp.Nullif(this=right, expression=exp.Literal.number(0))  # rule 3.8
        if op == "/":
            return Typed(exp.Div(this=left, expression=zero_safe), Kind.NUM)
        if op == "%":
            return Typed(exp.Mod(this=left, expression=zero_safe), Kind.NUM)
        raise self.error(f"unknown operator '{op}'", node.pos)

    def plus_strings(self, a: Typed, b: Typed) -> Typed:
        """``+`` on two field values: numbers add, otherwise strings concatenate (rule 3.5)."""
        sa, sb = self.string(a), self.string(b)
        both = exp.and_(q.is_number(sa), q.is_number(sb))
        total = exp.Add(this=q.to_number(sa), expression=q.to_number(sb))
        return Typed(
            q.case((both, q.number_to_string(total)), default=exp.DPipe(this=sa, expression=sb)),
            Kind.STR,
        )

    # ------------------------------------------------------------------ coercions
    def string(self, t: Typed) -> exp.Expression:
        """The value as a string (numbers rendered as Splunk shows them)."""
        if t.kind is Kind.STR:
            return t.sql
        if t.kind is Kind.NUM:
            if isinstance(t.sql, exp.Literal) and t.sql.is_number:
                return q.string(q.render_number(float(t.sql.this)))
            return q.number_to_string(t.sql)
        if t.kind is Kind.MV:
            return first_value(t.sql)  # semantics.MULTIVALUE_SCALAR_USES_FIRST
        if t.kind is Kind.BOOL:
            return q.case((t.sql, q.string("True")), default=q.string("False"))
        return q.null_str()

    def number(self, t: Typed) -> exp.Expression:
        """The value as a DOUBLE, NULL when it is not a number."""
        if t.kind is Kind.NUM:
            return t.sql
        if t.kind in (Kind.STR, Kind.MV):
            return q.to_number(self.string(t))
        return q.cast(exp.Null(), "DOUBLE")

    # ------------------------------------------------------------------ comparisons
    def comparison(self, op: str, a: Typed, b: Typed) -> Typed:
        if a.is_null or b.is_null:
            return Typed(q.cast(exp.Null(), "BOOLEAN"), Kind.BOOL)
        if a.kind is Kind.MV or b.kind is Kind.MV:
            return self.mv_comparison(op, a, b)
        return Typed(compare_scalars(op, self.scalar(a), self.scalar(b)), Kind.BOOL)

    def scalar(self, t: Typed) -> Typed:
        if t.kind is Kind.BOOL:
            return Typed(self.string(t), Kind.STR)
        return t

    def mv_comparison(self, op: str, a: Typed, b: Typed) -> Typed:
        """Any value of the multivalue side satisfies the comparison (rule 3.14)."""
        if a.kind is Kind.MV and b.kind is Kind.MV:
            a = Typed(first_value(a.sql), Kind.STR)
        if a.kind is Kind.MV:
            mv, other, flip = a, self.scalar(b), False
        else:
            mv, other, flip = b, self.scalar(a), True
        elem = Typed(q.element(), Kind.STR)
        body = compare_scalars(op, other, elem) if flip else compare_scalars(op, elem, other)
        if op == "=" and other.kind is Kind.STR and _literal_text(other.sql) is not None:
            text = _literal_text(other.sql)
            assert text is not None
            if not q.looks_numeric(text):
                return Typed(q.fn("list_contains", mv.sql, other.sql), Kind.BOOL)
        hits = q.list_len(q.fn("list_filter", mv.sql, q.lam(body)))
        return Typed(exp.GT(this=hits, expression=exp.Literal.number(0)), Kind.BOOL)


def _literal_text(e: exp.Expression) -> str | None:
    if isinstance(e, exp.Literal) and e.is_string:
        return str(e.this)
    return None


def compare_scalars(op: str, a: Typed, b: Typed) -> exp.Expression:
    """Numeric when both sides are numbers, else case-sensitive string comparison (3.6, 3.7)."""
    node = _CMP[op]
    if a.kind is Kind.NUM and b.kind is Kind.NUM:
        return node(this=a.sql, expression=b.sql)
    if a.kind is Kind.NUM or b.kind is Kind.NUM:
        num, text, flip = (a, b, False) if a.kind is Kind.NUM else (b, a, True)
        lit = _literal_text(text.sql)
        if lit is not None:  # folded at compile time
            if q.looks_numeric(lit):
                text_num: exp.Expression = q.number(float(lit))
                return (
                    node(this=text_num, expression=num.sql)
                    if flip
                    else node(this=num.sql, expression=text_num)
                )
            as_str = _num_str(num)
            return (
                node(this=text.sql, expression=as_str)
                if flip
                else node(this=as_str, expression=text.sql)
            )
        # every use is guarded by is_number(text): the cast alone, no second regex
        numeric = q.try_cast(text.sql, "DOUBLE")
        as_str = _num_str(num)
        n_cmp = (
            node(this=numeric, expression=num.sql)
            if flip
            else node(this=num.sql, expression=numeric)
        )
        s_cmp = (
            node(this=text.sql, expression=as_str)
            if flip
            else node(this=as_str, expression=text.sql)
        )
        if op == "=":  # the cheap comparison first: the regex runs on equal numbers only
            return exp.And(this=n_cmp, expression=q.is_number(text.sql))
        return q.case((q.is_number(text.sql), n_cmp), default=s_cmp)
    la, lb = _literal_text(a.sql), _literal_text(b.sql)
    if (la is not None and not q.looks_numeric(la)) or (lb is not None and not q.looks_numeric(lb)):
        return node(this=a.sql, expression=b.sql)  # a non-numeric literal: plain string compare
    if la is not None or lb is not None:  # a numeric literal: only the other side is tested
        lit, other = (la, b.sql) if la is not None else (lb, a.sql)
        assert lit is not None
        value = q.number(float(lit))
        as_number = q.try_cast(other, "DOUBLE")
        n_cmp = (
            node(this=value, expression=as_number)
            if la is not None
            else node(this=as_number, expression=value)
        )
        return q.case((q.is_number(other), n_cmp), default=node(this=a.sql, expression=b.sql))
    both = exp.and_(q.is_number(a.sql), q.is_number(b.sql))
    return q.case(
        (both, node(this=q.try_cast(a.sql, "DOUBLE"), expression=q.try_cast(b.sql, "DOUBLE"))),
        default=node(this=a.sql, expression=b.sql),
    )


def _num_str(t: Typed) -> exp.Expression:
    if isinstance(t.sql, exp.Literal) and t.sql.is_number:
        return q.string(q.render_number(float(t.sql.this)))
    return q.number_to_string(t.sql)


def first_value(mv: exp.Expression) -> exp.Expression:
    return q.item(mv, 1)


def like(a: Typed, b: Typed) -> Typed:
    """SQL LIKE with ``%``/``_``; case-sensitive (semantics.LIKE_CASE_SENSITIVE)."""
    if a.is_null or b.is_null:
        return Typed(q.cast(exp.Null(), "BOOLEAN"), Kind.BOOL)
    node: Callable[..., exp.Expression] = exp.Like if semantics.LIKE_CASE_SENSITIVE else exp.ILike
    if a.kind is Kind.MV:
        hits = q.list_len(
            q.fn("list_filter", a.sql, q.lam(node(this=q.element(), expression=b.sql)))
        )
        return Typed(exp.GT(this=hits, expression=exp.Literal.number(0)), Kind.BOOL)
    sa = a.sql if a.kind is Kind.STR else q.number_to_string(a.sql)
    sb = b.sql if b.kind is Kind.STR else q.number_to_string(b.sql)
    return Typed(node(this=sa, expression=sb), Kind.BOOL)
