"""Which reader reads a file: chosen by content, not by name.

``expand`` turns the paths a user gives into sources (files, the files below a folder,
the members of a zip archive); ``read_source`` sniffs a source's first bytes and hands
it to the right reader. JSON files are read once by the Splunk-export reader (JSON
lines or one array); their first object decides the *shape* (pyevtx-rs JSON, ECS,
Sentinel Syslog, Defender, flattened Winlogbeat/HELK, else a Splunk export), and every
object goes through that shape.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from stagehunt.ingest.options import IngestOptions

if TYPE_CHECKING:
    from stagehunt.ingest.evtx_reader import RowSink
from stagehunt.ingest.records import Record, Reject
from stagehunt.ingest.shapes.base import Shape
from stagehunt.ingest.sources import Source
from stagehunt.ingest.splunk_export import (
    UnsupportedInput,
    iter_records,
    normalise_object,
    sniff_head,
    unwrap,
)


def shapes() -> tuple[Shape, ...]:
    """JSON shapes, most specific first; the Splunk export shape is the fallback.

    Imported on first use, like the readers below, so that reading a Splunk export
    does not load the EVTX or XML machinery.
    """
    from stagehunt.ingest.shapes import ecs, otrf, pyevtx_json, sentinel_syslog
    from stagehunt.ingest.shapes import mde as mde_shape

    return (pyevtx_json.SHAPE, ecs.SHAPE, sentinel_syslog.SHAPE, mde_shape.SHAPE, otrf.SHAPE)


_ZIP_MAGIC = b"PK\x03\x04"
#: A zip member may inflate to this many times its compressed size before it is refused
#: as a zip bomb (EVTX compresses about 10 to 30 times; zeros 1,000 times) ...
ZIP_MAX_RATIO = 200
#: ... once it is past this size: small members are always extracted.
ZIP_RATIO_FROM_BYTES = 64 * 1024 * 1024
_SNIFF = 64 * 1024
#: The bytes an EVTX reader needs in hand to start (the file header).
EVTX_HEADER = 4096
_EVTX_HEADER = EVTX_HEADER


@dataclass(frozen=True)
class SourceError:
    """A path or archive member that could not be opened at all."""

    name: str
    reason: str


def expand(path: Path, scratch: Path) -> Iterator[Source | SourceError]:
    """The sources a path holds: itself, the files below a folder, or a zip's members.

    Zip members are extracted one at a time, as the caller asks for the next source,
    into ``scratch`` (EVTX needs random access); such a source is ``temporary``: the
    caller deletes it once read (it may read a few sources ahead).
    """
    try:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if not _is_documentation(child):
                    yield from expand(child, scratch)
            return
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        yield SourceError(str(path), f"cannot read: {exc.strerror or exc}")
        return
    if magic != _ZIP_MAGIC:
        yield Source.from_path(path)
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
        # a damaged directory: also a version zipfile does not know (NotImplementedError),
        # a name flagged UTF-8 that is not (UnicodeDecodeError)
        yield SourceError(str(path), f"unreadable zip archive: {exc}")
        return
    with archive:
        for info in archive.infolist():
            # not info.is_dir(): it fails on an empty name (a name cut at a NUL byte)
            if info.filename.endswith("/") or info.filename.startswith("__MACOSX/"):
                continue
            name = f"{path}!{info.filename}"
            target = scratch / f"member-{abs(hash(name))}"
            try:
                _extract(archive, info, target)
            except (
                zipfile.BadZipFile,
                zlib.error,
                OSError,
                EOFError,
                RuntimeError,
                _ZipBomb,
            ) as exc:
                target.unlink(missing_ok=True)
                yield SourceError(name, f"cannot extract: {exc}")
                continue
            yield replace(Source.from_path(target), name=name, temporary=True)


class _ZipBomb(Exception):
    """A member inflating far past its compressed size."""


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Copy one member to ``target``, counting the bytes as they inflate (the sizes the
    archive declares are not trusted): a zip bomb stops at the bound, not the disk."""
    bound = max(ZIP_RATIO_FROM_BYTES, ZIP_MAX_RATIO * max(info.compress_size, 1))
    written = 0
    with archive.open(info) as src, target.open("wb") as dst:
        while block := src.read(1 << 20):
            written += len(block)
            if written > bound:
                raise _ZipBomb(
                    f"inflates past {bound:,} bytes ({ZIP_MAX_RATIO} times its compressed "
                    f"{info.compress_size:,}): a zip bomb?"
                )
            dst.write(block)


