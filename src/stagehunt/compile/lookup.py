"""``lookup`` and ``inputlookup``: join events with a CSV lookup table.

Each event is matched against lookup rows on every match field (exact and case-sensitive
by default; ``WILDCARD()``/``CIDR()`` and ``case_sensitive_match`` from transforms.conf);
up to ``max_matches`` rows in file order give each output field's values. ``OUTPUT``
writes the looked-up value over the event's field when a row matched (no match: nothing is
written); ``OUTPUTNEW`` writes only fields the event does not have. With
``min_matches`` > 0, an event that has every match field but fewer matching rows gets
``default_match`` once per missing match, written as a match would be (transforms.conf).
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import sqlfn as q
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.ordering import ordered, row_number
from stagehunt.compile.relation import SEQ, Field, QueryBuilder, Relation, alias_for
from stagehunt.compile.search import ipv4_to_int
from stagehunt.lookups import LookupError_, LookupLibrary, LookupTable
from stagehunt.lookups.library import ROW, LookupMissing
from stagehunt.spl import ast
from stagehunt.spl.errors import SplSemanticError, SplUnsupportedError

LKID = "__lkid"
HIT = "__hit"
MATCHED = "__nmatch"


class LookupUnavailable(SplSemanticError):
    """A lookup that cannot be read; ``missing`` when its file or definition is absent."""

    def __init__(self, message: str, pos: int, query: str, *, lookup: str, missing: bool) -> None:
        super().__init__(message, pos, query)
        self.lookup = lookup
        self.missing = missing


class LookupCompiler:
    def __init__(self, builder: QueryBuilder, library: LookupLibrary, query: str) -> None:
        self.b = builder
        self.library = library
        self.query = query

    def table(self, name: str, pos: int) -> LookupTable:
        try:
            return self.library.get(name)
        except LookupError_ as err:
            missing = isinstance(err, LookupMissing)
            raise LookupUnavailable(
                str(err), pos, self.query, lookup=name, missing=missing
            ) from None

    def inputlookup(self, cmd: ast.InputlookupCmd) -> Relation:
        """The lookup's rows as results, in file order."""
        table = self.table(cmd.table, cmd.pos)
        taken: set[str] = {SEQ}
        fields: list[Field] = []
        select: list[exp.Expression] = []
        for column in table.columns:
            alias = alias_for(column, taken)
            fields.append(Field(column, alias, Kind.STR))
            select.append(q.alias(q.col(column), q.ident(alias)))
        select.append(q.alias(q.col(ROW), q.ident(SEQ)))
        source = self.b.add(q.select(*select).from_(exp.to_identifier(table.sql_name), copy=False))
        return Relation(source, tuple(fields), (ordered(q.col(SEQ), False),), (SEQ,), events=False)

    def lookup(self, rel: Relation, cmd: ast.LookupCmd) -> Relation:
        table = self.table(cmd.table, cmd.pos)
        for lookup_field, _ in cmd.match + cmd.output:
            if lookup_field not in table.columns:
                raise SplSemanticError(
                    f"lookup '{cmd.table}' has no field '{lookup_field}'", cmd.pos, self.query
                )
        matched_on = {f for f, _ in cmd.match}
        outputs = list(cmd.output) or [(c, c) for c in table.columns if c not in matched_on]
        numbered = self.b.project(rel, [], extra_hidden=[(LKID, row_number(list(rel.order)))])
        conds: list[exp.Expression] = []
        for lookup_field, event_field in cmd.match:
            value = numbered.typed(event_field)
            if value.is_null:
                conds.append(exp.false())  # an event field no result has matches nothing
                continue
            conds.append(self._condition(table, lookup_field, value, cmd))
        # one row per matched event: the output values of its matching lookup rows
        aggregates = []
        out_aliases: list[str] = []
        for i, (lookup_field, _) in enumerate(outputs):
            column = q.col(lookup_field, "l")
            values = exp.Filter(
                this=exp.ArrayAgg(
                    this=exp.Order(this=column, expressions=[exp.Ordered(this=q.col(ROW, "l"))])
                ),
                expression=exp.Where(this=q.not_null(column)),
            )
            capped = q.fn(
                "list_slice", values, exp.Literal.number(1), exp.Literal.number(table.max_matches)
            )
            alias = f"__o{i}"
            out_aliases.append(alias)
            aggregates.append(q.alias(capped, q.ident(alias)))
        aggregates.append(q.alias(exp.Count(this=exp.Star()), q.ident(MATCHED)))
        matches = (
            q.select(q.alias(q.col(LKID, "e"), q.ident(LKID)), *aggregates)
            .from_(_table(numbered.source, "e"), copy=False)
            .join(_table(table.sql_name, "l"), on=q.and_(*conds))
            .group_by(q.col(LKID, "e"))
        )
        matches_name = self.b.add(matches)
        joined = self._join(numbered, matches_name, [*out_aliases, MATCHED])
        hit = q.not_null(q.col(HIT))
        kind = Kind.MV if table.max_matches > 1 or table.min_matches > 1 else Kind.STR
        short = _short_of_matches(table, [joined.typed(f) for _, f in cmd.match])
        if short is not None:  # fewer matches than min_matches: default_match is written
            hit = q.or_(hit, q.and_(short[0], short[1]))
        assignments: list[tuple[str, Typed]] = []
        for (_, event_field), alias in zip(outputs, out_aliases, strict=True):
            found = q.col(alias)
            looked_up: exp.Expression = found if kind is Kind.MV else q.item(found, 1)
            looked_up = q.case(
                (exp.GT(this=q.list_len(found), expression=exp.Literal.number(0)), looked_up)
            )
            if short is not None:
                looked_up = _with_defaults(table, found, looked_up, kind, short[0])
            value = _written(joined.typed(event_field), looked_up, kind, hit, cmd.output_new)
            assignments.append((event_field, value))
        result = self.b.project(joined, assignments)
        internal = {LKID, HIT, MATCHED, *out_aliases}
        kept = tuple(h for h in result.hidden if h not in internal)
        select = self.b.passthrough(replace(result, hidden=kept))
        source = self.b.add(q.select(*select).from_(exp.to_identifier(result.source), copy=False))
        return replace(result, source=source, hidden=kept)

    def _join(self, rel: Relation, matches: str, outputs: list[str]) -> Relation:
        """The events next to their match row, if any: ``__hit`` and the output lists
        become hidden columns."""
        select = [q.alias(q.col(f.alias, "e"), q.ident(f.alias)) for f in rel.fields]
        select += [q.alias(q.col(h, "e"), q.ident(h)) for h in rel.hidden]
        select.append(q.alias(q.col(LKID, "m"), q.ident(HIT)))
        select += [q.alias(q.col(o, "m"), q.ident(o)) for o in outputs]
        query = (
            q.select(*select)
            .from_(_table(rel.source, "e"), copy=False)
            .join(
                _table(matches, "m"),
                on=exp.EQ(this=q.col(LKID, "e"), expression=q.col(LKID, "m")),
                join_type="left",
            )
        )
        return replace(rel, source=self.b.add(query), hidden=(*rel.hidden, HIT, *outputs))

    def _condition(
        self, table: LookupTable, lookup_field: str, value: Typed, cmd: ast.LookupCmd
    ) -> exp.Expression:
        event = _qualify(value.sql)
        if value.kind is Kind.MV:
            if (
                lookup_field in table.wildcard
                or lookup_field in table.cidr
                or not table.case_sensitive
            ):
                raise SplUnsupportedError(
                    "lookup on a multivalue field supports exact, case-sensitive matching only",
                    cmd.pos,
                    self.query,
                )
            return q.fn("list_contains", event, q.col(lookup_field, "l"))
        text = event if value.kind is Kind.STR else q.number_to_string(event)
        if lookup_field in table.cidr:
            net, mask = table.network_columns(lookup_field)
            masked = exp.BitwiseAnd(this=ipv4_to_int(text), expression=q.col(mask, "l"))
            return exp.EQ(this=masked, expression=q.col(net, "l"))
        if lookup_field in table.wildcard:
            node = exp.Like if table.case_sensitive else exp.ILike
            like = node(this=text, expression=q.col(table.pattern_column(lookup_field), "l"))
            return exp.Escape(this=like, expression=q.string("!"))
        column: exp.Expression = q.col(lookup_field, "l")
        if not table.case_sensitive:
            return exp.EQ(this=q.fn("lower", text), expression=q.fn("lower", column))
        return exp.EQ(this=text, expression=column)


