"""`stagehunt ui`'s server, over HTTP on a real loopback port: search jobs paged from the
server, the engine's errors with their position, fields and histogram from the result,
exports, explain, detections, cancel and two searches at once; and who it refuses
(no token, a wrong Host, paths outside the package's assets and the lookups folder)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stagehunt.api import sample_paths, seed_spl
from stagehunt.ui import detections
from uiserver import Served, served

EXPECTED = json.loads(
    (Path(__file__).parent / "fixtures" / "sample_expected.json").read_text(encoding="utf-8")
)
LONG = "| makeresults count=10000000 | eval x=md5(tostring(random())) | stats dc(x)"


def _sample_events() -> list[dict[str, Any]]:
    """The bundled sample as its JSON lines say (read here, not through the engine)."""
    lines = []
    for path in sample_paths():
        lines += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
    return lines


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def lookups(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lookups folder with one table, and a secret file beside the folder."""
    root = tmp_path_factory.mktemp("ui-lookups")
    folder = root / "lookups"
    folder.mkdir()
    (folder / "hosts.csv").write_text("host,owner\nWKS-FIN-042.corp.example.com,finance\n")
    (root / "secret.csv").write_text("secret\nhunter2\n")
    return folder


@pytest.fixture(scope="module")
def ui(lookups: Path) -> Iterator[Served]:
    with served(lookups=lookups) as s:
        yield s


# ---------------------------------------------------------------- searching and paging


def test_seed_query_gives_the_four_hand_worked_rows(ui: Served) -> None:
    job = ui.run(seed_spl())
    assert job["state"] == "done" and job["rows"] == 4
    assert job["columns"] == EXPECTED["columns"]
    assert job["events"] is False  # a stats result: the statistics tab first
    status, page = ui.json(f"/api/jobs/{job['id']}/rows?offset=0&count=50")
    assert status == 200
    assert page["rows"] == EXPECTED["rows"]


def test_ten_thousand_results_are_paged_from_the_server(ui: Served) -> None:
    job = ui.run("| makeresults count=10000 | streamstats count as n | table n")
    assert job["rows"] == 10_000
    _, last = ui.json(f"/api/jobs/{job['id']}/rows?offset=9950&count=50")
    assert [r[0] for r in last["rows"]] == list(range(9951, 10_001))
    _, big = ui.json(f"/api/jobs/{job['id']}/rows?offset=0&count=100000")
    assert len(big["rows"]) == 500  # a page is capped: never the whole result
    _, past = ui.json(f"/api/jobs/{job['id']}/rows?offset=10000&count=50")
    assert past["rows"] == []
    # a bad number is the default, never text in SQL
    status, odd = ui.json(f"/api/jobs/{job['id']}/rows?offset=1;DROP%20TABLE%20rows&count=2")
    assert status == 200 and [r[0] for r in odd["rows"]] == [1, 2]
    _, again = ui.json(f"/api/jobs/{job['id']}/rows?offset=9999&count=5")
    assert [r[0] for r in again["rows"]] == [10_000]


def test_fields_sidebar_counts_the_sample_by_hand(ui: Served) -> None:
    events = _sample_events()
    job = ui.run("index=wineventlog")
    assert job["rows"] == len(events) == 329 and job["events"] is True
    _, data = ui.json(f"/api/jobs/{job['id']}/fields")
    fields = {f["name"]: f for f in data["fields"]}
    hosts = Counter(e["host"] for e in events)
    assert fields["host"]["coverage"] == 100.0
    assert fields["host"]["distinct"] == len(hosts)
    assert [(t["value"], t["count"]) for t in fields["host"]["top"]] == sorted(
        hosts.items(), key=lambda kv: (-kv[1], kv[0])
    )
    with_file = sum(1 for e in events if e.get("TargetFilename"))
    assert fields["TargetFilename"]["count"] == with_file
    assert fields["TargetFilename"]["coverage"] == round(100 * with_file / len(events), 2)


def test_multivalue_fields_stay_lists_and_count_each_value(ui: Served) -> None:
    job = ui.run('| makeresults count=3 | eval mv=split("a,b", ",") | table mv')
    _, page = ui.json(f"/api/jobs/{job['id']}/rows?offset=0&count=10")
    assert page["rows"] == [[["a", "b"]]] * 3
    _, data = ui.json(f"/api/jobs/{job['id']}/fields")
    assert data["fields"][0]["top"] == [{"value": "a", "count": 3}, {"value": "b", "count": 3}]


