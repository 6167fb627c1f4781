"""Splunk's ESCU detection library (security_content) on stagehunt: load the content,
compile and run every detection, with one status per detection (see docs/escu.md).

Modules: ``content`` (the folder and its detection YAML), ``macros`` (macro layers and
stagehunt's overrides), ``lookups`` (lookup definitions), ``library`` (all of it loaded),
``status`` (statuses and reason groups), ``compiler`` and ``runner`` (per detection),
``render`` and ``commands`` (the ``stagehunt escu`` CLI).
"""

from stagehunt.escu.content import ContentError, Detection, find_content
from stagehunt.escu.library import Library, load_library
from stagehunt.escu.status import Outcome, Status

__all__ = [
    "ContentError",
    "Detection",
    "Library",
    "Outcome",
    "Status",
    "find_content",
    "load_library",
]
