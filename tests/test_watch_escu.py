"""`stagehunt watch --escu`: Splunk's ESCU detections watched window by window (issue 13).

The detection is ESCU's "CHCP Command Execution" (id 21d236ec-eec1-11eb-b23e-acde48001122,
the real security_content under shared): ``| tstats count min(_time) as firstTime
max(_time) as lastTime from datamodel=Endpoint.Processes where process_name=chcp.com
parent_process_name=cmd.exe (parent_process=*/c* OR */k*) by process_name process
parent_process_name parent_process process_id parent_process_id dest user``, then the
times shown as %Y-%m-%dT%H:%M:%S. It starts with a generating command, so the window is
the events it reads, not a clause added to its text.

The events are hand-made Sysmon EID 1 records as a shipper writes them (flattened JSON,
one a line, tests/watchdata.py's shape). Through the Sysmon add-on and the CIM Endpoint
model (tests/test_escu_real.py's conventions): dest = Hostname, user = User without the
domain, process = CommandLine, *_name = the part after the last backslash, ids as
written. Every CHCP record below is the same group (same host, user, process, ids), at
different times; the windows are ESCU's default hour (windows.ESCU_WINDOW).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from stagehunt.cli import main
from stagehunt.escu.content import default_content

pytestmark = pytest.mark.skipif(default_content() is None, reason="no security_content here")

CHCP = "escu:21d236ec-eec1-11eb-b23e-acde48001122"
HOUR_10 = 1741082400  # 2025-03-04T10:00:00Z
GROUP = {
    "process_name": "chcp.com",
    "process": "chcp 65001",
    "parent_process_name": "cmd.exe",
    "parent_process": "cmd.exe /c chcp 65001",
    "process_id": "4242",
    "parent_process_id": "4100",
    "dest": "ws01.corp.local",
    "user": "alice",
}


def sysmon_1(when: str, record: int, image: str, command: str) -> str:
    """A Sysmon process creation on ws01 by CORP\\alice under ``cmd.exe /c chcp 65001``."""
    return json.dumps(
        {
            "EventID": "1",
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Hostname": "ws01.corp.local",
            "RecordNumber": str(record),
            "@timestamp": when,
            "ProcessGuid": "{11111111-1111-1111-1111-111111111111}",
            "ProcessId": "4242",
            "Image": image,
            "CommandLine": command,
            "User": "CORP\\alice",
            "ParentProcessGuid": "{22222222-2222-2222-2222-222222222222}",
            "ParentProcessId": "4100",
            "ParentImage": "C:\\Windows\\System32\\cmd.exe",
            "ParentCommandLine": "cmd.exe /c chcp 65001",
        }
    )


def chcp(when: str, record: int) -> str:
    return sysmon_1(when, record, "C:\\Windows\\System32\\chcp.com", "chcp 65001")


#: not chcp.com: the detection does not read it
NOTEPAD = sysmon_1(
    "2025-03-04T10:20:00.000Z", 2, "C:\\Windows\\System32\\notepad.exe", "notepad.exe"
)


def expected_id(start: int, row: dict[str, object]) -> str:
    """docs/reliability.md's formula for a row with no declared key: the row's fields in
    name order, but ESCU's growing count, firstTime and lastTime."""
    named = [[k, row[k]] for k in sorted(row) if k not in ("count", "firstTime", "lastTime")]
    text = json.dumps([CHCP, start, named], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def watch(tmp_path: Path, *extra: str) -> int:
    return main(
        [
            "watch",
            str(tmp_path / "in"),
            "--store",
            str(tmp_path / "s.duckdb"),
            "--alerts",
            str(tmp_path / "alerts.jsonl"),
            "--once",
            *extra,
        ]
    )


def alerts(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "alerts.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def drop(tmp_path: Path, *lines: str) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sysmon.jsonl"
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))
    return path


def test_an_escu_detection_fires_once_and_not_again(tmp_path: Path) -> None:
    """chcp at 10:15:30 and notepad at 10:20: one alert, the 10:00 hour, count 1. A second
    pass (a restart: each --once opens the store anew) finds nothing new; chcp again at
    10:40 in the same group recomputes the hour (count 2) and does not alert again."""
    drop(tmp_path, chcp("2025-03-04T10:15:30.000Z", 1), NOTEPAD)
    assert watch(tmp_path, "--escu", "CHCP Command Execution") == 0
    row = {**GROUP, "count": 1, "firstTime": "2025-03-04T10:15:30"}
    row["lastTime"] = "2025-03-04T10:15:30"
    assert alerts(tmp_path) == [
        {
            "alert_id": expected_id(HOUR_10, row),
            "detection": CHCP,
            "window_start": "2025-03-04T10:00:00Z",
            "window_end": "2025-03-04T11:00:00Z",
            "key": {},
            "result": row,
        }
    ]
    first = (tmp_path / "alerts.jsonl").read_bytes()
    assert watch(tmp_path, "--escu", "chcp_command_execution") == 0  # its file stem
    drop(tmp_path, chcp("2025-03-04T10:40:00.000Z", 3))
    assert watch(tmp_path, "--escu", "21D236EC-EEC1-11EB-B23E-ACDE48001122") == 0  # its id
    assert (tmp_path / "alerts.jsonl").read_bytes() == first