def test_histogram_holds_every_event_from_the_first(ui: Served) -> None:
    times = [_epoch(e["_time"]) for e in _sample_events()]
    job = ui.run("index=wineventlog")
    _, hist = ui.json(f"/api/jobs/{job['id']}/histogram?buckets=20")
    assert len(hist["counts"]) == 20 and sum(hist["counts"]) == len(times)
    assert hist["start"] == min(times) and hist["end"] >= max(times)
    first_bucket = sum(1 for t in times if t < min(times) + hist["width"])
    assert hist["counts"][0] == first_bucket


def test_time_picker_becomes_earliest_and_latest(ui: Served) -> None:
    times = [_epoch(e["_time"]) for e in _sample_events()]
    start = datetime(2024, 5, 14, 20, tzinfo=UTC).timestamp()
    job = ui.run("index=wineventlog", earliest="05/14/2024:20:00:00", latest="now")
    assert job["rows"] == sum(1 for t in times if t >= start) > 0
    cut = int(start)
    job = ui.run("index=wineventlog", earliest="0", latest=str(cut))
    assert job["rows"] == sum(1 for t in times if t < cut)
    status, bad = ui.json("/api/search", {"spl": "index=*", "earliest": "-1d | delete"})
    assert status == 400 and bad["error"]["kind"] == "time range"


# ---------------------------------------------------------------- errors


def test_broken_query_is_the_engines_error_at_its_position(ui: Served) -> None:
    status, data = ui.json("/api/search", {"spl": "foo | stats cnt(x"})
    assert status == 400
    error = data["error"]
    assert (error["kind"], error["line"], error["column"]) == ("syntax error", 1, 18)
    assert error["message"] == "expected ')' to close cnt(, found end of query"
    assert error["text"] == "foo | stats cnt(x"
    # with a time range the query runs after a line of time modifiers: same position
    status, data = ui.json(
        "/api/search", {"spl": "index=*\n| stats count by", "earliest": "-24h", "latest": "now"}
    )
    assert status == 400
    assert (data["error"]["line"], data["error"]["column"]) == (2, 17)
    assert data["error"]["text"] == "| stats count by"


def test_a_query_failing_while_it_runs_is_a_failed_job(ui: Served) -> None:
    job = ui.run('| makeresults | eval p="(" | eval x=if(match("a", p), 1, 0)')
    assert job["state"] == "failed"
    assert job["error"]["message"].startswith("the query failed while running")


# ---------------------------------------------------------------- jobs at once


def test_long_search_shows_progress_does_not_block_another_and_cancels(ui: Served) -> None:
    status, long = ui.json("/api/search", {"spl": LONG})
    assert status == 200
    seen: list[float] = []
    deadline = time.monotonic() + 20
    while not seen and time.monotonic() < deadline:
        _, now = ui.json(f"/api/jobs/{long['id']}")
        if now["progress"] is not None:
            seen.append(now["progress"])
        time.sleep(0.1)
    assert seen and 0 <= seen[0] <= 100
    quick = ui.run(seed_spl())  # while the long one runs
    assert quick["rows"] == 4
    _, meanwhile = ui.json(f"/api/jobs/{long['id']}")
    assert meanwhile["state"] == "running"
    started = time.monotonic()
    status, _ = ui.json(f"/api/jobs/{long['id']}/cancel", {})
    assert status == 200
    assert ui.wait(long["id"], timeout=10)["state"] == "cancelled"
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------- export, explain, detections


def test_exports_hold_every_row(ui: Served) -> None:
    job = ui.run(seed_spl())
    status, body = ui.request(f"/api/jobs/{job['id']}/export.csv")
    assert status == 200
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert rows[0] == EXPECTED["columns"] and len(rows) == 5
    assert [r[1] for r in rows[1:]] == [r[1] for r in EXPECTED["rows"]]
    status, body = ui.request(f"/api/jobs/{job['id']}/export.json")
    assert status == 200
    records = json.loads(body)
    assert [list(r.values()) for r in records] == EXPECTED["rows"]


def test_explain_shows_the_compilers_sql_without_running(ui: Served) -> None:
    status, data = ui.json("/api/explain", {"spl": "EventCode=11 | stats dc(TargetFilename)"})
    assert status == 200
    assert data["sql"].lstrip().startswith("WITH") and "COUNT(DISTINCT" in data["sql"].upper()
    status, data = ui.json("/api/explain", {"spl": "foo | stats cnt(x"})
    assert status == 400 and data["error"]["column"] == 18


