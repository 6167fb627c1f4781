"""Which function turns which command node into SQL.

A *transform* takes the results so far (a :class:`~stagehunt.compile.relation.Relation`)
and returns the next; a *generator* starts a pipeline (makeresults, inputlookup, tstats,
...). ``streaming`` marks commands that work one event at a time (Splunk's "distributable
streaming"): they may run inside multisearch, and results after them are still events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation
    from stagehunt.spl import ast

C = TypeVar("C", bound="ast.Command")
TransformFn = Callable[["Compiler", "Relation", Any], "Relation"]
GenerateFn = Callable[["Compiler", Any], "Relation"]


@dataclass(frozen=True)
class Transform:
    run: TransformFn
    streaming: bool


TRANSFORMS: dict[type, Transform] = {}
GENERATORS: dict[type, GenerateFn] = {}


def transforms(node: type[C], *, streaming: bool = False) -> Callable[[Any], Any]:
    """Register the function that applies ``node`` to the results so far."""

    def wrap(fn: Any) -> Any:
        TRANSFORMS[node] = Transform(fn, streaming)
        return fn

    return wrap


def generates(node: type[C]) -> Callable[[Any], Any]:
    """Register the function that produces the first results of a pipeline from ``node``."""

    def wrap(fn: Any) -> Any:
        GENERATORS[node] = fn
        return fn

    return wrap


def is_streaming(cmd: ast.Command) -> bool:
    entry = TRANSFORMS.get(type(cmd))
    return entry is not None and entry.streaming
