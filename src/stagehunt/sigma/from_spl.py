"""SPL pipeline → Sigma rule specifications, with what Sigma cannot say listed.

The pipeline is evaluated symbolically once per Splunk source of ``taxonomy.json``: the
search's index/sourcetype/EventCode terms become constants for that source, fields become
the source's Sigma taxonomy fields (or absent), and ``eval``/``where``/``lookup`` fold
into one condition tree. A ``case()`` whose non-null result the search requires (a label)
splits the detection into one rule per label, each exactly its branch (earlier branches
excluded, as case() picks the first). A final ``stats ... by`` + ``where count >= N`` is a
correlation: labels the ``where`` accepts alone are standalone rules, the rest are counted.
Whatever has no Sigma form is an :class:`Unexpressed` record, never dropped silently.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from stagehunt.lookups import LookupLibrary
from stagehunt.sigma.logic import FALSE, TRUE, And, Cond, Not, Or, Pred, and_, not_, or_
from stagehunt.spl import ast
from stagehunt.spl.macros import MacroLibrary
from stagehunt.spl.parser import parse

IDENTITY = ("index", "sourcetype", "EventCode")
_CONDITIONS = ("match", "isnull", "isnotnull", "like", "true", "false")


@dataclass(frozen=True)
class Unexpressed:
    """An SPL construct without a Sigma form, and what the rules do instead."""

    construct: str
    reason: str

    def render(self) -> str:
        return f"{self.construct}: {self.reason}"


@dataclass(frozen=True)
class Source:
    name: str
    logsource: tuple[tuple[str, str], ...]
    identity: dict[str, tuple[str, ...]]
    fields: dict[str, str]
    unmapped: tuple[str, ...]


def load_sources() -> tuple[list[Source], dict[str, str]]:
    data = json.loads(
        resources.files("stagehunt.sigma").joinpath("taxonomy.json").read_text("utf-8")
    )
    sources = [
        Source(
            s["name"],
            tuple(sorted(s["logsource"].items())),
            {k: tuple(v) for k, v in s["identity"].items()},
            dict(s["fields"]),
            tuple(s.get("unmapped", ())),
        )
        for s in data["sources"]
    ]
    return sources, dict(data["common_fields"])


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Null:
    pass


@dataclass(frozen=True)
class Field:
    name: str  # Sigma field
    fallback: str | None = None  # coalesce(..., "literal") default Sigma cannot carry


@dataclass(frozen=True)
class Lit:
    text: str


@dataclass(frozen=True)
class Flag:
    """A 1/0 value: ``if(cond, 1, 0)``."""

    cond: Cond


@dataclass(frozen=True)
class Label:
    """``case(c1, v1, ...)``: ``None`` values are ``null()``."""

    branches: tuple[tuple[Cond, str | None], ...]

    def rules(self) -> list[tuple[str, Cond]]:
        """Each non-null label with its exact condition (first matching branch wins)."""
        out: list[tuple[str, Cond]] = []
        earlier: list[Cond] = []
        for cond, value in self.branches:
            exact = and_(cond, *(not_(c) for c in earlier))
            if value is not None and exact != FALSE:
                out.append((value, exact))
            earlier.append(cond)
        return out


@dataclass(frozen=True)
class Present:
    """Non-null exactly when one of ``groups`` holds (a lookup's output: one group per
    output value, so each becomes its own named filter)."""

    groups: tuple[Cond, ...]

    @property
    def cond(self) -> Cond:
        return or_(*self.groups)


@dataclass(frozen=True)
class Opaque:
    what: str


Value = Null | Field | Lit | Flag | Label | Present | Opaque


def snake(text: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", re.sub(r"\W+", "_", text)).strip("_").lower()


def snippet(text: str, pos: int) -> str:
    """The SPL command or clause starting at ``pos``, on one line, at most 90 characters."""
    rest = text[pos:]
    depth, end = 0, len(rest)
    for i, ch in enumerate(rest):
        depth += (ch == "(") - (ch == ")")
        if depth < 0 or (ch == "|" and depth == 0 and i > 0):
            end = i
            break
    one = " ".join(rest[:end].split())
    return one if len(one) <= 90 else one[:87] + "..."


# --------------------------------------------------------------------------- evaluation


@dataclass
class Notes:
    """Unexpressed records (deduplicated, in order) and hints naming subconditions."""

    items: list[Unexpressed] = field(default_factory=list)
    hints: dict[Cond, str] = field(default_factory=dict)

    def add(self, construct: str, reason: str) -> None:
        u = Unexpressed(construct, reason)
        if u not in self.items:
            self.items.append(u)


class SourceEval:
    """The pipeline's meaning on one source, up to its final ``stats``."""

    def __init__(
        self,
        source: Source,
        common: dict[str, str],
        text: str,
        notes: Notes,
        lookups: LookupLibrary,
    ) -> None:
        self.source = source
        self.common = common
        self.text = text
        self.notes = notes
        self.lookups = lookups
        self.env: dict[str, Value] = {}
        self.filter: Cond = TRUE
        self.label_field: str | None = None

    # ----- fields
    def field(self, name: str) -> Value:
        if name in self.env:
            return self.env[name]
        if name in self.source.fields:
            return Field(self.source.fields[name])
        if name in self.common:
            return Field(self.common[name])
        if name in self.source.unmapped:
            self.notes.add(
                name,
                f"{self.source.name} events carry it but Sigma's "
                f"{dict(self.source.logsource)['category']} has no such field: treated as absent",
            )
        return Null()

    def ident(self, name: str, value: str) -> Cond:
        allowed = self.source.identity.get(name, ())
        hit = any(fnmatch.fnmatchcase(a.lower(), value.lower()) for a in allowed)
        return TRUE if hit else FALSE

    # ----- search
    def search(self, expr: ast.SearchExpr) -> Cond:
        if isinstance(expr, ast.SearchAnd):
            return and_(*(self.search(x) for x in expr.items))
        if isinstance(expr, ast.SearchOr):
            return or_(*(self.search(x) for x in expr.items))
        if isinstance(expr, ast.SearchNot):
            return not_(self.search(expr.item))
        if isinstance(expr, ast.FieldIn):
            return or_(*(self.match(expr.field, "=", v.text, expr.pos) for v in expr.values))
        if isinstance(expr, ast.FieldMatch):
            return self.match(expr.field, expr.op, expr.value.text, expr.pos)
        self.notes.add(
            snippet(self.text, expr.pos),
            "a bare term or subsearch has no Sigma field: not required by the rules",
        )
        return TRUE

    def match(self, name: str, op: str, text: str, pos: int) -> Cond:
        if op not in ("=", "!="):
            self.notes.add(snippet(self.text, pos), "numeric comparison in search: not required")
            return TRUE
        if name in IDENTITY and name not in self.env:
            hit = self.ident(name, text)
            return hit if op == "=" else not_(hit)
        value = self.field(name)
        if isinstance(value, Null):
            return FALSE  # Splunk: neither field=x nor field!=x matches a missing field
        if isinstance(value, Field):
            pred = Pred(value.name, "wild" if "*" in text else "eq", text)
            return pred if op == "=" else not_(pred)
        if isinstance(value, Flag) and text in ("0", "1"):
            return value.cond if (text == "1") == (op == "=") else not_(value.cond)
        self.notes.add(snippet(self.text, pos), "compares a computed value: not required")
        return TRUE

    # ----- eval expressions
    def value(self, expr: ast.Expr) -> Value:
        if isinstance(expr, ast.Str):
            return Lit(expr.value)
        if isinstance(expr, ast.Num):
            return Lit(expr.text)
        if isinstance(expr, ast.FieldRef):
            if expr.name in IDENTITY and expr.name not in self.env:
                allowed = self.source.identity.get(expr.name, ())
                return Lit(allowed[0]) if len(allowed) == 1 else Opaque(expr.name)
            return self.field(expr.name)
        if isinstance(expr, ast.Call):
            return self.call(expr)
        if isinstance(expr, ast.BinOp) and expr.op.upper() in ("AND", "OR", "=", "==", "!="):
            return Flag(self.cond(expr))
        return Opaque(snippet(self.text, expr.pos))

    def call(self, expr: ast.Call) -> Value:
        name, args = expr.name, expr.args
        if name == "null" and not args:
            return Null()
        if name == "coalesce":
            values = [self.value(a) for a in args]
            if any(isinstance(v, Present) for v in values) and all(
                isinstance(v, Present | Null) for v in values
            ):
                return Present(sum((v.groups for v in values if isinstance(v, Present)), ()))
            for i, v in enumerate(values):
                if isinstance(v, Null):
                    continue
                if isinstance(v, Field):
                    later = [x for x in values[i + 1 :] if isinstance(x, Lit)]
                    return Field(v.name, later[0].text if later else None)
                return v
            return Null()
        if name == "if" and len(args) == 3:
            cond = self.cond(args[0])
            yes, no = self.value(args[1]), self.value(args[2])
            if (yes, no) == (Lit("1"), Lit("0")):
                return Flag(cond)
            if (yes, no) == (Lit("0"), Lit("1")):
                return Flag(not_(cond))
            if cond == TRUE:
                return yes
            if cond == FALSE:
                return no
        if name == "case" and len(args) % 2 == 0:
            branches: list[tuple[Cond, str | None]] = []
            for c, arm in zip(args[::2], args[1::2], strict=True):
                result = self.value(arm)
                if not isinstance(result, Lit | Null):
                    return Opaque(snippet(self.text, expr.pos))
                branches.append((self.cond(c), result.text if isinstance(result, Lit) else None))
            return Label(tuple(branches))
        if name in _CONDITIONS:
            return Flag(self.cond(expr))
        return Opaque(snippet(self.text, expr.pos))

    def cond(self, expr: ast.Expr) -> Cond:
        if isinstance(expr, ast.BinOp):
            op = expr.op.upper()
            if op == "AND":
                return and_(self.cond(expr.left), self.cond(expr.right))
            if op == "OR":
                return or_(self.cond(expr.left), self.cond(expr.right))
            if op in ("=", "==", "!="):
                eq = self.equals(self.value(expr.left), self.value(expr.right), expr)
                return eq if op != "!=" else not_(eq)
        if isinstance(expr, ast.UnaryOp) and expr.op.upper() == "NOT":
            return not_(self.cond(expr.operand))
        if isinstance(expr, ast.Call):
            if expr.name in ("true", "false") and not expr.args:
                return TRUE if expr.name == "true" else FALSE
            if expr.name == "match" and len(expr.args) == 2 and isinstance(expr.args[1], ast.Str):
                subject = self.value(expr.args[0])
                if isinstance(subject, Null):
                    return FALSE
                if isinstance(subject, Field):
                    return Pred(subject.name, "re", expr.args[1].value, ci=False)
            if expr.name in ("isnull", "isnotnull") and len(expr.args) == 1:
                tested = self.value(expr.args[0])
                if isinstance(tested, Opaque):
                    return self.opaque(expr, f"{tested.what} has no Sigma form: not required")
                if isinstance(tested, Present) and expr.name == "isnull":
                    return and_(*(not_(g) for g in tested.groups))
                present = self.present(tested, expr)
                return present if expr.name == "isnotnull" else not_(present)
            if expr.name in _CONDITIONS:
                return self.opaque(
                    expr, "no Sigma form: not required by the rules (they match more)"
                )
        value = self.value(expr)
        if isinstance(value, Flag):
            return value.cond
        return self.opaque(expr, "no Sigma form: not required by the rules (they match more)")

    def equals(self, left: Value, right: Value, expr: ast.Expr) -> Cond:
        if isinstance(left, Lit) and not isinstance(right, Lit):
            left, right = right, left
        if isinstance(left, Null) or isinstance(right, Null):
            return FALSE
        if isinstance(left, Lit) and isinstance(right, Lit):
            return TRUE if left.text == right.text else FALSE
        if isinstance(left, Flag) and isinstance(right, Lit) and right.text in ("0", "1"):
            return left.cond if right.text == "1" else not_(left.cond)
        if isinstance(left, Field) and isinstance(right, Lit):
            return Pred(left.name, "eq", right.text, ci=False)
        if isinstance(left, Label) and isinstance(right, Lit):
            return or_(*(c for label, c in left.rules() if label == right.text))
        return self.opaque(expr, "compares computed values: not required by the rules")

    def present(self, value: Value, expr: ast.Expr) -> Cond:
        if isinstance(value, Null):
            return FALSE
        if isinstance(value, Field | Lit | Flag):
            return TRUE  # a taxonomy field is taken as present on its log source
        if isinstance(value, Present):
            return value.cond
        if isinstance(value, Label):
            return or_(*(c for _, c in value.rules()))
        return self.opaque(expr, "tests a value Sigma cannot compute: not required by the rules")

    def opaque(self, expr: ast.Expr, reason: str) -> Cond:
        self.notes.add(snippet(self.text, expr.pos), reason)
        return TRUE

    # ----- commands
    def run(self, commands: tuple[ast.Command, ...]) -> None:
        for cmd in commands:
            if isinstance(cmd, ast.SearchCmd):
                if cmd.expr is not None:
                    self.filter = and_(self.filter, self.search(cmd.expr))
            elif isinstance(cmd, ast.EvalCmd):
                for a in cmd.assignments:
                    value = self.value(a.expr)
                    if isinstance(value, Flag) and value.cond not in self.notes.hints:
                        self.notes.hints[value.cond] = snake(a.field)
                    if isinstance(value, Label):
                        self._hint_labels(value)
                    self.env[a.field] = value
            elif isinstance(cmd, ast.WhereCmd):
                self.where(cmd)
            elif isinstance(cmd, ast.LookupCmd):
                self.lookup(cmd)
            elif isinstance(cmd, ast.StatsCmd):  # eventstats: the final stats is not run here
                for agg in cmd.aggregations:
                    self.env[agg.alias] = Opaque(agg.alias)
                self.notes.add(
                    snippet(self.text, cmd.pos),
                    "eventstats relates events to each other; a Sigma rule sees one event: "
                    f"{', '.join(a.alias for a in cmd.aggregations)} not expressed",
                )
            elif isinstance(cmd, ast.RenameCmd):
                for old, new in cmd.pairs:
                    self.env[new] = self.field(old)
            else:
                self.notes.add(snippet(self.text, cmd.pos), "no Sigma form before stats: ignored")

    def _hint_labels(self, label: Label) -> None:
        for cond, value in label.branches:
            if value is None:
                continue
            parts = cond.items if isinstance(cond, And) else (cond,)
            for part in parts:
                if part not in self.notes.hints:
                    self.notes.hints[part] = snake(value)

    def where(self, cmd: ast.WhereCmd) -> None:
        expr = cmd.expr
        if (
            isinstance(expr, ast.Call)
            and expr.name == "isnotnull"
            and len(expr.args) == 1
            and isinstance(expr.args[0], ast.FieldRef)
            and isinstance(self.env.get(expr.args[0].name), Label)
        ):
            self.label_field = expr.args[0].name  # one rule per label
            return
        self.filter = and_(self.filter, self.cond(expr))

    def lookup(self, cmd: ast.LookupCmd) -> None:
        try:
            table = self.lookups.get(cmd.table)
        except Exception as e:  # a missing lookup is reported, the rules go on without it
            self.notes.add(snippet(self.text, cmd.pos), f"lookup not readable ({e}): ignored")
            for _, out in cmd.output:
                self.env[out] = Opaque(out)
            return
        rows = table.data.to_pylist()
        outputs = cmd.output or tuple((c, c) for c in table.columns if c not in dict(cmd.match))
        for column, out in outputs:
            groups: dict[str, list[Cond]] = {}
            for row in rows:
                if not row.get(column):
                    continue
                conds = [
                    self._lookup_match(table, lf, str(row.get(lf) or ""), ef)
                    for lf, ef in cmd.match
                ]
                groups.setdefault(str(row[column]), []).append(and_(*conds))
            parts = []
            for klass, conds in groups.items():
                cond = or_(*conds)
                self.notes.hints.setdefault(cond, f"{snake(cmd.table)}_{snake(klass)}")
                parts.append(cond)
            self.env[out] = Present(tuple(parts))

    def _lookup_match(self, table: Any, column: str, pattern: str, event_field: str) -> Cond:
        value = self.field(event_field)
        wild = column in table.wildcard and "*" in pattern
        if pattern == "*" and wild:
            return TRUE if not isinstance(value, Null) else FALSE
        if isinstance(value, Field):
            return Pred(value.name, "wild" if wild else "eq", pattern, ci=not table.case_sensitive)
        if isinstance(value, Lit):
            hit = (
                fnmatch.fnmatch(value.text.lower(), pattern.lower())
                if wild
                else value.text == pattern
            )
            return TRUE if hit else FALSE
        if isinstance(value, Null):
            return FALSE
        self.notes.add(f"lookup {table.name} {event_field}", "matches a computed value: ignored")
        return TRUE


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class RuleSpec:
    name: str
    label: str | None
    logsource: dict[str, str]
    cond: Cond
    standalone: bool  # alerts on its own; otherwise only counted by the correlation


