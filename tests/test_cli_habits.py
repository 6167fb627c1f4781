"""Command-line habits of the ecosystem (issue 15, point 3): `convert` prints to stdout as
sigma-cli does, `validate` includes the shared real logs unless told not to and says so,
`completion bash|zsh` prints a completion script for every subcommand.

Expected values worked out by hand: the T1074 pack has 19 Sigma files, one of them the
event_count correlation over 6 rules that do not alert alone, so a conversion gives
19 - 6 = 13 searches; a backend without correlations gives the 12 others and names the
correlation on stderr.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
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


# -------------------------------------------------------------------------- completion


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("no subcommands")


def test_bash_completion_names_every_subcommand_and_parses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, script, _ = run(capsys, "completion", "bash")
    assert code == 0
    names = _subcommands(cli.build_parser())
    assert {"search", "hunt", "convert", "validate", "escu", "watch", "completion"} <= names
    line = next(x for x in script.splitlines() if x.startswith("_shtab_stagehunt_subparsers="))
    assert set(line.partition("=(")[2].rstrip(")").split()) == names
    assert script.rstrip().endswith("complete -o bashdefault -F _shtab_stagehunt stagehunt")
    path = tmp_path / "stagehunt.bash"
    path.write_text(script, encoding="utf-8")
    checked = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def _complete(script: Path, *words: str) -> list[str]:
    """What bash offers for the last of ``words`` (the script's function, as TAB runs it)."""
    line = " ".join(("stagehunt", *words))
    program = (
        f"source {script}; COMP_WORDS=(stagehunt {' '.join(repr(w) for w in words)}); "
        f"COMP_CWORD={len(words)}; COMP_LINE={line!r}; COMP_POINT={len(line)}; "
        '_shtab_stagehunt; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_bash_completion_completes_subcommands_options_and_choices(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "stagehunt.bash"
    path.write_text(run(capsys, "completion", "bash")[1], encoding="utf-8")
    assert _complete(path, "conv") == ["convert"]
    assert _complete(path, "validate", "--no") == ["--no-real"]
    assert _complete(path, "completion", "") == ["bash", "zsh"]


def test_zsh_completion_names_every_subcommand(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, script, _ = run(capsys, "completion", "zsh")
    assert code == 0
    assert script.startswith("#compdef stagehunt")
    block = script.split("local _commands=(\n", 1)[1].split("\n  )", 1)[0]
    named = {line.strip().partition(":")[0] for line in block.splitlines()}
    assert named == _subcommands(cli.build_parser())
    if shutil.which("zsh"):
        path = tmp_path / "_stagehunt"
        path.write_text(script, encoding="utf-8")
        assert subprocess.run(["zsh", "-n", str(path)]).returncode == 0


def test_completion_knows_only_bash_and_zsh() -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["completion", "fish"])
    assert exit_.value.code == 2
