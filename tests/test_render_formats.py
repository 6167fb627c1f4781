"""Output formats: numbers JSON cannot hold, the streamed JSON array, the table's cap, and
writers that write each batch before they ask for the next (render/formats.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from rich.console import Console

from stagehunt import cli
from stagehunt.render.formats import TABLE_MAX_ROWS, write
from stagehunt.result import Value

# x = 10^1000 overflows to +inf, y to -inf, z = inf - inf is NaN (IEEE 754)
NON_FINITE = (
    "| makeresults | eval x=pow(10,1000), y=-pow(10,1000), z=pow(10,1000)-pow(10,1000)"
    " | table x y z"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out


def test_non_finite_numbers_are_text_in_jsonl(capsys: pytest.CaptureFixture[str]) -> None:
    """3.8 / NON_FINITE_AS_TEXT: Splunk shows inf, -inf, nan; JSON has no such numbers."""
    out = run(capsys, "search", NON_FINITE, "--format", "jsonl")
    assert out == '{"x": "inf", "y": "-inf", "z": "nan"}\n'
    json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))


def test_non_finite_numbers_are_text_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "search", NON_FINITE, "--format", "json")
    assert out == '[\n  {\n    "x": "inf",\n    "y": "-inf",\n    "z": "nan"\n  }\n]\n'


def test_non_finite_numbers_in_csv_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "search", NON_FINITE, "--format", "csv") == "x,y,z\ninf,-inf,nan\n"
    table = run(capsys, "search", NON_FINITE)
    assert "│ inf │ -inf │ nan │" in table


def test_a_time_no_date_can_show_stays_a_number(capsys: pytest.CaptureFixture[str]) -> None:
    """_time = +inf or 1e20 (year > 9999) has no date: the table shows the number."""
    out = run(capsys, "search", "| makeresults | eval _time=pow(10,1000), t=1e20, _time2=1")
    assert "│ inf   │" in out
    out = run(capsys, "search", "| makeresults | eval _time=1e20")
    assert "│ 1e+20 │" in out


ROWS: list[tuple[Value, ...]] = [
    (1, 'é "q"', ["a", "b"], None),
    (2.5, "", None, float("inf")),
    (None, "x\ny", ["c"], 3),
]
COLUMNS = ["n", "s", "mv", "f"]


def test_streamed_json_array_is_laid_out_as_json_dump_lays_it_out() -> None:
    """The array is written one object at a time; the text is what ``json.dump(records,
    indent=2)`` writes for the same records (inf as its text, 3.8)."""
    out = io.StringIO()
    write(COLUMNS, [ROWS[:2], ROWS[2:]], "json", out)
    records = [dict(zip(COLUMNS, r, strict=True)) for r in ROWS]
    records[1]["f"] = "inf"
    assert out.getvalue() == json.dumps(records, ensure_ascii=False, indent=2) + "\n"


def test_empty_results_in_each_format() -> None:
    for fmt, expected in (("json", "[]\n"), ("jsonl", ""), ("csv", "n,s,mv,f\n")):
        out = io.StringIO()
        assert write(COLUMNS, [], fmt, out) == 0
        assert out.getvalue() == expected


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "table"])
def test_each_batch_is_written_before_the_next_is_read(fmt: str) -> None:
    """Streaming: when the writer asks for batch k+1, batch k's rows are already out (for
    the table, counted), so nothing but the batch at hand need be held."""
    out = io.StringIO()
    written: list[int] = []

    def batches() -> Iterator[list[tuple[Value, ...]]]:
        for k in range(5):
            if k and fmt != "table":
                assert f"row{k - 1}" in out.getvalue(), f"batch {k - 1} not written yet"
            written.append(k)
            yield [(f"row{k}",)]

    console = Console(file=out, width=80)
    assert write(["v"], batches(), fmt, out, console if fmt == "table" else None) == 5
    assert written == [0, 1, 2, 3, 4]


def test_the_table_renders_its_cap_and_names_what_it_left_out() -> None:
    out = io.StringIO()
    n = TABLE_MAX_ROWS + 3
    rows = [(f"r{i:05d}",) for i in range(n)]
    write(["v"], [rows[:600], rows[600:]], "table", out, Console(file=out, width=200))
    text = out.getvalue()
    assert f"r{TABLE_MAX_ROWS - 1:05d}" in text and f"r{TABLE_MAX_ROWS:05d}" not in text
    assert text.rstrip().endswith(
        "1,003 results (the first 1,000 shown, 3 left out: "
        "--format csv, json or jsonl writes them all)"
    )
