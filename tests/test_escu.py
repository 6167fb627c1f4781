"""``stagehunt escu``: loading Splunk's ESCU content, compiling and running it (issue 12).

Most tests use the hand-written content folder ``tests/fixtures/escu`` (six detections,
one deprecated, two macros, four lookups, six events), so they do not depend on what the
engine supports in the real library; expected results are worked out by hand from the
events in ``events.jsonl`` and the rules cited. The tests marked ``real`` read the real
security_content snapshot when it is there (``$STAGEHUNT_ESCU`` or ``../shared`` of the
repository or of its parent) and only load or compile it, which is cheap.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from stagehunt import cli
from stagehunt.escu import Status, load_library
from stagehunt.escu.compiler import compile_all, compile_detection, expand
from stagehunt.escu.content import (
    ENV_VAR,
    ContentError,
    Detection,
    default_content,
    filter_macro_name,
    find_content,
)
from stagehunt.escu.library import Library
from stagehunt.escu.macros import FILTER_DEFINITION, FROM_LOCAL, local_overrides
from stagehunt.escu.runner import run_detections
from stagehunt.escu.status import Outcome, command_at, group_of
from stagehunt.store.event_store import EventStore

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "escu"
EVENTS = FIXTURE / "events.jsonl"


REAL = default_content()
real = pytest.mark.skipif(REAL is None, reason="no security_content snapshot here")
LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@pytest.fixture(scope="module")
def real_library() -> Library:
    assert REAL is not None
    return load_library(REAL)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(FIXTURE)


@pytest.fixture(scope="module")
def outcomes(library: Library) -> dict[str, Outcome]:
    """Every fixture detection run over events.jsonl."""
    with EventStore(in_memory=True) as store:
        store.load([EVENTS])
        from stagehunt.backends.duckdb import DuckDBBackend

        ran = run_detections(library, DuckDBBackend.from_store(store))
        return {o.detection.name: o for o in ran}


def cli_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ----------------------------------------------------------------------------- loading


def test_loading_counts_match_the_folder(library: Library) -> None:
    files = sorted((FIXTURE / "detections").rglob("*.yml"))
    active = [f for f in files if "deprecated" not in f.parts]
    assert len(library.detections) == len(active) == 6
    assert {d.path for d in library.detections} == set(active)
    assert len(library.macros.files) == len(list((FIXTURE / "macros").glob("*.yml")))
    assert len(library.lookups.files) == len(list((FIXTURE / "lookups").glob("*.yml")))


def test_deprecated_only_when_asked() -> None:
    everything = load_library(FIXTURE, include_deprecated=True, knowledge=False)
    assert len(everything.detections) == 7
    assert everything.find("Fixture Old").deprecated


def test_detection_files_are_kept_until_they_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a cache, a second load reads no detection file that is unchanged (size and
    modification time) and gives the same detections; an edited file is read again, a
    removed one is gone, and a malformed one is refused on every load (never kept)."""
    from stagehunt.escu import kept_content
    from stagehunt.sigma.cache import ConversionCache

    content = tmp_path / "content"
    shutil.copytree(FIXTURE, content)
    cache = ConversionCache(tmp_path / "cache")
    first = load_library(content, include_deprecated=True, knowledge=False, cache=cache)
    assert len(first.detections) == 7

    read: list[str] = []
    real_read = kept_content.read_detection

    def counted(path: Path) -> Detection:
        read.append(path.name)
        return real_read(path)

    monkeypatch.setattr(kept_content, "read_detection", counted)
    again = load_library(content, include_deprecated=True, knowledge=False, cache=cache)
    assert read == []
    assert again.detections == first.detections

    robocopy = content / "detections" / "endpoint" / "fixture_robocopy_to_external_address.yml"
    text = robocopy.read_text(encoding="utf-8")
    robocopy.write_text(text.replace("type: TTP", "type: Hunting"), encoding="utf-8")
    (content / "detections" / "endpoint" / "fixture_unclassified_tool.yml").unlink()
    edited = load_library(content, include_deprecated=True, knowledge=False, cache=cache)
    assert read == [robocopy.name]
    assert edited.find("Fixture Robocopy To External Address").type == "Hunting"
    assert len(edited.detections) == 6
    assert "Fixture Unclassified Tool" not in {d.name for d in edited.detections}

    robocopy.write_text("name: [unclosed\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ContentError, match="malformed YAML"):
            load_library(content, knowledge=False, cache=cache)


@real
def test_real_library_counts_are_those_of_the_folder(real_library: Library) -> None:
    assert REAL is not None
    library = real_library
    active = 0
    for path in (REAL / "detections").rglob("*.yml"):
        status = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER).get("status")
        active += "deprecated" not in path.parts and status != "deprecated"
    assert len(library.detections) == active  # 1,613 in the October 2024 snapshot
    assert len(library.macros.files) == len(list((REAL / "macros").glob("*.yml")))
    assert len(library.lookups.files) == len(list((REAL / "lookups").glob("*.yml")))
    # every detection's tuning hook is defined, however its name reads
    for d in library.detections:
        assert library.macros.library.macros[d.filter_macro].definition == FILTER_DEFINITION