@dataclass(frozen=True)
class CorrelationSpec:
    name: str
    rules: tuple[str, ...]
    group_by: tuple[str, ...]
    gte: int


@dataclass
class Translation:
    detection: str
    rules: list[RuleSpec]
    correlation: CorrelationSpec | None
    unexpressed: list[Unexpressed]
    hints: dict[Cond, str]


class TranslationError(Exception):
    """The query has nothing Sigma can select on (no known source, no final filter)."""


def translate(
    spl: str,
    name: str = "query",
    *,
    lookups: LookupLibrary | None = None,
    macros: MacroLibrary | None = None,
) -> Translation:
    """SPL text → rule specifications (one per log source and label) and a correlation."""
    text = (macros or MacroLibrary()).expand(spl)
    pipeline = parse(text)
    commands = pipeline.commands
    cut = next(
        (i for i, c in enumerate(commands) if isinstance(c, ast.StatsCmd) and c.name == "stats"),
        len(commands),
    )
    notes = Notes()
    sources, common = load_sources()
    library = lookups or LookupLibrary(None)
    per_logsource: dict[tuple[tuple[str, str], ...], dict[str | None, Cond]] = {}
    evals: list[SourceEval] = []
    for source in sources:
        ev = SourceEval(source, common, text, notes, library)
        ev.run(commands[:cut])
        if ev.label_field is None and cut < len(commands):
            ev.label_field = _aggregated_label(commands[cut], ev)
        if ev.filter == FALSE:
            continue
        evals.append(ev)
        labelled: list[tuple[str | None, Cond]] = [(None, TRUE)]
        if ev.label_field is not None:
            label = ev.env[ev.label_field]
            assert isinstance(label, Label)
            labelled = list(label.rules())
        slot = per_logsource.setdefault(source.logsource, {})
        for label_text, cond in labelled:
            full = and_(ev.filter, cond)
            if full != FALSE:
                slot[label_text] = or_(slot.get(label_text, FALSE), full)
    if not evals:
        raise TranslationError(
            "the search selects no source known to stagehunt's Sigma taxonomy "
            "(index/sourcetype/EventCode terms)"
        )
    prefix = snake(name)
    rules: list[RuleSpec] = []
    for logsource, labels in per_logsource.items():
        ls = dict(logsource)
        for label_text, cond in labels.items():
            if cond == TRUE:
                raise TranslationError(f"nothing to match on {ls['category']}: the rule is empty")
            parts = [prefix, snake(label_text) if label_text else "", ls["category"], ls["product"]]
            rules.append(
                RuleSpec("_".join(p for p in parts if p), label_text, ls, cond, standalone=True)
            )
    correlation = _correlation(commands[cut:], evals, text, notes, prefix, rules)
    if correlation is not None:
        counted = set(correlation.rules)
        rules = [
            RuleSpec(r.name, r.label, r.logsource, r.cond, r.name not in counted) for r in rules
        ]
    if any(r.label for r in rules):
        field_name = evals[0].label_field
        notes.add(
            f"eval {field_name}=case(...)",
            f"the {field_name} value is not an output of a Sigma rule: one rule per value, "
            "named and titled after it",
        )
    return Translation(name, rules, correlation, notes.items, notes.hints)


