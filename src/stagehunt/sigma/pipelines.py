"""Processing pipelines: how Sigma's log sources and field names meet our stored events.

pySigma's Splunk pipeline selects Windows logs with ``source="WinEventLog:<Channel>"``,
which is how the classic Splunk_TA_windows input names them; our ingest (like an XML-rendering
input) names them ``XmlWinEventLog:<Channel>``, and some shippers name them otherwise. The one
value every Windows event carries under the same name whatever the shipper is its
``Channel``. So both backends get the same log-source processing: pySigma's Sysmon pipeline
(category -> Sysmon EventID) and pySigma's Windows pipeline (service -> ``Channel``
condition, PowerShell categories). Only field naming differs per target, as data below:
Splunk calls the event id ``EventCode`` (Splunk_TA_windows), the SQLite table keeps the
EVTX name ``EventID``.
"""

from __future__ import annotations

import importlib
import json
from functools import lru_cache
from importlib import resources

from sigma.pipelines.base import Pipeline
from sigma.pipelines.windows import windows_logsource_pipeline
from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation

from stagehunt.ingest.normalise.windows import clean_key

#: Where pySigma's Sysmon pipeline is defined (see `load_pipeline`).
SYSMON = "sigma.pipelines.sysmon.sysmon:sysmon_pipeline"


def load_pipeline(spec: str) -> ProcessingPipeline:
    """The pipeline ``module:function`` makes.

    pySigma 1.5's ``@Pipeline`` decorator is a singleton: every decoration rebinds the one
    instance to the newly decorated function, so once another decorated pipeline is
    imported (plugin discovery imports pySigma's own test pipeline), calling
    ``sysmon_pipeline()`` returns that one. A decorated pipeline is therefore made by
    re-running its defining module (its decoration) right before the call.
    """
    module_name, _, name = spec.partition(":")
    module = importlib.import_module(module_name)
    if isinstance(getattr(module, name), Pipeline):
        module = importlib.reload(module)
    pipeline: ProcessingPipeline = getattr(module, name)()
    return pipeline


#: Sigma (EVTX) field name -> the name a Splunk search uses for it in our store.
SPLUNK_FIELDS: dict[str, str] = {"EventID": "EventCode"}


def _field_names(name: str, mapping: dict[str, str], backends: set[str]) -> ProcessingPipeline:
    return ProcessingPipeline(
        name=name,
        priority=20,
        allowed_backends=frozenset(backends),
        items=[
            ProcessingItem(
                identifier=f"stagehunt_{name.lower().replace(' ', '_')}",
                transformation=FieldMappingTransformation(dict(mapping)),
            )
        ],
    )


@lru_cache(maxsize=1)
def windefend_fields() -> dict[str, str]:
    """Sigma's name of a Defender event data field (its name without spaces) -> the field
    our store holds (the name cleaned as Splunk does, ``Source Name`` -> ``Source_Name``).
    The names are data (``windefend_fields.json``)."""
    text = resources.files("stagehunt.sigma").joinpath("windefend_fields.json").read_text()
    names: list[str] = json.loads(text)["names"]
    return {name.replace(" ", ""): clean_key(name) for name in names if " " in name}


def _windefend_pipeline() -> ProcessingPipeline:
    return ProcessingPipeline(
        name="stagehunt Defender fields",
        priority=20,
        items=[
            ProcessingItem(
                identifier="stagehunt_windefend_fields",
                transformation=FieldMappingTransformation(dict(windefend_fields())),
                rule_conditions=[LogsourceCondition(product="windows", service="windefend")],
            )
        ],
    )


def splunk_pipeline() -> ProcessingPipeline:
    """For pySigma's Splunk backend, producing SPL that our engine runs on our store."""
    return (
        load_pipeline(SYSMON)
        + windows_logsource_pipeline()
        + _windefend_pipeline()
        + _field_names("stagehunt Splunk fields", SPLUNK_FIELDS, {"splunk"})
    )


def sqlite_pipeline() -> ProcessingPipeline:
    """For pySigma's SQLite backend over the flattened event table (differential check):
    the table's columns are our store's fields, so Defender's names are mapped alike."""
    return load_pipeline(SYSMON) + windows_logsource_pipeline() + _windefend_pipeline()
