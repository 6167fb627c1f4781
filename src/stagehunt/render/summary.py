"""The ingest summary: what was read, stored, skipped and rejected, and why."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from stagehunt.store.event_store import LoadReport

#: Rejects listed one by one before the rest are only counted by reason.
SHOWN_REJECTS = 10


def print_summary(report: LoadReport, console: Console) -> None:
    """Totals, per-sourcetype counts, and rejects grouped by reason."""
    console.print(
        f"files {report.files}, records read {report.records_read}, stored {report.stored}, "
        f"rejected {len(report.rejects)}, already stored {report.duplicates} "
        f"({len(report.already_stored)} source(s)), {report.elapsed:.2f} s, "
        f"{report.rate:,.0f} records/s",
        markup=False,
        highlight=False,
    )
    if report.sourcetypes:
        table = Table("sourcetype", "records", title="stored by sourcetype", title_justify="left")
        for name, count in report.sourcetypes.items():
            table.add_row(name, str(count))
        console.print(table)
    for name in report.already_stored:
        console.print(f"skipped {name}: already in the store", markup=False, highlight=False)
    print_problems(report, console)


def print_problems(report: LoadReport, console: Console) -> None:
    """File errors and rejected records, each with its position and reason."""
    for error in report.errors:
        console.print(f"warning: {error}", style="yellow", markup=False, highlight=False)
    for reject in report.rejects[:SHOWN_REJECTS]:
        console.print(
            f"warning: rejected {reject.path} {reject.position}: {reject.reason}",
            style="yellow",
            markup=False,
            highlight=False,
        )
    rest = report.rejects[SHOWN_REJECTS:]
    if rest:
        reasons = Counter(r.reason.split(":")[0] for r in rest)
        for reason, n in reasons.most_common():
            console.print(
                f"warning: {n} more rejected: {reason}",
                style="yellow",
                markup=False,
                highlight=False,
            )
