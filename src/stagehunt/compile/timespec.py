"""Splunk time modifiers: ``-24h@h``, ``@d``, ``now``, epoch numbers, ``%m/%d/%Y:%H:%M:%S``.

Used by ``earliest=``/``latest=`` in search and by ``relative_time()`` with a literal
time. Computed in Python at compile time against the search start time (rule 1.3); times
are UTC (semantics.DISPLAY_TIMEZONE).
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

_UNITS = {
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
    "w": "w", "week": "w", "weeks": "w",
    "mon": "mon", "month": "mon", "months": "mon",
    "q": "q", "qtr": "q", "qtrs": "q", "quarter": "q", "quarters": "q",
    "y": "y", "yr": "y", "yrs": "y", "year": "y", "years": "y",
}  # fmt: skip
_STEP = re.compile(r"([+-])(\d*)([A-Za-z]+)")
_SNAP = re.compile(r"@([A-Za-z]+)(\d*)([+-]\d*[A-Za-z]+)*$")


def parse_time_modifier(text: str, now: float) -> float:
    """Epoch seconds for an ``earliest``/``latest`` value, relative to ``now``."""
    spec = text.strip()
    if spec.lower() == "now":
        return now
    if re.fullmatch(r"-?\d+(\.\d+)?", spec):
        return float(spec)
    try:
        absolute = datetime.strptime(spec, "%m/%d/%Y:%H:%M:%S").replace(tzinfo=UTC)
        return absolute.timestamp()
    except ValueError:
        pass
    return relative_time(now, spec)


def relative_time(epoch: float, spec: str) -> float:
    """Apply a relative time specifier such as ``-1d@d`` or ``+2h`` or ``@w1`` to ``epoch``."""
    original = spec
    t = datetime.fromtimestamp(epoch, UTC)
    spec = spec.strip()
    offset, _, snap = spec.partition("@")
    pos = 0
    while pos < len(offset):
        m = _STEP.match(offset, pos)
        if not m:
            raise ValueError(f"invalid time modifier '{original}'")
        sign = -1 if m.group(1) == "-" else 1
        amount = int(m.group(2) or 1) * sign
        unit = _UNITS.get(m.group(3).lower())
        if unit is None:
            raise ValueError(f"unknown time unit '{m.group(3)}' in '{original}'")
        t = _shift(t, unit, amount)
        pos = m.end()
    if "@" in spec:
        m = re.fullmatch(r"([A-Za-z]+)(\d*)((?:[+-]\d*[A-Za-z]+)*)", snap)
        if not m:
            raise ValueError(f"invalid snap '@{snap}' in '{original}'")
        unit_text = m.group(1).lower()
        if unit_text == "w" or (unit_text.startswith("w") and unit_text[1:].isdigit()):
            unit = "w"
        else:
            unit = _UNITS.get(unit_text, "")
        if not unit:
            raise ValueError(f"unknown snap unit '{m.group(1)}' in '{original}'")
        t = _snap(t, unit, int(m.group(2) or 0))
        if m.group(3):
            return relative_time(t.timestamp(), m.group(3))
    return t.timestamp()


def _shift(t: datetime, unit: str, amount: int) -> datetime:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    if unit in seconds:
        return t + timedelta(seconds=seconds[unit] * amount)
    months = amount * {"mon": 1, "q": 3, "y": 12}[unit]
    month_index = t.year * 12 + (t.month - 1) + months
    year, month = divmod(month_index, 12)
    day = min(t.day, calendar.monthrange(year, month + 1)[1])
    return t.replace(year=year, month=month + 1, day=day)


def _snap(t: datetime, unit: str, weekday: int) -> datetime:
    if unit == "s":
        return t.replace(microsecond=0)
    if unit == "m":
        return t.replace(second=0, microsecond=0)
    if unit == "h":
        return t.replace(minute=0, second=0, microsecond=0)
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "d":
        return day
    if unit == "w":  # @w0 / @w = Sunday, @w1 = Monday ...
        back = (day.isoweekday() % 7 - weekday) % 7
        return day - timedelta(days=back)
    if unit == "mon":
        return day.replace(day=1)
    if unit == "q":
        return day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
    return day.replace(day=1, month=1)
