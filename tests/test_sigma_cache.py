"""The conversion cache (sigma/cache.py): same matches as without it, and keyed right.

Expected matches are worked out by hand from a hand-made rule and hand-made events; the
real-rule test compares the cache against the uncached path on SigmaHQ's own rules and
regression samples in shared/data/real.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sigma.rule import SigmaRuleBase

from stagehunt.sigma import cache as cache_mod
from stagehunt.sigma.cache import ConversionCache
from stagehunt.sigma.convert import convert_cached
from stagehunt.sigma.rules import load_rules, load_text
from stagehunt.sigma.run import RuleRun, run_rules
from stagehunt.store.event_store import EventStore

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
SIGMA = REAL / "SigmaHQ-sigma"
RULES = SIGMA / "rules" / "windows"
REG = SIGMA / "regression_data" / "rules" / "windows"

RULE = """
title: certutil downloads
id: 6c1e1a4e-0000-4000-8000-000000000001
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\\\\certutil.exe', CommandLine|contains: 'urlcache'}
  condition: sel
level: high
"""


def _event(image: str, command: str) -> dict[str, object]:
    return {
        "SystemTime": "2024-01-01T00:00:00.000Z",
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "EventID": "1",
        "Image": image,
        "CommandLine": command,
        "Computer": "H",
    }


EVENTS = [
    _event(r"C:\Windows\System32\certutil.exe", "certutil -urlcache -f http://x/a a"),  # match
    _event(r"C:\Windows\System32\certutil.exe", "certutil -decode a b"),  # no urlcache
    _event(r"C:\Windows\System32\cmd.exe", "cmd /c urlcache"),  # not certutil
    _event(r"C:\Tools\CERTUTIL.EXE", "CERTUTIL -URLCACHE -split"),  # match: case-insensitive
]


def _store(tmp_path: Path) -> EventStore:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    store = EventStore(in_memory=True)
    store.load([path])
    return store


def _commands(run: RuleRun) -> list[str]:
    return sorted(str(r["CommandLine"]) for r in run.rows)


def _run(text: str, store: EventStore, cache: ConversionCache | None) -> RuleRun:
    [run] = run_rules(convert_cached(load_text(text).collection.rules, cache), store, cache)
    assert run.error is None
    return run


def _entries(root: Path, kind: str) -> list[Path]:
    return sorted((root / kind).rglob("*.json"))


def test_cold_and_warm_give_the_hand_worked_matches(tmp_path: Path) -> None:
    cache = ConversionCache(tmp_path / "cache")
    with _store(tmp_path) as store:
        cold = _run(RULE, store, cache)
        assert (cache.hits, cache.misses) == (0, 2)  # one rule -> SPL, one SPL -> SQL
        warm = _run(RULE, store, cache)
        assert (cache.hits, cache.misses) == (2, 2)
        uncached = _run(RULE, store, None)
    want = ["CERTUTIL -URLCACHE -split", "certutil -urlcache -f http://x/a a"]
    assert _commands(cold) == _commands(warm) == _commands(uncached) == want
    assert cold.events == warm.events == uncached.events == {0, 3}
    assert len(_entries(tmp_path / "cache", "spl")) == len(_entries(tmp_path / "cache", "sql")) == 1


def test_changed_rule_text_misses(tmp_path: Path) -> None:
    cache = ConversionCache(tmp_path / "cache")
    with _store(tmp_path) as store:
        _run(RULE, store, cache)
        changed = RULE.replace("'urlcache'", "'decode'")
        run = _run(changed, store, cache)
    assert (cache.hits, cache.misses) == (0, 4)
    assert _commands(run) == ["certutil -decode a b"]


def test_corrupt_entry_is_rewritten_not_a_crash(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    with _store(tmp_path) as store:
        _run(RULE, store, ConversionCache(root))
        [spl] = _entries(root, "spl")
        [sql] = _entries(root, "sql")
        spl.write_text("{not json", encoding="utf-8")
        sql.write_text(json.dumps({"key": sql.stem, "sql": 3}), encoding="utf-8")  # wrong shape
        cache = ConversionCache(root)
        run = _run(RULE, store, cache)
        assert (cache.hits, cache.misses) == (0, 2)
        assert json.loads(spl.read_text(encoding="utf-8"))["queries"]  # rewritten whole
        assert isinstance(json.loads(sql.read_text(encoding="utf-8"))["sql"], str)
        again = ConversionCache(root)
        _run(RULE, store, again)
        assert (again.hits, again.misses) == (2, 0)
    assert run.events == {0, 3}
    assert not list(root.rglob(".tmp-*"))  # no temporary files left behind


def test_versions_are_in_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "cache"
    with _store(tmp_path) as store:
        _run(RULE, store, ConversionCache(root))
        real = cache_mod.versions()
        assert {"pysigma", "pysigma-backend-splunk", "sqlglot", "stagehunt"} <= set(real)
        newer = {**real, "pysigma": real["pysigma"] + ".post1"}
        monkeypatch.setattr("stagehunt.sigma.convert.versions", lambda: newer)
        monkeypatch.setattr("stagehunt.sigma.run.versions", lambda: newer)
        cache = ConversionCache(root)
        run = _run(RULE, store, cache)
    assert (cache.hits, cache.misses) == (0, 2)
    assert len(_entries(root, "spl")) == 2
    assert run.events == {0, 3}


def test_schema_is_in_the_key(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    with _store(tmp_path) as store:
        _run(RULE, store, ConversionCache(root))
    wider = tmp_path / "wider.jsonl"
    wider.write_text(json.dumps({**EVENTS[0], "Extra": "x"}) + "\n", encoding="utf-8")
    with EventStore(in_memory=True) as store:
        store.load([wider])
        cache = ConversionCache(root)
        run = _run(RULE, store, cache)
    assert (cache.hits, cache.misses) == (1, 1)  # same SPL, new SQL for the new columns
    assert run.events == {0}


def test_real_rules_same_matches_with_and_without_cache(tmp_path: Path) -> None:
    folders = sorted((REG / "process_creation").iterdir())[:40]
    files = [f for d in folders for f in d.glob("*.evtx")]
    cache = ConversionCache(tmp_path / "cache")

    def rules() -> list[SigmaRuleBase]:  # loaded afresh: pySigma changes a rule it converts
        return load_rules([RULES / "process_creation"]).collection.rules[:150]

    with EventStore(in_memory=True) as store:
        store.load(files)
        plain = run_rules(convert_cached(rules(), None), store, one_pass=False)
        cold = run_rules(convert_cached(rules(), cache), store, cache)
        warm = run_rules(convert_cached(rules(), cache), store, cache)

    def pairs(runs: list[RuleRun]) -> set[tuple[str, int]]:
        return {(r.rule.path, e) for r in runs for e in r.events or ()}

    assert cache.hits >= len(cold) and cache.misses >= len(cold)
    assert len(plain) == len(cold) == len(warm) > 100
    assert pairs(plain) == pairs(cold) == pairs(warm)
    assert pairs(plain)  # some of these rules fire on their own samples
    # the same rows, field for field: a cached run drops the columns no row has a value
    # in, as a compiled run does (backends/stream.py)
    assert [r.rows for r in plain] == [r.rows for r in cold] == [r.rows for r in warm]


def test_cli_no_cache_and_cache_dir(tmp_path: Path) -> None:
    folder = REG / "registry" / "registry_set" / "registry_set_disable_administrative_share"
    rule = RULES / "registry" / "registry_set" / "registry_set_disable_administrative_share.yml"
    evtx = str(next(folder.glob("*.evtx")))
    cache = tmp_path / "c"
    outs = []
    for extra in (
        ["--format", "json", "--no-cache"],
        ["--format", "json", "--cache-dir", str(cache)],
        ["--format", "json", "--cache-dir", str(cache)],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "stagehunt.cli", "sigma", "-r", str(rule), evtx, *extra],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(json.loads(proc.stdout))
        if "--no-cache" in extra:
            assert not cache.exists()
    assert outs[0] == outs[1] == outs[2] and len(outs[0]) == 2
    assert len(_entries(cache, "spl")) == len(_entries(cache, "sql")) == 1
