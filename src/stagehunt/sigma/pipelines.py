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

from sigma.pipelines.sysmon import sysmon_pipeline
from sigma.pipelines.windows import windows_logsource_pipeline
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation

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
        sysmon_pipeline()
        + windows_logsource_pipeline()
        + _field_names("stagehunt Splunk fields", SPLUNK_FIELDS, {"splunk"})
    )


def sqlite_pipeline() -> ProcessingPipeline:
    """For pySigma's SQLite backend over the flattened event table (differential check)."""
    return sysmon_pipeline() + windows_logsource_pipeline()
