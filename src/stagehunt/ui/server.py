"""The UI's HTTP routes (Starlette) and how the server starts (uvicorn on a socket the
command bound, so the printed URL has the real port).

Routes take SPL text, time picker values, integers and job ids; none takes a path. The
SPL goes to the compiler (`jobs.Jobs`), the integers are bound as SQL parameters, a job id
is a key in a dict, and the page's files are a fixed list read from the package.
"""

from __future__ import annotations

import csv
import html
import io
import json
import socket
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from stagehunt.api import compile_on
from stagehunt.report import timeline_svg
from stagehunt.result import ResultTable
from stagehunt.spl.errors import SplError
from stagehunt.ui import detections as detections_mod
from stagehunt.ui.jobs import Job, Jobs, Problem, Search, SearchRejected, display_time, problem_of
from stagehunt.ui.security import Guard, allowed_hosts

#: the page's files: name → content type (nothing else is served from the package)
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
#: rows of a result the T1074 timeline reads (a detection's hits, not raw events)
TIMELINE_ROWS = 5_000

_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


def _asset(name: str) -> str:
    return resources.files("stagehunt.ui").joinpath("static", name).read_text("utf-8")


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=_HEADERS)


def _error(problem: Problem, status: int = 400) -> JSONResponse:
    return _json({"error": problem.as_json()}, status)


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A query parameter as an integer within bounds (a bad value is the default)."""
    try:
        value = int(request.query_params.get(name, default))
    except ValueError:
        value = default
    return max(low, min(value, high))


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _text(data: dict[str, Any], name: str, limit: int = 100_000) -> str | None:
    value = data.get(name)
    return value[:limit] if isinstance(value, str) else None


class UI:
    """The routes over one `Jobs` (one store or lake)."""

    def __init__(self, jobs: Jobs, token: str, source: str, escu: Path | None = None) -> None:
        self.jobs = jobs
        self.token = token
        self.source = source
        self.escu_folder = escu
        self.escu: detections_mod.EscuCatalogue | None = None
        self.catalogue = detections_mod.catalogue()
        self._more_loaded = False
        self._more_lock = threading.Lock()

    # -------------------------------------------------------------- the page

    async def index(self, request: Request) -> Response:
        page = _asset("index.html").replace("{{TOKEN}}", html.escape(self.token, quote=True))
        page = page.replace("{{SOURCE}}", html.escape(self.source))
        return HTMLResponse(page, headers=_HEADERS)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return Response("not found\n", 404, headers=_HEADERS, media_type="text/plain")
        return Response(_asset(name), headers=_HEADERS, media_type=ASSETS[name])

    # -------------------------------------------------------------- searches

    def _search(self, data: dict[str, Any]) -> Search:
        return Search(
            _text(data, "spl") or "",
            _text(data, "earliest", 100),
            _text(data, "latest", 100),
            self.jobs.lookups,
        )

    async def search(self, request: Request) -> Response:
        search = self._search(await _body(request))
        if not search.spl.strip():
            return _error(Problem("type a search"))
        try:
            job = await run_in_threadpool(self.jobs.submit, search)
        except SearchRejected as rejected:
            return _error(rejected.problem)
        return _json(job.status())

    async def explain(self, request: Request) -> Response:
        """The SQL the compiler makes of the search for these events (nothing runs)."""
        search = self._search(await _body(request))
        return await run_in_threadpool(self._explain, search)

    def _explain(self, search: Search) -> Response:
        try:
            prefix = self.jobs.check(search)
        except SearchRejected as rejected:
            return _error(rejected.problem)
        backend, connection = self.jobs.events.open(None)
        context = self.jobs.context(search)
        try:
            compiled = compile_on(
                backend,
                prefix + search.spl,
                macros=context.macros,
                now=self.jobs.clock(),
                lookups=context.lookups(),
                knowledge=context.knowledge,
            )
            return _json({"sql": compiled.render("duckdb", pretty=True)})
        except Exception as exc:  # the engine's error, as for a search
            return _error(problem_of(exc, prefix, search.spl))
        finally:
            connection.close()

    def _job(self, request: Request) -> Job | None:
        return self.jobs.get(str(request.path_params["job"]))

    async def status(self, request: Request) -> Response:
        job = self._job(request)
        return _json(job.status()) if job else _missing()

    async def cancel(self, request: Request) -> Response:
        job = self._job(request)
        if job is None:
            return _missing()
        job.cancel()
        return _json(job.status())

    def rows(self, request: Request) -> Response:
        job = self._job(request)
        if job is None:
            return _missing()
        offset = _int(request, "offset", 0, 0, 2**62)
        count = _int(request, "count", 50, 0, 500)
        return _json(
            {
                "offset": offset,
                "columns": job.columns,
                "rows": job.page(offset, count),
                "total": job.rows,
                "state": job.state,
            }
        )

    def fields(self, request: Request) -> Response:
        job = self._job(request)
        return _json({"fields": job.fields(), "rows": job.rows}) if job else _missing()

    def histogram(self, request: Request) -> Response:
        job = self._job(request)
        if job is None:
            return _missing()
        return _json(job.histogram(_int(request, "buckets", 60, 1, 500)))

    def export(self, request: Request) -> Response:
        """Every row of the job, streamed from its spool: CSV (multivalue joined by
        newlines, as Splunk's CSV export does) or JSON (an array of objects)."""
        job = self._job(request)
        if job is None:
            return _missing()
        kind = "json" if request.path_params["fmt"] == "json" else "csv"
        chunks = _export_json(job) if kind == "json" else _export_csv(job)
        headers = dict(_HEADERS)
        headers["content-disposition"] = f'attachment; filename="stagehunt-{job.id}.{kind}"'
        media = "application/json" if kind == "json" else "text/csv; charset=utf-8"
        return StreamingResponse(chunks, media_type=media, headers=headers)

    def timeline(self, request: Request) -> Response:
        """The T1074 report's per-host timeline of a job's rows (report.timeline_svg)."""
        job = self._job(request)
        if job is None:
            return _missing()
        rows: list[tuple[Any, ...]] = []
        for batch in job.batches():  # the first TIMELINE_ROWS rows only, read page-wise
            rows += (tuple(r) for r in batch[: TIMELINE_ROWS - len(rows)])
            if len(rows) >= TIMELINE_ROWS:
                break
        svg = timeline_svg(ResultTable(job.columns, rows))
        return Response(svg, headers=_HEADERS, media_type="image/svg+xml")

    # -------------------------------------------------------------- detections

    def _with_more(self) -> dict[str, detections_mod.Runnable]:
        """The catalogue with the pack's Sigma rules and the ESCU detections, read on first
        use (pySigma and a security_content library take seconds to load: the first view
        of the list pays it, not the start-up)."""
        with self._more_lock:
            if not self._more_loaded:
                self.catalogue.update(detections_mod.sigma_catalogue())
                if self.escu_folder is not None:
                    self.escu = detections_mod.EscuCatalogue(self.escu_folder)
                    self.catalogue.update(self.escu.runnables())
                self._more_loaded = True
        return self.catalogue

    def detections(self, request: Request) -> Response:
        return _json({"detections": [r.as_json() for r in self._with_more().values()]})

    async def run_detection(self, request: Request) -> Response:
        data = await _body(request)
        catalogue = await run_in_threadpool(self._with_more)
        runnable = catalogue.get(_text(data, "name", 200) or "")
        if runnable is None or not runnable.spl:
            return _error(Problem("unknown detection"), 404)
        spl, context = runnable.spl, None
        if runnable.kind == "escu" and self.escu is not None:
            try:
                spl, context = self.escu.search(runnable.name)
            except SplError as exc:  # a macro the content does not define, ...
                return _error(problem_of(exc, "", exc.query))
        search = Search(
            spl,
            _text(data, "earliest", 100),
            _text(data, "latest", 100),
            runnable.lookups,
            runnable.name,
            context,
        )
        try:
            job = await run_in_threadpool(self.jobs.submit, search)
        except SearchRejected as rejected:
            return _error(rejected.problem)
        return _json(job.status())

    def drilldown(self, request: Request) -> Response:
        """The search for the events behind row ``row`` of a detection's job."""
        job = self._job(request)
        if job is None:
            return _missing()
        row = _int(request, "row", 0, 0, 2**62)
        page = job.page(row, 1)
        if not page:
            return _error(Problem("no such row"), 404)
        hit = dict(zip(job.columns, page[0], strict=True))
        fields = list(self.jobs.events.fields())
        spl = detections_mod.drilldown(job.search.spl, hit, fields)
        if spl is None:
            return _error(Problem("this query has no base search to narrow"))
        return _json({"spl": spl})

    def app(self) -> Starlette:
        routes = [
            Route("/", self.index),
            Route("/static/{name}", self.asset),
            Route("/api/search", self.search, methods=["POST"]),
            Route("/api/explain", self.explain, methods=["POST"]),
            Route("/api/jobs/{job}", self.status),
            Route("/api/jobs/{job}/cancel", self.cancel, methods=["POST"]),
            Route("/api/jobs/{job}/rows", self.rows),
            Route("/api/jobs/{job}/fields", self.fields),
            Route("/api/jobs/{job}/histogram", self.histogram),
            Route("/api/jobs/{job}/export.{fmt:str}", self.export),
            Route("/api/jobs/{job}/timeline", self.timeline),
            Route("/api/jobs/{job}/drilldown", self.drilldown),
            Route("/api/detections", self.detections),
            Route("/api/detections/run", self.run_detection, methods=["POST"]),
        ]
        return Starlette(routes=routes)


def _missing() -> Response:
    return _json({"error": Problem("no such search (it may have been dropped)").as_json()}, 404)


def _plain(value: Any, column: str) -> str:
    if column == "_time":
        return display_time(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _export_csv(job: Job) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(job.columns)
    for batch in job.batches():
        for row in batch:
            writer.writerow([_plain(v, c) for c, v in zip(job.columns, row, strict=True)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _export_json(job: Job) -> Iterator[str]:
    yield "["
    first = True
    for batch in job.batches():
        for row in batch:
            record = {c: v for c, v in zip(job.columns, row, strict=True)}
            yield ("\n" if first else ",\n") + json.dumps(record, ensure_ascii=False)
            first = False
    yield "\n]\n"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def make_server(
    jobs: Jobs,
    token: str,
    sock: socket.socket,
    bound: str,
    source: str,
    escu: Path | None = None,
) -> uvicorn.Server:
    """uvicorn serving the guarded app on ``sock`` (``bound``: the host it was bound to;
    ``escu``: a security_content folder for the detections view)."""
    port = int(sock.getsockname()[1])
    app = Guard(UI(jobs, token, source, escu).app(), token, allowed_hosts(bound, port))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    return uvicorn.Server(config)
