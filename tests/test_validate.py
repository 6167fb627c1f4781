"""`stagehunt validate T1074`: the matrix of detections × scenarios (and the real data)
meets the expectations the pack holds as data (issue 4 acceptance)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagehunt import cli
from stagehunt.packs import load_pack
from stagehunt.validate import load_expectations, validate

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def test_expectations_cover_every_scenario_and_say_why_the_seed_misses() -> None:
    from stagehunt.simulate import SCENARIOS

    expectations = load_expectations(load_pack("T1074"))
    scenarios = expectations["scenarios"]
    assert isinstance(scenarios, dict)
    assert set(scenarios) == set(SCENARIOS)
    for name, expected in scenarios.items():
        adversary = name.startswith("adversary")
        assert expected["T1074.corrected"] is adversary  # fires on 5/5, quiet on 5/5
        assert expected["untuned"] is True  # without allowlists every look-alike fires
        assert expected["why"]


def test_matrix_is_as_expected_on_scenarios_and_real_data() -> None:
    checks = validate(load_pack("T1074"), REAL)
    unexpected = [c for c in checks if not c.ok]
    assert not unexpected, unexpected
    fired = {(c.target, c.detection) for c in checks if c.fired}
    for n in range(1, 6):
        name = next(t for t, _ in fired if t.startswith(f"adversary-{n}-"))
        assert (name, "T1074.corrected") in fired
    assert ("shared/data/real", "T1074.seed") not in fired
    assert ("shared/data/real", "T1074.corrected") in fired


def test_cli_validate_prints_the_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    # the shared real set is in by default when present: 30 scenario checks + seed and
    # corrected on the real logs
    assert cli.main(["validate", "T1074"]) == 0
    out = capsys.readouterr().out
    assert ("32 of 32" if REAL.is_dir() else "30 of 30") + " checks as expected" in out
    assert cli.main(["validate", "T1074", "--no-real"]) == 0
    assert "30 of 30 checks as expected" in capsys.readouterr().out
    assert cli.main(["validate", "NOPE"]) == 2


def test_real_logs_of_your_own_are_counted_not_judged(tmp_path: Path) -> None:
    """validation.toml's real expectations describe the shared set; ``--real DIR`` naming
    other logs gets a row per detection labelled with the folder, its rows counted and
    never "UNEXPECTED". The bundled sample gives the seed its 4 rows
    (tests/fixtures/sample_expected.json)."""
    import json
    import shutil

    from stagehunt.api import sample_paths

    own = tmp_path / "case-42"
    own.mkdir()
    for path in sample_paths():
        shutil.copy(path, own / path.name)
    checks = validate(load_pack("T1074"), own)
    mine = [c for c in checks if c.target == "real: case-42"]
    assert {c.detection for c in mine} == set(load_pack("T1074").detections)
    assert all(c.expected is None and c.ok for c in mine)
    seed = next(c for c in mine if c.detection == "T1074.seed")
    fixture = Path(__file__).parent / "fixtures" / "sample_expected.json"
    assert seed.rows == len(json.loads(fixture.read_text(encoding="utf-8"))["rows"]) == 4
    assert not any(c.target == "shared/data/real" for c in checks)