def _aggregated_label(stats: ast.Command, ev: SourceEval) -> str | None:
    """A case() label the final stats collects with values(): split the rules by it too."""
    assert isinstance(stats, ast.StatsCmd)
    for agg in stats.aggregations:
        if (
            agg.func == "values"
            and isinstance(agg.arg, ast.FieldRef)
            and isinstance(ev.env.get(agg.arg.name), Label)
        ):
            return agg.arg.name
    return None


def _correlation(
    tail: tuple[ast.Command, ...],
    evals: list[SourceEval],
    text: str,
    notes: Notes,
    prefix: str,
    rules: list[RuleSpec],
) -> CorrelationSpec | None:
    if not tail:
        return None
    stats = tail[0]
    assert isinstance(stats, ast.StatsCmd)
    label_field = evals[0].label_field
    count_alias, labels_alias = None, None
    for agg in stats.aggregations:
        if agg.func == "count" and agg.arg is None:
            count_alias = agg.alias
        elif (
            agg.func == "values"
            and isinstance(agg.arg, ast.FieldRef)
            and agg.arg.name == label_field
        ):
            labels_alias = agg.alias
        else:
            notes.add(f"stats {agg.func} as {agg.alias}", "an output column: Sigma has none")
    group_by: list[str] = []
    for by in stats.by:
        for ev in evals:
            value = ev.field(by)
            if isinstance(value, Field):
                if value.name not in group_by:
                    group_by.append(value.name)
                if value.fallback is not None:
                    notes.add(
                        f"by {by}",
                        f"falls back to '{value.fallback}' in SPL; the correlation groups by "
                        f"{value.name}, so an event without {value.name} is not grouped",
                    )
            else:
                notes.add(f"by {by}", f"no Sigma field on {ev.source.name}: not grouped by it")
    gte: int | None = None
    strong: set[str] = set()
    rest = tail[1:]
    if rest and isinstance(rest[0], ast.WhereCmd):
        gte, strong = _threshold(rest[0].expr, count_alias, labels_alias, text, notes)
        rest = rest[1:]
    for cmd in rest:
        notes.add(snippet(text, cmd.pos), "after stats, shapes the output: Sigma has none")
    if count_alias is None or gte is None:
        notes.add(snippet(text, stats.pos), "no count threshold: every rule alerts on its own")
        return None
    counted = tuple(r.name for r in rules if r.label not in strong)
    if not counted:
        return None
    return CorrelationSpec(f"{prefix}_event_count", counted, tuple(group_by), gte)


