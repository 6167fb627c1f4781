"""A pack's adversary tests in Atomic Red Team's YAML format: load, list and show them.

Each pack may ship ``atomics/*.yaml`` files (Atomic Red Team's schema: ``attack_technique``,
``display_name``, ``atomic_tests`` with ``name``, ``auto_generated_guid``, ``description``,
``supported_platforms``, ``input_arguments``, ``dependencies``, ``executor``) holding the
commands that reproduce its adversary tests in a lab, and their cleanup.

stagehunt never executes these commands. This module only reads and renders them, so that a
user can run them by hand (or with Invoke-AtomicTest) on a lab machine and then hunt the
telemetry they produce. Test numbers are 1-based, in file order (files sorted by name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "AtomicTest",
    "Dependency",
    "InputArgument",
    "UnknownAtomicTest",
    "listing",
    "load",
    "pack_folder",
    "show",
]

#: Executors Atomic Red Team defines.
EXECUTORS = frozenset({"command_prompt", "powershell", "sh", "bash", "manual"})

_NEVER_RUN = "stagehunt never executes these commands; run them yourself, in a lab only."
_PLACEHOLDER = re.compile(r"#\{([A-Za-z0-9_]+)\}")


class UnknownAtomicTest(KeyError, ValueError):
    """The test number is not in the pack (a ``KeyError`` and a ``ValueError``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown atomic test"


@dataclass(frozen=True)
class InputArgument:
    """One ``input_arguments`` entry: substituted for ``#{name}`` in the commands."""

    name: str
    description: str
    type: str
    default: str


@dataclass(frozen=True)
class Dependency:
    """A prerequisite: ``prereq_command`` exits 0 when met, ``get_prereq_command`` meets it."""

    description: str
    prereq_command: str
    get_prereq_command: str


@dataclass(frozen=True)
class AtomicTest:
    """One atomic test of a pack, numbered from 1."""

    number: int
    technique: str
    name: str
    guid: str
    description: str
    platforms: tuple[str, ...]
    executor: str
    elevation_required: bool
    command: str
    cleanup_command: str
    inputs: tuple[InputArgument, ...]
    dependencies: tuple[Dependency, ...]
    dependency_executor: str | None
    source: Path

    def defaults(self) -> dict[str, str]:
        """Each input's default value, by name."""
        return {arg.name: arg.default for arg in self.inputs}

    def fill(self, text: str, values: dict[str, str] | None = None) -> str:
        """``text`` with every ``#{name}`` replaced by ``values`` (default: the inputs' defaults).

        Placeholders with no value are left as they are.
        """
        known = self.defaults() if values is None else {**self.defaults(), **values}
        return _PLACEHOLDER.sub(lambda m: known.get(m.group(1), m.group(0)), text)


def pack_folder(pack_id: str = "T1074") -> Path:
    """The folder of a pack shipped with stagehunt (``content/<pack_id>``)."""
    return Path(str(resources.files("stagehunt.content").joinpath(pack_id)))


def _text(value: object, where: str, *, required: bool = True) -> str:
    """A YAML scalar as text; a missing required value is a ``ValueError``."""
    if value is None:
        if required:
            raise ValueError(f"{where}: missing")
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError(f"{where}: expected a scalar, got {type(value).__name__}")


def _mapping(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _sequence(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _test(raw: object, number: int, technique: str, source: Path) -> AtomicTest:
    """One ``atomic_tests`` entry, checked."""
    where = f"{source.name}: atomic_tests[{number}]"
    entry = _mapping(raw, where)
    executor = _mapping(entry.get("executor"), f"{where}.executor")
    executor_name = _text(executor.get("name"), f"{where}.executor.name")
    if executor_name not in EXECUTORS:
        known = ", ".join(sorted(EXECUTORS))
        raise ValueError(f"{where}.executor.name: {executor_name!r} is not one of {known}")
    inputs = tuple(
        InputArgument(
            name,
            _text(arg.get("description"), f"{where}.input_arguments.{name}.description"),
            _text(arg.get("type"), f"{where}.input_arguments.{name}.type"),
            _text(arg.get("default"), f"{where}.input_arguments.{name}.default"),
        )
        for name, arg in (
            (name, _mapping(value, f"{where}.input_arguments.{name}"))
            for name, value in _mapping(entry.get("input_arguments") or {}, where).items()
        )
    )
    dependencies = tuple(
        Dependency(
            _text(dep.get("description"), f"{where}.dependencies[{i}].description").strip(),
            _text(dep.get("prereq_command"), f"{where}.dependencies[{i}].prereq_command"),
            _text(dep.get("get_prereq_command"), f"{where}.dependencies[{i}].get_prereq_command"),
        )
        for i, dep in enumerate(
            _mapping(d, f"{where}.dependencies")
            for d in _sequence(entry.get("dependencies"), where)
        )
    )
    platforms = tuple(
        _text(p, f"{where}.supported_platforms")
        for p in _sequence(entry.get("supported_platforms"), f"{where}.supported_platforms")
    )
    if not platforms:
        raise ValueError(f"{where}.supported_platforms: empty")
    dependency_executor = entry.get("dependency_executor_name")
    return AtomicTest(
        number=number,
        technique=technique,
        name=_text(entry.get("name"), f"{where}.name"),
        guid=_text(entry.get("auto_generated_guid"), f"{where}.auto_generated_guid"),
        description=_text(entry.get("description"), f"{where}.description").strip(),
        platforms=platforms,
        executor=executor_name,
        elevation_required=executor.get("elevation_required") is True,
        command=_text(executor.get("command"), f"{where}.executor.command").rstrip("\n"),
        cleanup_command=_text(
            executor.get("cleanup_command"), f"{where}.executor.cleanup_command", required=False
        ).rstrip("\n"),
        inputs=inputs,
        dependencies=dependencies,
        dependency_executor=None
        if dependency_executor is None
        else _text(dependency_executor, f"{where}.dependency_executor_name"),
        source=source,
    )


def load(pack_folder: Path) -> list[AtomicTest]:
    """Every atomic test in ``pack_folder/atomics/*.yaml`` (files by name), numbered from 1.

    A pack without an ``atomics`` folder has none. A malformed file is a ``ValueError``
    naming the file and the entry.
    """
    folder = Path(pack_folder) / "atomics"
    if not folder.is_dir():
        return []
    tests: list[AtomicTest] = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"{path.name}: not valid YAML: {exc}") from None
        top = _mapping(doc, path.name)
        technique = _text(top.get("attack_technique"), f"{path.name}: attack_technique")
        for raw in _sequence(top.get("atomic_tests"), f"{path.name}: atomic_tests"):
            tests.append(_test(raw, len(tests) + 1, technique, path))
    return tests


def _folder(folder: Path | str | None) -> Path:
    return pack_folder() if folder is None else Path(folder)


def get(number: int, folder: Path | str | None = None) -> AtomicTest:
    """Test ``number`` (1-based) of the pack in ``folder`` (default: the shipped T1074 pack)."""
    tests = load(_folder(folder))
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(tests):
        if tests:
            raise UnknownAtomicTest(
                f"no atomic test {number!r}: this pack has tests 1-{len(tests)} "
                "(`stagehunt atomic list`)"
            )
        raise UnknownAtomicTest(f"no atomic test {number!r}: this pack ships no atomic tests")
    return tests[number - 1]


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line.strip() else line.rstrip() for line in text.split("\n"))


def show(number: int, folder: Path | str | None = None) -> str:
    """Test ``number`` (1-based) as readable text: name, platforms, elevation, inputs,
    dependencies, command and cleanup (as written, then with the defaults filled in).

    ``folder`` is a pack folder (default: the shipped T1074 pack). An unknown number raises
    `UnknownAtomicTest` (both a ``KeyError`` and a ``ValueError``).
    """
    test = get(number, folder)
    elevation = (
        "required (run as administrator/root)" if test.elevation_required else "not required"
    )
    lines = [
        f"Atomic test {test.number}: {test.name}",
        f"({_NEVER_RUN})",
        "",
        f"Technique:   {test.technique}",
        f"GUID:        {test.guid}",
        f"Platforms:   {', '.join(test.platforms)}",
        f"Executor:    {test.executor}",
        f"Elevation:   {elevation}",
        "",
        "Description:",
        _indent(test.description),
        "",
        "Inputs:",
    ]
    if test.inputs:
        width = max(len(arg.name) for arg in test.inputs)
        for arg in test.inputs:
            lines.append(f"    {arg.name:<{width}}  ({arg.type}) default: {arg.default}")
            lines.append(f"    {'':<{width}}  {arg.description}")
    else:
        lines.append("    (none)")
    if test.dependencies:
        executor = test.dependency_executor or test.executor
        lines += ["", f"Dependencies (checked and met with {executor}):"]
        for i, dep in enumerate(test.dependencies, 1):
            lines += [
                f"  {i}. {test.fill(dep.description)}",
                "     check:",
                _indent(test.fill(dep.prereq_command).rstrip("\n"), "       "),
                "     get:",
                _indent(test.fill(dep.get_prereq_command).rstrip("\n"), "       "),
            ]
    for title, text in (("Command", test.command), ("Cleanup", test.cleanup_command)):
        lines += ["", f"{title}:"]
        if not text:
            lines.append("    (none)")
            continue
        lines.append(_indent(text))
        filled = test.fill(text)
        if filled != text:
            lines += ["", f"{title} with the default inputs:", _indent(filled)]
    lines += ["", _NEVER_RUN]
    return "\n".join(lines) + "\n"


def listing(folder: Path | str | None = None) -> str:
    """One line per test of the pack in ``folder``: number, platforms, executor, name."""
    tests = load(_folder(folder))
    if not tests:
        return "no atomic tests in this pack\n"
    rows = [
        (
            str(t.number),
            ",".join(t.platforms),
            t.executor + (" (admin)" if t.elevation_required else ""),
            t.name,
        )
        for t in tests
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [
        f"{num:>{widths[0]}}  {plat:<{widths[1]}}  {exe:<{widths[2]}}  {name}"
        for num, plat, exe, name in rows
    ]
    lines += ["", "`stagehunt atomic show N` prints a test. " + _NEVER_RUN]
    return "\n".join(lines) + "\n"
