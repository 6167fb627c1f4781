"""Column kinds of the event table: the only facts about stored data the compiler needs."""

from __future__ import annotations

from enum import Enum

#: Name of the wide event table inside a store.
EVENTS_TABLE = "events"
#: Hidden column holding insertion order (ties on ``_time`` keep file order).
SEQ_COLUMN = "__seq"
#: Prefix of columns that are internal and never shown to the user.
HIDDEN_PREFIX = "__"


class ColumnKind(Enum):
    """How a stored column holds its values."""

    STRING = "string"  # VARCHAR: a single value per event (Splunk values are strings)
    MULTI = "multi"  # VARCHAR[]: a multivalue field
    NUMBER = "number"  # DOUBLE: only ``_time`` (epoch seconds) in stored data


def is_hidden(name: str) -> bool:
    """True for internal columns (``__seq`` and friends)."""
    return name.startswith(HIDDEN_PREFIX)
