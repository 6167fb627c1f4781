"""SigmaHQ's regression suite: each ``info.yml`` names a rule by id, an EVTX and the number
of matches the rule must give on it; we run the rule through the same path as
``stagehunt sigma`` (pySigma Splunk backend -> SPL -> our engine) and compare.

A test without ``match_count`` is a positive test (SigmaHQ names them "Positive Detection
Test"): it passes when the rule matches at least once. SigmaHQ's own runner
(``tests/regression_tests_runner.py``) passes a test when the rule's id appears in the
checker's output at all, never comparing ``match_count``; so a rule that fires with another
count than ``match_count`` is its own verdict, ``count differs``: a pass by SigmaHQ's
criterion, reported apart so each can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from stagehunt.ingest.options import IngestOptions
from stagehunt.sigma.convert import Converted, convert_rules
from stagehunt.sigma.rules import load_rules
from stagehunt.sigma.run import run_one
from stagehunt.store.event_store import EventStore

PASS, COUNT_DIFFERS, FAIL, NOT_CONVERTIBLE, NO_RULE, NO_DATA = (
    "pass",
    "count differs",
    "fail",
    "not convertible",
    "rule not found",
    "no data",
)


@dataclass(frozen=True)
class SuiteCase:
    folder: Path
    rule_id: str
    title: str
    evtx: Path | None
    expected: int | None  # None: at least one match


@dataclass(frozen=True)
class SuiteResult:
    case: SuiteCase
    verdict: str
    got: int | None
    why: str = ""


def suite_root(suite: Path) -> Path | None:
    """The checkout holding ``suite``: the nearest folder with a ``regression_data`` child."""
    return next(
        (
            p
            for p in [suite.resolve(), *suite.resolve().parents]
            if (p / "regression_data").is_dir()
        ),
        None,
    )


def find_rule_dirs(suite: Path) -> list[Path]:
    """The ``rules*`` folders beside ``regression_data`` in the checkout that holds ``suite``."""
    root = suite_root(suite)
    if root is None:
        return []
    return sorted(p for p in root.glob("rules*") if p.is_dir())


def _evtx_path(info: Path, raw: str, root: Path | None) -> Path | None:
    candidates = [info.parent / Path(raw).name]
    if root is not None:
        candidates.insert(0, root / raw)
    return next((p for p in candidates if p.is_file()), None)


def read_cases(suite: Path) -> list[SuiteCase]:
    """Every EVTX test of every ``info.yml`` under ``suite`` (commented-out tests are none)."""
    root = suite_root(suite)
    cases: list[SuiteCase] = []
    for info in sorted(suite.rglob("info.yml")):
        data = yaml.safe_load(info.read_text(encoding="utf-8")) or {}
        rules = data.get("rule_metadata") or []
        for test in data.get("regression_tests_info") or []:
            if str(test.get("type", "")).lower() != "evtx":
                continue
            evtx = _evtx_path(info, str(test.get("path", "")), root)
            count = test.get("match_count")
            for rule in rules:
                cases.append(
                    SuiteCase(
                        info.parent,
                        str(rule.get("id", "")),
                        str(rule.get("title", "")),
                        evtx,
                        int(count) if count is not None else None,
                    )
                )
    return cases


def run_suite(suite: Path, rule_dirs: Sequence[Path]) -> list[SuiteResult]:
    cases = read_cases(suite)
    ruleset = load_rules(list(rule_dirs))
    by_id = {str(r.id): r for r in ruleset.collection.rules if r.id is not None}
    wanted = [by_id[c.rule_id] for c in cases if c.rule_id in by_id]
    converted: dict[str, Converted] = {c.rule.id: c for c in convert_rules(_unique(wanted))}
    results: list[SuiteResult] = []
    for case in cases:
        conv = converted.get(case.rule_id)
        if conv is None:
            results.append(
                SuiteResult(case, NO_RULE, None, "no rule with this id in the rule folders")
            )
            continue
        if not conv.ok:
            results.append(SuiteResult(case, NOT_CONVERTIBLE, None, conv.reason or ""))
            continue
        if case.evtx is None:
            results.append(SuiteResult(case, NO_DATA, None, "the test's EVTX file is missing"))
            continue
        with EventStore(in_memory=True) as store:
            store.load([case.evtx], IngestOptions())
            run = run_one(conv, store)
        if run.error is not None:
            results.append(SuiteResult(case, FAIL, None, run.error))
            continue
        got = run.matches
        if got >= 1 and case.expected is not None and got != case.expected:
            results.append(SuiteResult(case, COUNT_DIFFERS, got))
            continue
        ok = got >= 1 if case.expected is None else got == case.expected
        results.append(SuiteResult(case, PASS if ok else FAIL, got))
    return results


def _unique(rules: list) -> list:  # type: ignore[type-arg]
    seen: set[int] = set()
    out = []
    for r in rules:
        if id(r) not in seen:
            seen.add(id(r))
            out.append(r)
    return out
