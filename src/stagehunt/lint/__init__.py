"""Static checks of an SPL query against the fields its data sources really carry.

``lint(spl)`` parses the query and runs every rule of `stagehunt.lint.rules` over it,
returning findings sorted by position. Why a linter: the seed T1074 detection parses and
runs without error yet finds nothing on real data (EID 11 events dropped by
``stats ... by CommandLine``); only reasoning over the field inventory shows that.

A query that does not parse raises the parser's `~stagehunt.spl.errors.SplError` (with its
own position): the linter only explains queries the engine understands.
"""

from __future__ import annotations

from stagehunt.lint.findings import Finding
from stagehunt.lint.inventory import Inventory, default_inventory, from_store
from stagehunt.lint.rules import RULES
from stagehunt.spl.parser import parse

__all__ = ["Finding", "Inventory", "default_inventory", "from_store", "lint"]


def lint(spl: str, inventory: Inventory | None = None) -> list[Finding]:
    """Findings for ``spl`` (sorted by position, then rule), against ``inventory``.

    ``inventory`` defaults to the static one (Sysmon/Security/auditd schemas); pass
    `from_store` to check against the data actually loaded (then a sourcetype the data
    lacks is reported too).
    """
    pipeline = parse(spl)
    inv = inventory if inventory is not None else default_inventory()
    findings: list[Finding] = []
    for _, rule in RULES:
        findings.extend(rule(pipeline, inv))
    return sorted(findings, key=lambda f: (f.pos, f.rule))