def test_detections_run_and_each_hit_leads_to_its_events(ui: Served) -> None:
    _, listing = ui.json("/api/detections")
    names = [d["name"] for d in listing["detections"]]
    assert names[:2] == ["T1074.seed", "T1074.corrected"]
    assert any(n.startswith("T1074.hunting.") for n in names)
    _, started = ui.json("/api/detections/run", {"name": "T1074.seed"})
    job = ui.wait(started["id"])
    assert job["rows"] == 4 and job["detection"] == "T1074.seed"
    _, drill = ui.json(f"/api/jobs/{job['id']}/drilldown?row=0")
    hit = dict(zip(EXPECTED["columns"], EXPECTED["rows"][0], strict=True))
    events = ui.run(drill["spl"])
    _, page = ui.json(f"/api/jobs/{events['id']}/rows?offset=0&count=500")
    cols = page["columns"]
    got = [dict(zip(cols, r, strict=True)) for r in page["rows"]]
    # the hit's group: its events are those of its host, image and command line
    assert len(got) == hit["EventCount"] == 12
    assert {(e["host"], e["Image"], e["CommandLine"]) for e in got} == {
        (hit["host"], hit["Image"], hit["CommandLine"])
    }
    status, svg = ui.request(f"/api/jobs/{job['id']}/timeline")
    assert status == 200 and svg.startswith(b'<svg id="timeline"')
    assert svg.count(b"<rect") == 4  # one bar per hit
    status, _ = ui.request("/api/detections/run", {"name": "../../etc/passwd"})
    assert status == 404


def test_base_search_and_quoting_keep_the_spl_readable() -> None:
    assert detections.base_search('a="x|y" [search b | head 1] | stats count') == (
        'a="x|y" [search b | head 1]'
    )
    assert detections.base_search("| makeresults") == ""
    assert detections.quote('C:\\a "b"') == '"C:\\\\a \\"b\\""'


# ---------------------------------------------------------------- security


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/", None),
        ("/static/app.js", None),
        ("/api/detections", None),
        ("/api/search", {"spl": "index=*"}),
    ],
)
def test_requests_without_the_token_are_refused(
    ui: Served, path: str, body: dict[str, Any] | None
) -> None:
    status, text = ui.request(path, body, token=None)
    assert status == 403 and b"token" in text
    status, _ = ui.request(path, body, token=ui.token[:-1] + "x")
    assert status == 403
    status, _ = ui.request(f"{path}?token={ui.token}", body, token=None)
    assert status == 200


def test_job_pages_and_exports_need_the_token_too(ui: Served) -> None:
    job = ui.run(seed_spl())
    for path in ("", "/rows", "/fields", "/export.csv", "/export.json", "/timeline"):
        status, _ = ui.request(f"/api/jobs/{job['id']}{path}", token=None)
        assert status == 403, path
    status, _ = ui.request("/api/jobs/0000000000000000")
    assert status == 404


def test_a_foreign_host_header_is_refused_even_with_the_token(ui: Served) -> None:
    # DNS rebinding: evil.example resolving to 127.0.0.1 reaches the port, not the app
    status, _ = ui.request("/api/detections", host=f"evil.example:{ui.port}")
    assert status == 421
    status, _ = ui.request("/api/detections", host=f"localhost:{ui.port}")
    assert status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server.py",
        "/static/..%2fserver.py",
        "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/static/index.html%00.js",
        "/static//etc/passwd",
        "/static/jobs.py",
    ],
)
def test_only_the_pages_own_files_are_served(ui: Served, path: str) -> None:
    status, body = ui.request(path)
    assert status == 404
    assert b"import" not in body and b"root:" not in body


def test_lookups_stay_in_their_folder(ui: Served, lookups: Path) -> None:
    job = ui.run("| inputlookup hosts.csv")
    _, page = ui.json(f"/api/jobs/{job['id']}/rows?offset=0&count=10")
    assert page["rows"] == [["WKS-FIN-042.corp.example.com", "finance"]]
    for name in ("../secret.csv", str(lookups.parent / "secret.csv"), "/etc/passwd"):
        status, data = ui.json("/api/search", {"spl": f'| inputlookup "{name}"'})
        if status == 200:
            data = ui.wait(data["id"])
            assert data["state"] == "failed", name
        assert "hunter2" not in json.dumps(data) and "root:" not in json.dumps(data)


