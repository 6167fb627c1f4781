"""Rule specifications + pack metadata → Sigma YAML documents (rules and a correlation).

Ids are UUIDv5 of the pack id and rule name, so regenerating gives the same files; the date,
author and correlation timespan come from the pack's ``[sigma]`` table.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import yaml

from stagehunt.packs import Pack
from stagehunt.sigma.detection import build
from stagehunt.sigma.from_spl import Translation

NAMESPACE = uuid.UUID("9f3b8c1e-5a2d-4e7f-8b6a-1c0d2e3f4a5b")


@dataclass(frozen=True)
class SigmaDocument:
    name: str
    body: dict[str, Any]

    def text(self) -> str:
        return yaml.safe_dump(self.body, sort_keys=False, allow_unicode=True, width=10**6)


def rule_id(pack: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{pack}/{name}"))


def _tags(pack: Pack) -> list[str]:
    attack = pack.meta.get("attack", {})
    tags = [f"attack.{attack.get('tactic', '').lower().replace(' ', '-')}"]
    tags.append(f"attack.{attack.get('technique', pack.id).lower()}")
    tags += [f"attack.{s.lower()}" for s in attack.get("subtechniques", [])]
    return [t for t in tags if t != "attack."]


def _words(label: str | None) -> str:
    import re

    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", label or "").lower()


def documents(translation: Translation, pack: Pack) -> list[SigmaDocument]:
    """One document per rule, then the correlation (if any)."""
    sigma = pack.meta.get("sigma", {})
    severity = pack.meta.get("rating", {}).get("severity", "medium")
    title = pack.meta.get("title", pack.id)
    common = {
        "status": sigma.get("status", "experimental"),
        "references": list(pack.meta.get("attack", {}).get("references", [])),
        "author": sigma.get("author", "stagehunt"),
        "date": sigma.get("date", "2025-01-01"),
        "tags": _tags(pack),
    }
    notes = [u.render() for u in translation.unexpressed]
    not_expressed = " Not expressed from the SPL: " + "; ".join(notes) + "." if notes else ""
    origin = f"Translated from {translation.detection} by stagehunt to-sigma."
    docs: list[SigmaDocument] = []
    for rule in translation.rules:
        what = _words(rule.label)
        ls = rule.logsource
        body: dict[str, Any] = {
            "title": f"{title}: {what} ({ls['product']} {ls['category'].replace('_', ' ')})"
            if what
            else f"{title} ({ls['product']} {ls['category'].replace('_', ' ')})",
            "id": rule_id(pack.id, rule.name),
            "name": rule.name,
            "status": common["status"],
            "description": (
                f"{pack.meta.get('description', '').strip()} "
                + (
                    "Alerts on its own."
                    if rule.standalone
                    else "Counted by the correlation rule; does not alert alone."
                )
                + f" {origin}{not_expressed}"
            ),
            "references": common["references"],
            "author": common["author"],
            "date": common["date"],
            "tags": common["tags"],
            "logsource": {"category": ls["category"], "product": ls["product"]},
            "detection": build(rule.cond, translation.hints),
            "falsepositives": list(pack.meta.get("false_positives", [])) or ["Unknown"],
            "level": severity if rule.standalone else "low",
        }
        docs.append(SigmaDocument(rule.name, body))
    corr = translation.correlation
    if corr is not None:
        body = {
            "title": f"{title}: {corr.gte} or more staging events per " + ", ".join(corr.group_by),
            "id": rule_id(pack.id, corr.name),
            "name": corr.name,
            "status": common["status"],
            "description": (
                f"The SPL's stats count by host, actor and process with where count >= "
                f"{corr.gte}. Counts the rules that do not alert alone; a group holding an "
                "event of a standalone rule alerts through that rule, so the verdict is the "
                f"SPL's. Timespan {sigma.get('timespan', '24h')}: the SPL's stats has none, "
                f"this is the detection's schedule window (pack.toml [sigma]). {origin}"
            ),
            "references": common["references"],
            "author": common["author"],
            "date": common["date"],
            "tags": common["tags"],
            "correlation": {
                "type": "event_count",
                "rules": list(corr.rules),
                "group-by": list(corr.group_by),
                "timespan": sigma.get("timespan", "24h"),
                "condition": {"gte": corr.gte},
            },
            "falsepositives": list(pack.meta.get("false_positives", [])) or ["Unknown"],
            "level": severity,
        }
        docs.append(SigmaDocument(corr.name, body))
    return docs


def collection_text(docs: list[SigmaDocument]) -> str:
    """All documents as one multi-document YAML stream."""
    return "---\n".join(d.text() for d in docs)
