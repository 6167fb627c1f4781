"""Prepared tables (docs/cim.md D8): a library run reads the add-on events and the data
model datasets from tables built once; the rows must be those the inline path builds in
every statement (same rules, K1-K7 and D2-D4), on real logs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stagehunt.api import compile_query, run_on, run_spl
from stagehunt.backends.accelerate import AcceleratedBackend, accelerate
from stagehunt.backends.base import run_compiled
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.compile.prepared import static
from stagehunt.knowledge import bundled
from stagehunt.store.event_store import EventStore
from stagehunt.store.schema import ColumnKind

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
FILES = [
    REAL / "sbousseaden-EVTX-ATTACK-SAMPLES" / "PanacheSysmon_vs_AtomicRedTeam01.evtx",
    REAL
    / "mdecrevoisier-EVTX-to-MITRE-Attack"
    / "ID11-LSASS credentials dump via Task Manager.evtx",
]

#: Detections' shapes over the datasets and the add-on fields the real files feed.
QUERIES = [
    # tstats over Endpoint.Processes with ESCU's options, by many fields
    "| tstats summariesonly=false allow_old_summaries=true fillnull_value=null count "
    "min(_time) as firstTime from datamodel=Endpoint.Processes "
    'where Processes.process_name IN ("reg.exe", "cmd.exe") by Processes.dest '
    "Processes.user Processes.parent_process_name Processes.process_name Processes.process "
    "| rename Processes.* AS *",
    # Registry and Filesystem datasets
    "| tstats count from datamodel=Endpoint.Registry by Registry.registry_path "
    "Registry.action Registry.process_guid | sort - count | head 20",
    "| tstats count values(Filesystem.file_name) as names from datamodel=Endpoint.Filesystem "
    "by Filesystem.dest Filesystem.file_path",
    # raw events with the Sysmon add-on's fields
    'sourcetype="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" EventCode=1 '
    "process_name=reg.exe | stats count by dest user parent_process_name process",
    "EventCode=11 | stats count by dest process_name file_name tag",
]


@pytest.fixture(scope="module")
def store() -> Iterator[EventStore]:
    with EventStore(in_memory=True) as s:
        s.load(FILES)
        yield s


def test_prepared_tables_give_the_inline_rows(store: EventStore) -> None:
    knowledge = bundled()
    backend = DuckDBBackend.from_store(store)
    datasets = ["Endpoint.Processes", "Endpoint.Registry", "Endpoint.Filesystem"]
    prepared = accelerate(backend, knowledge, datasets)
    engine = AcceleratedBackend(backend, prepared)
    fired = 0
    for spl in QUERIES:
        inline = run_spl(spl, store, knowledge=knowledge, now=0)
        compiled = compile_query(
            spl,
            engine.schema(),
            table=engine.table,
            physical=engine.physical(),
            knowledge=prepared.knowledge,
            datasets=prepared.datasets,
            now=0,
        )
        # a tstats statement reads its dataset's table, not the events
        assert set(compiled.datasets) <= set(datasets)
        from_tables = run_compiled(engine, compiled)
        assert (from_tables.columns, from_tables.rows) == (inline.columns, inline.rows), spl
        fired += bool(inline.rows)
    assert fired == len(QUERIES)  # every shape returns rows on these files


def test_the_add_on_events_table_holds_the_add_on_fields(store: EventStore) -> None:
    """The events table has every add-on field as a column: a raw search over it needs
    no knowledge (the Sysmon add-on's process_name: Image's basename)."""
    backend = DuckDBBackend.from_store(store)
    prepared = accelerate(backend, bundled(), [])
    engine = AcceleratedBackend(backend, prepared)
    assert {"process_name", "parent_process_name", "dest", "eventtype", "tag"} <= set(
        engine.schema()
    )
    assert engine.schema()["tag"] is ColumnKind.MULTI
    result = run_on(engine, "EventCode=1 Image=*\\\\reg.exe | stats count by process_name")
    assert result.rows and all(row[0] == "reg.exe" for row in result.rows)


def test_static_schemas_name_each_dataset_field_after_its_lineage() -> None:
    """Compiling without data: the Processes table holds Processes.<field> columns (D4),
    tag multivalue, _time a number; a child dataset's own fields carry its lineage."""
    prepared = static({}, bundled())
    processes = prepared.datasets["Endpoint.Processes"].schema
    assert processes["Processes.process_name"] is ColumnKind.STRING
    assert processes["Processes.tag"] is ColumnKind.MULTI
    assert processes["_time"] is ColumnKind.NUMBER
    instance = prepared.datasets["Change.Instance_Changes"].schema
    assert "All_Changes.Instance_Changes.instance_type" in instance
    assert "All_Changes.action" in instance
