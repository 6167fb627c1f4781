"""ESCU's ``lookups/*.yml`` as transforms.conf stanzas for the lookup library.

Each YAML is a lookup definition (contentctl writes transforms.conf from them):
``filename`` (a CSV beside it) or ``collection`` + ``fields_list`` (a KV store, which has
no data outside Splunk: an empty table with those fields), ``match_type``
(``WILDCARD(f), CIDR(f)``), ``case_sensitive_match``, ``min_matches``,
``default_match``, ``max_matches``. ``description`` and ``fields`` are documentation.
Other keys are reported, not silently dropped (:attr:`EscuLookups.ignored`). Files are
read from the content's ``lookups/`` folder only (the library refuses paths outside it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stagehunt.escu.content import ContentError, read_yaml
from stagehunt.lookups import LookupLibrary
from stagehunt.scratch import ScratchFolder

#: YAML keys that are transforms.conf settings, copied as they are
SETTINGS = frozenset(
    {
        "filename",
        "collection",
        "fields_list",
        "match_type",
        "case_sensitive_match",
        "min_matches",
        "max_matches",
        "default_match",
        "external_type",
    }
)
#: documentation only
DOCUMENTATION = frozenset({"name", "description", "fields"})

_ES = "Splunk Enterprise Security's"
#: lookups ESCU's searches name but do not ship: where they come from in a Splunk install
ABSENT: dict[str, str] = {
    "asset_lookup_by_str": f"{_ES} asset lookup",
    "identity_lookup_expanded": f"{_ES} identity lookup",
    "interesting_ports_lookup": f"{_ES} interesting ports lookup",
    "cim_corporate_web_domain_lookup": f"{_ES} corporate web domains",
    "cim_corporate_email_domain_lookup": f"{_ES} corporate email domains",
    "ut_shannon_lookup": "the URL Toolbox app's external lookup",
    "dynamic_dns_providers_default": (
        "ESCU's 2.2 MB dynamic_dns_providers_default.csv (not copied into this content folder)"
    ),
}


@dataclass
class EscuLookups:
    library: LookupLibrary
    #: lookup name → its YAML file
    files: dict[str, Path] = field(default_factory=dict)
    #: lookup name → keys of its YAML that stagehunt does not use
    ignored: dict[str, list[str]] = field(default_factory=dict)


def _setting(value: object) -> str:
    if isinstance(value, bool):  # YAML true/false (quoted 'false' stays text)
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def load_lookups(folder: Path) -> EscuLookups:
    lookups = folder / "lookups"
    definitions: dict[str, dict[str, str]] = {}
    files: dict[str, Path] = {}
    ignored: dict[str, list[str]] = {}
    for path in sorted(lookups.glob("*.yml")):
        data = read_yaml(path)
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ContentError(f"{path}: no lookup 'name'")
        if name in definitions:
            raise ContentError(f"{path}: lookup '{name}' is also defined in {files[name]}")
        definitions[name] = {
            k: _setting(v) for k, v in data.items() if k in SETTINGS and v is not None
        }
        files[name] = path
        extra = sorted(k for k in data if k not in SETTINGS and k not in DOCUMENTATION)
        if extra:
            ignored[name] = extra
    # outputlookup never writes into the content: into a folder of the library's own
    # unless the caller names one (`escu run --lookups-out`, `Library.lookups.library.writes`)
    scratch = ScratchFolder("stagehunt-lookups-")
    library = LookupLibrary(lookups, definitions, writes=scratch.path, scratch=scratch)
    return EscuLookups(library, files, ignored)
