"""Typed syntax tree of an SPL pipeline.

Pure syntax: no knowledge of SQL or of the data. Every node carries ``pos``, its offset
into the (macro-expanded) query text, so that the compiler can report located errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --------------------------------------------------------------------------- search


@dataclass(frozen=True)
class SearchValue:
    """A value on the right of ``field=`` or a bare term, escapes already processed.

    ``case_sensitive`` comes from ``CASE(...)``, ``term`` from ``TERM(...)``; ``quoted``
    records whether the user wrote quotes (keywords like ``OR`` are literal when quoted).
    """

    text: str
    pos: int
    quoted: bool = False
    case_sensitive: bool = False
    term: bool = False


@dataclass(frozen=True)
class FieldMatch:
    """``field OP value`` inside a search (OP one of = != < > <= >=)."""

    field: str
    op: str
    value: SearchValue
    pos: int


@dataclass(frozen=True)
class FieldIn:
    """``field IN (v1, v2, ...)`` inside a search."""

    field: str
    values: tuple[SearchValue, ...]
    pos: int


@dataclass(frozen=True)
class TermMatch:
    """A bare keyword or quoted phrase, matched against ``_raw``."""

    value: SearchValue
    pos: int


@dataclass(frozen=True)
class SearchAnd:
    items: tuple[SearchExpr, ...]
    pos: int


@dataclass(frozen=True)
class SearchOr:
    items: tuple[SearchExpr, ...]
    pos: int


@dataclass(frozen=True)
class SearchNot:
    item: SearchExpr
    pos: int


@dataclass(frozen=True)
class Subsearch:
    """``[ ... ]``: a nested pipeline (parsed; execution may not be supported)."""

    pipeline: Pipeline
    pos: int


SearchExpr = FieldMatch | FieldIn | TermMatch | SearchAnd | SearchOr | SearchNot | Subsearch

# --------------------------------------------------------------------------- eval


@dataclass(frozen=True)
class Str:
    """A double-quoted string literal (eval escapes processed)."""

    value: str
    pos: int


@dataclass(frozen=True)
class Num:
    """A numeric literal; ``text`` keeps how the user wrote it."""

    value: float
    text: str
    pos: int


@dataclass(frozen=True)
class FieldRef:
    name: str
    pos: int


@dataclass(frozen=True)
class BinOp:
    """Binary operator: arithmetic, ``.``, comparison, AND/OR/XOR, LIKE."""

    op: str
    left: Expr
    right: Expr
    pos: int


@dataclass(frozen=True)
class UnaryOp:
    """``NOT x`` or ``-x``."""

    op: str
    operand: Expr
    pos: int


@dataclass(frozen=True)
class Call:
    """Function call; ``name`` is lower-cased (eval function names are case-insensitive)."""

    name: str
    args: tuple[Expr, ...]
    pos: int


Expr = Str | Num | FieldRef | BinOp | UnaryOp | Call

# --------------------------------------------------------------------------- commands


class Command:
    """Base of every command node (one per command; its parser lives in
    ``spl/commands/<name>.py``, its SQL in ``compile/commands/<name>.py``)."""

    __slots__ = ()
    pos: int


@dataclass(frozen=True)
class SearchCmd(Command):
    """``search`` (explicit or the implicit first command); ``expr`` None = all events."""

    expr: SearchExpr | None
    pos: int


@dataclass(frozen=True)
class WhereCmd(Command):
    expr: Expr
    pos: int


@dataclass(frozen=True)
class Assignment:
    field: str
    expr: Expr
    pos: int


@dataclass(frozen=True)
class EvalCmd(Command):
    assignments: tuple[Assignment, ...]
    pos: int


@dataclass(frozen=True)
class Aggregation:
    """One stats function: ``func(arg) AS alias``.

    ``arg`` is None for ``count``; an expression for ``count(eval(...))``; ``param`` holds
    N for ``percN``/``pN``/``exactpercN``.
    """

    func: str
    arg: Expr | None
    alias: str
    pos: int
    param: float | None = None


@dataclass(frozen=True)
class StatsCmd(Command):
    """``stats`` or ``eventstats`` (``name`` tells which)."""

    name: str
    aggregations: tuple[Aggregation, ...]
    by: tuple[str, ...]
    pos: int


@dataclass(frozen=True)
class TableCmd(Command):
    fields: tuple[str, ...]  # may contain * wildcards
    pos: int


@dataclass(frozen=True)
class FieldsCmd(Command):
    remove: bool
    fields: tuple[str, ...]
    pos: int


@dataclass(frozen=True)
class RenameCmd(Command):
    pairs: tuple[tuple[str, str], ...]
    pos: int


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool
    coerce: str  # "auto" | "num" | "str" | "ip"
    pos: int


@dataclass(frozen=True)
class SortCmd(Command):
    keys: tuple[SortKey, ...]
    limit: int | None  # None = default (10,000); 0 = unlimited
    pos: int
    reverse: bool = False  # trailing `d` / `desc`


@dataclass(frozen=True)
class HeadCmd(Command):
    count: int
    pos: int


@dataclass(frozen=True)
class TailCmd(Command):
    count: int
    pos: int


@dataclass(frozen=True)
class DedupCmd(Command):
    fields: tuple[str, ...]
    count: int
    keepempty: bool
    consecutive: bool
    sortby: tuple[SortKey, ...]
    pos: int
    keepevents: bool = False


@dataclass(frozen=True)
class FillnullCmd(Command):
    value: str
    fields: tuple[str, ...]  # empty = every field
    pos: int


@dataclass(frozen=True)
class MakeresultsCmd(Command):
    count: int
    pos: int


@dataclass(frozen=True)
class LookupCmd(Command):
    """``lookup NAME field [AS f] ... [OUTPUT|OUTPUTNEW f [AS g] ...]``."""

    table: str
    match: tuple[tuple[str, str], ...]  # (lookup field, event field)
    output: tuple[tuple[str, str], ...]  # (lookup field, event field); empty = all others
    output_new: bool
    pos: int


@dataclass(frozen=True)
class InputlookupCmd(Command):
    table: str
    pos: int


@dataclass(frozen=True)
class RegexCmd(Command):
    """``regex [field=|field!=]"pattern"``: keep events whose field does (not) match."""

    field: str  # _raw when the user names none
    negate: bool
    pattern: str  # search escapes processed (rule 2.3.2), otherwise as written (PCRE)
    pos: int
    pattern_pos: int


@dataclass(frozen=True)
class RexCmd(Command):
    """``rex [field=f] "(?<name>...)"``: named groups become fields (rule 8, rex)."""

    field: str
    pattern: str
    pos: int
    pattern_pos: int


@dataclass(frozen=True)
class BinCmd(Command):
    """``bin``/``bucket`` ``span=S field [AS new]``: values floored to multiples of the span."""

    field: str
    alias: str
    span: float  # seconds (for _time) or plain units
    months: int  # > 0: a calendar span of this many months (`span=1mon`)
    pos: int


@dataclass(frozen=True)
class MultisearchCmd(Command):
    """``| multisearch [search ...] [search ...]``: the union of streaming subsearches."""

    pipelines: tuple[Pipeline, ...]
    pos: int


@dataclass(frozen=True)
class Pipeline:
    commands: tuple[Command, ...]
    text: str = field(compare=False)  # the query the positions refer to


# ------------------------------------------------------------------ tstats, datamodel, from


@dataclass(frozen=True)
class TstatsCmd(Command):
    """``| tstats [options] aggregations [FROM datamodel=M.D] [WHERE search] [BY fields]``
    (docs/cim.md T1-T12). ``datamodel`` None: the events' indexed fields (T11)."""

    aggregations: tuple[Aggregation, ...]
    datamodel: str | None
    nodename: str | None  # ``where nodename=Root.Child`` (taken out of ``where``)
    where: SearchExpr | None
    by: tuple[str, ...]
    span: float  # seconds for ``_time`` in ``by`` (0: none)
    span_months: int  # > 0: a calendar span (``span=1mon``)
    fillnull_value: str | None
    summariesonly: bool
    allow_old_summaries: bool
    pos: int
    datamodel_pos: int = 0


@dataclass(frozen=True)
class DatamodelCmd(Command):
    """``| datamodel Model Dataset search|flat [strict_fields=b]``: the dataset's events."""

    model: str
    dataset: str
    flat: bool
    strict_fields: bool
    pos: int


@dataclass(frozen=True)
class FromCmd(Command):
    """``| from datamodel:Model.Dataset`` (also ``datamodel Model.Dataset``)."""

    dataset_type: str
    dataset: str
    pos: int
    dataset_pos: int
