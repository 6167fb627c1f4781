"""The Spark engine (optional extra ``stagehunt[spark]``): PySpark SQL over Parquet.

One SparkSession per process (`session`), quiet (log level ERROR), with the settings the
Spark rendering relies on (`stagehunt.compile.dialects.SPARK_CONF`). Events reach Spark as
Parquet: a store's table is exported to a temporary folder; a lake's files are read as
they are. Each backend registers its events under its own view name, so several backends
(a store and a lake, in tests) share the session.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from stagehunt.backends.base import QueryFailed, sql_type
from stagehunt.compile import CompiledQuery
from stagehunt.compile.dialects import SPARK_CONF
from stagehunt.store.event_store import EventStore
from stagehunt.store.schema import EVENTS_TABLE, ColumnKind

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

INSTALL_HINT = "the spark engine needs PySpark: pip install 'stagehunt[spark]'"
DEFAULT_MASTER = "local[*]"
#: analysed statements a backend keeps (each holds only its plan, not its rows)
PLAN_CACHE = 64

_LOG4J = Path(__file__).with_name("log4j2.properties")
_session: SparkSession | None = None
_views = itertools.count()


class SparkUnavailable(RuntimeError):
    """PySpark is not installed (or Java is missing): the one-line reason."""


def session(master: str | None = None) -> SparkSession:
    """The process's SparkSession, created on first use (``local[*]`` unless ``master``)."""
    global _session
    if _session is not None:
        return _session
    try:
        from pyspark import SparkConf, SparkContext
        from pyspark.java_gateway import launch_gateway
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(INSTALL_HINT) from None
    conf = SparkConf().setMaster(master or DEFAULT_MASTER).setAppName("stagehunt")
    conf.setAll(list(_conf().items()))
    try:
        # the JVM's stderr goes through a filter: its start-up notices are not our output
        gateway = launch_gateway(conf, popen_kwargs={"stderr": subprocess.PIPE})  # type: ignore[no-untyped-call]
        _forward_stderr(gateway.proc.stderr)
        context = SparkContext(conf=conf, gateway=gateway)
    except Exception as exc:  # no Java, bad master URL: PySpark raises many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkUnavailable(f"cannot start Spark: {first}") from None
    context.setLogLevel("ERROR")
    _quiet_python_loggers()
    _session = SparkSession(context)
    return _session


def _quiet_python_loggers() -> None:
    """PySpark logs every failed query as a JSON stack trace; the CLI says it in one line."""
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # older PySpark: no such logger
        return
    PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)


def _conf() -> dict[str, str]:
    return {
        **SPARK_CONF,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": os.environ.get("STAGEHUNT_SPARK_PARTITIONS", "4"),
        "spark.driver.memory": os.environ.get("STAGEHUNT_SPARK_MEMORY", "2g"),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # the files are listed already (a lake's partitions, an exported store): past 32
        # paths Spark would list them again in a job of its own, seconds in local mode
        "spark.sql.sources.parallelPartitionDiscovery.threshold": str(2**31 - 1),
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={_LOG4J.as_uri()}",
    }


#: JVM start-up lines that are not errors (the rest of its stderr is passed on)
_NOISE = re.compile(r"WARNING: Using incubator modules|Setting default log level|To adjust logging")


def _forward_stderr(stream: IO[bytes] | None) -> None:
    if stream is None:
        return

    def pump() -> None:
        for raw in stream:
            line = raw.decode("utf-8", "replace")
            if not _NOISE.search(line):
                sys.stderr.write(line)

    threading.Thread(target=pump, name="spark-stderr", daemon=True).start()


def stop() -> None:
    """Stop the process's session (tests and benchmarks; the CLI just exits)."""
    global _session
    if _session is not None:
        _session.stop()
        _session = None


