"""Temporary folders that go with the object holding them.

A library's ``outputlookup`` files (lookups/library.py) and a watcher's kept statements
(watch/escu_detections.py) need a folder for as long as their holder lives, and none
after: removed once nothing holds the `ScratchFolder`, or when the interpreter exits.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path


class ScratchFolder:
    """A new temporary folder (``path``), removed with this object."""

    def __init__(self, prefix: str = "stagehunt-") -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        weakref.finalize(self, shutil.rmtree, self.path, True)
