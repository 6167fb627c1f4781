"""Round trip: a pack's Sigma rules → pySigma's Splunk backend → our engine, per scenario.

The Splunk backend's SPL (``regex``, ``multisearch``, ``bin`` for the correlation) runs on
the scenario's store next to the original SPL; the verdicts (fires / quiet) must agree.
``store_pipeline.yml`` maps Sigma's taxonomy to the store's field names and sourcetypes.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sigma.backends.splunk.splunk import SplunkBackend
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.processing.pipeline import ProcessingPipeline

from stagehunt.api import run_spl
from stagehunt.lookups import LookupLibrary
from stagehunt.packs import Pack
from stagehunt.simulate import simulate
from stagehunt.store.event_store import EventStore
from stagehunt.validate import load_expectations


@dataclass(frozen=True)
class Verdict:
    scenario: str
    spl_rows: int
    sigma_hits: dict[str, int]  # query name → rows

    @property
    def spl_fires(self) -> bool:
        return self.spl_rows > 0

    @property
    def sigma_fires(self) -> bool:
        return any(self.sigma_hits.values())


def store_pipeline() -> ProcessingPipeline:
    text = resources.files("stagehunt.sigma").joinpath("store_pipeline.yml").read_text("utf-8")
    return ProcessingPipeline.from_yaml(text)


def splunk_queries(yaml_text: str) -> dict[str, str]:
    """Every alerting query (standalone rules and correlations) for our engine."""
    backend = SplunkBackend(store_pipeline())
    collection = SigmaCollection.from_yaml(yaml_text)
    out: dict[str, str] = {}
    for rule in collection.rules:
        if isinstance(rule, SigmaCorrelationRule):
            queries = backend.convert_correlation_rule(rule)
        else:
            queries = backend.convert_rule(rule)
            if not rule._output:
                continue
        out[str(rule.name)] = "\n".join(str(q) for q in queries)
    return out


def round_trip(pack: Pack, detection: str, yaml_text: str) -> list[Verdict]:
    """The detection's SPL and the Sigma-derived queries on every scenario of the pack."""
    spl = pack.detections[detection]
    queries = splunk_queries(yaml_text)
    expectations = load_expectations(pack)
    seed = int(expectations.get("simulator_seed", 0))  # type: ignore[call-overload]
    scenarios = expectations.get("scenarios", {})
    assert isinstance(scenarios, dict)
    scratch = Path(tempfile.mkdtemp(prefix="stagehunt-roundtrip-"))
    verdicts: list[Verdict] = []
    try:
        for name in scenarios:
            simulate(name, scratch / name, seed)
            with EventStore(in_memory=True) as store:
                store.load([scratch / name])
                rows = len(run_spl(spl.spl, store, lookups=LookupLibrary(spl.lookups)).rows)
                hits = {q: len(run_spl(text, store).rows) for q, text in queries.items()}
            verdicts.append(Verdict(name, rows, hits))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return verdicts
