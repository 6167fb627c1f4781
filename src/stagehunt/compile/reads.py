"""Which event fields a query can read: the add-ons' search-time fields it needs.

Applying every add-on definition to every event (docs/cim.md K1) costs compile time and
SQL size in proportion to all the add-ons (about a second and 0.5 MB of SQL for the bundled
set), while a detection reads a dozen fields. Splunk computes search-time fields for every
event too, but only those that reach the output or a filter matter to the results; so the
compiler asks for the definitions of the fields a query names, and for all of them when
it cannot tell: a wildcard field list (``table *``, ``rename Processes.* AS *``, ``foreach``),
a template whose fields appear only later (``map``), a command that reads every field
when it names none (``join``, ``addtotals``), or results that keep every field to the end
(a pipeline with no ``stats``/``table``/``fields`` ... after which only named fields
remain). The same set lets the compiler carry only those fields from the events on
(``Compiler.base``): every command after copies each field it carries.
"""

from __future__ import annotations

from collections.abc import Iterator

from stagehunt.spl import ast

#: Fields kept whatever a query names: what commands read without naming it (``_raw`` for
#: bare terms, rex, regex, spath, transaction; ``_time`` for order and time functions) and
#: the default fields, which are cheap.
ALWAYS_READ = frozenset(("_time", "_raw", "host", "source", "sourcetype", "index"))

#: Node attributes that hold field names (strings, tuples of strings or of pairs).
_FIELD_ATTRIBUTES = frozenset(("field", "fields", "by", "input", "over", "match", "output"))


class _AnyField(Exception):
    """The query may read any field."""


def fields_read(pipeline: ast.Pipeline) -> frozenset[str] | None:
    """The field names ``pipeline`` (and its subsearches) can read from events, or None
    when that cannot be told statically (then every add-on field is needed)."""
    try:
        return frozenset(_pipeline(pipeline.commands, restricted_after=False))
    except _AnyField:
        return None


def names_in(node: object) -> frozenset[str] | None:
    """The field names one node uses (its nested pipelines apart), None with a wildcard."""
    try:
        return frozenset(_names(node))
    except _AnyField:
        return None


def _restricts(cmd: ast.Command) -> bool:
    """Whether only fields the command names (or makes) come out of it."""
    if isinstance(cmd, ast.StatsCmd):
        return cmd.name == "stats"
    if isinstance(cmd, ast.TableCmd):
        return not any("*" in f for f in cmd.fields)
    if isinstance(cmd, ast.FieldsCmd):
        return not cmd.remove and not any("*" in f for f in cmd.fields)
    return isinstance(cmd, ast.TopCmd | ast.ChartCmd)


#: Commands whose nested results join the results flowing on (their fields reach the
#: output unless a later command restricts them); a search filter's subsearch rows are
#: turned into conditions at once, so every field they keep is read.
_FLOWING = (ast.JoinCmd, ast.AppendCmd, ast.AppendpipeCmd, ast.MultisearchCmd)


def _pipeline(commands: tuple[ast.Command, ...], restricted_after: bool) -> set[str]:
    last = max((i for i, cmd in enumerate(commands) if _restricts(cmd)), default=-1)
    if last < 0 and not restricted_after:
        raise _AnyField
    names: set[str] = set()
    for i, cmd in enumerate(commands):
        if isinstance(cmd, ast.ForeachCmd | ast.MapCmd) or _every_field(cmd):
            raise _AnyField
        later = restricted_after or i < last
        for nested in _nested(cmd):
            names |= _pipeline(nested, later and isinstance(cmd, _FLOWING))
        names |= _names(cmd)
    return names


def _every_field(cmd: ast.Command) -> bool:
    """Commands that read every field when they name none: ``join`` on the fields both
    sides share, ``addtotals`` over every numeric field."""
    if isinstance(cmd, ast.JoinCmd | ast.AddtotalsCmd):
        return not cmd.fields
    return False


def _nested(node: object) -> Iterator[tuple[ast.Command, ...]]:
    """The command lists nested in a node: subsearches, multisearch's and appendpipe's."""
    if isinstance(node, ast.Pipeline):
        yield node.commands
        return
    if isinstance(node, ast.AppendpipeCmd):
        yield node.commands
        return
    if isinstance(node, tuple | list):
        for item in node:
            yield from _nested(item)
        return
    for name in ast.attributes(node):
        yield from _nested(getattr(node, name))


def _names(node: object, attribute: str = "") -> set[str]:
    """Field names one node uses (not descending into nested pipelines)."""
    if isinstance(node, ast.FieldRef):
        return {node.name}
    if isinstance(node, ast.RenameCmd):
        return _names(tuple(old for old, _ in node.pairs), "fields")
    if isinstance(node, str):
        if attribute not in _FIELD_ATTRIBUTES:
            return set()
        if "*" in node:
            raise _AnyField
        return {node}
    if isinstance(node, ast.Pipeline | ast.AppendpipeCmd):
        return set()
    out: set[str] = set()
    if isinstance(node, tuple | list):
        for item in node:
            out |= _names(item, attribute)
        return out
    for name in ast.attributes(node):
        out |= _names(getattr(node, name), name)
    return out


def fields_tested(pipeline: ast.Pipeline) -> frozenset[str] | None:
    """The field names ``pipeline``'s commands name, as if only those reached the output
    (None with a wildcard, ``foreach`` or ``map``). For a query that only filters events
    these are the fields its conditions test: compiled over just them (and
    `ALWAYS_READ`), it keeps the same events (`compile.predicate`)."""
    try:
        return frozenset(_pipeline(pipeline.commands, restricted_after=True))
    except _AnyField:
        return None
