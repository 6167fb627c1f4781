"""The same detections on two engines, detection by detection: the Spark parity check.

Each detection is compiled for each engine (the same tree, rendered per dialect by
compile/dialects.py) and run on the same events; the tables are compared exactly (columns,
then rows in order). A detection Spark cannot run says why (``DialectUnsupported`` with
the construct, or the engine's own error), so every compiled detection either runs on
both or is listed with its reason (docs/escu-spark.md, scripts/escu_spark_parity.py).

Each engine gets its own lookups folder for ``outputlookup``: a baseline's write on one
engine is never what the other engine's run reads.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from stagehunt.backends.base import Backend
from stagehunt.escu.content import Detection
from stagehunt.escu.library import Library
from stagehunt.escu.runner import run_detections
from stagehunt.escu.status import Outcome, Status
from stagehunt.lookups import LookupLibrary
from stagehunt.result import ResultTable, as_number


class Verdict(StrEnum):
    SAME = "same"
    #: equal but for the last digits of floating-point results (an aggregate summed in
    #: another order: stdev, avg over partitions); the reason names the first such cell
    ROUNDING = "same but for float rounding"
    DIFFERS = "differs"
    #: Spark cannot run it: a construct without a Spark rendering (reason says which)
    UNSUPPORTED = "unsupported on spark"
    #: Spark (or the rendering) failed at run time
    SPARK_ERROR = "error on spark"
    #: nothing to compare: the detection does not compile, or DuckDB failed it
    NOT_RUN = "not run"


@dataclass
class Parity:
    detection: Detection
    verdict: Verdict
    #: why (not same): the first difference, Spark's reason, or DuckDB's status
    reason: str | None
    duckdb_rows: int | None
    spark_rows: int | None
    duckdb_seconds: float
    spark_seconds: float


def with_writes(library: Library, folder: Path) -> Library:
    """``library`` with its own lookups (same folder and definitions) whose
    ``outputlookup`` writes go to ``folder`` and are read back from there."""
    shared = library.lookups.library
    lookups = LookupLibrary(shared.folder, shared.definitions, geoip=shared.geoip, writes=folder)
    clone = copy.copy(library)
    clone.lookups = replace(library.lookups, library=lookups)
    return clone


def compare(
    duck_library: Library,
    duck: Backend,
    spark_library: Library,
    spark: Backend,
    detections: Iterable[Detection] | None = None,
) -> Iterator[Parity]:
    """Each detection's parity, in order; the two libraries are the same content with
    their own lookup writes (:func:`with_writes`)."""
    chosen = list(duck_library.detections if detections is None else detections)
    on_duck = run_detections(duck_library, duck, chosen)
    on_spark = run_detections(spark_library, spark, chosen)
    for left, right in zip(on_duck, on_spark, strict=True):
        yield judge(left, right)


def judge(duck: Outcome, spark: Outcome) -> Parity:
    """The verdict for one detection from its DuckDB and Spark outcomes."""
    verdict, reason = _verdict(duck, spark)
    return Parity(
        duck.detection,
        verdict,
        reason,
        duck.rows if duck.status is Status.RAN else None,
        spark.rows if spark.status is Status.RAN else None,
        duck.seconds,
        spark.seconds,
    )


def _verdict(duck: Outcome, spark: Outcome) -> tuple[Verdict, str | None]:
    if duck.status is not Status.RAN:
        return Verdict.NOT_RUN, f"{duck.status.value}: {duck.reason or ''}".rstrip(": ")
    if spark.status is Status.UNSUPPORTED:
        return Verdict.UNSUPPORTED, spark.group or spark.reason
    if spark.status is not Status.RAN:
        return Verdict.SPARK_ERROR, spark.reason
    assert duck.result is not None and spark.result is not None
    difference = first_difference(duck.result, spark.result)
    if difference is None:
        return Verdict.SAME, None
    if _rounding_only(duck.result, spark.result):
        return Verdict.ROUNDING, difference
    return Verdict.DIFFERS, difference


def first_difference(duck: ResultTable, spark: ResultTable) -> str | None:
    """None when the tables are equal (columns, rows, row order); else the first
    difference in a few words."""
    if duck.columns != spark.columns:
        return f"columns: duckdb {duck.columns} / spark {spark.columns}"
    if duck.rows == spark.rows:
        return None
    if len(duck.rows) != len(spark.rows):
        return f"rows: duckdb {len(duck.rows)} / spark {len(spark.rows)}"
    if Counter(map(_hashable, duck.rows)) == Counter(map(_hashable, spark.rows)):
        return "the same rows in another order"
    for i, (a, b) in enumerate(zip(duck.rows, spark.rows, strict=True)):
        for column, x, y in zip(duck.columns, a, b, strict=True):
            if x != y:
                kind = "floating point" if _close(x, y) else "value"
                return f"row {i + 1}, {column}: duckdb {x!r} / spark {y!r} ({kind})"
    return "rows differ"  # pragma: no cover - equal rows compare equal above


def _hashable(row: tuple[object, ...]) -> tuple[object, ...]:
    return tuple(tuple(v) if isinstance(v, list) else v for v in row)


def _rounding_only(duck: ResultTable, spark: ResultTable) -> bool:
    """Same columns and rows, every unequal cell :func:`_close`."""
    if duck.columns != spark.columns or len(duck.rows) != len(spark.rows):
        return False
    return all(
        x == y or _close(x, y)
        for a, b in zip(duck.rows, spark.rows, strict=True)
        for x, y in zip(a, b, strict=True)
    )


def _close(x: object, y: object) -> bool:
    """Numbers (or numbers as text, or lists of them) equal to 12 significant digits."""
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(a == b or _close(a, b) for a, b in zip(x, y, strict=True))
    a, b = as_number(x), as_number(y)
    if a is None or b is None:
        return False
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
