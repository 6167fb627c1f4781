"""Crash safety by killing (issue 13 part 4), a few seeded kills: the full campaign
is `scripts/kill_test.py --kills 500 --seed 1` (figures in docs/reliability.md).

STAGEHUNT_KILLS sets how many kills this test makes (default 8: half to ingest, half
to watch)."""

from __future__ import annotations

import os
from pathlib import Path

from killharness import campaign


def test_killed_ingest_and_watch_lose_nothing_and_repeat_nothing(tmp_path: Path) -> None:
    kills = int(os.environ.get("STAGEHUNT_KILLS", "8"))
    figures = campaign(tmp_path, kills, seed=13)
    assert figures.kills == {"ingest": kills // 2, "watch": kills - kills // 2}  # live ones
    assert figures.lost == {"ingest": 0, "watch": 0}
    assert figures.duplicated == {"ingest": 0, "watch": 0}
    # the watched folder ends with 1,882 records: the four scenarios' Windows events as
    # shipper lines (69 + 49 + 41 + 28), the OTRF file's 506 lines, the six EVTX files'
    # events (SOURCES.md: 565 + 9 + 3 + 15 + 29 + 3) and the growing log's (PanacheSysmon's
    # 565 again, written in four steps)
    assert figures.records["watch"] == (69 + 49 + 41 + 28 + 506 + 565 + 9 + 3 + 15 + 29 + 3 + 565)
    # the reference run's alerts: the seed on WEB07 (benign-log-aggregation), the corrected
    # detection 15 times over the adversary scenarios and the real EVTX hosts, and once
    # more as the growing log doubles PanacheSysmon's events (MSEDGEWIN10's unknown-actor
    # powershell.exe group: 3 events, then 6)
    assert figures.alerts == 17
    assert (figures.alerts_lost, figures.alerts_repeated, figures.alerts_unexpected) == (0, 0, 0)
    assert figures.alerts_undelivered == 0
    assert figures.open_failures == 0