def _matched_rows() -> exp.Expression:
    return q.coalesce(q.col(MATCHED), exp.Literal.number(0))


def _short_of_matches(
    table: LookupTable, inputs: list[Typed]
) -> tuple[exp.Expression, exp.Expression] | None:
    """(the event has every match field, it matched fewer rows than min_matches), or None
    when no default applies (min_matches 0, or an empty default_match: rule choices in
    ``semantics``)."""
    if table.min_matches <= 0:
        return None
    if table.default_match == "" and semantics.LOOKUP_EMPTY_DEFAULT_WRITES_NOTHING:
        return None
    present: exp.Expression = exp.true()
    if semantics.LOOKUP_DEFAULT_NEEDS_INPUT:
        if any(t.is_null for t in inputs):
            present = exp.false()
        else:
            present = q.and_(*(q.not_null(t.sql) for t in inputs)) if inputs else exp.true()
    fewer = exp.LT(this=_matched_rows(), expression=exp.Literal.number(table.min_matches))
    return present, fewer


def _with_defaults(
    table: LookupTable,
    found: exp.Expression,
    looked_up: exp.Expression,
    kind: Kind,
    present: exp.Expression,
) -> exp.Expression:
    """``looked_up``, or with k matched rows (k < min_matches) the k values followed by
    ``min_matches - k`` copies of default_match (transforms.conf)."""
    default = q.string(table.default_match)
    branches: list[tuple[exp.Expression, exp.Expression]] = []
    for k in range(table.min_matches):
        pad = exp.Array(expressions=[default.copy() for _ in range(table.min_matches - k)])
        if kind is Kind.STR:  # max_matches 1, min_matches 1: no match gives the default
            value: exp.Expression = default.copy()
        elif k == 0:
            value = pad
        else:
            value = exp.ArrayConcat(this=found.copy(), expressions=[pad])
        when = q.and_(
            present.copy(), exp.EQ(this=_matched_rows(), expression=exp.Literal.number(k))
        )
        branches.append((when, value))
    return q.case(*branches, default=looked_up)


def _qualify(e: exp.Expression) -> exp.Expression:
    e = e.copy()
    for column in e.find_all(exp.Column):
        if not column.table:
            column.set("table", q.ident("e"))
    return e


def _written(
    existing: Typed, looked_up: exp.Expression, kind: Kind, hit: exp.Expression, new_only: bool
) -> Typed:
    """What an output field holds after the lookup."""
    if existing.is_null:
        return Typed(looked_up, kind)
    current = existing.sql
    if kind is Kind.MV and existing.kind is not Kind.MV:
        current = q.case((q.not_null(current), exp.Array(expressions=[_as_text(existing)])))
    elif kind is Kind.STR and existing.kind is not Kind.STR:
        current = _as_text(existing) if existing.kind is Kind.NUM else q.item(current, 1)
    if new_only:  # OUTPUTNEW: only where the event lacks the field
        return Typed(q.coalesce(current, looked_up), kind)
    return Typed(q.case((hit, looked_up), default=current), kind)  # OUTPUT: no match, no write


def _as_text(t: Typed) -> exp.Expression:
    return t.sql if t.kind is Kind.STR else q.number_to_string(t.sql)


def _table(name: str, alias: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), alias=exp.TableAlias(this=q.ident(alias)))
