"""The compiler's view of the result set between two commands.

A :class:`Relation` names the CTE holding the current results, the visible fields (name →
SQL column alias and kind), the hidden columns that carry Splunk's result order, and that
order itself. Each command turns one relation into the next by adding a CTE.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace

from sqlglot import exp

from stagehunt.compile.kinds import NULL, Kind, Typed
from stagehunt.compile.sqlfn import (
    alias,
    as_filter,
    cast,
    coalesce,
    col,
    number_to_string,
    to_number,
)

#: Hidden column: ``_time`` as it was when the events were read (search order key).
TIME_KEY = "__t"
#: Hidden column: position in the current result order (insertion order for raw events).
SEQ = "__seq"


@dataclass(frozen=True)
class Field:
    name: str
    alias: str
    kind: Kind


@dataclass(frozen=True)
class Dynamic:
    """Fields whose names are known only at run time (spath, fromjson, xmlkv, extract).

    ``column`` is a hidden column holding a ``MAP(VARCHAR, VARCHAR[])``: field name → its
    values. A name the map holds is looked up when a later command names it
    (:meth:`Relation.typed`). ``shadowed``: the fields the results had when the map was made;
    they keep their value and kind, the map only fills them where they are null. ``masked``:
    names set or removed since; the map no longer speaks for them (docs/commands.md,
    "Fields named at run time")."""

    column: str
    shadowed: frozenset[str]
    masked: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Numbering:
    """How the rows of CTE ``numbered`` got their ``__seq``: ``ROW_NUMBER() OVER (ORDER BY
    order)`` over the rows of CTE ``unnumbered``, column for column the same otherwise.

    The numbers only order the rows, so a filter right after the numbering may run
    before it: numbering the rows kept gives them the same order. ``stats ... | where
    count > 5`` then sorts the groups kept, not every group (`number_rows`)."""

    numbered: str
    unnumbered: str
    order: tuple[exp.Ordered, ...]


@dataclass(frozen=True)
class Relation:
    source: str
    fields: tuple[Field, ...]
    order: tuple[exp.Ordered, ...]
    hidden: tuple[str, ...]
    #: fields named by ``table``: shown even where no result has a value (rule 8, T4)
    pinned: frozenset[str] = frozenset()
    #: True until a transforming command (stats) runs: results are still events with _raw
    events: bool = True
    #: maps of fields named at run time, oldest first (see :class:`Dynamic`)
    dynamic: tuple[Dynamic, ...] = ()
    #: how ``__seq`` was made, when ``source`` is the CTE that made it (:class:`Numbering`)
    numbering: Numbering | None = None

    def renumberable(self) -> Numbering | None:
        """The numbering a filter may run before: this relation's rows are those of the
        numbering CTE as it made them (same CTE, only ``__seq`` hidden, no run-time map),
        and it has a field for the filter's CTE to select (``stats values(x)`` of a field
        no event has leaves none: ``__seq`` is then its only column)."""
        n = self.numbering
        if n is None or n.numbered != self.source or self.hidden != (SEQ,) or self.dynamic:
            return None
        return n if self.fields else None

    def get(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def typed(self, name: str) -> Typed:
        """The field as a typed expression; a field the results never had is NULL. A name
        that a run-time map may hold is looked up there too (:class:`Dynamic`)."""
        f = self.get(name)
        static = NULL if f is None or f.kind is Kind.NULL else Typed(col(f.alias), f.kind)
        maps = [d for d in reversed(self.dynamic) if name not in d.masked]
        if not maps or name.startswith("_"):
            return static
        found = [map_values(d.column, name) for d in maps]
        if f is not None and name in maps[0].shadowed:
            return _fill(static, found)
        if not static.is_null:
            found.append(as_list(static))
        return Typed(found[0] if len(found) == 1 else coalesce(*found), Kind.MV)

    def dynamic_names(self, names: list[str]) -> list[str]:
        """Those of ``names`` the results lack but a run-time map may hold."""
        return [
            n
            for n in names
            if self.get(n) is None
            and not n.startswith("_")
            and any(n not in d.masked for d in self.dynamic)
        ]

    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def matching(self, patterns: tuple[str, ...]) -> list[str]:
        """Field names for a list of names and ``*`` wildcards (table, fields), in list
        order; a plain name is kept even when the results lack it."""
        out: list[str] = []
        for p in patterns:
            if "*" in p:
                regex = re.compile(fnmatch.translate(p))
                out += [n for n in self.names() if regex.match(n) and n not in out]
            elif p not in out:
                out.append(p)
        return out


def map_values(column: str, name: str) -> exp.Expression:
    """The values a run-time map holds for ``name`` (NULL when it holds none)."""
    return exp.func("map_extract_value", col(column), exp.Literal.string(name), dialect="duckdb")


def as_list(t: Typed) -> exp.Expression:
    """A value as a list of strings (NULL stays NULL)."""
    if t.kind is Kind.MV:
        return t.sql
    if t.kind is Kind.NUM:
        text: exp.Expression = number_to_string(t.sql)
    elif t.kind is Kind.BOOL:
        text = cast(t.sql, "VARCHAR")
    else:
        text = t.sql
    return exp.Case().when(
        exp.Not(this=exp.Is(this=t.sql, expression=exp.Null())), exp.Array(expressions=[text])
    )


def _fill(static: Typed, found: list[exp.Expression]) -> Typed:
    """A field the results had when the map was made: its own value, else the map's
    (first value for a single-value field), in the field's kind."""
    values = found[0] if len(found) == 1 else coalesce(*found)
    if static.kind is Kind.MV:
        return Typed(coalesce(static.sql, values), Kind.MV)
    first = exp.Bracket(this=values, expressions=[exp.Literal.number(0)])
    if static.kind is Kind.NUM:
        return Typed(coalesce(static.sql, to_number(first)), Kind.NUM)
    return Typed(coalesce(static.sql, first), Kind.STR)


