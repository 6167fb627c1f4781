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

from sigma.pipelines.base import Pipeline
from sigma.pipelines.windows import windows_logsource_pipeline
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation

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


def splunk_pipeline() -> ProcessingPipeline:
    """For pySigma's Splunk backend, producing SPL that our engine runs on our store."""
    return (
        load_pipeline(SYSMON)
        + windows_logsource_pipeline()
        + _field_names("stagehunt Splunk fields", SPLUNK_FIELDS, {"splunk"})
    )


def sqlite_pipeline() -> ProcessingPipeline:
    """For pySigma's SQLite backend over the flattened event table (differential check)."""
    return load_pipeline(SYSMON) + windows_logsource_pipeline()
