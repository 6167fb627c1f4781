"""Reading a security_content (ESCU) checkout: detections, data sources, the folder itself.

The layout is Splunk's ``splunk/security_content`` repository: ``detections/**.yml`` (one
detection per file), ``macros/*.yml``, ``lookups/*.yml`` + files, ``data_sources/*.yml``.
Detections under ``detections/deprecated/`` (or with ``status: deprecated``) are left out
unless asked for; ``production`` and ``experimental`` are both active (1,613 of 1,711 in
the October 2024 snapshot). A file that does not parse, or a detection without a name or a
search, is a :class:`ContentError` naming the file: the library is not half-loaded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: environment variable naming the content folder
ENV_VAR = "STAGEHUNT_ESCU"
#: where a checkout next to the repository keeps it (``../shared/data/security_content``)
DEFAULT_RELATIVE = Path("..") / "shared" / "data" / "security_content"
#: the repository root (``src/stagehunt/escu/content.py`` → three folders up)
REPO = Path(__file__).resolve().parents[3]

DEPRECATED = "deprecated"


class ContentError(Exception):
    """Content that cannot be used: one line naming the folder or file and what is wrong."""


@dataclass(frozen=True)
class Detection:
    """One detection as ESCU writes it (the fields stagehunt uses)."""

    name: str
    id: str
    type: str
    status: str
    data_sources: tuple[str, ...]
    search: str
    path: Path
    description: str = ""
    mitre: tuple[str, ...] = ()

    @property
    def deprecated(self) -> bool:
        return self.status.lower() == DEPRECATED or DEPRECATED in self.path.parts

    @property
    def filter_macro(self) -> str:
        """The tuning hook contentctl generates for it: the name in lower case, with
        spaces, ``-``, ``.`` and ``/`` as ``_``, then ``_filter``."""
        return filter_macro_name(self.name)


@dataclass(frozen=True)
class DataSource:
    """One ``data_sources/*.yml``: where its events come from in Splunk."""

    name: str
    source: str
    sourcetype: str
    path: Path


def filter_macro_name(detection_name: str) -> str:
    return re.sub(r"[ \-./]", "_", detection_name).lower() + "_filter"


def find_content(given: Path | None) -> Path:
    """The content folder: ``given``, else ``$STAGEHUNT_ESCU``, else
    ``shared/data/security_content`` beside the current folder, the repository, or a
    folder they sit in (a git worktree is a level deeper than its checkout)."""
    if given is not None:
        return _checked(given, "--content")
    env = os.environ.get(ENV_VAR)
    if env:
        return _checked(Path(env), f"${ENV_VAR}")
    found = beside_checkout()
    if found is not None:
        return found
    raise ContentError(
        f"no ESCU content folder found: give --content DIR (a security_content checkout) "
        f"or set {ENV_VAR}"
    )


def beside_checkout() -> Path | None:
    """``shared/data/security_content`` in the current folder's or the repository's
    parents (the shared folder of this project's layout), or None."""
    for start in (Path.cwd().resolve(), REPO):
        for base in (start, *start.parents):
            candidate = base / DEFAULT_RELATIVE.relative_to("..")
            if (candidate / "detections").is_dir():
                return candidate.resolve()
    return None


def default_content() -> Path | None:
    """What :func:`find_content` finds with no flag, or None (for scripts and tests that
    skip or stop with their own message when there is no content)."""
    try:
        return find_content(None)
    except ContentError:
        return None


def _checked(folder: Path, origin: str) -> Path:
    if not folder.is_dir():
        raise ContentError(f"{origin} {folder}: no such folder")
    if not (folder / "detections").is_dir():
        raise ContentError(
            f"{origin} {folder}: not a security_content checkout (no detections/ folder)"
        )
    return folder.resolve()


def read_yaml(path: Path) -> dict[str, Any]:
    """One YAML mapping, or a ContentError naming the file and the line."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContentError(f"{path}{where}: malformed YAML: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a YAML mapping at the top")
    return data


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _text(data: dict[str, Any], key: str, path: Path, *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise ContentError(f"{path}: no '{key}'")
        return ""
    if not isinstance(value, str | int | float):
        raise ContentError(f"{path}: '{key}' must be text")
    return str(value)


def _texts(data: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ContentError(f"{path}: '{key}' must be a list of text")


def detection_files(folder: Path) -> Iterator[Path]:
    yield from sorted((folder / "detections").rglob("*.yml"))


def read_detection(path: Path) -> Detection:
    data = read_yaml(path)
    tags = data.get("tags") if isinstance(data.get("tags"), dict) else {}
    assert isinstance(tags, dict)
    return Detection(
        name=_text(data, "name", path, required=True),
        id=_text(data, "id", path),
        type=_text(data, "type", path),
        status=_text(data, "status", path),
        data_sources=_texts(data, "data_source", path),
        search=_text(data, "search", path, required=True),
        path=path,
        description=_text(data, "description", path),
        mitre=_texts(tags, "mitre_attack_id", path),
    )


def load_detections(
    folder: Path,
    *,
    include_deprecated: bool = False,
    read: Callable[[Path], Detection] = read_detection,
) -> list[Detection]:
    """Every detection (sorted by file path; each file through ``read``); deprecated ones
    only if asked for. Two detections with one name are a ContentError: names are what
    users type."""
    out: list[Detection] = []
    seen: dict[str, Path] = {}
    for path in detection_files(folder):
        detection = read(path)
        if detection.deprecated and not include_deprecated:
            continue
        if detection.name in seen:
            raise ContentError(
                f"{path}: detection name '{detection.name}' is also used by {seen[detection.name]}"
            )
        seen[detection.name] = path
        out.append(detection)
    return out


def load_data_sources(folder: Path) -> dict[str, DataSource]:
    """``data_sources/*.yml`` by name (an absent folder: none)."""
    out: dict[str, DataSource] = {}
    for path in sorted((folder / "data_sources").glob("*.yml")):
        data = read_yaml(path)
        name = _text(data, "name", path, required=True)
        out[name] = DataSource(
            name, _text(data, "source", path), _text(data, "sourcetype", path), path
        )
    return out
