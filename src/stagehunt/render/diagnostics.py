"""The stream stagehunt's messages go to (progress, warnings, summaries): stderr that
outlives its reader.

``stagehunt ingest DIR 2>&1 | head`` closes the pipe after a few lines while the load
goes on. A message written then raised `BrokenPipeError`, which ended the load before it
committed: the records it had read were lost though the lines said they were read.
Messages are not the work; once their reader is gone they are dropped, and the command
finishes what it was doing.
"""

from __future__ import annotations

import io
import os
from typing import TextIO


class Diagnostics(io.TextIOBase):
    """``stream`` (stderr), whose writes are dropped from the first broken pipe on; the
    file descriptor then points at /dev/null, so later direct writes and the
    interpreter's final flush are quiet too."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._lose()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._lose()

    def isatty(self) -> bool:
        return not self.gone and self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # TextIOBase declares it
        return self._stream.encoding

    def _lose(self) -> None:
        self.gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # no descriptor (a test's stream): nothing to quiet
            pass
