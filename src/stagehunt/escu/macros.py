"""ESCU's macros as one :class:`~stagehunt.spl.macros.MacroLibrary`, in layers.

1. ``macros/*.yml``: ``name``, ``definition``, optional ``arguments`` (``$arg$`` in the
   definition; the key is ``name(N)``). Names are case-sensitive, as in macros.conf.
2. What the YAML uses but does not ship (SOURCES.md): ``drop_dm_object_name(1)`` from
   Splunk_SA_CIM (``rename $object$.* AS *``) and one ``<detection>_filter`` tuning hook
   per detection (``search *``, as contentctl generates it). Neither replaces a macro the
   YAML defines.
3. stagehunt's local overrides (``local_macros.conf`` next to this module): source macros
   that cannot match events as our ingest stores them, each with its reason.
4. The user's own macros.conf (``--macros FILE``), last: it wins over everything.

A malformed macro file is a :class:`ContentError` naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from stagehunt.escu.content import ContentError, Detection, read_yaml
from stagehunt.spl.macros import Macro, MacroLibrary

LOCAL_FILE = "local_macros.conf"
FILTER_DEFINITION = "search *"

#: origin labels, shown by ``escu show``
FROM_CIM = "built in (Splunk_SA_CIM, not in ESCU's macros/)"
FROM_FILTER = "built in (contentctl's tuning hook: search *)"
FROM_LOCAL = f"stagehunt override ({LOCAL_FILE})"

#: what the library leaves out on purpose: the reason shown for an unknown macro
ABSENT: dict[str, str] = {
    "get_asset(1)": "Splunk Enterprise Security's asset macro; neither ESCU nor stagehunt has it",
    "cim_corporate_web_domain_search(1)": (
        "Splunk Enterprise Security's corporate-domain macro; neither ESCU nor stagehunt has it"
    ),
}

#: Splunk_SA_CIM 8.5's definition. ESCU calls it both as `drop_dm_object_name(Processes)`
#: and as `drop_dm_object_name("Processes")` (129 active detections); Splunk's argument
#: lexer reads the resulting `""Processes".*"` as `Processes.*`, so a quoted argument is
#: substituted without its quotes here.
BUILTINS = (
    Macro(
        "drop_dm_object_name(1)",
        ("object",),
        'rename "$object$.*" AS *',
        "Splunk_SA_CIM: strip a data model object's prefix from field names",
        unquote_args=True,
    ),
)


@dataclass(frozen=True)
class Override:
    """A macro replaced on top of ESCU's: by stagehunt (with its reason) or by the user."""

    key: str
    definition: str
    reason: str
    origin: str
    replaced: str | None  # ESCU's definition, None when ESCU had no such macro


@dataclass
class EscuMacros:
    library: MacroLibrary
    #: key → where its definition comes from (``macros/x.yml``, built in, override file)
    origins: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, Override] = field(default_factory=dict)
    #: key → the ``macros/*.yml`` file that defines it in the content
    files: dict[str, Path] = field(default_factory=dict)


def read_macro_file(path: Path) -> Macro:
    data = read_yaml(path)
    name = data.get("name")
    definition = data.get("definition")
    if not isinstance(name, str) or not name.strip():
        raise ContentError(f"{path}: no macro 'name'")
    if not isinstance(definition, str):
        raise ContentError(f"{path}: macro '{name}' has no 'definition' text")
    arguments = data.get("arguments") or []
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        raise ContentError(f"{path}: macro '{name}': 'arguments' must be a list of names")
    args = tuple(a.strip() for a in arguments)
    key = f"{name.strip()}({len(args)})" if args else name.strip()
    description = data.get("description")
    return Macro(key, args, definition, description if isinstance(description, str) else "")


def local_overrides() -> MacroLibrary:
    """stagehunt's shipped overrides."""
    text = resources.files("stagehunt.escu").joinpath(LOCAL_FILE).read_text("utf-8")
    return MacroLibrary.from_text(text)


def load_macros(
    folder: Path,
    detections: list[Detection],
    *,
    local: bool = True,
    user_file: Path | None = None,
) -> EscuMacros:
    """The four layers (module docstring) for the detections given."""
    macros: dict[str, Macro] = {}
    origins: dict[str, str] = {}
    files: dict[str, Path] = {}
    for path in sorted((folder / "macros").glob("*.yml")):
        macro = read_macro_file(path)
        if macro.name in macros:
            raise ContentError(
                f"{path}: macro '{macro.name}' is also defined in {origins[macro.name]}"
            )
        macros[macro.name] = macro
        origins[macro.name] = str(path.relative_to(folder))
        files[macro.name] = path
    for macro in BUILTINS:
        if macro.name not in macros:
            macros[macro.name] = macro
            origins[macro.name] = FROM_CIM
    for detection in detections:
        key = detection.filter_macro
        if key not in macros:
            macros[key] = Macro(key, (), FILTER_DEFINITION)
            origins[key] = FROM_FILTER
    result = EscuMacros(MacroLibrary(macros), origins, files=files)
    if local:
        _apply(result, local_overrides(), FROM_LOCAL)
    if user_file is not None:
        try:
            user = MacroLibrary.from_file(user_file)
        except (OSError, UnicodeDecodeError) as exc:
            raise ContentError(f"--macros {user_file}: cannot read: {exc}") from None
        _apply(result, user, f"--macros {user_file}")
    return result


def _apply(target: EscuMacros, layer: MacroLibrary, origin: str) -> None:
    for key, macro in layer.macros.items():
        before = target.library.macros.get(key)
        target.library.macros[key] = macro
        target.origins[key] = origin
        target.overrides[key] = Override(
            key,
            macro.definition,
            macro.description or "(no description given)",
            origin,
            before.definition if before is not None else None,
        )
