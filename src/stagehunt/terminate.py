"""SIGTERM and Ctrl-C as requests to stop, with the clean-up a stop needs.

``kill PID``, ``docker stop`` and systemd's stop send SIGTERM, and Python's default is to
die on the spot: no ``finally`` runs, so a stopped ``stagehunt watch`` left its temporary
folders behind. With `stop_on_signals` installed, SIGTERM raises `Terminated` in the main
thread instead. It is a `KeyboardInterrupt`, so every place that stops cleanly on Ctrl-C
stops the same way on it: a load rolls back what it had not committed, temporary folders
are removed, the store is closed. A watcher between rounds exits 0 (a service asked to
stop); elsewhere the command exits `EXIT_TERMINATED`, as a shell reports a process
SIGTERM ended, or `EXIT_INTERRUPTED` after Ctrl-C.

DuckDB turns a signal that arrives while it executes into its own error,
``RuntimeError("Query interrupted")``, and the exception the handler raised is lost.
So the handlers also record the stop, and `check` raises it again: code that reports a
failed query and goes on (a library run, a watcher's detection) calls it first, and so
does the command line before it reports an error.

A second signal of the same kind during that clean-up is not caught: SIGTERM ends the
process at once, Ctrl-C raises a plain `KeyboardInterrupt`.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["EXIT_INTERRUPTED", "EXIT_TERMINATED", "Terminated", "check", "stop_on_signals"]

#: 128 + the signal: what a shell shows for a process the signal ended
EXIT_TERMINATED = 128 + signal.SIGTERM
EXIT_INTERRUPTED = 128 + signal.SIGINT


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop as for Ctrl-C."""


#: the stop a signal asked for, once one arrived
_requested: type[KeyboardInterrupt] | None = None


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global _requested
    _requested = Terminated
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Terminated


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _requested
    _requested = _requested or KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)
    raise KeyboardInterrupt


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block SIGTERM raises `Terminated` and Ctrl-C `KeyboardInterrupt`, both
    recorded for `check`; the previous handlers come back after it. A SIGINT the parent
    ignores (a job started with ``&``) stays ignored; outside the main thread (only it
    may set handlers) nothing changes."""
    global _requested
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGTERM, _on_sigterm)
    if before[1] is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        for signum, handler in zip((signal.SIGTERM, signal.SIGINT), before, strict=True):
            if handler is not None:  # None: set outside Python, cannot be restored
                signal.signal(signum, handler)
        _requested = None


def check() -> None:
    """Raise the stop a signal asked for, if one did: call it where an error is about to
    be reported and passed over, since it may be DuckDB's report of that signal."""
    if _requested is not None:
        raise _requested
