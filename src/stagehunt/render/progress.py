"""Progress while reading: a Rich bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from stagehunt.store.event_store import Progress as ProgressCallback


@contextmanager
def progress_reporter(console: Console, log_lines: bool = True) -> Iterator[ProgressCallback]:
    """A callback for `EventStore.load` that shows records read per source; off a
    terminal it logs one line per batch (or nothing, without ``log_lines``)."""
    if console.is_terminal:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,} records"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def update(name: str, seen: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=None)
                bar.update(tasks[name], completed=seen)

            yield update
        return
    last: dict[str, int] = {}

    def log(name: str, seen: int) -> None:
        if log_lines and last.get(name) != seen:
            last[name] = seen
            console.print(f"read {seen:,} records from {name}", markup=False, highlight=False)

    yield log
