"""Rows the engine already holds as tables: the events with every add-on field, and data
model datasets, prepared once for many queries (Splunk's "data model acceleration").

Building a dataset's rows or the add-ons' fields inline costs every statement the same
compile time and the engine the same work; a library of detections (ESCU) reads a dozen
datasets over one set of events hundreds of times. :mod:`stagehunt.backends.accelerate`
materializes them once per run; the compiler then reads a :class:`PreparedTable` like the
stored events (docs/cim.md D8). Compiling without data uses the tables' static schemas
(:func:`static`), built from the knowledge files alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from stagehunt.compile.datamodel import dataset_fields
from stagehunt.compile.kinds import Kind
from stagehunt.knowledge import Knowledge
from stagehunt.store.schema import ColumnKind

#: the stored fields every prepared dataset keeps besides its own (``from datamodel:``
#: shows ``_raw``)
DATASET_EXTRA = ("_raw",)

#: SQL names of the prepared tables (no user text reaches them)
EVENTS_TABLE = "__addon_events"


def dataset_table(name: str) -> str:
    """``Endpoint.Processes`` → ``__dm_Endpoint_Processes``."""
    return "__dm_" + "".join(ch if ch.isalnum() else "_" for ch in name)


@dataclass(frozen=True)
class PreparedTable:
    """A table of rows: its SQL name, field kinds and field → column names."""

    table: str
    schema: Mapping[str, ColumnKind]
    physical: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """The events with the add-ons' fields, and data model datasets by ``Model.Dataset``."""

    events: PreparedTable
    datasets: Mapping[str, PreparedTable]
    #: the data models (their add-ons applied already) for datasets not prepared
    knowledge: Knowledge


def column_kind(kind: Kind) -> ColumnKind:
    return (
        ColumnKind.MULTI
        if kind is Kind.MV
        else ColumnKind.NUMBER
        if kind is Kind.NUM
        else ColumnKind.STRING
    )


def static(schema: Mapping[str, ColumnKind], knowledge: Knowledge) -> Prepared:
    """What the prepared tables would hold, from the knowledge files alone: every field an
    add-on defines is a string (``eventtype``, ``tag`` multivalue), every dataset holds its
    declared fields. For compiling without data; running prepares real tables."""
    events = dict(schema)
    for stanza in knowledge.stanzas:
        for name in (
            [a.target for a in stanza.aliases]
            + [c.field for c in stanza.evals]
            + [e.field for e in stanza.extracts]
        ):
            events.setdefault(name, ColumnKind.STRING)
    if knowledge.eventtypes:
        events.update(eventtype=ColumnKind.MULTI, tag=ColumnKind.MULTI)
    datasets: dict[str, PreparedTable] = {}
    for model in knowledge.datamodels:
        for obj in model.objects:
            multi = {
                f.name for node in model.lineage(obj.name) for f in node.fields if f.multivalue
            }
            kinds = {name: ColumnKind.STRING for name in DATASET_EXTRA}
            for source, target in dataset_fields(model, obj):
                kinds[target] = (
                    ColumnKind.NUMBER
                    if source == "_time"
                    else ColumnKind.MULTI
                    if source in multi or source == "tag"
                    else ColumnKind.STRING
                )
            name = f"{model.name}.{obj.name}"
            datasets[name] = PreparedTable(dataset_table(name), kinds)
    return Prepared(PreparedTable(EVENTS_TABLE, events), datasets, applied(knowledge))


def applied(knowledge: Knowledge) -> Knowledge:
    """The knowledge to compile with once the add-ons' fields are in the events: the data
    models only (an add-on applied twice would alias its own output)."""
    return Knowledge(addons=(), datamodels=knowledge.datamodels)