#: Inside a folder, files with these endings are documentation or rules, not events;
#: a file named on the command line is always read.
_DOCUMENT_SUFFIXES = frozenset({".md", ".yml", ".yaml", ".rst", ".txt", ".html", ".py"})


def _is_documentation(path: Path) -> bool:
    return path.suffix.lower() in _DOCUMENT_SUFFIXES or path.name.upper().startswith("LICENSE")


def read_source(
    source: Source, opts: IngestOptions, rows: RowSink | None = None
) -> tuple[str, Iterator[Record | Reject]]:
    """The format name and the records of one source. Raises `UnsupportedInput` for
    content no reader takes and `OSError` when it cannot be read.

    ``rows``: EVTX events of a planned layout go there as rows, and `evtx_reader.ROW`
    comes in their place (see `evtx_reader.read`); other formats ignore it."""
    from stagehunt.ingest import auditd, evtx_reader, mde, winxml

    head = source.head(_EVTX_HEADER)  # EVTX files, most of them small, need no more
    if evtx_reader.sniff(head):
        # ROW items only come when ``rows`` is given, to the caller that gave it
        return "evtx", cast(Iterator[Record | Reject], evtx_reader.read(source, opts, head, rows))
    if len(head) == _EVTX_HEADER:
        head = source.head(_SNIFF)
    if head.startswith(_ZIP_MAGIC):
        raise UnsupportedInput("a zip archive inside a zip archive; extract the outer one first")
    if winxml.sniff(head):
        return "xml", winxml.read(source, opts)
    if auditd.sniff(head):
        return "auditd", auditd.read(source, opts)
    fmt = sniff_head(head)
    if fmt == "csv":
        header = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
        columns = [c.strip().strip('"') for c in header.strip().split(",")]
        if mde.sniff_csv_header(columns):
            return "mde-csv", mde.read_csv(source, opts)
        return "splunk-csv", iter_records(source)
    return f"json ({fmt})", iter_records(source, convert=ShapeDispatch(opts))


def read_file(
    name: str,
    path: str,
    size: int,
    opts: IngestOptions,
    rows: RowSink | None = None,
    head: bytes | None = None,
) -> tuple[str, Iterator[Record | Reject]]:
    """`read_source` for a file on disk named by ``path``, whose size is known: how a
    worker reads the files of its task. An incident folder is mostly EVTX files of a
    few records, so the per-file work counts: the head is read by one system call (or
    given: the first `EVTX_HEADER` bytes the caller read while hashing the file) and an
    EVTX file goes to its reader without building a `Source`."""
    from stagehunt.ingest import evtx_reader

    if head is None:
        fd = os.open(path, os.O_RDONLY)
        try:
            head = os.read(fd, _EVTX_HEADER)
        finally:
            os.close(fd)
    if evtx_reader.sniff(head):
        items = evtx_reader.read_path(name, path, size, head, opts, rows)
        return "evtx", cast(Iterator[Record | Reject], items)
    file = Path(path)
    return read_source(Source(name, lambda: file.open("rb"), file, size), opts, rows)


class ShapeDispatch:
    """Converts JSON values with the shape detected on the first object."""

    def __init__(self, opts: IngestOptions) -> None:
        self.opts = opts
        self.convert: Callable[[dict[str, object]], Record | str] | None = None
        #: True once a shipper shape is detected: Splunk would index such a JSON event with
        #: the JSON text itself as ``_raw`` (a Splunk export's own ``_raw`` is kept as is)
        self.raw_is_source_text = False

    def __call__(self, value: object) -> Record | str | None:
        obj = unwrap(value)
        if obj is None or isinstance(obj, str):
            return obj
        if self.convert is None:
            self.convert = self._detect(obj)
        return self.convert(obj)

    def _detect(self, obj: dict[str, object]) -> Callable[[dict[str, object]], Record | str]:
        opts = self.opts
        found = next((shape for shape in shapes() if shape.matches(obj)), None)
        if found is None:
            return lambda o: _splunk_record(o, opts)
        self.raw_is_source_text = True
        return lambda o: found.to_record(o, opts)


def _splunk_record(obj: dict[str, object], opts: IngestOptions) -> Record | str:
    """A Splunk export object: values as exported; ``--index`` still overrides."""
    record = normalise_object(obj)
    if isinstance(record, dict) and opts.index is not None:
        record["index"] = opts.index
    return record


def scratch_dir() -> Path:
    """A private temporary folder for extracted archive members."""
    return Path(tempfile.mkdtemp(prefix="stagehunt-unzip-"))
