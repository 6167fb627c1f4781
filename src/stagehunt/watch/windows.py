"""A detection's declared time window and alert key, and the windows events fall in.

Windows are tumbling and aligned to the UTC epoch (a "24h" window is a UTC day), so
the window of an event never depends on when the watcher ran or restarted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: A Sigma event rule's window: a rule matches single events, so the window only bounds
#: what is recomputed when new events arrive; a day, like the pack detections' schedule.
SIGMA_WINDOW = "24h"
#: An ESCU detection's window: the content declares none, and ESCU's default deployment
#: (contentctl) schedules its TTP and Anomaly detections hourly over the hour before, so
#: their thresholds (``count > N by dest``) are meant for an hour of events. A late event
#: needs no lag here: its window is recomputed when it arrives.
ESCU_WINDOW = "1h"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SPAN = re.compile(r"(\d+)([smhd])")


class WindowError(ValueError):
    """A detection's watch metadata that cannot be used (one line)."""


@dataclass(frozen=True)
class WatchSpec:
    """How a detection is watched: window length in seconds, and the result fields
    whose values (with the window) name one alert. With no key, every field of a row
    names it but those in ``unnamed``: values that grow as more events of the same
    group arrive in the window (ESCU's ``count``, ``firstTime``, ``lastTime``)."""

    window: int
    key: tuple[str, ...]
    unnamed: tuple[str, ...] = ()

    def start(self, epoch: float) -> int:
        """The start of the window holding ``epoch``."""
        return int(epoch // self.window) * self.window


def parse_span(text: str) -> int:
    """``"24h"`` → 86400; a whole number of s/m/h/d, at least one second."""
    match = _SPAN.fullmatch(text.strip())
    if match is None or int(match.group(1)) < 1:
        raise WindowError(f"window {text!r}: expected a span such as 15m, 24h or 1d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def spec_from(name: str, meta: Mapping[str, Any]) -> WatchSpec:
    """The spec declared in a pack's metadata (``window``, ``key``)."""
    if "window" not in meta or "key" not in meta:
        raise WindowError(f"detection {name} declares no watch window and key (pack.toml)")
    key = meta["key"]
    if not isinstance(key, list) or not key or not all(isinstance(k, str) for k in key):
        raise WindowError(f"detection {name}: watch key must be a list of field names")
    return WatchSpec(parse_span(str(meta["window"])), tuple(key))