def test_events_outside_the_window_are_not_read(tmp_path: Path) -> None:
    """The same group at 09:59:59, 10:15:30 and 11:00:00: three hours, three alerts of
    count 1 each (11:00:00 is the next hour: a window is [start, end)). Read beyond its
    hour, the 10:00 run would count 3 with firstTime 09:59:59. With --escu-window 1d the
    three are one day's group: one alert, count 3."""
    times = ("2025-03-04T09:59:59", "2025-03-04T10:15:30", "2025-03-04T11:00:00")
    drop(tmp_path, *(chcp(t + ".000Z", n) for n, t in enumerate(times, 1)))
    assert watch(tmp_path, "--escu", "chcp*") == 0
    got = sorted(alerts(tmp_path), key=lambda a: str(a["window_start"]))
    assert [(a["window_start"], a["result"]) for a in got] == [
        (t[:14] + "00:00Z", {**GROUP, "count": 1, "firstTime": t, "lastTime": t}) for t in times
    ]
    day = tmp_path / "day"
    drop(day, *(chcp(t + ".000Z", n) for n, t in enumerate(times, 1)))
    assert watch(day, "--escu", "chcp*", "--escu-window", "1d") == 0
    [alert] = alerts(day)
    assert alert["window_start"] == "2025-03-04T00:00:00Z"
    assert alert["result"] == {**GROUP, "count": 3, "firstTime": times[0], "lastTime": times[2]}


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Windows Credential Dumping Nothing*", "--escu 'Windows Credential Dumping Nothing*'"),
        ("CHCP Command Executions", "--escu: no detection named 'CHCP Command Executions'"),
    ],
)
def test_an_unknown_name_or_glob_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, said: str
) -> None:
    drop(tmp_path, chcp("2025-03-04T10:15:30.000Z", 1))
    assert watch(tmp_path, "--escu", name) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("error: " + said)
    assert not (tmp_path / "s.duckdb").exists()  # refused before anything is stored


def test_a_detection_that_does_not_compile_is_not_watched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "Randomly Generated Scheduled Task Name" looks up ut_shannon_lookup (the URL
    Toolbox app's, not in the content): one line, and the others are watched. Alone, it
    leaves nothing to watch: exit 2."""
    drop(tmp_path, chcp("2025-03-04T10:15:30.000Z", 1))
    random_task = "Randomly Generated Scheduled Task Name"
    assert watch(tmp_path, "--escu", random_task, "--escu", "CHCP Command Execution") == 0
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"warning: not watched: {random_task}: ")
    assert "ut_shannon_lookup" in line
    assert [a["detection"] for a in alerts(tmp_path)] == [CHCP]
    (tmp_path / "alone" / "in").mkdir(parents=True)
    assert watch(tmp_path / "alone", "--escu", random_task) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "error: no ESCU detection named by --escu can be watched (see above)"


def test_later_windows_read_the_statements_the_first_compiled(tmp_path: Path) -> None:
    """Every window's view has one name, so a window's table and detection statements
    are kept (the watcher's own cache) and the next window reads them instead of
    compiling: the 10:00 and 11:00 hours each give their own count-1 group, the second
    from a cache hit."""
    from stagehunt.store.event_store import EventStore
    from stagehunt.watch.escu_detections import escu_detections

    times = ("2025-03-04T10:15:30", "2025-03-04T11:00:00")
    events = drop(tmp_path, *(chcp(t + ".000Z", n) for n, t in enumerate(times, 1)))
    (detection,), notes = escu_detections(["chcp*"], None, "1h", tmp_path / "writes")
    assert notes == []
    cache = detection.tables.cache
    with EventStore(tmp_path / "s.duckdb") as store:
        store.load([events])
        rows = []
        for hour, when in zip((HOUR_10, HOUR_10 + 3600), times, strict=True):
            result = detection.run(store, hour, hour + 3600)
            rows.append([dict(zip(result.columns, row, strict=True)) for row in result.rows])
            assert rows[-1] == [{**GROUP, "count": 1, "firstTime": when, "lastTime": when}]
    assert (cache.hits, cache.misses) == (1, 1)
    kept = {p.parent.parent.name for p in cache.root.rglob("*.json")}
    assert kept == {"escu", "escu-tables"}
