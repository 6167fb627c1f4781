"""Simulated telemetry for the T1074 pack: the seed's five adversary tests and five
benign look-alikes, written in formats ``stagehunt ingest`` reads.

Real datasets for data staging are scarce and never cover all of a detection's test
plan, so the pack proves its detections on simulations that reproduce what real
sensors write — Sysmon and Security event XML, raw auditd, Sysmon for Linux, Defender
CSV — with consistent process trees, logon sessions and timestamps. A seed makes a run
reproducible byte for byte; different seeds vary hosts, users, counts and times.

``simulate("adversary-1-robocopy-temp", Path("out"))`` writes the files and returns
their paths; `SCENARIOS` lists what exists and what each one models.
"""

from __future__ import annotations

from pathlib import Path

from stagehunt.simulate.scenarios import SCENARIOS, Scenario
from stagehunt.simulate.timeline import Timeline

__all__ = ["SCENARIOS", "Scenario", "UnknownScenario", "simulate"]


class UnknownScenario(KeyError):
    """The scenario name is not in `SCENARIOS`."""


def simulate(name: str, out: Path, seed: int = 0) -> list[Path]:
    """Write scenario ``name``'s telemetry into folder ``out`` (created if missing).

    Returns the files written, sorted by name: ``<HOST>-sysmon.xml`` and
    ``<HOST>-security.xml`` (one ``<Event>`` per line), ``<host>-sysmon-linux.xml``,
    ``audit.log``, ``DeviceProcessEvents.csv`` / ``DeviceFileEvents.csv``, as the
    scenario's sensors produce them. The same ``seed`` gives the same bytes.
    """
    scenario = SCENARIOS.get(name)
    if scenario is None:
        known = ", ".join(sorted(SCENARIOS))
        raise UnknownScenario(f"unknown scenario {name!r}; known: {known}")
    timeline = Timeline(seed, name)
    scenario.build(timeline)
    return sorted(timeline.write(out))
