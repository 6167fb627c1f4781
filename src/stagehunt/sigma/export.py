"""Sigma rules → other SIEMs' queries through pySigma backends and pipelines.

Targets are data (``targets.toml``); backends and pipelines are found by pySigma's plugin
discovery, so any installed backend is a target too. pySigma rewrites rules while
converting, so every target reads the YAML afresh. A rule a backend cannot convert is
listed with its reason, never dropped.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.plugins import InstalledSigmaPlugins
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule

from stagehunt.sigma.pipelines import load_pipeline


@dataclass(frozen=True)
class Target:
    name: str
    backend: str
    pipelines: tuple[str, ...]
    extension: str
    description: str


@dataclass(frozen=True)
class Converted:
    rule: str
    queries: tuple[str, ...]
    error: str | None = None


class UnknownTarget(Exception):
    pass


@cache
def plugins() -> InstalledSigmaPlugins:
    return InstalledSigmaPlugins.autodiscover(include_pipelines=False)


def targets() -> dict[str, Target]:
    """Configured targets whose backend is installed, then every other installed backend."""
    data = tomllib.loads(
        resources.files("stagehunt.sigma").joinpath("targets.toml").read_text("utf-8")
    )
    installed = plugins().backends
    out = {
        name: Target(name, t["backend"], tuple(t["pipelines"]), t["extension"], t["description"])
        for name, t in data.items()
        if t["backend"] in installed
    }
    for backend in sorted(installed):
        if backend not in out and all(t.backend != backend for t in out.values()):
            out[backend] = Target(backend, backend, (), "txt", "installed backend, no pipeline")
    return out


def target(name: str) -> Target:
    known = targets()
    if name not in known:
        raise UnknownTarget(f"unknown target '{name}' (known: {', '.join(known)})")
    return known[name]


def _pipeline(names: tuple[str, ...]) -> ProcessingPipeline | None:
    """The pipelines ``module:function`` of a target, in order, added up."""
    pipeline: ProcessingPipeline | None = None
    for name in names:
        made = load_pipeline(name)
        pipeline = made if pipeline is None else pipeline + made
    return pipeline


def convert_text(yaml_text: str, tgt: Target) -> list[Converted]:
    """Every rule of a YAML stream through one target, in stream order."""
    backend_class: Any = plugins().backends[tgt.backend]
    backend = backend_class(_pipeline(tgt.pipelines))
    collection = SigmaCollection.from_yaml(yaml_text)
    out: list[Converted] = []
    # rules before correlations: a correlation reads its rules' conversions
    ordered = sorted(collection.rules, key=lambda r: isinstance(r, SigmaCorrelationRule))
    for rule in ordered:
        name = str(rule.name or rule.title)
        try:
            if isinstance(rule, SigmaCorrelationRule):
                queries = backend.convert_correlation_rule(rule)
            else:
                assert isinstance(rule, SigmaRule)
                queries = backend.convert_rule(rule)  # kept for the correlation's use
                if not rule._output:  # referenced by a correlation: not a search of its own
                    continue
        except (SigmaError, NotImplementedError) as e:
            out.append(Converted(name, (), f"{type(e).__name__}: {e}".splitlines()[0][:300]))
            continue
        out.append(Converted(name, tuple(str(q) for q in queries)))
    return out


def write(results: list[Converted], tgt: Target, out: Path) -> list[Path]:
    """One file per converted rule under ``out/<target>/``; the folder is the user's."""
    folder = out / tgt.name
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        if result.error is not None:
            continue
        path = folder / f"{result.rule}.{tgt.extension}"
        path.write_text("\n\n".join(result.queries) + "\n", encoding="utf-8")
        written.append(path)
    return written
