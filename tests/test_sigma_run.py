"""`stagehunt sigma`: SigmaHQ rules through pySigma's Splunk backend on our engine.

Expected counts are worked out by hand from the rule files and the events (listed in each
test); the real files are SigmaHQ's own regression samples in shared/data/real.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from stagehunt.sigma.convert import StagehuntSplunkBackend, convert_rules
from stagehunt.sigma.rules import load_rules, load_text
from stagehunt.sigma.run import run_one, run_rules
from stagehunt.store.event_store import EventStore

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
SIGMA = REAL / "SigmaHQ-sigma"
REG = SIGMA / "regression_data" / "rules" / "windows"
RULES = SIGMA / "rules" / "windows"


def _run_rule(rule: Path, evtx: Path) -> tuple[int, list[dict[str, object]]]:
    converted = convert_rules(load_rules([rule]).collection.rules)
    assert len(converted) == 1 and converted[0].ok, converted
    with EventStore(in_memory=True) as store:
        store.load([evtx])
        run = run_one(converted[0], store)
    assert run.error is None
    return run.matches, run.rows


def test_registry_rule_on_real_evtx_counts_each_matching_event() -> None:
    # Rule: TargetObject contains \Services\LanmanServer\Parameters\ AND ends with
    # \AutoShareWks or \AutoShareServer AND Details = 'DWORD (0x00000000)'.
    # The EVTX holds two Sysmon 13 events by reg.exe: ...\Parameters\AutoShareWks and
    # ...\Parameters\AutoShareServer, both DWORD (0x00000000) -> 2 matches.
    # (SigmaHQ's info.yml says 1; both events satisfy every condition of the rule.)
    folder = REG / "registry" / "registry_set" / "registry_set_disable_administrative_share"
    n, rows = _run_rule(
        RULES / "registry" / "registry_set" / "registry_set_disable_administrative_share.yml",
        next(folder.glob("*.evtx")),
    )
    assert n == 2
    assert sorted(str(r["TargetObject"]).rsplit("\\", 1)[1] for r in rows) == [
        "AutoShareServer",
        "AutoShareWks",
    ]


def test_file_event_rule_on_real_evtx() -> None:
    # Rule: TargetFilename contains ':\Users\Public\' and ends with .bat/.dll/.exe/...
    # The EVTX (shared SOURCES.md) holds one Sysmon 11 event: cmd.exe writes
    # C:\Users\Public\persistence.bat -> 1 match (info.yml: match_count 1).
    folder = REG / "file" / "file_event" / "file_event_win_susp_public_folder_extension"
    n, rows = _run_rule(
        RULES / "file" / "file_event" / "file_event_win_susp_public_folder_extension.yml",
        next(folder.glob("*.evtx")),
    )
    assert n == 1
    assert rows[0]["TargetFilename"] == "C:\\Users\\Public\\persistence.bat"


def test_not_convertible_rule_is_listed_with_reason() -> None:
    rule = RULES / "process_creation" / "proc_creation_win_susp_cross_user_process_spawn.yml"
    [converted] = convert_rules(load_rules([rule]).collection.rules)
    assert not converted.ok
    assert converted.reason is not None and "FieldRef" in converted.reason


CORRELATION = """
title: cmd
id: 0d0a7a52-0000-4000-8000-000000000001
name: cmd_start
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\\\\cmd.exe'}
  condition: sel
---
title: Three cmd.exe in five minutes on one host
id: 0d0a7a52-0000-4000-8000-000000000002
level: high
correlation:
  type: event_count
  rules: [cmd_start]
  group-by: [Computer]
  timespan: 5m
  condition: {gte: 3}
---
title: ordered
id: 0d0a7a52-0000-4000-8000-000000000003
correlation:
  type: temporal_ordered
  rules: [cmd_start, cmd_start]
  timespan: 5m