@real
def test_every_local_override_replaces_an_escu_macro_and_says_why(real_library: Library) -> None:
    library = real_library
    for key, macro in local_overrides().macros.items():
        override = library.macros.overrides[key]
        assert override.replaced is not None, f"{key}: ESCU has no such macro"
        assert macro.description and override.origin == FROM_LOCAL


# ----------------------------------------------------------------------------- macros


def test_macro_with_arguments_and_comment_blanked(library: Library) -> None:
    detection = library.find("Fixture Robocopy To External Address")
    text = " ".join(expand(library, detection).split())
    # `fixture_field_is(process_name, "robocopy.exe")` -> search $field$=$value$; the
    # ```process creation only``` comment is blanked (Search Manual: replaced by a space)
    assert text == (
        'sourcetype=fixture:proc EventCode=1 | search process_name="robocopy.exe" | lookup '
        "fixture_nets net AS dest_ip OUTPUT zone | search zone=external | stats count by host "
        "| search *"
    )


def test_filter_hook_is_search_star_even_after_escaped_quotes(library: Library) -> None:
    detection = library.find("Fixture Privileged Pod - odd.name/v2")
    # contentctl's rule: lower case, space - . / as _; then _filter
    assert detection.filter_macro == "fixture_privileged_pod___odd_name_v2_filter"
    assert filter_macro_name("A-B.c/D e") == "a_b_c_d_e_filter"
    text = expand(library, detection)
    # the \" of the search value open no string: the hook after them expands
    assert text.endswith("| search *")
    assert r"cfg=*\"privileged\":true*" in text


def test_user_macros_file_wins_and_is_noted(tmp_path: Path) -> None:
    conf = tmp_path / "macros.conf"
    conf.write_text(
        "[fixture_source]\ndefinition = sourcetype=fixture:proc host=wks*\n"
        "description = only workstations\n",
        encoding="utf-8",
    )
    library = load_library(FIXTURE, user_macros=conf, knowledge=False)
    outcome = compile_detection(library, library.find("Fixture Unclassified Tool"))
    assert outcome.status is Status.COMPILED
    assert outcome.expanded is not None and outcome.expanded.startswith(
        "sourcetype=fixture:proc host=wks*"
    )
    assert any("only workstations" in n for n in outcome.notes)
    assert library.macros.overrides["fixture_source"].replaced == "sourcetype=fixture:proc"


# ----------------------------------------------------------------------------- running


def test_cidr_lookup_with_min_matches_default_match(outcomes: dict[str, Outcome]) -> None:
    # EventCode=1 and process_name="robocopy.exe" (case-insensitive, rule 2.2.1): wks1,
    # wks2, wks5. fixture_nets (CIDR(net), min_matches 1, default_match external):
    # 10.1.2.3 -> corp; 192.168.5.5 -> no row -> "external"; wks5 has no dest_ip -> not
    # looked up (semantics.LOOKUP_DEFAULT_NEEDS_INPUT). zone=external: wks2 only.
    outcome = outcomes["Fixture Robocopy To External Address"]
    assert outcome.status is Status.RAN
    assert outcome.result is not None
    assert outcome.result.columns == ["host", "count"]
    assert outcome.result.rows == [("wks2", 1)]


