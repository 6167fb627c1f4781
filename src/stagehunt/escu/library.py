"""A loaded ESCU library: detections, macros, lookups, data sources and the add-ons'
knowledge they are compiled with."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from stagehunt.compile.prepared import Prepared, static
from stagehunt.escu.content import (
    ContentError,
    DataSource,
    Detection,
    load_data_sources,
    load_detections,
)
from stagehunt.escu.kept_content import KeptDetections
from stagehunt.escu.lookups import EscuLookups, load_lookups
from stagehunt.escu.macros import EscuMacros, load_macros
from stagehunt.knowledge import Knowledge, KnowledgeError, bundled
from stagehunt.sigma.cache import ConversionCache


@dataclass
class Library:
    folder: Path
    detections: list[Detection]
    macros: EscuMacros
    lookups: EscuLookups
    #: the add-ons' search-time fields and the CIM data models (ESCU assumes both)
    knowledge: Knowledge | None
    _data_sources: dict[str, DataSource] | None = field(default=None, repr=False)
    _static: Prepared | None = field(default=None, repr=False)

    def prepared(self) -> Prepared | None:
        """What compiling without data reads (compile/prepared.py ``static``): the add-on
        fields and datasets as tables; None without knowledge (events as stored)."""
        if self.knowledge is None:
            return None
        if self._static is None:
            self._static = static({}, self.knowledge)
        return self._static

    @property
    def data_sources(self) -> dict[str, DataSource]:
        """``data_sources/*.yml`` by name, read on first use (only ``show`` needs them)."""
        if self._data_sources is None:
            self._data_sources = load_data_sources(self.folder)
        return self._data_sources

    def find(self, name: str) -> Detection:
        """A detection by its name (exact, else ignoring case, else by its file name or
        its ``_filter`` macro's stem); a ContentError suggesting close names otherwise."""
        by_name = {d.name: d for d in self.detections}
        if name in by_name:
            return by_name[name]
        folded = name.casefold().strip()
        for d in self.detections:
            stem = d.filter_macro.removesuffix("_filter")
            if folded in (d.name.casefold(), d.path.stem.casefold(), stem, d.id.casefold()):
                return d
        close = difflib.get_close_matches(name, list(by_name), n=3, cutoff=0.6)
        hint = f" (did you mean: {'; '.join(close)}?)" if close else ""
        raise ContentError(f"no detection named '{name}' in {self.folder}{hint}")

    def select(self, names: list[str]) -> list[Detection]:
        """The named detections in the order given, or every detection."""
        return [self.find(n) for n in names] if names else list(self.detections)


def load_library(
    folder: Path,
    *,
    include_deprecated: bool = False,
    user_macros: Path | None = None,
    local_macros: bool = True,
    knowledge: Knowledge | bool | None = True,
    cache: ConversionCache | None = None,
) -> Library:
    """Read everything a run needs; ``knowledge=True`` uses stagehunt's bundled add-ons
    and data models, ``False``/``None`` none. With a ``cache``, the detection files are
    read through it (escu/kept_content.py)."""
    if cache is None:
        detections = load_detections(folder, include_deprecated=include_deprecated)
    else:
        kept = KeptDetections(cache, folder)
        detections = load_detections(folder, include_deprecated=include_deprecated, read=kept.read)
        kept.save()
    if not detections:
        raise ContentError(f"{folder}: no detections found under detections/")
    macros = load_macros(folder, detections, local=local_macros, user_file=user_macros)
    lookups = load_lookups(folder)
    chosen: Knowledge | None
    if knowledge is True:
        try:
            chosen = bundled()
        except KnowledgeError as exc:
            raise ContentError(f"stagehunt's bundled add-on knowledge: {exc}") from None
    elif knowledge is False:
        chosen = None
    else:
        chosen = knowledge
    return Library(folder, detections, macros, lookups, chosen)
