"""`stagehunt watch`: files taken as they grow, windows, alerts emitted once.

The scenario is the pack simulator's benign-log-aggregation (WEB07, a scheduled task
running robocopy into C:\\ProgramData\\LogShipper\\spool 8 times on 2024-05-14) as a
shipper writes it: 69 JSON lines, the robocopy process events (Sysmon EID 1) at lines
26, 35, 40, 45, 49, 55, 60 and 66 (0-based). The verbatim seed groups EID 1 by host,
Actor, Image, CommandLine and fires at 5 events: so the first 49 lines (4 robocopy
runs) are quiet and 50 lines fire, one alert, in the window of 2024-05-14 UTC.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from stagehunt.cli import main
from stagehunt.store.event_store import EventStore
from stagehunt.watch import state
from stagehunt.watch.detections import pack_detection
from stagehunt.watch.loop import PassReport, Watcher
from stagehunt.watch.sinks import FileSink
from watchdata import EVTX, held, scenario_lines

DAY = 1715644800  # 2024-05-14T00:00:00Z
WEB07_KEY = {
    "host": "WEB07.corp.df00tech.com",
    "Actor": "NT AUTHORITY\\SYSTEM",
    "Image": "C:\\Windows\\System32\\Robocopy.exe",
    "CommandLine": "robocopy  C:\\inetpub\\logs\\LogFiles C:\\ProgramData\\LogShipper\\spool "
    "*.log /S /XO /R:1 /W:5 /NP /NJH /NJS",
}


def expected_id(detection: str, start: int, key: dict[str, str]) -> str:
    """The documented formula (docs/reliability.md), written out independently."""
    text = json.dumps([detection, start, [[k, v] for k, v in key.items()]], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return scenario_lines("benign-log-aggregation", tmp_path_factory.mktemp("sim"))


def watch(tmp_path: Path, *extra: str) -> int:
    return main(
        [
            "watch",
            str(tmp_path / "in"),
            "--store",
            str(tmp_path / "s.duckdb"),
            "--detection",
            "T1074.seed",
            "--once",
            *extra,
        ]
    )


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def stored(tmp_path: Path) -> int:
    with EventStore(tmp_path / "s.duckdb") as store:
        return int(store.connection.execute("SELECT count(*) FROM events").fetchall()[0][0])


def seed_watcher(store: EventStore, tmp_path: Path, alerts: Path) -> Watcher:
    return Watcher(store, [tmp_path / "in"], [pack_detection("T1074.seed")], [FileSink(alerts)])


def alert_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_growing_json_lines_fire_once_when_the_threshold_is_crossed(
    tmp_path: Path, lines: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in").mkdir()
    ship = tmp_path / "in" / "web07.jsonl"
    append(ship, "".join(line + "\n" for line in lines[:49]) + lines[49][:40])  # line 49 cut
    assert watch(tmp_path) == 0
    assert capsys.readouterr().out == ""  # 4 robocopy runs: quiet
    assert stored(tmp_path) == 49  # the cut line waits
    append(ship, lines[49][40:] + "\n")
    assert watch(tmp_path) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert stored(tmp_path) == 50
    assert [a["alert_id"] for a in out] == [expected_id("T1074.seed", DAY, WEB07_KEY)]
    assert out[0]["key"] == WEB07_KEY
    assert out[0]["result"]["EventCount"] == 5
    assert (out[0]["window_start"], out[0]["window_end"]) == (
        "2024-05-14T00:00:00Z",
        "2024-05-15T00:00:00Z",
    )
    append(ship, "".join(line + "\n" for line in lines[50:]))
    assert watch(tmp_path) == 0  # 8 runs now: the same group, the same window
    assert capsys.readouterr().out == ""
    assert stored(tmp_path) == 69


def test_each_window_is_its_own_alert(tmp_path: Path, lines: list[str]) -> None:
    (tmp_path / "in").mkdir()
    next_day = [
        line.replace('"@timestamp": "2024-05-14', '"@timestamp": "2024-05-15') for line in lines
    ]
    (tmp_path / "in" / "a.jsonl").write_text("".join(x + "\n" for x in lines + next_day))
    assert watch(tmp_path, "--alerts", str(tmp_path / "alerts.jsonl")) == 0
    got = alert_lines(tmp_path / "alerts.jsonl")
    assert [a["alert_id"] for a in got] == [
        expected_id("T1074.seed", DAY, WEB07_KEY),
        expected_id("T1074.seed", DAY + 86400, WEB07_KEY),
    ]
    # the same runs again, an hour later on day 1: 16 events in the group, no new alert
    later = [
        line.replace('"@timestamp": "2024-05-14T14', '"@timestamp": "2024-05-14T15')
        for line in lines
    ]
    (tmp_path / "in" / "b.jsonl").write_text("".join(x + "\n" for x in later))
    assert watch(tmp_path, "--alerts", str(tmp_path / "alerts.jsonl")) == 0
    assert len(alert_lines(tmp_path / "alerts.jsonl")) == 2
    assert stored(tmp_path) == 3 * 69


def test_a_replaced_file_is_read_from_the_start(tmp_path: Path, lines: list[str]) -> None:
    (tmp_path / "in").mkdir()
    ship = tmp_path / "in" / "web07.jsonl"
    ship.write_text("".join(x + "\n" for x in lines[:10]))
    assert watch(tmp_path) == 0
    ship.write_text("".join(x + "\n" for x in lines[20:25]))  # rotated: a shorter new file
    assert watch(tmp_path) == 0
    assert stored(tmp_path) == 15


def test_a_whole_file_waits_until_it_settles(tmp_path: Path) -> None:
    """The collector's clock is an hour ahead (mtime in the future): the file is taken
    once the watcher has seen it unchanged for ``settle`` seconds of its own clock."""
    (tmp_path / "in").mkdir()
    evtx = tmp_path / "in" / "msxsl.evtx"
    shutil.copyfile(EVTX / "exec_msxsl_xsl_sysmon_1_7.evtx", evtx)  # 3 events (SOURCES.md)
    t0 = 1_800_000_000.0
    os.utime(evtx, (t0 + 3600, t0 + 3600))
    now = [t0]
    with EventStore(tmp_path / "s.duckdb") as store:
        watcher = Watcher(store, [tmp_path / "in"], [], [], settle=60, clock=lambda: now[0])
        watcher.start()
        assert watcher.run_once().records == 0  # first seen
        now[0] = t0 + 59
        assert watcher.run_once().records == 0  # unchanged for 59 s
        with evtx.open("ab") as fh:  # still being written
            fh.write(b"\0" * 4096)
        os.utime(evtx, (t0 + 3600, t0 + 3600))
        now[0] = t0 + 61
        assert watcher.run_once().records == 0  # changed: seen again from t0 + 61
        now[0] = t0 + 120
        assert watcher.run_once().records == 0
        now[0] = t0 + 121
        assert watcher.run_once().records == 3
        now[0] = t0 + 500
        assert watcher.run_once().records == 0  # taken once


def test_an_old_whole_file_is_taken_in_one_pass(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    evtx = tmp_path / "in" / "msxsl.evtx"
    shutil.copyfile(EVTX / "exec_msxsl_xsl_sysmon_1_7.evtx", evtx)
    os.utime(evtx, (1_600_000_000, 1_600_000_000))
    assert watch(tmp_path) == 0
    assert stored(tmp_path) == 3


def test_restart_reconciles_pending_alerts_with_the_alert_file(
    tmp_path: Path, lines: list[str]
) -> None:
    """Killed after writing an alert but before marking it: the file has the line, the
    store has it pending. Killed mid-write: the file ends in half a line."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("".join(x + "\n" for x in lines))
    alerts = tmp_path / "alerts.jsonl"
    with EventStore(tmp_path / "s.duckdb") as store:
        watcher = seed_watcher(store, tmp_path, alerts)
        watcher.start()
        steps = PassReport()
        watcher.ingest(steps)
        watcher.detect(steps)  # recorded, not emitted
        ((ident, line),) = state.pending(store.connection)
    alerts.write_text(line + "\n")  # written and fsync'd, then killed before the mark
    with EventStore(tmp_path / "s.duckdb") as store:
        watcher = seed_watcher(store, tmp_path, alerts)
        watcher.start()
        assert state.pending(store.connection) == []
        assert watcher.run_once().alerts_emitted == 0
    assert alerts.read_text() == line + "\n"
    # half a line: cut off, the alert written whole (here: pending again by hand)
    with EventStore(tmp_path / "s.duckdb") as store:
        store.connection.execute("UPDATE __watch_alerts SET emitted = false")
    alerts.write_text(line[:25])
    with EventStore(tmp_path / "s.duckdb") as store:
        watcher = seed_watcher(store, tmp_path, alerts)
        watcher.start()
        assert watcher.run_once().alerts_emitted == 1
    assert alerts.read_text() == line + "\n"
    assert ident == expected_id("T1074.seed", DAY, WEB07_KEY)


