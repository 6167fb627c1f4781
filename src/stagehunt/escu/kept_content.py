"""A content folder's detections kept between runs, file by file.

Why: every ``escu`` command reads the library first, and parsing ESCU's ~2,000 detection
files as YAML took 0.65 s of each (libyaml parses, but PyYAML builds the objects in
Python); kept, the load takes 0.09 s. The fields stagehunt reads of each file
(`Detection`) are kept in the conversion cache (kind ``escu-content``, one entry per
content folder) with the file's size and modification time; a later run reads a file
again only when either changed, and a file that cannot be read or parsed is never kept
(reading it again reports the same error). The key holds the folder and the versions,
since what a file gives depends on stagehunt's reading of it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from stagehunt.escu.content import Detection, read_detection
from stagehunt.sigma.cache import ConversionCache, digest, versions

#: The cache's folder for kept content.
KIND = "escu-content"
#: Bumped when an entry's layout changes: older entries then miss.
LAYOUT = 1


class KeptDetections:
    """`read_detection` through the cache for the files of one content folder; `save`
    writes back what changed."""

    def __init__(self, cache: ConversionCache, folder: Path) -> None:
        self.cache = cache
        self.folder = folder
        self.key = digest(KIND, LAYOUT, versions(), str(folder.resolve()))
        data = cache.read(KIND, self.key)
        files = data.get("files") if data is not None else None
        self.files: dict[str, list[Any]] = files if isinstance(files, dict) else {}
        self.read_now: set[str] = set()
        self.changed = False

    def read(self, path: Path) -> Detection:
        """The file's detection: kept, when its size and modification time are as kept,
        else read (and kept)."""
        name = path.relative_to(self.folder).as_posix()
        self.read_now.add(name)
        stat = os.stat(path)
        kept = self.files.get(name)
        if kept is not None and kept[:2] == [stat.st_size, stat.st_mtime_ns]:
            detection = _detection(kept[2], path)
            if detection is not None:
                return detection
        detection = read_detection(path)
        self.files[name] = [stat.st_size, stat.st_mtime_ns, _record(detection)]
        self.changed = True
        return detection

    def save(self) -> None:
        """Keep what changed; files gone since are dropped."""
        gone = self.files.keys() - self.read_now
        for name in gone:
            del self.files[name]
        if self.changed or gone:
            self.cache.write(KIND, self.key, {"files": self.files})


def _record(detection: Detection) -> dict[str, Any]:
    return {
        "name": detection.name,
        "id": detection.id,
        "type": detection.type,
        "status": detection.status,
        "data_sources": list(detection.data_sources),
        "search": detection.search,
        "description": detection.description,
        "mitre": list(detection.mitre),
    }


def _detection(record: object, path: Path) -> Detection | None:
    """The kept record as a `Detection`, or None when it has another shape."""
    if not isinstance(record, dict):
        return None
    try:
        texts = [record[k] for k in ("name", "id", "type", "status", "search", "description")]
        sources, mitre = tuple(record["data_sources"]), tuple(record["mitre"])
    except (KeyError, TypeError):
        return None
    if not all(isinstance(v, str) for v in (*texts, *sources, *mitre)):
        return None
    name, ident, kind, status, search, description = texts
    return Detection(name, ident, kind, status, sources, search, path, description, mitre)
