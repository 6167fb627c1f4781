"""A CIM data model dataset's rows, built from raw events as Splunk's data models are.

The dataset's events are those its constraint search and every ancestor's match, after
the add-ons' search-time fields (D2); its calculations (and its ancestors', root first)
are evaluated in order, each seeing the ones before (D3). Fields are named
``<Dataset>.<field>`` after the dataset that declares them (``Processes.process_name``);
``_time``, ``host``, ``source``, ``sourcetype`` and ``index`` keep their own names (D4).
Rules: docs/cim.md.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import knowledge as knowledge_layer
from stagehunt.compile import sqlfn as q
from stagehunt.compile.relation import Field, Relation, alias_for, parenthesize
from stagehunt.knowledge.model import DataModel, DataObject, Knowledge
from stagehunt.spl.errors import SplSemanticError

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler

#: Fields every dataset inherits from Splunk's BaseEvent, unprefixed (D4).
BASE_FIELDS = ("_time", "host", "source", "sourcetype", "index")


def resolve(
    c: Compiler, knowledge: Knowledge, dataset: str, pos: int, node: str | None = None
) -> tuple[DataModel, DataObject]:
    """``Model``, ``Model.Dataset`` or ``Model.Root.Child`` (and tstats' ``nodename=``
    ``Root.Child`` or ``Child``) → the model and dataset; a name that is not there is an
    error naming what is (D1)."""
    model_name, _, rest = dataset.partition(".")
    model = knowledge.datamodel(model_name)
    if model is None:
        known = ", ".join(sorted(m.name for m in knowledge.datamodels))
        raise SplSemanticError(f"unknown data model '{model_name}' (known: {known})", pos, c.query)
    path = rest.split(".") if rest else []
    if node:
        path = node.split(".")
    if not path:
        roots = model.roots()
        if len(roots) != 1:
            names = ", ".join(f"{model.name}.{r.name}" for r in roots)
            raise SplSemanticError(
                f"data model '{model.name}' has several root datasets; name one ({names})",
                pos,
                c.query,
            )
        return model, roots[0]
    obj = model.object(path[-1])
    lineage = [o.name for o in model.lineage(path[-1])] if obj is not None else []
    if obj is None or lineage[len(lineage) - len(path) :] != path:
        known = ", ".join(o.name for o in model.objects)
        raise SplSemanticError(
            f"data model '{model.name}' has no dataset '{'.'.join(path)}' (it has: {known})",
            pos,
            c.query,
        )
    return model, obj


def dataset_fields(model: DataModel, obj: DataObject) -> list[tuple[str, str]]:
    """(field, output name) for the dataset: the base fields, then each lineage dataset's
    declared and calculated fields, prefixed with the declaring dataset's lineage:
    ``Processes.process_name``, ``All_Changes.Account_Management.src_nt_domain`` (D4)."""
    wanted = [(name, name) for name in BASE_FIELDS]
    path: list[str] = []
    for node in model.lineage(obj.name):
        path.append(node.name)
        prefix = ".".join(path)
        names = [f.name for f in node.fields] + [calc.field for calc in node.calculations]
        wanted += [(name, f"{prefix}.{name}") for name in dict.fromkeys(names)]
    return wanted


def events(c: Compiler, knowledge: Knowledge, model: DataModel, obj: DataObject) -> Relation:
    """The dataset's events with every field they have (add-on fields, the lineage's
    calculations), unprefixed: the constraints kept only the dataset's events (D2, D3)."""
    lineage = model.lineage(obj.name)
    wanted: set[str] = {name for name, _ in dataset_fields(model, obj)}
    for node in lineage:
        wanted |= knowledge_layer.search_fields(node.constraint)
        for calc in node.calculations:
            wanted |= knowledge_layer.eval_fields(calc.expression)
    rel = knowledge_layer.apply(c, c.events(), knowledge, wanted)
    for node in lineage:
        if node.constraint:
            rel = c.b.project(rel, [], where=knowledge_layer.compile_terms(c, rel, node.constraint))
        for calc in node.calculations:
            value = knowledge_layer.compile_eval(c, rel, calc.expression)
            rel = c.b.project(rel, [(calc.field, value)])
    return rel


#: A dataset's rows for the events of one schema: the CTEs and the relation they end in,
#: shared by every statement that starts with them (the ESCU library reads a handful of
#: datasets over one store; building the add-ons' fields each time dominated compiling).
#: The CTE trees are not copied: compiled trees are never modified after ``build`` (the
#: dialect rewrites work on a copy), and ``parenthesize`` leaves a parenthesised tree as is.
_ROWS: dict[tuple[object, ...], tuple[Knowledge, list[tuple[str, exp.Select]], Relation, Relation]]
_ROWS = {}
_ROWS_MAX = 64


def object_rows(
    c: Compiler,
    knowledge: Knowledge,
    model: DataModel,
    obj: DataObject,
    *,
    prefixed: bool = True,
    extra: tuple[str, ...] = (),
) -> Relation:
    """The dataset's rows: only its fields (``Dataset.field``, or unprefixed when not
    ``prefixed``), plus ``extra`` stored fields such as ``_raw`` (D4)."""
    prepared = c.datasets.get(f"{model.name}.{obj.name}")
    if prepared is not None and prefixed and set(extra) <= set(prepared.schema):
        c.reads_events = True
        c.datasets_read.append(f"{model.name}.{obj.name}")
        return c.table_relation(prepared.table, prepared.schema, prepared.physical)
    if c.b.ctes:
        return _object_rows(c, knowledge, model, obj, prefixed, extra)
    key = (
        id(knowledge),
        model.name,
        obj.name,
        prefixed,
        extra,
        c.table,
        tuple(sorted((n, k.value) for n, k in c.schema.items())),
        tuple(sorted(c.physical.items())),
    )
    hit = _ROWS.get(key)
    if hit is not None and hit[0] is knowledge:
        c.reuse(hit[1], hit[3])
        return hit[2]
    rel = _object_rows(c, knowledge, model, obj, prefixed, extra)
    if len(_ROWS) >= _ROWS_MAX:
        _ROWS.clear()
    for _, select in c.b.ctes:
        parenthesize(select)
    _ROWS[key] = (knowledge, list(c.b.ctes), rel, c.events())
    return rel


def _object_rows(
    c: Compiler,
    knowledge: Knowledge,
    model: DataModel,
    obj: DataObject,
    prefixed: bool,
    extra: tuple[str, ...],
) -> Relation:
    rel = events(c, knowledge, model, obj)
    taken = {h.lower() for h in rel.hidden}
    fields: list[Field] = []
    select: list[exp.Expression] = []
    wanted = [(name, name) for name in extra] + dataset_fields(model, obj)
    if not prefixed:
        wanted = [(source, source) for source, _ in wanted]
    for source, target in wanted:
        value = rel.typed(source)
        if value.is_null or any(f.name == target for f in fields):
            continue
        alias = alias_for(target, taken)
        fields.append(Field(target, alias, value.kind))
        select.append(q.alias(value.sql, q.ident(alias)))
    select += [q.col(h) for h in rel.hidden]
    source = c.b.add(q.select(*select).from_(exp.to_identifier(rel.source), copy=False))
    return replace(rel, source=source, fields=tuple(fields), pinned=frozenset())
