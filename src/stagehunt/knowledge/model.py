"""Splunk's search-time knowledge as data: what an add-on adds to events, and the CIM
data models that ``tstats`` reads.

Splunk applies an add-on's ``props.conf`` at search time, per event, in a fixed order
(Knowledge Manager Manual, "search-time operation sequence"): field extractions
(``REPORT-``/``EXTRACT-``, written here as eval expressions over the stored event), field
aliases (``FIELDALIAS-``), then calculated fields (``EVAL-``, which all see the event as the
aliases left it, not each other), then automatic lookups (``LOOKUP-``). Event types
(``eventtypes.conf``) are searches that name events; tags (``tags.conf``) label event
types. A data model object keeps the events its constraint search matches, in its
parent's events, and evaluates its own calculated fields in order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Alias:
    """``FIELDALIAS-x = source AS target`` (``ASNEW``: only where target is missing)."""

    source: str
    target: str
    keep_existing: bool = False


@dataclass(frozen=True)
class Calculation:
    """``EVAL-field = expression`` (props.conf), or a data model's Eval calculation."""

    field: str
    expression: str  # SPL eval expression text


@dataclass(frozen=True)
class AutoLookup:
    """``LOOKUP-x = table in_field [AS event_field] ... OUTPUT[NEW] out [AS f] ...``."""

    table: str
    spec: str  # the text after the table name, as a `lookup` command reads it


@dataclass(frozen=True)
class Stanza:
    """One props.conf stanza: which events it applies to and what it adds.

    ``match`` entries are props.conf stanza names: ``source::<value>``, ``host::<value>``
    or a sourcetype; the stanza applies when any of them names the event (``*`` globs).
    """

    match: tuple[str, ...]
    aliases: tuple[Alias, ...] = ()
    #: ``REPORT-``/``EXTRACT-`` field extractions as eval expressions over the stored
    #: event (all see the stored event, applied before the aliases: docs/cim.md K2)
    extracts: tuple[Calculation, ...] = ()
    evals: tuple[Calculation, ...] = ()
    lookups: tuple[AutoLookup, ...] = ()


@dataclass(frozen=True)
class Eventtype:
    name: str
    search: str  # SPL search terms
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Addon:
    """What one Splunk add-on (TA) contributes at search time."""

    name: str
    version: str
    sources: tuple[str, ...]
    stanzas: tuple[Stanza, ...]
    eventtypes: tuple[Eventtype, ...]


@dataclass(frozen=True)
class DataModelField:
    name: str
    type: str = "string"  # string | number | boolean | ipv4 | timestamp
    multivalue: bool = False


@dataclass(frozen=True)
class DataObject:
    """A data model object (dataset): root when ``parent`` is None."""

    name: str
    parent: str | None
    constraint: str  # SPL search terms ("" = every event of the parent)
    fields: tuple[DataModelField, ...]
    calculations: tuple[Calculation, ...] = ()


@dataclass(frozen=True)
class DataModel:
    name: str
    version: str
    sources: tuple[str, ...]
    objects: tuple[DataObject, ...]

    def object(self, name: str) -> DataObject | None:
        return next((o for o in self.objects if o.name == name), None)

    def lineage(self, name: str) -> list[DataObject]:
        """The object and its ancestors, root first."""
        chain: list[DataObject] = []
        current = self.object(name)
        while current is not None:
            chain.append(current)
            current = self.object(current.parent) if current.parent else None
        return chain[::-1]

    def roots(self) -> list[DataObject]:
        return [o for o in self.objects if o.parent is None]


@dataclass(frozen=True)
class Knowledge:
    """Every add-on and data model the engine applies (``bundled()`` for the shipped set)."""

    addons: tuple[Addon, ...] = ()
    datamodels: tuple[DataModel, ...] = ()

    def datamodel(self, name: str) -> DataModel | None:
        return next((m for m in self.datamodels if m.name == name), None)

    @property
    def stanzas(self) -> list[Stanza]:
        return [s for a in self.addons for s in a.stanzas]

    @property
    def eventtypes(self) -> list[Eventtype]:
        return [e for a in self.addons for e in a.eventtypes]