def _threshold(
    expr: ast.Expr,
    count_alias: str | None,
    labels_alias: str | None,
    text: str,
    notes: Notes,
) -> tuple[int | None, set[str]]:
    """``where C >= N OR <label test>`` → (N, labels that alert alone)."""
    terms: list[ast.Expr] = []

    def split(e: ast.Expr) -> None:
        if isinstance(e, ast.BinOp) and e.op.upper() == "OR":
            split(e.left)
            split(e.right)
        else:
            terms.append(e)

    split(expr)
    gte: int | None = None
    strong: set[str] = set()
    known = _known_labels(text)
    for term in terms:
        if (
            isinstance(term, ast.BinOp)
            and term.op in (">=", ">")
            and isinstance(term.left, ast.FieldRef)
            and term.left.name == count_alias
            and isinstance(term.right, ast.Num)
        ):
            gte = int(term.right.value) + (1 if term.op == ">" else 0)
        elif (
            isinstance(term, ast.Call)
            and term.name == "isnotnull"
            and isinstance(term.args[0], ast.Call)
            and term.args[0].name == "mvfind"
            and isinstance(term.args[0].args[0], ast.FieldRef)
            and term.args[0].args[0].name == labels_alias
            and isinstance(term.args[0].args[1], ast.Str)
        ):
            pattern = re.compile(term.args[0].args[1].value)
            strong |= {k for k in known if pattern.search(k)}
        elif (
            isinstance(term, ast.BinOp)
            and term.op in ("=", "==")
            and isinstance(term.left, ast.FieldRef)
            and term.left.name == labels_alias
            and isinstance(term.right, ast.Str)
        ):
            strong.add(term.right.value)
        else:
            notes.add(snippet(text, term.pos), "a post-stats test Sigma cannot express: ignored")
    return gte, strong


def _known_labels(text: str) -> set[str]:
    """Every string literal of the query (a superset of the labels)."""
    return set(re.findall(r'"((?:[^"\\]|\\.)*)"', text))


def condition_fields(cond: Cond) -> set[str]:
    """The Sigma fields a condition reads (for tests and reports)."""
    if isinstance(cond, Pred):
        return {cond.field}
    if isinstance(cond, Not):
        return condition_fields(cond.item)
    if isinstance(cond, And | Or):
        return set().union(*(condition_fields(x) for x in cond.items))
    return set()
