"""A CIM data model object's rows, built from raw events as Splunk's data models are.

The object's events are those its constraint search and every ancestor's match (after
the add-ons' search-time fields); its calculations (and its ancestors', root first) are
evaluated in order, each seeing the ones before (docs/cim.md, rules D1–D4). Fields are
named ``<Object>.<field>`` after the object that defines them (``Processes.process_name``);
``_time``, ``host``, ``source``, ``sourcetype`` and ``index`` keep their own names.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import knowledge as knowledge_layer
from stagehunt.compile import sqlfn as q
from stagehunt.compile.relation import Field, Relation, alias_for
from stagehunt.knowledge.model import DataModel, DataObject
from stagehunt.spl.errors import SplSemanticError

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler

#: Fields every data model object inherits from Splunk's BaseEvent, unprefixed.
BASE_FIELDS = ("_time", "host", "source", "sourcetype", "index")


def resolve(c: Compiler, dataset: str, pos: int) -> tuple[DataModel, DataObject]:
    """``Model`` or ``Model.Object`` (``Model.Root.Child`` too) → the model and object."""
    if c.knowledge is None:
        raise SplSemanticError("data models need the CIM knowledge (none is loaded)", pos, c.query)
    model_name, _, rest = dataset.partition(".")
    model = c.knowledge.datamodel(model_name)
    if model is None:
        known = ", ".join(sorted(m.name for m in c.knowledge.datamodels))
        raise SplSemanticError(f"unknown data model '{model_name}' (known: {known})", pos, c.query)
    if rest:
        obj = model.object(rest.rsplit(".", 1)[-1])
        if obj is None:
            raise SplSemanticError(
                f"data model '{model.name}' has no dataset '{rest}'", pos, c.query
            )
        return model, obj
    roots = model.roots()
    if len(roots) != 1:
        names = ", ".join(f"{model.name}.{r.name}" for r in roots)
        raise SplSemanticError(
            f"data model '{model.name}' has several root datasets; name one ({names})",
            pos,
            c.query,
        )
    return model, roots[0]


def object_rows(c: Compiler, model: DataModel, obj: DataObject) -> Relation:
    """The object's rows: events matching the lineage's constraints, with its fields."""
    rel = c.base()
    lineage = model.lineage(obj.name)
    for node in lineage:
        if node.constraint:
            rel = c.b.project(rel, [], where=knowledge_layer.compile_terms(c, rel, node.constraint))
        for calc in node.calculations:
            value = knowledge_layer.compile_eval(c, rel, calc.expression)
            rel = c.b.project(rel, [(calc.field, value)])
    return _named(c, rel, lineage)


def _named(c: Compiler, rel: Relation, lineage: list[DataObject]) -> Relation:
    """Keep the base fields and the lineage's fields, the latter as ``Object.field``."""
    taken = {h.lower() for h in rel.hidden}
    fields: list[Field] = []
    select: list[exp.Expression] = []
    wanted = [(name, name) for name in BASE_FIELDS]
    for node in lineage:
        names = [f.name for f in node.fields] + [calc.field for calc in node.calculations]
        wanted += [(name, f"{node.name}.{name}") for name in dict.fromkeys(names)]
    for source, target in wanted:
        value = rel.typed(source)
        if value.is_null or any(f.name == target for f in fields):
            continue
        alias = alias_for(target, taken)
        fields.append(Field(target, alias, value.kind))
        select.append(exp.alias_(value.sql, q.ident(alias)))
    select += [q.col(h) for h in rel.hidden]
    source = c.b.add(exp.select(*select).from_(exp.to_identifier(rel.source)))
    return replace(rel, source=source, fields=tuple(fields), pinned=frozenset())