class _Hook(BaseHTTPRequestHandler):
    status = 200
    received: ClassVar[list[tuple[str, dict[str, object]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).status == 200:
            type(self).received.append((self.headers["Idempotency-Key"], json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"status": 200, "received": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", handler
    server.shutdown()
    server.server_close()


def test_webhook_gets_each_alert_once_and_retries_after_a_refusal(
    tmp_path: Path,
    lines: list[str],
    hook: tuple[str, type[_Hook]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, handler = hook
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("".join(x + "\n" for x in lines))
    handler.status = 500
    assert watch(tmp_path, "--webhook", url) == 1
    assert capsys.readouterr().err.splitlines()[-1] == "error: 1 alert(s) not delivered"
    assert handler.received == []
    handler.status = 200
    assert watch(tmp_path, "--webhook", url) == 0
    assert watch(tmp_path, "--webhook", url) == 0
    ident = expected_id("T1074.seed", DAY, WEB07_KEY)
    assert [(k, body["alert_id"]) for k, body in handler.received] == [(ident, ident)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [],
            "error: watch needs at least one --detection NAME, -r SIGMA_PATH "
            "or --escu NAME_OR_GLOB",
        ),
        (["-r", "/nonexistent/rules"], "error: no such rule file or folder: /nonexistent/rules"),
        (
            ["--detection", "T1074.nope"],
            "error: unknown detection 'T1074.nope' (known: T1074.seed, T1074.corrected)",
        ),
        (
            ["--detection", "T1074.seed", "--webhook", "http://10.0.0.5/x"],
            "error: --webhook http://10.0.0.5/x: not http(s) to this machine "
            "(use --allow-remote-webhook to send alerts elsewhere)",
        ),
        (
            ["--detection", "T1074.seed", "--webhook", "file:///etc/passwd"],
            "error: --webhook file:///etc/passwd: not http(s) to this machine "
            "(use --allow-remote-webhook to send alerts elsewhere)",
        ),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in").mkdir()
    code = main(["watch", str(tmp_path / "in"), "--store", str(tmp_path / "s.duckdb"), *args])
    assert code == 2
    assert capsys.readouterr().err == message + "\n"


def test_a_missing_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["watch", str(tmp_path / "nope"), "--store", str(tmp_path / "s.duckdb"), "--once"])
    assert code == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope'}: not a folder\n"


def test_a_store_another_process_holds_is_one_line_and_changes_nothing(
    tmp_path: Path, lines: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("".join(x + "\n" for x in lines[:10]))
    assert watch(tmp_path) == 0
    (tmp_path / "in" / "a.jsonl").write_text("".join(x + "\n" for x in lines))
    store = tmp_path / "s.duckdb"
    with held(store) as pid:
        assert watch(tmp_path) == 1
        assert capsys.readouterr().err == (
            f"error: the store is in use by process {pid} (one writer at a time): {store}\n"
        )
    assert stored(tmp_path) == 10
    assert watch(tmp_path) == 0  # the holder gone, the rest is taken, and fires
    assert stored(tmp_path) == 69
    assert [json.loads(x)["alert_id"] for x in capsys.readouterr().out.splitlines()] == [
        expected_id("T1074.seed", DAY, WEB07_KEY)
    ]


def test_a_sigma_event_rule_alerts_once_per_matching_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """adversary-1 runs one robocopy from the share \\\\FILESRV01\\Finance. The pack's
    remote-staging rule for Windows reads process_creation, which pySigma's Windows
    pipelines take from Sysmon (EID 1), not Security 4688: one event, one alert."""
    (tmp_path / "in").mkdir()
    rows = scenario_lines("adversary-1-robocopy-temp", tmp_path)
    (tmp_path / "in" / "a.jsonl").write_text("".join(x + "\n" for x in rows))
    rule = (
        Path(__file__).parents[1]
        / "src/stagehunt/content/T1074/sigma"
        / "t1074_corrected_remote_staging_process_creation_windows.yml"
    )
    args = ["watch", str(tmp_path / "in"), "--store", str(tmp_path / "s.duckdb"), "--once"]
    assert main([*args, "-r", str(rule)]) == 0
    got = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [a["result"]["EventCode"] for a in got] == ["1"]
    assert [a["detection"] for a in got] == ["sigma:5f8eb4bf-3b55-530e-b48f-77f35169cb3d"]
    assert {a["result"]["CommandLine"] for a in got} == {
        "robocopy  \\\\FILESRV01\\Finance "
        "C:\\Users\\mgarcia\\AppData\\Local\\Temp\\df00tech-stage\\Finance /E /COPYALL /R:0 /W:0"
    }
    assert main([*args, "-r", str(rule)]) == 0
    assert capsys.readouterr().out == ""


def test_the_folder_may_be_named_another_way_next_time(
    tmp_path: Path, lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("".join(x + "\n" for x in lines[:10]))
    monkeypatch.chdir(tmp_path)
    assert main(["watch", "in", "--store", "s.duckdb", "--detection", "T1074.seed", "--once"]) == 0
    assert watch(tmp_path) == 0  # the same folder by its absolute path: nothing new
    assert stored(tmp_path) == 10
