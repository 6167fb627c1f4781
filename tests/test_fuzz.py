"""Each fuzz target of ``fuzz/`` on a small fixed budget with fixed seeds, so CI reruns
the same inputs every time (``make fuzz`` runs the long campaign; docs/reliability.md,
"Fuzzing"). A failure is hypothesis' smallest input breaking the target's property."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
sys.path.insert(0, str(FUZZ))

# recursion.ensure_room raises Python's limit for deep queries; hypothesis warns each time
pytestmark = pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")

#: target -> inputs per CI run (15 to 27 s in all on 2 cores)
BUDGET = {
    "spl": 300,
    "evtx": 60,
    "xml": 60,
    "jsonl": 60,
    "auditd": 60,
    "defender_csv": 60,
    "zip": 60,
    "conf": 200,
    "lookup_paths": 200,
}


def _target(name: str) -> ModuleType:
    return importlib.import_module(f"fuzz_{name}")


def test_every_script_has_a_budget() -> None:
    scripts = {p.stem.removeprefix("fuzz_") for p in FUZZ.glob("fuzz_*.py")}
    assert scripts == set(BUDGET)


@pytest.mark.parametrize("name", sorted(BUDGET))
def test_target_holds_its_property(name: str) -> None:
    import harness

    target = _target(name)
    if name == "evtx" and not target.seeds():
        pytest.skip("no real EVTX files here (shared/data/real)")
    figures = harness.run(target.STRATEGY, target.check, examples=BUDGET[name], start_seed=0)
    assert figures.inputs == BUDGET[name]
