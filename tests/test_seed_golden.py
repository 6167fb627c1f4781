"""The seed T1074 SPL, verbatim, over hand-worked fixtures (spl-semantics.md §10).

Each ``tests/fixtures/seed/<case>/expected.json`` was derived by hand from the spec (its
``derivation`` field says how); the engine must reproduce it column for column, including
the rows that ``stats ... by`` drops (rule 6.3) and the empty ``_time`` column (rule 8, T4).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagehunt import cli
from stagehunt.api import search_files, seed_spl

FIXTURES = Path(__file__).parent / "fixtures" / "seed"
CASES = sorted(p for p in FIXTURES.iterdir() if (p / "expected.json").exists())
SEED_FILE = Path(__file__).parents[2] / "shared" / "seed" / "000_64fc19ba537d9c4d.txt"


def _seed_from_page() -> str:
    text = SEED_FILE.read_text(encoding="utf-8")
    start = text.index("index=wineventlog")
    marker = "IsRapidStaging, FirstSeen, LastSeen"
    return text[start : text.index(marker) + len(marker)]


def test_packaged_seed_is_byte_for_byte_the_page_query() -> None:
    assert seed_spl().rstrip("\n") == _seed_from_page()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_seed_query_matches_hand_worked_table(case: Path) -> None:
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    result = search_files(seed_spl(), [case / "events.jsonl"])
    assert result.columns == expected["columns"]
    assert [list(row) for row in result.rows] == expected["rows"]


def test_seed_via_cli_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    """`stagehunt search '<seed>' FILE --format json`: keys in column order, `_time` null,
    StagingTypes an array of strings, counts as JSON numbers."""
    case = FIXTURES / "robocopy_bulk"
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    code = cli.main(["search", _seed_from_page(), str(case / "events.jsonl"), "--format", "json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [list(r.keys()) for r in rows] == [expected["columns"]] * len(expected["rows"])
    assert [list(r.values()) for r in rows] == expected["rows"]
    assert rows[0]["_time"] is None
    assert isinstance(rows[0]["EventCount"], int)
    assert isinstance(rows[0]["StagingTypes"], list)
