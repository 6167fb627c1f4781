"""Command-line habits of the ecosystem (issue 15, point 3): `convert` prints to stdout as
sigma-cli does, `validate` includes the shared real logs unless told not to and says so,
`completion bash|zsh` prints a completion script for every subcommand.

Expected values worked out by hand: the T1074 pack has 19 Sigma files, one of them the
event_count correlation over 6 rules that do not alert alone, so a conversion gives
19 - 6 = 13 searches; a backend without correlations gives the 12 others and names the
correlation on stderr.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stagehunt import cli, real_data
from stagehunt.sigma import export
from stagehunt.validate import Check

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
SIGMA = Path(cli.__file__).parent / "content" / "T1074" / "sigma"
CORRELATION = "t1074_corrected_event_count"
#: the installed backends that convert event_count correlations (pySigma 1.5 set)
WITH_CORRELATIONS = {"splunk", "eql", "esql", "sqlite"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ----------------------------------------------------------------------------- convert


def test_the_pack_has_the_rules_the_counts_assume() -> None:
    files = sorted(p.stem for p in SIGMA.glob("*.yml"))
    assert len(files) == 19
    text = (SIGMA / f"{CORRELATION}.yml").read_text(encoding="utf-8")
    referenced = [line for line in text.splitlines() if line.startswith("  - t1074_")]
    assert len(referenced) == 6


#: what `convert --list` offers: pySigma adds its own test backends (``*_test``) to the
#: installed plugins when pytest is imported; users never see them
TARGETS = sorted(name for name in export.targets() if not name.endswith("_test"))


def test_every_configured_target_is_offered() -> None:
    assert {"splunk", "kusto", "kusto-sentinel", "lucene", "eql", "esql"} <= set(TARGETS)


@pytest.mark.parametrize("target", TARGETS)
def test_convert_prints_what_out_writes_for_every_target(
    target: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    expected = 13 if target in WITH_CORRELATIONS else 12
    code, printed, err = run(capsys, "convert", "T1074", "--to", target)
    assert code == 0, err
    assert f"{expected} {target} queries from {expected} rules" in err
    assert (f"not converted: {CORRELATION}" in err) is (expected == 12)
    code, _, err = run(capsys, "convert", "T1074", "--to", target, "--out", str(tmp_path))
    assert code == 0, err
    files = sorted((tmp_path / target).iterdir())
    assert len(files) == expected
    # stdout is each file's query, in rule order (the correlation after the rules it
    # reads), a blank line between: what sigma-cli prints for several rules
    files.sort(key=lambda p: p.stem == CORRELATION)
    blocks = [p.read_text(encoding="utf-8").removesuffix("\n") for p in files]
    assert printed == "\n\n".join(blocks) + "\n"


def test_convert_to_kusto_without_out_prints_twelve_pasteable_queries(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, printed, _ = run(capsys, "convert", "T1074", "--to", "kusto")
    assert code == 0
    queries = printed.removesuffix("\n").split("\n\n")
    assert len(queries) == 12
    assert all(q.startswith(("DeviceProcessEvents\n", "DeviceFileEvents\n")) for q in queries)
    run(capsys, "convert", "T1074", "--to", "kusto", "--out", str(tmp_path))
    name = "t1074_corrected_password_archive_process_creation_windows.kql"
    written = (tmp_path / "kusto" / name).read_text(encoding="utf-8")
    assert written.removesuffix("\n") in queries
    assert list(tmp_path.iterdir()) == [tmp_path / "kusto"]  # nothing else written


def test_convert_needs_a_target(capsys: pytest.CaptureFixture[str]) -> None:
    code, printed, err = run(capsys, "convert", "T1074")
    assert (code, printed) == (2, "")
    assert err == "error: convert needs --to TARGET (or --list)\n"


# ---------------------------------------------------------------------------- validate


@pytest.fixture
def given_real(monkeypatch: pytest.MonkeyPatch) -> list[Path | None]:
    """`validate` replaced by a stub that records the real folder it is given (the matrix
    itself is tested in test_validate.py)."""
    seen: list[Path | None] = []

    def stub(pack: object, real: Path | None = None, engine: object = None) -> list[Check]:
        seen.append(real)
        return []

    monkeypatch.setattr(cli, "validate", stub)
    return seen


@pytest.mark.skipif(not REAL.is_dir(), reason="no shared/data/real here")
def test_validate_uses_the_shared_real_set_and_says_which(
    capsys: pytest.CaptureFixture[str], given_real: list[Path | None]
) -> None:
    code, _, err = run(capsys, "validate", "T1074")
    assert code == 0
    assert given_real == [REAL.resolve()]
    assert err == f"real logs: {REAL.resolve()} (the shared real set; --no-real leaves them out)\n"


def test_validate_no_real_and_real_dir_are_taken_as_given(
    capsys: pytest.CaptureFixture[str], given_real: list[Path | None], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "validate", "T1074", "--no-real")
    assert (code, err) == (0, "")
    code, _, err = run(capsys, "validate", "--real", str(tmp_path))
    assert (code, err) == (0, "")
    assert given_real == [None, tmp_path]


def test_validate_without_a_real_set_says_so(
    capsys: pytest.CaptureFixture[str],
    given_real: list[Path | None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(real_data, "REPO", tmp_path)
    code, _, err = run(capsys, "validate", "T1074")
    assert code == 0
    assert given_real == [None]
    assert err == "no real logs found (shared/data/real): scenarios only; --real DIR adds some\n"


def test_validate_real_and_no_real_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["validate", "--real", str(tmp_path), "--no-real"])
    assert exit_.value.code == 2


def test_find_real_looks_in_the_folders_above(tmp_path: Path) -> None:
    real = tmp_path / "a" / "shared" / "data" / "real"
    real.mkdir(parents=True)
    (tmp_path / "a" / "wt" / "branch").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    assert real_data.find_real([tmp_path / "a" / "wt" / "branch"]) == real.resolve()
    assert real_data.find_real([tmp_path / "b"]) is None
