"""A pack's Sigma rules: translate its ``[sigma]`` detection, validate with pySigma."""

from __future__ import annotations

from typing import Any

from sigma.collection import SigmaCollection
from sigma.plugins import InstalledSigmaPlugins

from stagehunt.lookups import LookupLibrary
from stagehunt.packs import Pack
from stagehunt.sigma.emit import SigmaDocument, documents
from stagehunt.sigma.from_spl import Translation, translate


def pack_translation(pack: Pack) -> tuple[Translation, list[SigmaDocument]]:
    name = pack.meta.get("sigma", {}).get("detection", next(iter(pack.detections)))
    detection = pack.detection(name)
    translation = translate(detection.spl, name, lookups=LookupLibrary(detection.lookups))
    return translation, documents(translation, pack)


def check(yaml_text: str) -> tuple[list[str], list[str]]:
    """(problems, skipped): load errors and findings of pySigma's installed validators
    (what sigma-cli check runs), one line each; validators that need data from the network
    (MITRE ATT&CK tag lists) are listed as skipped when it is unreachable."""
    collection = SigmaCollection.from_yaml(yaml_text, collect_errors=True)
    problems = [f"{type(e).__name__}: {e}" for r in collection.rules for e in r.errors]
    skipped: list[str] = []
    validators: dict[str, Any] = InstalledSigmaPlugins.autodiscover(
        include_backends=False, include_pipelines=False
    ).validators
    for name, validator in validators.items():
        try:
            for rule in collection.rules:
                for issue in validator().validate(rule):
                    problems.append(f"{rule.name}: {name}: {issue}")
        except RuntimeError as e:  # e.g. the ATT&CK data download
            skipped.append(f"{name}: {str(e).splitlines()[0][:120]}")
    return problems, skipped