def test_the_command_listens_on_loopback_only(tmp_path: Path) -> None:
    """`stagehunt ui --port 0`: the URL it prints has a token; the socket is bound to
    127.0.0.1 (the kernel's table says so), and the page answers only with the token."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "stagehunt.cli", "ui", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([\w-]{40,})", url)
        assert match, url
        port = int(match[1])
        local = [
            line.split()[1]
            for name in ("/proc/net/tcp", "/proc/net/tcp6")
            if Path(name).exists()
            for line in Path(name).read_text().splitlines()[1:]
            if line.split()[3] == "0A"  # LISTEN
        ]
        mine = [a for a in local if int(a.rsplit(":", 1)[1], 16) == port]
        assert mine == ["0100007F:" + f"{port:04X}"]  # 127.0.0.1, little-endian
        import urllib.request

        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200 and b'id="query"' in resp.read()
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_packs_sigma_rules_run_as_stagehunt_sigma_runs_them(ui: Served) -> None:
    from stagehunt.sigma.convert import convert_rules
    from stagehunt.sigma.rules import load_rules
    from stagehunt.sigma.run import run_one
    from stagehunt.store.event_store import EventStore

    _, listing = ui.json("/api/detections")
    sigma = {d["name"]: d for d in listing["detections"] if d["kind"] == "sigma"}
    assert len(sigma) == 19  # the pack's sigma/*.yml rules, each listed
    folder = Path(__file__).parents[1] / "src/stagehunt/content/T1074/sigma"
    converted = {c.rule.title: c for c in convert_rules(load_rules([folder]).collection.rules)}
    with EventStore() as store:
        store.load(sample_paths())
        counts = {t: run_one(c, store).matches for t, c in converted.items() if c.ok}
    fired = [t for t, n in counts.items() if n]
    assert fired  # the sample has staging: some rule matches
    for title in fired:
        assert sigma[f"sigma: {title}"]["runnable"]
        _, started = ui.json("/api/detections/run", {"name": f"sigma: {title}"})
        assert ui.wait(started["id"])["rows"] == counts[title], title
    feeds = [n for n, d in sigma.items() if not d["runnable"]]
    status, _ = ui.json("/api/detections/run", {"name": feeds[0]})
    assert status == 404


def test_a_lake_is_searched_like_a_store(tmp_path: Path) -> None:
    """`stagehunt ui --lake DIR`: the same jobs over a Parquet lake of the sample (each
    search on a view of its own, the time range skipping days)."""
    from stagehunt import cli
    from stagehunt.backends.lake import Lake
    from stagehunt.ui.jobs import Jobs, LakeEvents, Search

    lake_dir = tmp_path / "lake"
    assert cli.main(["ingest", *map(str, sample_paths()), "--lake", str(lake_dir)]) == 0
    jobs = Jobs(LakeEvents(Lake(lake_dir)))
    try:
        seed = jobs.submit(Search(seed_spl()))
        later = jobs.submit(Search("index=wineventlog", earliest="05/15/2024:00:00:00"))
        every = jobs.submit(Search("index=wineventlog"))
        deadline = time.monotonic() + 60
        while any(j.finished is None for j in (seed, later, every)):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert seed.state == "done" and seed.page(0, 10) == EXPECTED["rows"]
        assert (later.state, later.rows) == ("done", 0)  # the sample is all on May 14
        assert every.rows == len(_sample_events())
    finally:
        jobs.close()


def test_host_names_the_server_answers_to() -> None:
    from stagehunt.ui.security import allowed_hosts, is_loopback

    assert allowed_hosts("127.0.0.1", 8765) == {
        "127.0.0.1:8765",
        "localhost:8765",
        "[::1]:8765",
    }
    # --host 10.0.0.5: browsers on the network send that address as Host
    assert "10.0.0.5:80" in allowed_hosts("10.0.0.5", 80)
    # a wildcard bind knows no name of its own: loopback names only
    assert allowed_hosts("0.0.0.0", 80) == allowed_hosts("127.0.0.1", 80)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5")


def test_escu_detections_run_from_their_content_folder() -> None:
    """`stagehunt ui --escu DIR`: the detections view lists the content's detections and
    runs one with its macros, lookups and the add-ons, as `stagehunt escu run` does (the
    expected rows are tests/test_escu.py's, worked out by hand from the fixture)."""
    fixture = Path(__file__).parent / "fixtures" / "escu"
    with served(paths=[fixture / "events.jsonl"], escu=fixture) as s:
        _, listing = s.json("/api/detections")
        escu = {d["name"]: d for d in listing["detections"] if d["kind"] == "escu"}
        assert "escu: Fixture Robocopy To External Address" in escu
        _, started = s.json(
            "/api/detections/run", {"name": "escu: Fixture Robocopy To External Address"}
        )
        job = s.wait(started["id"])
        _, page = s.json(f"/api/jobs/{job['id']}/rows?offset=0&count=10")
        assert (page["columns"], page["rows"]) == (["host", "count"], [["wks2", 1]])
        _, started = s.json("/api/detections/run", {"name": "escu: Fixture Unclassified Tool"})
        job = s.wait(started["id"])
        _, page = s.json(f"/api/jobs/{job['id']}/rows?offset=0&count=10")
        assert page["rows"] == [["wks3", "notepad.exe"]]
        # a command the engine does not know: the engine's error, at the command, in the
        # detection's SPL with its macros expanded (what the page shows)
        status, data = s.json("/api/detections/run", {"name": "escu: Fixture Unknown Command"})
        error = data["error"]
        assert status == 400 and error["kind"] == "syntax error"
        assert error["text"][error["column"] - 1 :].startswith("frobnicate count")
