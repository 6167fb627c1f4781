"""Knowledge files (YAML, in ``knowledge/addons/`` and ``knowledge/datamodels/``) → model.

The files are data, written from the add-ons' ``props.conf``/``eventtypes.conf``/
``tags.conf`` and the CIM app's data model definitions (each file names its sources).
A malformed file is an error naming the file and the entry, never a silent skip.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from stagehunt.knowledge.model import (
    Addon,
    Alias,
    AutoLookup,
    Calculation,
    DataModel,
    DataModelField,
    DataObject,
    Eventtype,
    Knowledge,
    Stanza,
)

_ALIAS = re.compile(r"^\s*(\S+)\s+(AS|ASNEW)\s+(\S+)\s*$", re.IGNORECASE)


class KnowledgeError(Exception):
    """A knowledge file that cannot be read."""


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise KnowledgeError(f"{where}: expected a string or a list of strings")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise KnowledgeError(f"{where}: expected a mapping")
    return value


def _calculations(value: Any, where: str) -> tuple[Calculation, ...]:
    """``{field: expression}`` (props EVAL-, unordered) or a list of one-key mappings
    (data model calculations, in order)."""
    if value is None:
        return ()
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = [next(iter(_mapping(v, where).items())) for v in value]
    else:
        raise KnowledgeError(f"{where}: expected a mapping of field: eval expression")
    out: list[Calculation] = []
    for name, expression in items:
        if not isinstance(name, str) or not isinstance(expression, str):
            raise KnowledgeError(f"{where}: {name!r} needs an eval expression string")
        out.append(Calculation(name, expression))
    return tuple(out)


def _alias(text: Any, where: str) -> Alias:
    m = _ALIAS.match(text) if isinstance(text, str) else None
    if m is None:
        raise KnowledgeError(f"{where}: alias {text!r} is not 'source AS target'")
    return Alias(m.group(1), m.group(3), keep_existing=m.group(2).upper() == "ASNEW")


def _lookup(text: Any, where: str) -> AutoLookup:
    if not isinstance(text, str) or not text.split():
        raise KnowledgeError(f"{where}: lookup {text!r} is not 'table field ... OUTPUT ...'")
    table, _, spec = text.strip().partition(" ")
    return AutoLookup(table, spec.strip())


def parse_addon(data: Any, name: str) -> Addon:
    d = _mapping(data, name)
    stanzas: list[Stanza] = []
    for i, raw in enumerate(d.get("stanzas") or []):
        where = f"{name}: stanzas[{i}]"
        s = _mapping(raw, where)
        stanzas.append(
            Stanza(
                match=_strings(s.get("match"), where + ".match"),
                aliases=tuple(_alias(a, where) for a in s.get("aliases") or []),
                extracts=_calculations(s.get("extracts"), where + ".extracts"),
                evals=_calculations(s.get("evals"), where + ".evals"),
                lookups=tuple(_lookup(x, where) for x in s.get("lookups") or []),
            )
        )
        if not stanzas[-1].match:
            raise KnowledgeError(f"{where}: 'match' names no sourcetype or source")
    eventtypes: list[Eventtype] = []
    for et_name, raw in (d.get("eventtypes") or {}).items():
        where = f"{name}: eventtypes.{et_name}"
        e = _mapping(raw, where)
        if not isinstance(e.get("search"), str):
            raise KnowledgeError(f"{where}: needs a 'search'")
        eventtypes.append(Eventtype(str(et_name), e["search"], _strings(e.get("tags"), where)))
    return Addon(
        name=str(d.get("addon", name)),
        version=str(d.get("version", "")),
        sources=_strings(d.get("sources"), f"{name}: sources"),
        stanzas=tuple(stanzas),
        eventtypes=tuple(eventtypes),
    )


def _field(raw: Any, where: str) -> DataModelField:
    if isinstance(raw, str):
        return DataModelField(raw)
    f = _mapping(raw, where)
    if not isinstance(f.get("name"), str):
        raise KnowledgeError(f"{where}: a field needs a 'name'")
    return DataModelField(f["name"], str(f.get("type", "string")), bool(f.get("multivalue")))


def parse_datamodel(data: Any, name: str) -> DataModel:
    d = _mapping(data, name)
    objects: list[DataObject] = []
    for i, raw in enumerate(d.get("objects") or []):
        where = f"{name}: objects[{i}]"
        o = _mapping(raw, where)
        if not isinstance(o.get("name"), str):
            raise KnowledgeError(f"{where}: an object needs a 'name'")
        objects.append(
            DataObject(
                name=o["name"],
                parent=o.get("parent"),
                constraint=str(o.get("constraint") or ""),
                fields=tuple(_field(f, where) for f in o.get("fields") or []),
                calculations=_calculations(o.get("calculations"), where + ".calculations"),
            )
        )
    model = DataModel(
        name=str(d.get("model", name)),
        version=str(d.get("version", "")),
        sources=_strings(d.get("sources"), f"{name}: sources"),
        objects=tuple(objects),
    )
    for obj in model.objects:
        if obj.parent is not None and model.object(obj.parent) is None:
            raise KnowledgeError(f"{name}: {obj.name} names an unknown parent {obj.parent}")
    return model


#: libyaml's parser where PyYAML was built with it (the same data, parsed in C)
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as err:
        raise KnowledgeError(f"{path.name}: {err}") from None


def load(folder: Path) -> Knowledge:
    """The knowledge in ``folder`` (``addons/*.yml`` and ``datamodels/*.yml``)."""
    addons = [parse_addon(_read(p), p.name) for p in sorted((folder / "addons").glob("*.yml"))]
    models = [
        parse_datamodel(_read(p), p.name) for p in sorted((folder / "datamodels").glob("*.yml"))
    ]
    return Knowledge(tuple(addons), tuple(models))


@cache
def bundled() -> Knowledge:
    """The add-ons and CIM data models shipped with stagehunt."""
    return load(Path(str(resources.files("stagehunt.knowledge"))))
