"""Options every reader and normaliser receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SourcetypeStyle = Literal["legacy", "modern"]


@dataclass(frozen=True)
class IngestOptions:
    """How records are labelled when stored.

    ``legacy`` (default) gives what the seed query's author expected:
    ``sourcetype=XmlWinEventLog:<Channel>``; ``modern`` gives today's add-on naming:
    ``sourcetype=XmlWinEventLog`` with the channel in ``source`` (spl-semantics 9.1-9.3).
    ``index`` overrides the default index of every source.
    """

    sourcetype_style: SourcetypeStyle = "legacy"
    index: str | None = None
