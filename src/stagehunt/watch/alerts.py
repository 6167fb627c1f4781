"""An alert: one result row of a detection in one window, named by a stable id."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime

from stagehunt.result import Value
from stagehunt.watch.windows import WatchSpec, WindowError


def alert_id(detection: str, window_start: int, key: Mapping[str, Value]) -> str:
    """SHA-256 (first 32 hex digits) of the detection, the window and the key values:
    the same group in the same window is the same alert, however often it is recomputed."""
    text = json.dumps([detection, window_start, list(key.items())], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _finite(value: Value) -> Value:
    """JSON holds no inf/nan: they are written as null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make(
    detection: str, spec: WatchSpec, window_start: int, row: Mapping[str, Value]
) -> tuple[str, str]:
    """(id, JSON line) of the alert for ``row``; the id comes first in the line, so the
    file sink can read ids back without parsing."""
    missing = [k for k in spec.key if k not in row]
    if missing:
        raise WindowError(
            f"detection {detection}: watch key field(s) {', '.join(missing)} not in its results"
        )
    key = {k: _finite(row[k]) for k in spec.key}
    # no key (a Sigma event rule, an ESCU detection): the alert is the row, named by
    # its fields but the growing ones (an ESCU group's count and first/last time)
    named = key or {k: _finite(row[k]) for k in sorted(row) if k not in spec.unnamed}
    ident = alert_id(detection, window_start, named)
    body = {
        "alert_id": ident,
        "detection": detection,
        "window_start": _iso(window_start),
        "window_end": _iso(window_start + spec.window),
        "key": key,
        "result": {name: _finite(value) for name, value in row.items()},
    }
    return ident, json.dumps(body, ensure_ascii=False)
