"""A real `stagehunt ui` server for the UI tests: the bundled sample in a temporary
store, uvicorn on an ephemeral loopback port in a thread, stopped at the end."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagehunt.api import sample_paths
from stagehunt.store.event_store import EventStore
from stagehunt.ui.jobs import Jobs, StoreEvents
from stagehunt.ui.security import new_token
from stagehunt.ui.server import bind, make_server


@dataclass
class Served:
    base: str  # http://127.0.0.1:PORT
    token: str
    port: int
    jobs: Jobs

    def request(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | bool | None = True,
        host: str | None = None,
    ) -> tuple[int, bytes]:
        """(status, body) of one request; ``token=True`` sends the server's token as the
        header, a string sends that string, None sends none."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data)
        if token is True:
            req.add_header("X-Stagehunt-Token", self.token)
        elif isinstance(token, str):
            req.add_header("X-Stagehunt-Token", token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if host is not None:
            req.add_header("Host", host)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def json(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        status, data = self.request(path, body)
        return status, json.loads(data)

    def wait(self, job_id: str, timeout: float = 60) -> dict[str, Any]:
        """The job's status once it has ended."""
        end = time.monotonic() + timeout
        while True:
            status, data = self.json(f"/api/jobs/{job_id}")
            assert status == 200
            if data["state"] not in ("queued", "running"):
                return dict(data)
            assert time.monotonic() < end, f"job still {data['state']} after {timeout} s"
            time.sleep(0.05)

    def run(self, spl: str, **times: str) -> dict[str, Any]:
        status, data = self.json("/api/search", {"spl": spl, **times})
        assert status == 200, data
        return self.wait(data["id"])


@contextmanager
def served(
    lookups: Path | None = None,
    *,
    paths: list[Path] | None = None,
    escu: Path | None = None,
) -> Iterator[Served]:
    """The sample (or ``paths``) served; ``escu``: a content folder for the detections."""
    with EventStore() as store:
        store.load(paths if paths is not None else sample_paths())
        jobs = Jobs(StoreEvents(store), lookups=lookups)
        sock = bind("127.0.0.1", 0)
        port = int(sock.getsockname()[1])
        token = new_token()
        server = make_server(jobs, token, sock, "127.0.0.1", "the bundled sample", escu)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the UI server did not start"
            time.sleep(0.02)
        try:
            yield Served(f"http://127.0.0.1:{port}", token, port, jobs)
        finally:
            server.should_exit = True
            thread.join(10)
            jobs.close()
            sock.close()
