"""`stagehunt validate`: every detection of a pack over every scenario and the real data.

Expectations are data (``content/<ID>/validation.toml``). A scenario is simulated into a
temporary folder, ingested into its own store and hunted with each detection; the
corrected variant also runs with empty allowlists ("untuned"), which must make the benign
look-alikes fire: proof that the tuning, not the logic, keeps them quiet.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stagehunt.api import run_on
from stagehunt.backends.base import Backend
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.lookups import LookupLibrary
from stagehunt.packs import Detection, Pack
from stagehunt.real_data import find_real
from stagehunt.result import ResultTable
from stagehunt.simulate import simulate
from stagehunt.store.event_store import EventStore

UNTUNED = "untuned"


@dataclass(frozen=True)
class Check:
    """One cell of the matrix: a target (scenario or real data) × a detection."""

    target: str
    detection: str
    #: None: no expectation (real logs other than the shared set: counted, not judged)
    expected: bool | None
    rows: int
    why: str
    missing: tuple[str, ...] = ()  # rows the expectations require but the result lacks

    @property
    def fired(self) -> bool:
        return self.rows > 0

    @property
    def ok(self) -> bool:
        if self.expected is None:
            return True
        return self.fired == self.expected and not self.missing


def load_expectations(pack: Pack) -> dict[str, object]:
    return tomllib.loads((pack.folder / "validation.toml").read_text(encoding="utf-8"))


#: Opens an engine on a store (`DuckDBBackend.from_store` unless told otherwise).
Engine = Callable[[EventStore], Backend]


def validate(pack: Pack, real: Path | None = None, engine: Engine | None = None) -> list[Check]:
    """The full matrix; ``real`` adds the real-data row when given; ``engine`` runs it."""
    engine = engine or DuckDBBackend.from_store
    expectations = load_expectations(pack)
    seed = int(expectations.get("simulator_seed", 0))  # type: ignore[call-overload]
    scenarios = expectations.get("scenarios", {})
    assert isinstance(scenarios, dict)
    checks: list[Check] = []
    scratch = Path(tempfile.mkdtemp(prefix="stagehunt-validate-"))
    try:
        untuned = _empty_allowlists(pack, scratch / "untuned-lookups")
        for name, expected in scenarios.items():
            folder = scratch / name
            simulate(name, folder, seed)
            with EventStore(in_memory=True) as store:
                store.load([folder])
                checks += _run_all(pack, engine(store), name, expected, untuned)
        if real is not None:
            expected = expectations.get("real", {})
            assert isinstance(expected, dict)
            # validation.toml's real expectations are the shared set's; other logs are
            # counted per detection, not judged against them
            shared = real.resolve() == find_real()
            target = "shared/data/real" if shared else f"real: {real.name or real}"
            with EventStore(scratch / "real.duckdb") as store:
                store.load([real])
                if shared:
                    checks += _run_all(pack, engine(store), target, expected, None)
                else:
                    checks += _count_all(pack, engine(store), target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return checks


def _run_all(
    pack: Pack,
    store: Backend,
    target: str,
    expected: dict[str, object],
    untuned: Path | None,
) -> list[Check]:
    why = str(expected.get("why", ""))
    out: list[Check] = []
    for name, detection in pack.detections.items():
        if name not in expected:
            continue
        result = _hunt(detection, store, detection.lookups)
        missing = _missing(result, expected.get("must_include", []), name)
        # the explanation belongs to the seed, whose misses are expected and must say why
        note = why if name == "T1074.seed" else ""
        out.append(Check(target, name, bool(expected[name]), len(result.rows), note, missing))
        if untuned is not None and UNTUNED in expected and detection.lookups is not None:
            bare = _hunt(detection, store, untuned)
            out.append(
                Check(target, f"{name} ({UNTUNED})", bool(expected[UNTUNED]), len(bare.rows), "")
            )
    return out


def _count_all(pack: Pack, store: Backend, target: str) -> list[Check]:
    """Each detection's rows on logs that have no expectations."""
    return [
        Check(target, name, None, len(_hunt(d, store, d.lookups).rows), "")
        for name, d in pack.detections.items()
    ]


def _hunt(detection: Detection, backend: Backend, lookups: Path | None) -> ResultTable:
    return run_on(backend, detection.spl, lookups=LookupLibrary(lookups))


def _missing(result: ResultTable, required: object, detection: str) -> tuple[str, ...]:
    """``must_include`` rows (host, Image, staging type) absent from the corrected result."""
    if not isinstance(required, list) or detection == "T1074.seed" or not result.rows:
        return ()
    found: set[tuple[object, object, str]] = set()
    for r in result.records():
        types = r.get("StagingTypes")
        for t in types if isinstance(types, list) else [str(types)]:
            found.add((r.get("host"), r.get("Image"), t))
    return tuple(" / ".join(map(str, item)) for item in required if tuple(item) not in found)


def _empty_allowlists(pack: Pack, folder: Path) -> Path:
    """A copy of the corrected detection's lookups with every CSV cut to its header."""
    source = pack.detections["T1074.corrected"].lookups
    assert source is not None
    folder.mkdir(parents=True)
    for path in source.iterdir():
        if path.suffix == ".csv":
            header = path.read_text(encoding="utf-8").splitlines()[0]
            (folder / path.name).write_text(header + "\n", encoding="utf-8")
        elif path.is_file():
            shutil.copy(path, folder / path.name)
    return folder
