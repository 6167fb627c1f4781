"""Execution engines: compile once, render per dialect, run, normalise (see base.py)."""

from stagehunt.backends.base import Backend, run_compiled

__all__ = ["Backend", "run_compiled"]
