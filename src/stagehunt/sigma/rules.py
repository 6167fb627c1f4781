"""Load Sigma rules from files and folders; a file that does not load is a problem, not a crash.

pySigma raises on a YAML syntax error even when asked to collect errors, so each file is
loaded on its own and the rules are merged afterwards; correlation references are then
resolved one correlation at a time, so one dangling reference only drops that correlation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule, SigmaRuleBase

RULE_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class RuleProblem:
    """A rule file (or one rule in it) that cannot be used, and why."""

    path: str
    title: str
    reason: str


@dataclass
class RuleSet:
    collection: SigmaCollection
    problems: list[RuleProblem] = field(default_factory=list)


class RulePathError(ValueError):
    """A path the user named that is neither a rule file nor a folder."""


def rule_files(paths: Sequence[Path]) -> list[Path]:
    """Every .yml/.yaml file under ``paths`` (files as given, folders recursively, sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())
        elif path.is_file():
            out.append(path)
        else:
            raise RulePathError(f"no such rule file or folder: {path}")
    return out


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def rule_label(rule: SigmaRuleBase) -> str:
    return str(rule.source.path) if rule.source is not None else (rule.title or "?")


def load_rules(paths: Sequence[Path]) -> RuleSet:
    """Load every rule under ``paths``; unreadable files and invalid rules become problems."""
    collections: list[SigmaCollection] = []
    problems: list[RuleProblem] = []
    for path in rule_files(paths):
        try:
            loaded = SigmaCollection.load_ruleset(
                [path], collect_errors=True, resolve_references=False
            )
        except (SigmaError, yaml.YAMLError, UnicodeDecodeError, OSError) as e:
            problems.append(RuleProblem(str(path), "", _one_line(e)))
            continue
        collections.append(loaded)
    merged = SigmaCollection.merge(collections, resolve_references=False)
    return _resolve(merged, problems)


def load_text(text: str, label: str = "<text>") -> RuleSet:
    """Rules from YAML text (several documents allowed); used by tests and the API."""
    try:
        collection = SigmaCollection.from_yaml(text, collect_errors=True)
    except (SigmaError, yaml.YAMLError) as e:
        return RuleSet(SigmaCollection([]), [RuleProblem(label, "", _one_line(e))])
    return _resolve(SigmaCollection(collection.rules, resolve_references=False), [])


def _resolve(merged: SigmaCollection, problems: list[RuleProblem]) -> RuleSet:
    keep: list[SigmaRuleBase] = []
    for rule in merged.rules:
        if rule.errors:
            problems.append(
                RuleProblem(rule_label(rule), rule.title or "", _one_line(rule.errors[0]))
            )
            continue
        keep.append(rule)
    usable: list[SigmaRuleBase] = []
    lookup = SigmaCollection(keep, resolve_references=False)
    for rule in keep:
        if isinstance(rule, SigmaCorrelationRule):
            try:
                rule.resolve_rule_references(lookup)
            except SigmaError as e:
                problems.append(RuleProblem(rule_label(rule), rule.title or "", _one_line(e)))
                continue
        usable.append(rule)
    collection = SigmaCollection(usable, resolve_references=False)
    collection.resolve_rule_references()
    return RuleSet(collection, problems)


def detection_rules(rules: Iterable[SigmaRuleBase]) -> list[SigmaRule]:
    return [r for r in rules if isinstance(r, SigmaRule)]