class SparkBackend:
    """Runs compiled queries with Spark SQL over a DataFrame of events."""

    dialect = "spark"

    def __init__(
        self,
        spark: SparkSession,
        events: DataFrame | None,
        fields: Mapping[str, ColumnKind],
        columns: Mapping[str, str],
        scratch: Path | None = None,
    ) -> None:
        self.spark = spark
        self.fields = dict(fields)
        self.columns = dict(columns)
        self.table = f"{EVENTS_TABLE}_{next(_views)}"
        if events is not None:
            events.createOrReplaceTempView(self.table)
        #: prepared tables (backends/accelerate.py), dropped with the events view; their
        #: Parquet files go in the scratch folder, removed with it
        self._prepared: list[str] = []
        #: analysed statements by (SQL, lookup contents), least recently used first
        self._plans: dict[tuple[str, tuple[tuple[str, str], ...]], DataFrame] = {}
        self._scratch = scratch or Path(tempfile.mkdtemp(prefix="stagehunt-spark-"))
        self._finalizer = weakref.finalize(
            self, _drop, spark, self.table, self._scratch, self._prepared
        )

    @classmethod
    def from_store(cls, store: EventStore, spark: SparkSession) -> SparkBackend:
        """Export the store's events to Parquet (streamed, in batches) and read it in Spark."""
        schema = store.schema()
        columns = {n: store.column_for(n) for n in schema}
        if not schema:
            return cls(spark, None, schema, columns)
        scratch = Path(tempfile.mkdtemp(prefix="stagehunt-spark-"))
        path = scratch / "events.parquet"
        cursor = store.connection.cursor()  # the store may hold an unfinished result
        reader = cursor.sql(f"SELECT * FROM {EVENTS_TABLE}").to_arrow_reader(100_000)
        _write_parquet(reader, path)
        return cls(spark, spark.read.parquet(str(path)), schema, columns, scratch)

    @classmethod
    def from_files(
        cls,
        spark: SparkSession,
        files: Sequence[Path],
        fields: Mapping[str, ColumnKind],
        columns: Mapping[str, str],
        types: Mapping[str, pa.DataType],
    ) -> SparkBackend:
        """Events from Parquet files whose columns may differ (a lake's partitions).

        ``types`` names every column the files may hold (a lake's catalog): they are read
        with that schema, a column a file lacks as NULL. Spark then reads no file's footer
        to merge schemas, which with the listing (see `_conf`) was most of the time to
        open a lake: 2.4-3.4 s for 432 files, 0.13-0.19 s without both (issue 14). With
        no ``types`` the files' own schemas are merged."""
        frame: DataFrame
        if types:
            reader = spark.read.schema(_spark_schema(types))
        else:
            reader = spark.read.option("mergeSchema", "true")
        if files:
            frame = reader.option("recursiveFileLookup", "true").parquet(*map(str, files))
        else:
            frame = spark.createDataFrame([], _spark_schema(types))
        return cls(spark, frame, fields, columns)

    def schema(self) -> dict[str, ColumnKind]:
        return dict(self.fields)

    def physical(self) -> dict[str, str]:
        return dict(self.columns)

    def create_table(self, name: str, compiled: CompiledQuery, sql: str) -> None:
        """Keep ``sql``'s rows as temporary view ``name`` (backends/accelerate.py), written
        to Parquet in the scratch folder and read back: later queries plan a column-pruned
        scan, not the whole add-on statement again (a cached view keeps its plan, which
        Spark re-analyses in every query: seconds each, and the heap on joins)."""
        for lookup in compiled.tables:
            self.spark.createDataFrame(lookup.data).createOrReplaceTempView(lookup.sql_name)
        path = self._scratch / f"{name}.parquet"
        try:
            self.spark.sql(sql).write.mode("overwrite").parquet(str(path))
            self.spark.read.parquet(str(path)).createOrReplaceTempView(name)
        except Exception as exc:
            raise QueryFailed(_first_line(exc)) from None
        finally:
            for lookup in compiled.tables:
                self.spark.catalog.dropTempView(lookup.sql_name)
        self._prepared.append(name)

    def execute(self, compiled: CompiledQuery, sql: str) -> list[tuple[object, ...]]:
        try:
            return [tuple(row) for row in self.plan(compiled, sql).collect()]
        except Exception as exc:  # AnalysisException, Py4JJavaError, ...: the query's fault
            raise QueryFailed(_first_line(exc)) from None

    def plan(self, compiled: CompiledQuery, sql: str) -> DataFrame:
        """The statement as a DataFrame, analysed once per backend: Spark keeps a
        DataFrame's analysed, optimised and physical plans, so running the same statement
        again (a page re-run, a watch window, a benchmark round) skips the seconds of
        planning. Safe because a backend's events are fixed when it is made (an exported
        snapshot or a listed lake); the lookups' contents are part of the key."""
        key = (sql, tuple((t.sql_name, _fingerprint(t.data)) for t in compiled.tables))
        frame = self._plans.pop(key, None)
        if frame is None:
            for lookup in compiled.tables:
                self.spark.createDataFrame(lookup.data).createOrReplaceTempView(lookup.sql_name)
            try:  # the temporary views are resolved into the plan here
                frame = self.spark.sql(sql)
            finally:
                for lookup in compiled.tables:
                    self.spark.catalog.dropTempView(lookup.sql_name)
        self._plans[key] = frame  # most recently used last
        while len(self._plans) > PLAN_CACHE:
            self._plans.pop(next(iter(self._plans)))
        return frame

    def stream(
        self, compiled: CompiledQuery, sql: str, rows: int
    ) -> Generator[list[tuple[object, ...]], None, None]:
        """`execute`'s rows ``rows`` at a time: collected to the driver first. Streaming
        partitions with ``toLocalIterator`` ran the JVM out of heap in the ESCU sample
        (docs/reliability.md), so it is not done."""
        result = self.execute(compiled, sql)
        for start in range(0, len(result), rows):
            yield result[start : start + rows]

    def close(self) -> None:
        self._finalizer()


def _fingerprint(table: pa.Table) -> str:
    """A digest of a lookup's rows (a changed lookup must not reuse an old plan)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()


def _first_line(exc: Exception) -> str:
    """The message of a Spark failure; a Py4J error's own first line only says which call."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].startswith("An error occurred while calling") and len(lines) > 1:
        return lines[1].lstrip(": ")
    return lines[0]


def _drop(spark: Any, view: str, scratch: Path | None, prepared: list[str]) -> None:
    with contextlib.suppress(Exception):  # the session may be stopped already
        for name in prepared:
            spark.catalog.dropTempView(name)
        spark.catalog.dropTempView(view)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


def _write_parquet(reader: pa.RecordBatchReader, path: Path) -> None:
    with pq.ParquetWriter(str(path), reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)


def _spark_schema(types: Mapping[str, pa.DataType]) -> str:
    return ", ".join(f"`{n.replace('`', '``')}` {sql_type(t, 'spark')}" for n, t in types.items())