def alias_for(name: str, taken: set[str]) -> str:
    """A SQL column alias for a field: its own name unless that collides (DuckDB compares
    identifiers case-insensitively, Splunk field names are case-sensitive: rule 1.5)."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", name) or "f"
    if base.startswith("__"):
        base = "f" + base
    candidate = base
    n = 2
    while candidate.lower() in taken:
        candidate = f"{base}_{n}"
        n += 1
    taken.add(candidate.lower())
    return candidate


@dataclass
class QueryBuilder:
    """Collects the CTEs of one compiled pipeline."""

    ctes: list[tuple[str, exp.Select]] = field(default_factory=list)
    #: ``id()`` of CTE selects already parenthesised (reused from an earlier statement)
    done: set[int] = field(default_factory=set)

    def add(self, select: exp.Select) -> str:
        name = f"s{len(self.ctes)}"
        self.ctes.append((name, select))
        return name

    def project(
        self,
        rel: Relation,
        assignments: list[tuple[str, Typed]],
        *,
        where: exp.Expression | None = None,
        drop: set[str] | None = None,
        extra_hidden: list[tuple[str, exp.Expression]] | None = None,
    ) -> Relation:
        """New CTE: the relation's fields with ``assignments`` applied (left to right,
        replacing or appending), ``drop`` removed, optional filter and extra hidden columns.
        A NULL-kind assignment removes the field (rule 3.10)."""
        fields: list[Field] = [f for f in rel.fields if not drop or f.name not in drop]
        exprs: dict[str, exp.Expression] = {f.name: col(f.alias) for f in fields}
        for name, value in assignments:
            existing = next((i for i, f in enumerate(fields) if f.name == name), None)
            if value.kind is Kind.NULL:
                if existing is not None:
                    del fields[existing]
                    exprs.pop(name)
                continue
            if existing is not None:
                fields[existing] = replace(fields[existing], kind=value.kind)
            else:
                fields.append(Field(name, "", value.kind))
            exprs[name] = value.sql
        taken = {h.lower() for h in rel.hidden}
        if extra_hidden:
            taken |= {h.lower() for h, _ in extra_hidden}
        out_fields: list[Field] = []
        # Keep existing aliases stable so that order expressions stay valid.
        for f in fields:
            if f.alias and f.alias.lower() not in taken:
                taken.add(f.alias.lower())
                out_fields.append(f)
            else:
                out_fields.append(replace(f, alias=""))
        final: list[Field] = []
        for f in out_fields:
            final.append(f if f.alias else replace(f, alias=alias_for(f.name, taken)))
        # built without sqlglot's defensive copies (each would copy every new expression)
        select = exp.select(
            *[alias(exprs[f.name], f.alias) for f in final],
            *[col(h) for h in rel.hidden if not extra_hidden or h not in dict(extra_hidden)],
            *[alias(e, h) for h, e in (extra_hidden or [])],
            copy=False,
        ).from_(exp.to_identifier(rel.source), copy=False)
        if where is not None:
            select = select.where(as_filter(where), copy=False)
        hidden = list(rel.hidden)
        for h, _ in extra_hidden or []:
            if h not in hidden:
                hidden.append(h)
        touched = {name for name, _ in assignments} | set(drop or ())
        return replace(
            rel,
            source=self.add(select),
            fields=tuple(final),
            hidden=tuple(hidden),
            pinned=frozenset(p for p in rel.pinned if any(f.name == p for f in final)),
            dynamic=tuple(replace(d, masked=d.masked | touched) for d in rel.dynamic)
            if touched
            else rel.dynamic,
        )

    def passthrough(self, rel: Relation) -> list[exp.Expression]:
        """Select-list items that carry every field and hidden column unchanged."""
        return [col(f.alias) for f in rel.fields] + [col(h) for h in rel.hidden]

    def build(self, final: exp.Select) -> exp.Expression:
        parenthesize(final)
        for name, select in self.ctes:
            if id(select) not in self.done:
                parenthesize(select)
            final = final.with_(exp.to_identifier(name), as_=select, copy=False)
        return final


#: Nodes with no operator below them (or not a node at all: text, flags, None), which the
#: walk of `parenthesize` need not enter; most of a statement's nodes are these.
_NO_OPERATORS: frozenset[type] = frozenset(
    (exp.Identifier, exp.Column, exp.Literal, exp.Null, exp.Boolean, exp.Star, exp.DataType,
     str, bool, int, float, type(None))
)  # fmt: skip


def parenthesize(tree: exp.Expression) -> exp.Expression:
    """Wrap nested operators in parentheses.

    sqlglot prints a tree built in code as it is, without adding the parentheses that
    operator precedence needs (``Mul(Add(a, b), c)`` would print ``a + b * c``); every
    binary operand that is itself an operator is therefore parenthesised. (A plain stack
    walk: sqlglot's generic ``walk`` took a fifth of compiling a detection.)
    """
    stack: list[exp.Expression] = [tree]
    while stack:
        node = stack.pop()
        for value in node.args.values():
            if isinstance(value, list):
                stack.extend(
                    v for v in value
                    if type(v) not in _NO_OPERATORS and isinstance(v, exp.Expression)
                )  # fmt: skip
            elif type(value) not in _NO_OPERATORS and isinstance(value, exp.Expression):
                stack.append(value)
        if not isinstance(node, exp.Binary) or isinstance(node, exp.Escape | exp.Dot):
            continue
        for key in ("this", "expression"):
            child = node.args.get(key)
            if isinstance(child, exp.Binary | exp.Not | exp.Neg) and not isinstance(child, exp.Dot):
                node.set(key, exp.paren(child, copy=False))
    return tree


def materialize(b: QueryBuilder, rel: Relation, names: list[str]) -> Relation:
    """The relation with those of ``names`` that only a run-time map may hold made fields
    (table and fields list fields; a map has no list of its names)."""
    wanted = rel.dynamic_names(names)
    if not wanted:
        return rel
    return b.project(rel, [(n, rel.typed(n)) for n in wanted])


#: command node attributes that name fields (``field``, ``by``, ...)
_FIELD_ATTRIBUTES = frozenset(("field", "fields", "by", "input"))


def referenced_names(node: object) -> list[str]:
    """Field names a command node uses: every field reference of its expressions and the
    names in its field attributes (no wildcards); rename's old names."""

    from stagehunt.spl import ast

    out: list[str] = []

    def walk(value: object, attribute: str) -> None:
        if isinstance(value, ast.FieldRef):
            out.append(value.name)
        elif isinstance(value, ast.RenameCmd):
            out.extend(old for old, _ in value.pairs)
        elif isinstance(value, str):
            if attribute in _FIELD_ATTRIBUTES and "*" not in value:
                out.append(value)
            return
        elif isinstance(value, tuple | list):
            for item in value:
                walk(item, attribute)
            return
        for name in ast.attributes(value):
            walk(getattr(value, name), name)

    walk(node, "")
    return list(dict.fromkeys(out))