"""


def _sysmon_1(t: int, host: str, image: str) -> dict[str, object]:
    """A flattened Windows event as shippers write it (our ingest adds EventCode)."""
    return {
        "SystemTime": f"1970-01-01T00:{t // 60:02d}:{t % 60:02d}.000Z",
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "EventID": "1",
        "Image": image,
        "Computer": host,
    }


def test_event_count_correlation_groups_by_host_in_fixed_windows(tmp_path: Path) -> None:
    events = [
        # A: 10, 100, 200 are in window [0, 300) -> 3 -> fires; 400 alone in [300, 600)
        _sysmon_1(10, "A", r"C:\Windows\System32\cmd.exe"),
        _sysmon_1(100, "A", r"C:\Windows\System32\cmd.exe"),
        _sysmon_1(200, "A", r"C:\Windows\System32\cmd.exe"),
        _sysmon_1(400, "A", r"C:\Windows\System32\cmd.exe"),
        # B: only two cmd.exe in [0, 300); the powershell.exe does not count
        _sysmon_1(20, "B", r"C:\Windows\System32\cmd.exe"),
        _sysmon_1(30, "B", r"C:\Windows\System32\cmd.exe"),
        _sysmon_1(40, "B", r"C:\Windows\System32\powershell.exe"),
        # C: three within 60 s, but across the 300 boundary: 2 + 1 -> quiet (fixed windows)
        _sysmon_1(250, "C", r"C:\Windows\System32\cmd.exe"),
        _sysmon_1(290, "C", r"C:\Windows\System32\cmd.exe"),
        _sysmon_1(310, "C", r"C:\Windows\System32\cmd.exe"),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    ruleset = load_text(CORRELATION)
    assert ruleset.problems == []
    converted = {c.rule.title: c for c in convert_rules(ruleset.collection.rules)}
    # the base rule only feeds correlations; the ordered one is refused by the backend
    assert converted["cmd"].feeds and converted["cmd"].reason is None
    ordered = converted["ordered"]
    assert not ordered.ok and ordered.reason and "temporal_ordered" in ordered.reason
    with EventStore(in_memory=True) as store:
        store.load([path])
        [run] = run_rules([converted["Three cmd.exe in five minutes on one host"]], store)
    assert run.error is None
    assert run.rule.level == "high"
    assert [(r["_time"], r["Computer"], r["event_count"]) for r in run.rows] == [(0, "A", 3)]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stagehunt.cli", *args], capture_output=True, text=True, check=False
    )


def test_cli_bad_rule_is_one_line_and_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("title: broken\ndetection: [\n", encoding="utf-8")
    evtx = next((REG / "file" / "file_event").glob("*/*.evtx"))
    proc = _cli("sigma", "-r", str(bad), str(evtx))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith(f"not loaded: {bad}: ") and "Error" in lines[0]
    assert lines[-1] == "error: no Sigma rule could be run (see the lines above)"


def test_cli_missing_rule_path(tmp_path: Path) -> None:
    proc = _cli("sigma", "-r", str(tmp_path / "nope.yml"), str(tmp_path))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"error: no such rule file or folder: {tmp_path / 'nope.yml'}"


def test_cli_sigma_rows_lead_with_rule_and_count(tmp_path: Path) -> None:
    folder = REG / "registry" / "registry_set" / "registry_set_disable_administrative_share"
    rule = RULES / "registry" / "registry_set" / "registry_set_disable_administrative_share.yml"
    evtx = str(next(folder.glob("*.evtx")))
    proc = _cli("sigma", "-r", str(rule), evtx, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert len(rows) == 2
    assert list(rows[0])[:3] == ["sigma_id", "sigma_title", "sigma_level"]
    assert rows[0]["sigma_id"] == "c7dcacd0-cc59-4004-b0a4-1d6cdebe6f3e"
    assert rows[0]["sigma_level"] == "medium"
    proc = _cli("sigma", "-r", str(rule), evtx, "--count", "--format", "json")
    assert json.loads(proc.stdout)[0]["matches"] == 2


def test_sysmon_pipeline_survives_plugin_discovery() -> None:
    """pySigma 1.5's @Pipeline is a singleton: once its own test pipeline is imported (plugin
    discovery does that), ``sysmon_pipeline()`` returns the test pipeline. Ours must still map
    process_creation to Sysmon EventID 1 whatever was imported before."""
    from sigma.collection import SigmaCollection
    from sigma.plugins import InstalledSigmaPlugins

    from stagehunt.sigma.pipelines import splunk_pipeline

    InstalledSigmaPlugins.autodiscover()  # imports sigma.pipelines.test
    rule = """
title: t
logsource: {category: process_creation, product: windows}
detection:
  sel: {Image|endswith: '\\\\x.exe'}
  condition: sel
"""
    (query,) = StagehuntSplunkBackend(splunk_pipeline()).convert(SigmaCollection.from_yaml(rule))
    assert "EventCode=1" in query


def test_a_correlation_listed_before_its_rules_still_converts(tmp_path: Path) -> None:
    """A folder lists ``…_event_count.yml`` before the rules it counts (the T1074 pack
    does): pySigma converts a correlation from what its rules' conversions left, so the
    rules are converted first and the results come back in the order given. The same
    three-event window as above fires for host A only."""
    forward = load_text(CORRELATION)
    assert forward.problems == []
    rules = list(reversed(forward.collection.rules))  # ordered, the correlation, then cmd
    converted = convert_rules(rules)
    assert [c.rule.title for c in converted] == [r.title for r in rules]
    correlation = converted[1]
    assert correlation.rule.title == "Three cmd.exe in five minutes on one host"
    assert correlation.ok, correlation.reason
    assert converted[2].feeds and converted[2].reason is None
    assert len(converted[0].reason or "") < 300  # one line, not pySigma's rule repr
