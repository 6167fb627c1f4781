"""Typed syntax tree of an SPL pipeline.

Pure syntax: no knowledge of SQL or of the data. Every node carries ``pos``, its offset
into the (macro-expanded) query text, so that the compiler can report located errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass

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
    append: bool = False  # `inputlookup append=t NAME` after the first command


@dataclass(frozen=True)
class RegexCmd(Command):
    """``regex [field=|field!=]"pattern"``: keep events whose field does (not) match."""

    field: str  # _raw when the user names none
    negate: bool
    pattern: str  # search escapes processed (rule 2.3.2), otherwise as written (PCRE)
    pos: int
    pattern_pos: int


@dataclass(frozen=True)
class SedExpr:
    """``s/regex/replacement/flags`` or ``y/from/to/`` of ``rex mode=sed`` (C-rex-4..6)."""

    kind: str  # "s" or "y"
    pattern: str  # s: the regex (PCRE); y: the characters to replace
    replacement: str  # s: with \N back-references; y: the characters that replace them
    occurrence: int  # s: 0 = every match (g), N = the Nth match only (default 1)


@dataclass(frozen=True)
class RexCmd(Command):
    """``rex [field=f] [max_match=N] "(?<name>...)"``: named groups become fields (rule 8,
    rex; C-rex-1..3); ``rex [field=f] mode=sed "s/.../.../"`` edits the field (C-rex-4..6)."""

    field: str
    pattern: str
    pos: int
    pattern_pos: int
    max_match: int = 1  # 0 = unlimited
    sed: SedExpr | None = None


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


# ------------------------------------------------ join append appendpipe transaction
# ------------------------------------------------ streamstats timechart chart from
# ------------------------------------------------ outputlookup iplocation


@dataclass(frozen=True)
class FromCmd(Command):
    """``| from <type>:<name>`` (or ``from <type> <name>``): a dataset as the results."""

    dataset_type: str  # lower-cased: lookup, inputlookup, datamodel, savedsearch, ...
    name: str
    pos: int
    name_pos: int = 0


@dataclass(frozen=True)
class JoinCmd(Command):
    """``join [type=] [max=] [overwrite=] [usetime=] [f, ...] [subsearch]``."""

    fields: tuple[str, ...]  # empty: every field both sides have
    join_type: str  # "inner" | "left" ("outer" is "left")
    max: int  # matches kept per result; 0 = all
    overwrite: bool
    subsearch: Pipeline
    pos: int
    sub_pos: int


@dataclass(frozen=True)
class AppendCmd(Command):
    """``append [maxout=N] [maxtime=] [extendtimerange=] [subsearch]``."""

    subsearch: Pipeline
    maxout: int
    pos: int


@dataclass(frozen=True)
class AppendpipeCmd(Command):
    """``appendpipe [subpipeline]``: the subpipeline over the results so far, appended."""

    commands: tuple[Command, ...]
    pos: int


@dataclass(frozen=True)
class TransactionCmd(Command):
    """``transaction f ... [maxspan=] [maxpause=] [maxevents=] [startswith=] [endswith=]
    [keepevicted=]``; spans in seconds (None: no limit)."""

    fields: tuple[str, ...]
    maxspan: float | None
    maxpause: float | None
    maxevents: int
    startswith: SearchExpr | None
    endswith: SearchExpr | None
    keepevicted: bool
    pos: int


@dataclass(frozen=True)
class StreamstatsCmd(Command):
    """``streamstats [current=] [window=N] [global=] aggs [by f ...]``."""

    aggregations: tuple[Aggregation, ...]
    by: tuple[str, ...]
    current: bool
    window: int  # 0 = every earlier result
    pos: int
    #: with window=N and by-fields: True, the last N results of all groups (Splunk's
    #: default); False, the last N results of the result's own group
    global_window: bool = True


@dataclass(frozen=True)
class ChartCmd(Command):
    """``chart aggs [over x] [by y]`` or ``timechart [span=] aggs [by y]`` (``name``)."""

    name: str
    aggregations: tuple[Aggregation, ...]
    over: str | None  # timechart: _time
    by: str | None
    span: float  # timechart bucket, seconds (0: chart)
    limit: int  # top-N by-values kept as columns; 0 = all
    useother: bool
    pos: int


@dataclass(frozen=True)
class MapCmd(Command):
    """``map [maxsearches=N] search="template"``: the template (``$field$`` tokens in it)
    as written; it is expanded and parsed when compiled."""

    template: str
    maxsearches: int
    pos: int
    template_pos: int


@dataclass(frozen=True)
class OutputlookupCmd(Command):
    """``outputlookup [append=] [create_empty=] [override_if_empty=] [max=] NAME``."""

    table: str
    append: bool
    create_empty: bool
    override_if_empty: bool
    max: int  # 0 = every result
    pos: int


@dataclass(frozen=True)
class IplocationCmd(Command):
    """``iplocation [prefix=] [allfields=] [lang=] ip_field``."""

    field: str
    prefix: str
    allfields: bool
    pos: int


# ------------------------------------------------ convert rex spath fromjson xmlkv extract
# ------------------------------------------------ foreach mvexpand makemv replace addtotals
# ------------------------------------------------ top rare  (docs/commands.md)


@dataclass(frozen=True)
class Conversion:
    """One ``func(field) [AS name]`` of ``convert``; ``field`` may hold ``*`` wildcards."""

    func: str  # auto ctime dur2sec memk mktime mstime none num rmcomma rmunit
    field: str
    alias: str | None
    pos: int


@dataclass(frozen=True)
class ConvertCmd(Command):
    """``convert [timeformat=F] func(field) [AS name] ...`` (C-convert)."""

    timeformat: str
    conversions: tuple[Conversion, ...]
    pos: int


@dataclass(frozen=True)
class MvexpandCmd(Command):
    """``mvexpand field [limit=N]``: one result per value (C-mvexpand)."""

    field: str
    limit: int  # 0 = every value
    pos: int


@dataclass(frozen=True)
class MakemvCmd(Command):
    """``makemv [delim=s | tokenizer=re] [allowempty=b] [setsv=b] field`` (C-makemv)."""

    field: str
    delim: str
    tokenizer: str | None
    allowempty: bool
    pos: int


@dataclass(frozen=True)
class ReplaceCmd(Command):
    """``replace old WITH new, ... [IN f, ...]``: whole values, ``*`` wildcards (C-replace)."""

    pairs: tuple[tuple[str, str], ...]
    fields: tuple[str, ...]  # empty = every field but the internal ones
    pos: int


@dataclass(frozen=True)
class AddtotalsCmd(Command):
    """``addtotals [row=b] [col=b] [labelfield=f] [label=s] [fieldname=f] [f ...]``."""

    row: bool
    col: bool
    labelfield: str | None
    label: str
    fieldname: str
    fields: tuple[str, ...]  # may hold wildcards; empty = every numeric field
    pos: int


@dataclass(frozen=True)
class TopCmd(Command):
    """``top``/``rare`` ``[N] [options] f, ... [BY g, ...]`` (C-top, C-rare)."""

    name: str  # "top" or "rare"
    fields: tuple[str, ...]
    by: tuple[str, ...]
    limit: int  # 0 = all
    countfield: str
    percentfield: str
    showcount: bool
    showperc: bool
    useother: bool
    otherstr: str
    pos: int


@dataclass(frozen=True)
class ForeachCmd(Command):
    """``foreach [mode=multifield] [fieldstr=...] <wc-field> ... [<template>]`` (C-foreach):
    ``template`` is the subsearch text, with ``<<FIELD>>``-style placeholders, that becomes
    commands once per matching field at compile time."""

    fields: tuple[str, ...]
    template: str
    template_pos: int  # offset of the template's first character in the query
    placeholders: tuple[tuple[str, str], ...]  # (option, placeholder): fieldstr, matchstr, ...
    pos: int


@dataclass(frozen=True)
class SpathCmd(Command):
    """``spath [input=f] [output=f] [path=]p`` (C-spath); no path: every path (auto-extract)."""

    input: str
    output: str | None
    path: str | None
    pos: int


@dataclass(frozen=True)
class FromjsonCmd(Command):
    """``fromjson <field> [prefix=s]``: a JSON object's top-level keys become fields."""

    field: str
    prefix: str
    pos: int


@dataclass(frozen=True)
class XmlkvCmd(Command):
    """``xmlkv [<field>] [maxinputs=N]``: ``<tag>value</tag>`` pairs become fields."""

    field: str
    pos: int


@dataclass(frozen=True)
class ExtractCmd(Command):
    """``extract``/``kv`` ``[pairdelim=s kvdelim=s]``: key/value pairs of ``_raw``."""

    pairdelim: str | None
    kvdelim: str | None
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


# --------------------------------------------------------------------------- walking


def attributes(node: object) -> tuple[str, ...]:
    """The attribute names of a node (none for anything else): what a generic walk over
    the tree visits. Per class, once (``dataclasses.fields`` builds its tuple anew at
    every call, and a walk asks for every node)."""
    cls = type(node)
    names = _ATTRIBUTES.get(cls)
    if names is None:
        names = tuple(f.name for f in fields(cls)) if is_dataclass(cls) else ()
        _ATTRIBUTES[cls] = names
    return names


_ATTRIBUTES: dict[type, tuple[str, ...]] = {}
