"""Detection packs: the metadata and detections shipped as data under ``content/<ID>/``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Detection:
    name: str
    spl: str
    description: str
    lookups: Path | None
    #: how `stagehunt watch` runs it: ``window`` (e.g. "24h") and ``key`` (the result
    #: fields that name one alert); the pack's ``[watch]`` table, then the detection's
    watch: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pack:
    id: str
    folder: Path
    meta: dict[str, Any]
    detections: dict[str, Detection]

    def detection(self, name: str) -> Detection:
        try:
            return self.detections[name]
        except KeyError:
            known = ", ".join(self.detections)
            raise KeyError(f"unknown detection '{name}' (known: {known})") from None


def load_pack(pack_id: str = "T1074") -> Pack:
    """Read ``content/<pack_id>/pack.toml`` and the detections it names."""
    folder = Path(str(resources.files("stagehunt.content").joinpath(pack_id)))
    meta = tomllib.loads((folder / "pack.toml").read_text(encoding="utf-8"))
    detections: dict[str, Detection] = {}
    for entry in meta.get("detections", []):
        lookups = folder / entry["lookups"] if "lookups" in entry else None
        spl = (folder / entry["file"]).read_text(encoding="utf-8").rstrip("\n")
        detections[entry["name"]] = Detection(
            entry["name"],
            spl,
            " ".join(entry.get("description", "").split()),
            lookups,
            {**meta.get("watch", {}), **entry.get("watch", {})},
        )
    return Pack(pack_id, folder, meta, detections)
