"""Where alerts go: stdout, an append-only file (fsync'd), a webhook on this machine.

Every sink receives an alert's line byte for byte as the store recorded it. The file
sink is the one whose contents the watcher can read back, so it is written last and
reconciled on start (docs/reliability.md, "## watch").
"""

from __future__ import annotations

import ipaddress
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

#: An alert line starts with this, then the id in quotes (`alerts.line` writes it first).
ID_PREFIX = '{"alert_id": "'


class SinkError(Exception):
    """A sink refused or could not take an alert (one line); it stays pending."""


class Sink(Protocol):
    def emit(self, alert_id: str, line: str) -> None:
        """Deliver one alert or raise `SinkError`; return only once it is delivered."""
        ...


class StdoutSink:
    """JSON lines on standard output, flushed per alert."""

    def emit(self, alert_id: str, line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class FileSink:
    """An alert file, appended and fsync'd per alert."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def reconcile(self) -> set[str]:
        """Ids of the alerts the file holds. A last line without its newline (a write
        cut short by a crash, never fsync'd as a whole) is cut off: its alert is
        still pending and is written again whole."""
        if not self.path.exists():
            return set()
        ids: set[str] = set()
        complete = 0
        with self.path.open("rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break
                complete += len(raw)
                text = raw.decode("utf-8", errors="replace")
                if text.startswith(ID_PREFIX):
                    ids.add(text[len(ID_PREFIX) :].split('"', 1)[0])
        if complete != self.path.stat().st_size:
            with self.path.open("r+b") as fh:
                fh.truncate(complete)
                os.fsync(fh.fileno())
        return ids

    def emit(self, alert_id: str, line: str) -> None:
        with self.path.open("ab") as fh:
            fh.write(line.encode("utf-8") + b"\n")
            fh.flush()
            os.fsync(fh.fileno())


def loopback_url(url: str) -> bool:
    """Whether ``url`` is http(s) to this machine (localhost or a loopback address)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class WebhookSink:
    """POSTs each alert (JSON) with an ``Idempotency-Key`` header: the alert id, so a
    receiver can drop the repeat a crash between delivery and bookkeeping may cause."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def emit(self, alert_id: str, line: str) -> None:
        request = urllib.request.Request(
            self.url,
            data=line.encode("utf-8"),
            headers={"Content-Type": "application/json", "Idempotency-Key": alert_id},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise SinkError(f"webhook {self.url} answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SinkError(f"webhook {self.url} unreachable: {reason}") from None
        if not 200 <= status < 300:
            raise SinkError(f"webhook {self.url} answered {status}")