def test_wildcard_lookup_case_insensitive_default(outcomes: dict[str, Outcome]) -> None:
    # fixture_tools: WILDCARD(tool) "*copy*.exe", case_sensitive_match false, max_matches
    # 1, min_matches 1, default_match unknown (header "tool, class": names trimmed).
    # robocopy.exe / ROBOCOPY.EXE -> copier; notepad.exe -> unknown; k8s1 has no
    # process_name -> no lookup. class=unknown: wks3.
    outcome = outcomes["Fixture Unclassified Tool"]
    assert outcome.result is not None
    assert outcome.result.rows == [("wks3", "notepad.exe")]


def test_kv_store_lookup_is_empty_and_said(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["Fixture Privileged Pod - odd.name/v2"]
    assert outcome.status is Status.RAN
    assert outcome.result is not None
    assert outcome.result.rows == [("k8s1", '{"privileged":true}', None)]
    assert any("KV store collection 'fixture_seen'" in n for n in outcome.notes)


def test_unknown_command_is_unsupported_with_its_position(library: Library) -> None:
    outcome = compile_detection(library, library.find("Fixture Unknown Command"))
    assert outcome.status is Status.UNSUPPORTED
    assert outcome.group == "unknown command frobnicate"
    assert outcome.error is not None and outcome.expanded is not None
    assert outcome.error.pos == outcome.expanded.index("frobnicate")
    assert outcome.reason is not None and outcome.reason.startswith("syntax error at 1:")


def test_missing_lookup_file_is_its_own_status(library: Library) -> None:
    outcome = compile_detection(library, library.find("Fixture Missing Lookup File"))
    assert outcome.status is Status.MISSING
    assert outcome.group == "lookup fixture_gone"
    assert outcome.reason is not None and "no file 'fixture_gone.csv'" in outcome.reason


def test_run_time_failure_is_an_error_outcome(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["Fixture Broken Regex"]
    assert outcome.status is Status.ERROR
    assert outcome.reason is not None and "repetition" in outcome.reason


def test_every_detection_has_exactly_one_status(outcomes: dict[str, Outcome]) -> None:
    assert {name: o.status for name, o in outcomes.items()} == {
        "Fixture Broken Regex": Status.ERROR,
        "Fixture Missing Lookup File": Status.MISSING,
        "Fixture Privileged Pod - odd.name/v2": Status.RAN,
        "Fixture Robocopy To External Address": Status.RAN,
        "Fixture Unclassified Tool": Status.RAN,
        "Fixture Unknown Command": Status.UNSUPPORTED,
    }


# ----------------------------------------------------------------------------- reasons


def test_reason_groups_name_the_command_or_function() -> None:
    assert group_of("command 'tstats' is not supported", "tstats") == "command tstats"
    assert group_of("rex option 'max_match=10' is not supported", "rex") == (
        "rex: rex option 'max_match=N' is not supported"
    )
    query = 'a=1 | rex "x" | search [| inputlookup t | fields y] | stats count'
    assert command_at(query, 2) == "search"
    assert command_at(query, query.index("x")) == "rex"
    assert command_at(query, query.index("fields")) == "fields"
    assert command_at(query, query.index("count")) == "stats"


# ----------------------------------------------------------------------------- CLI


def test_cli_compile_statuses_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli_run(capsys, "escu", "compile", "--content", str(FIXTURE))
    assert code == 0
    assert "6 detections: 4 compiled, 1 not supported, 1 missing, 0 errors" in out
    assert "    1  unknown command frobnicate" in out


def test_cli_list_and_compile_keep_what_they_compiled(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`escu list` and `escu compile` compile every detection for its status, so they keep
    the outcomes as `escu run` does: the 4 compiled statements and the 1 unsupported
    failure (not the missing lookup), one file each; later runs print the same lines
    from them, and `escu run` over them gives what an uncached run gives. --no-cache
    keeps nothing."""
    base = ["--content", str(FIXTURE), "--cache-dir", str(tmp_path / "cache")]
    lines = []
    for command in ("list", "list", "compile"):
        code, out, _ = cli_run(capsys, "escu", command, *base)
        assert code == 0
        lines.append(out.splitlines())
        assert len(list((tmp_path / "cache" / "escu").rglob("*.json"))) == 5
    assert lines[0] == lines[1]
    unknown = "Fixture Unknown Command\tAnomaly\tFixture Process Creation\tunsupported: "
    assert lines[1][-1] == unknown + "syntax error at 1:27: unknown command 'frobnicate'"
    assert any(
        line.startswith("6 detections: 4 compiled, 1 not supported, 1 missing, 0 errors")
        for line in lines[2]
    )
    # a run reads a kept status as a miss: its statements compile, and it runs as uncached
    run = ["escu", "run", str(EVENTS), "--format", "json", "--content", str(FIXTURE)]
    code, warm, _ = cli_run(capsys, *run, "--cache-dir", str(tmp_path / "cache"))
    code_uncached, uncached, _ = cli_run(capsys, *run, "--no-cache")
    assert code == code_uncached
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in json.loads(warm)]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in json.loads(uncached)]
    # Broken Regex compiles and fails in DuckDB (as in the run-time error test below)
    statuses = ["error", "missing", "ran", "ran", "ran", "unsupported"]
    assert [r["status"] for r in strip] == statuses
    off = ["--content", str(FIXTURE), "--no-cache", "--cache-dir", str(tmp_path / "none")]
    code, _, _ = cli_run(capsys, "escu", "list", *off)
    assert code == 0
    assert not (tmp_path / "none").exists()


def test_cli_list_filters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli_run(
        capsys, "escu", "list", "--content", str(FIXTURE), "--type", "ttp", "--status", "compiled"
    )
    assert code == 0
    names = [line.split("\t")[0] for line in out.splitlines()]
    assert names == ["Fixture Privileged Pod - odd.name/v2", "Fixture Robocopy To External Address"]
    code, out, _ = cli_run(
        capsys, "escu", "list", "--content", str(FIXTURE), "--data-source", "kubernetes"
    )
    assert [line.split("\t")[0] for line in out.splitlines()] == [
        "Fixture Privileged Pod - odd.name/v2"
    ]


def test_cli_show_has_expanded_spl_and_caret(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli_run(
        capsys, "escu", "show", "fixture unknown command", "--content", str(FIXTURE)
    )
    assert code == 0
    lines = out.splitlines()
    i = lines.index("syntax error at line 1, column 27: unknown command 'frobnicate'")
    assert lines[i + 2].index("^") == lines[i + 1].index("frobnicate")
    assert "  sourcetype=fixture:proc | frobnicate count | search *" in lines


def test_cli_run_json_and_exit_one_on_a_run_time_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli_run(
        capsys, "escu", "run", str(EVENTS), "--content", str(FIXTURE), "--format", "json"
    )
    assert code == 1
    records: list[dict[str, Any]] = json.loads(out)
    fired = {r["name"]: r["results"] for r in records if r["rows"]}
    assert fired["Fixture Robocopy To External Address"] == [{"host": "wks2", "count": 1}]
    assert "compiled 4, ran 3, fired 3, errors 1, not supported 1, missing 1" in err
    assert "error: Fixture Broken Regex: the query failed while running" in err


def test_cli_run_selected_detections_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli_run(
        capsys, "escu", "run", str(EVENTS), "Fixture Unclassified Tool", "--content",
        str(FIXTURE), "-d", "fixture_unknown_command", "--rows", "0",
    )  # fmt: skip
    assert code == 0
    assert "FIRED  Fixture Unclassified Tool  [Hunting]  1 row" in out
    assert "2 detections: compiled 1, ran 1, fired 1, errors 0, not supported 1" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["escu", "list", "--content", "/nonexistent/escu"],
            "--content /nonexistent/escu: no such",
        ),
        (["escu", "show", "No Such Detection"], "no detection named 'No Such Detection'"),
        (["escu", "run", "no/such/file.evtx"], "'no/such/file.evtx' is no file or folder"),
        (["escu", "run"], "escu run needs event files (PATH...), --store FILE or --lake DIR"),
    ],
)
def test_cli_usage_errors_are_one_line_exit_two(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--content" not in argv:
        argv = [*argv, "--content", str(FIXTURE)]
    code, _, err = cli_run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_cli_malformed_yaml_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = tmp_path / "content"
    shutil.copytree(FIXTURE, content)
    broken = content / "detections" / "endpoint" / "fixture_unknown_command.yml"
    broken.write_text("name: [unclosed\nsearch: x\n", encoding="utf-8")
    code, _, err = cli_run(capsys, "escu", "compile", "--content", str(content))
    assert code == 2
    assert err.count("\n") == 1
    assert f"{broken} line" in err and "malformed YAML" in err


def test_content_folder_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(FIXTURE))
    assert find_content(None) == FIXTURE.resolve()
    monkeypatch.setenv(ENV_VAR, str(FIXTURE / "macros"))
    with pytest.raises(ContentError, match="not a security_content checkout"):
        find_content(None)


# ----------------------------------------------------------------------------- the page


@real
def test_escu_support_page_is_current(real_library: Library) -> None:
    """docs/escu-support.md is what scripts/make_escu_support.py writes (compile only)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_escu_support", ROOT / "scripts" / "make_escu_support.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = module.render(real_library, list(compile_all(real_library)))
    current = (ROOT / "docs" / "escu-support.md").read_text(encoding="utf-8")
    assert current == page, "run scripts/make_escu_support.py"


def test_every_local_override_is_documented_with_its_reason() -> None:
    page = (ROOT / "docs" / "escu.md").read_text(encoding="utf-8")
    for key, macro in local_overrides().macros.items():
        assert f"| `{key}` |" in page, f"docs/escu.md: no row for the override `{key}`"
        assert macro.description


def test_cli_status_filter_prints_less_but_counts_everything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli_run(
        capsys, "escu", "run", str(EVENTS), "--content", str(FIXTURE),
        "--status", "fired", "--format", "csv",
    )  # fmt: skip
    assert code == 1  # the run-time error still counts
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == [
        "Fixture Privileged Pod - odd.name/v2",
        "Fixture Robocopy To External Address",
        "Fixture Unclassified Tool",
    ]
    assert "6 detections: compiled 4, ran 3, fired 3, errors 1" in err


def test_lookup_yaml_keys_not_used_are_noted(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(FIXTURE, content)
    with (content / "lookups" / "fixture_tools.yml").open("a", encoding="utf-8") as fh:
        fh.write("filter: class=copier\n")
    library = load_library(content, knowledge=False)
    assert library.lookups.ignored == {"fixture_tools": ["filter"]}
    outcome = compile_detection(library, library.find("Fixture Unclassified Tool"))
    assert "lookup 'fixture_tools': ignored keys: filter" in outcome.notes


def test_no_content_folder_anywhere_names_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stagehunt.escu import content

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(content, "REPO", tmp_path / "repo")
    code, _, err = cli_run(capsys, "escu", "compile")
    assert code == 2
    assert err == (
        "error: no ESCU content folder found: give --content DIR (a security_content "
        f"checkout) or set {ENV_VAR}\n"
    )


def test_drop_dm_object_name_with_a_quoted_or_bare_argument(library: Library) -> None:
    macros = library.macros.library
    # Splunk_SA_CIM: rename "$object$.*" as *; ESCU passes "Processes" quoted or bare
    assert macros.expand('`drop_dm_object_name("Processes")`') == 'rename "Processes.*" AS *'
    assert macros.expand("`drop_dm_object_name(Processes)`") == 'rename "Processes.*" AS *'


# ----------------------------------------------------------------------- outputlookup


#: (name, id, search) of detections some tests add to a copy of the fixture content
BASELINE_WRITER = (
    "Fixture Baseline Writer",
    "00000000-0000-4000-8000-0000000000aa",
    "`fixture_source` | stats count by host | outputlookup fixture_baseline.csv",
)
TOOL_CLASSES = (
    "Fixture Tool Classes",
    "00000000-0000-4000-8000-0000000000ab",
    "`fixture_source` | lookup fixture_tools tool AS process_name OUTPUT class"
    " | stats count by class",
)


BASELINE_READER = (
    "Fixture Baseline Reader",
    "00000000-0000-4000-8000-0000000000ac",
    "| inputlookup fixture_baseline.csv | stats count",
)


def content_with(tmp_path: Path, *detections: tuple[str, str, str]) -> Path:
    """A copy of the fixture content with more Hunting detections."""
    content = tmp_path / "content"
    shutil.copytree(FIXTURE, content)
    for name, ident, search in detections:
        stem = name.lower().replace(" ", "_")
        (content / "detections" / "endpoint" / f"{stem}.yml").write_text(
            yaml.safe_dump(
                {
                    "name": name,
                    "id": ident,
                    "type": "Hunting",
                    "status": "experimental",
                    "description": name,
                    "search": search,
                }
            ),
            encoding="utf-8",
        )
    return content


def test_a_run_never_writes_into_the_content(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """ESCU's baseline detections end in `outputlookup`: a run writes to --lookups-out, or
    to a temporary folder, and leaves the content's lookups/ as it was."""
    content = content_with(tmp_path, BASELINE_WRITER)
    before = sorted(p.name for p in (content / "lookups").iterdir())
    base = ["escu", "run", str(EVENTS), "--content", str(content), "--store", str(tmp_path / "s")]
    code, _, _ = cli_run(capsys, *base, "-d", "Fixture Baseline Writer")
    assert code == 0
    assert sorted(p.name for p in (content / "lookups").iterdir()) == before
    out = tmp_path / "out"
    code, _, _ = cli_run(capsys, *base, "-d", "Fixture Baseline Writer", "--lookups-out", str(out))
    assert code == 0
    assert sorted(p.name for p in (content / "lookups").iterdir()) == before
    # events.jsonl has one event on each of k8s1, wks1 ... wks5: one row each, count 1,
    # in byte order of host (6.5: "k" < "w")
    written = (out / "fixture_baseline.csv").read_text(encoding="utf-8").splitlines()
    hosts = ["k8s1", "wks1", "wks2", "wks3", "wks4", "wks5"]
    assert written == ["host,count", *[f"{h},1" for h in hosts]]


def test_the_command_leaves_no_temporary_folder(tmp_path: Path) -> None:
    """The ``stagehunt`` command exits without freeing its heap (`cli.entry` freezes it:
    an uncached library run spent seconds there). Exit handlers still run: a baseline
    written into the library's own temporary folder, in a process whose TMPDIR is an
    empty folder, leaves that folder empty and the content's lookups/ unchanged."""
    content = content_with(tmp_path, BASELINE_WRITER)
    before = {p.name: p.read_bytes() for p in (content / "lookups").iterdir()}
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    argv = ["escu", "run", str(EVENTS), "--content", str(content), "-d", BASELINE_WRITER[0]]
    done = subprocess.run(
        [sys.executable, "-m", "stagehunt.cli", *argv, "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Fixture Baseline Writer" in done.stdout
    assert list(scratch.iterdir()) == []
    assert {p.name: p.read_bytes() for p in (content / "lookups").iterdir()} == before


def test_the_python_api_never_writes_into_the_content(tmp_path: Path) -> None:
    """`load_library` + `run_detections` (no folder named for writes): outputlookup
    writes into the library's own temporary folder, which goes with the library; the
    content's lookups/ is unchanged."""
    import gc

    from stagehunt.backends.duckdb import DuckDBBackend

    content = content_with(tmp_path, BASELINE_WRITER)
    before = {p.name: p.read_bytes() for p in (content / "lookups").iterdir()}
    library = load_library(content)
    writes = library.lookups.library.writes
    assert writes is not None and not writes.is_relative_to(content)
    chosen = [d for d in library.detections if d.name == "Fixture Baseline Writer"]
    with EventStore(in_memory=True) as store:
        store.load([EVENTS])
        (outcome,) = run_detections(library, DuckDBBackend.from_store(store), chosen)
    assert outcome.status is Status.RAN, outcome.reason
    assert {p.name: p.read_bytes() for p in (content / "lookups").iterdir()} == before
    # one event on each of k8s1, wks1 ... wks5 (as in the CLI test above)
    written = (writes / "fixture_baseline.csv").read_text(encoding="utf-8").splitlines()
    assert written == [
        "host,count",
        *[f"{h},1" for h in ["k8s1", *(f"wks{i}" for i in range(1, 6))]],
    ]
    del library, outcome, chosen
    gc.collect()
    assert not writes.exists()


def test_a_kept_statement_reading_a_lookup_is_a_miss_once_the_lookup_changes(
    tmp_path: Path,
) -> None:
    """`escu run --cache-dir` keeps a statement that reads a lookup with the lookup's
    fingerprint: a warm run reads it (same rows), and after the CSV is edited the entry
    is a miss, so the detection compiles again and sees the new rows."""
    from stagehunt.backends.duckdb import DuckDBBackend
    from stagehunt.sigma.cache import ConversionCache

    content = content_with(tmp_path, TOOL_CLASSES)

    def run() -> tuple[list[tuple[object, ...]], Outcome, ConversionCache]:
        library = load_library(content)
        cache = ConversionCache(tmp_path / "cache")
        with EventStore(in_memory=True) as store:
            store.load([EVENTS])
            backend = DuckDBBackend.from_store(store)
            detection = library.find("Fixture Tool Classes")
            (outcome,) = run_detections(library, backend, [detection], cache=cache)
        assert outcome.result is not None, outcome.reason
        return [tuple(row) for row in outcome.result.rows], outcome, cache

    # fixture_tools: "*copy*.exe" -> copier, WILDCARD, case-insensitive, default_match
    # unknown. robocopy.exe (wks1, wks4, wks5) and ROBOCOPY.EXE (wks2) are copiers,
    # notepad.exe (wks3) unknown; k8s1 has no process_name: no class, so no group
    # (rule 6.3), groups in ascending order (rule 6.5)
    rows, _, cache = run()
    assert (cache.hits, cache.misses) == (0, 1)
    assert rows == [("copier", 4), ("unknown", 1)]
    rows, warm, cache = run()
    assert (cache.hits, cache.misses) == (1, 0)
    assert rows == [("copier", 4), ("unknown", 1)]
    assert warm.compiled is not None and warm.compiled.text is not None
    assert [t.name for t in warm.compiled.tables] == ["fixture_tools"]
    tools = content / "lookups" / "fixture_tools.csv"
    tools.write_text(tools.read_text(encoding="utf-8") + "notepad.exe,editor\n", "utf-8")
    rows, _, cache = run()
    assert (cache.hits, cache.misses) == (0, 1)
    assert rows == [("copier", 4), ("editor", 1)]
    rows, _, cache = run()
    assert (cache.hits, cache.misses) == (1, 0)
    assert rows == [("copier", 4), ("editor", 1)]


def test_a_detection_that_does_not_compile_is_kept_as_such(tmp_path: Path) -> None:
    """An unsupported detection's failure is kept like a statement: the warm run reads
    it (a hit) and shows the same status, reason, group and caret, pointing at
    `frobnicate` in the expanded search (``sourcetype=fixture:proc | frobnicate count |
    search *``: column 27). A missing lookup is not kept (a file added later must make it
    compile): it misses on every run."""
    from stagehunt.backends.duckdb import DuckDBBackend
    from stagehunt.escu.render import caret
    from stagehunt.sigma.cache import ConversionCache

    def run(name: str) -> tuple[Outcome, ConversionCache]:
        library = load_library(FIXTURE)
        cache = ConversionCache(tmp_path / "cache")
        with EventStore(in_memory=True) as store:
            store.load([EVENTS])
            backend = DuckDBBackend.from_store(store)
            (outcome,) = run_detections(library, backend, [library.find(name)], cache=cache)
        return outcome, cache

    unknown = "Fixture Unknown Command"
    cold, cache = run(unknown)
    assert (cache.hits, cache.misses) == (0, 1)
    warm, cache = run(unknown)
    assert (cache.hits, cache.misses) == (1, 0)
    for outcome in (cold, warm):
        assert outcome.status is Status.UNSUPPORTED
        assert outcome.reason == "syntax error at 1:27: unknown command 'frobnicate'"
        assert outcome.group == "unknown command frobnicate"
        assert outcome.error is not None
        lines = caret(outcome.error)
        assert lines[0] == "syntax error at line 1, column 27: unknown command 'frobnicate'"
        assert lines[2].index("^") == lines[1].index("frobnicate")
    assert warm.expanded == cold.expanded

    for _ in range(2):
        missing, cache = run("Fixture Missing Lookup File")
        assert missing.status is Status.MISSING
        assert (cache.hits, cache.misses) == (0, 1)


@pytest.mark.parametrize("where", ["store", "lake"])
def test_statements_on_several_cursors_give_what_one_at_a_time_gives(
    tmp_path: Path, where: str
) -> None:
    """`run_detections(jobs=2)` runs statements on two cursors while the next compile,
    over a store and over a Parquet lake (whose events view every cursor sees): the
    outcomes, in order, are those of `jobs=1`. A detection that writes a lookup runs
    alone after every earlier one, so the one after it reads what it wrote: the baseline
    holds one row per host (k8s1, wks1 ... wks5), so its reader counts 6."""
    from stagehunt.backends.duckdb import DuckDBBackend
    from stagehunt.backends.lake import Lake
    from stagehunt.escu.runner import _cursors

    content = content_with(tmp_path, BASELINE_WRITER, BASELINE_READER)
    if where == "lake":
        Lake(tmp_path / "lake").ingest([EVENTS], jobs=1)
    runs = []
    for jobs in (1, 2):
        library = load_library(content)
        order = [d for d in library.detections if d.name != BASELINE_READER[0]]
        order.insert(
            order.index(library.find(BASELINE_WRITER[0])) + 1, library.find(BASELINE_READER[0])
        )
        with EventStore(in_memory=True) as store:
            store.load([EVENTS])
            backend = (
                DuckDBBackend.from_store(store)
                if where == "store"
                else Lake(tmp_path / "lake").duckdb()
            )
            assert len(_cursors(backend, jobs)) == (0 if jobs == 1 else 2)
            ran = list(run_detections(library, backend, order, jobs=jobs))
        runs.append(
            [
                (o.detection.name, o.status, o.result and (o.result.columns, o.result.rows))
                for o in ran
            ]
        )
        reader = next(o for o in ran if o.detection.name == BASELINE_READER[0])
        assert reader.result is not None and reader.result.rows == [(6,)], reader.reason
    assert runs[0] == runs[1]
    assert sum(1 for _, status, _ in runs[1] if status is Status.RAN) >= 5


def test_parity_names_the_first_difference_between_two_engines_tables() -> None:
    """escu/parity.py: tables compare exactly (columns, rows, row order); the verdict
    says what differs first, so docs/escu-spark.md can list it."""
    from stagehunt.escu.parity import first_difference
    from stagehunt.result import ResultTable

    base = ResultTable(["dest", "count"], [("a", 2), ("b", 1)])
    assert first_difference(base, ResultTable(["dest", "count"], [("a", 2), ("b", 1)])) is None
    renamed = ResultTable(["host", "count"], [("a", 2), ("b", 1)])
    assert first_difference(base, renamed) == (
        "columns: duckdb ['dest', 'count'] / spark ['host', 'count']"
    )
    shorter = ResultTable(["dest", "count"], [("a", 2)])
    assert first_difference(base, shorter) == "rows: duckdb 2 / spark 1"
    swapped = ResultTable(["dest", "count"], [("b", 1), ("a", 2)])
    assert first_difference(base, swapped) == "the same rows in another order"
    other = ResultTable(["dest", "count"], [("a", 2), ("b", 3)])
    assert first_difference(base, other) == "row 2, count: duckdb 1 / spark 3 (value)"
    avg = ResultTable(["avg"], [(0.1 + 0.2,)])
    rounded = ResultTable(["avg"], [(0.3,)])
    assert first_difference(avg, rounded) == (
        "row 1, avg: duckdb 0.30000000000000004 / spark 0.3 (floating point)"
    )
    # a stdev shown as text in a multivalue field, summed in another order on Spark
    stdev = ResultTable(["s"], [(["23.31706656871263"],)])
    assert first_difference(stdev, ResultTable(["s"], [(["23.317066568712626"],)])) == (
        "row 1, s: duckdb ['23.31706656871263'] / spark ['23.317066568712626'] (floating point)"
    )
    assert first_difference(stdev, ResultTable(["s"], [(["23.3171"],)])) == (
        "row 1, s: duckdb ['23.31706656871263'] / spark ['23.3171'] (value)"
    )
