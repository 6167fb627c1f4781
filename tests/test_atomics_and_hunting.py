"""The T1074 pack's lab material: the Atomic Red Team tests (`stagehunt.atomics`), the
hunting queries (`content/T1074/hunting/*.spl`) run over the bundled sample and over every
simulated scenario, and the playbook / investigation guide covering every StagingType the
corrected detection can produce.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from stagehunt import atomics
from stagehunt.api import run_spl, sample_paths, search_files
from stagehunt.result import ResultTable
from stagehunt.simulate import SCENARIOS, simulate
from stagehunt.store.event_store import EventStore

PACK = atomics.pack_folder("T1074")
HUNTING = PACK / "hunting"
HUNTS = sorted(HUNTING.glob("*.spl"))
ATOMICS_YAML = PACK / "atomics" / "T1074-stagehunt.yaml"

#: (platform, executor, elevation) of each of the seed's five adversary tests.
EXPECTED_TESTS = [
    ("windows", "command_prompt", True),
    ("windows", "command_prompt", False),
    ("windows", "powershell", False),
    ("linux", "bash", False),
    ("windows", "command_prompt", False),
]


def _rows(result: ResultTable) -> list[dict[str, object]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def _text(value: object) -> str:
    """A cell as text (multivalue cells joined by newlines)."""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- atomics


def test_yaml_is_atomic_red_team_shaped() -> None:
    doc = yaml.safe_load(ATOMICS_YAML.read_text(encoding="utf-8"))
    assert doc["attack_technique"] == "T1074"
    assert doc["display_name"]
    tests = doc["atomic_tests"]
    assert len(tests) == 5
    guids = set()
    for raw in tests:
        assert {"name", "auto_generated_guid", "description", "supported_platforms"} <= set(raw)
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            raw["auto_generated_guid"],
        )
        guids.add(raw["auto_generated_guid"])
        executor = raw["executor"]
        assert {"name", "elevation_required", "command", "cleanup_command"} <= set(executor)
        for name, arg in raw.get("input_arguments", {}).items():
            assert {"description", "type", "default"} <= set(arg), name
        # every placeholder has an input argument
        used = set(re.findall(r"#\{(\w+)\}", executor["command"] + executor["cleanup_command"]))
        assert used <= set(raw.get("input_arguments", {})), raw["name"]
    assert len(guids) == 5


def test_load_gives_five_tests_with_platforms_executors_and_cleanup() -> None:
    tests = atomics.load(PACK)
    assert [t.number for t in tests] == [1, 2, 3, 4, 5]
    for test, (platform, executor, elevated) in zip(tests, EXPECTED_TESTS, strict=True):
        assert test.platforms == (platform,)
        assert test.executor == executor
        assert test.elevation_required is elevated
        assert test.command.strip()
        assert test.cleanup_command.strip(), f"test {test.number} has no cleanup"


def test_commands_match_the_seed_test_plan_and_the_simulated_names() -> None:
    t1, t2, t3, t4, t5 = atomics.load(PACK)
    assert "robocopy" in t1.command and "/E /COPYALL" in t1.command
    assert t1.defaults()["stage_folder"] == r"%TEMP%\df00tech-stage"
    assert "copy /Y" in t2.command and " a -tzip -p#{archive_password}" in t2.command
    assert t2.defaults()["archive_path"].endswith(r"\df00tech-exfil.zip")
    assert t2.defaults()["collection_folder"].endswith(r"\df00tech-collection")
    assert any("7-Zip" in d.description for d in t2.dependencies)
    assert "Copy-Item" in t3.command and "attrib +h" in t3.command
    assert t3.defaults()["stage_folder"] == r"C:\ProgramData\MicrosoftUpdates"
    assert "cp {}" in t4.command and "tar czf" in t4.command
    assert t4.defaults()["stage_folder"] == "/tmp/.df00tech_stage"
    assert r"net use \\#{remote_host}\C$" in t5.command
    assert "xcopy" in t5.command and "/E /H /Y" in t5.command
    assert t5.defaults()["remote_host"] == "FILESRV01"
    assert r"net use \\#{remote_host}\C$ /delete" in t5.cleanup_command


def test_cleanup_removes_what_the_command_creates() -> None:
    for test in atomics.load(PACK):
        for name in ("stage_folder", "collection_folder", "archive_path", "remote_folder"):
            if name in test.defaults() and f"#{{{name}}}" in test.command:
                assert f"#{{{name}}}" in test.cleanup_command, (test.number, name)
        # a sample source folder is deleted only when it carries the marker
        assert "df00tech-sample.marker" in test.cleanup_command


def test_show_two_has_the_password_flag_and_the_cleanup() -> None:
    text = atomics.show(2, PACK)
    assert "Stage and Compress Data Using 7-Zip" in text
    assert "-p" in text and "-pdf00tech-lab" in text  # template and defaults filled in
    assert "Cleanup:" in text
    assert r'del /f /q "#{archive_path}"' in text
    assert r'del /f /q "%TEMP%\df00tech-exfil.zip"' in text
    assert "Platforms:   windows" in text
    assert "Elevation:   not required" in text
    assert "archive_password" in text
    assert "never executes" in text


def test_show_default_folder_and_elevation() -> None:
    assert atomics.show(1) == atomics.show(1, PACK)
    assert "Elevation:   required" in atomics.show(1)
    assert "Platforms:   linux" in atomics.show(4)


@pytest.mark.parametrize("number", [0, 6, -1, 99])
def test_show_unknown_number(number: int) -> None:
    with pytest.raises(KeyError, match="tests 1-5"):
        atomics.show(number)
    with pytest.raises(ValueError, match="no atomic test"):
        atomics.show(number)


def test_listing() -> None:
    text = atomics.listing(PACK)
    lines = text.splitlines()
    for number, test in enumerate(atomics.load(PACK), 1):
        assert lines[number - 1].lstrip().startswith(f"{number} ")
        assert test.name in lines[number - 1]
    assert "never executes" in text


def test_malformed_yaml_is_a_clear_value_error(tmp_path: Path) -> None:
    (tmp_path / "atomics").mkdir()
    (tmp_path / "atomics" / "bad.yaml").write_text(
        "attack_technique: T1\natomic_tests:\n- name: x\n  supported_platforms: [linux]\n"
        "  executor: {name: cmd.exe, command: echo}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"bad\.yaml.*executor\.name"):
        atomics.load(tmp_path)
    assert atomics.load(tmp_path / "missing") == []
    assert "no atomic tests" in atomics.listing(tmp_path / "missing")


# --------------------------------------------------------------------------- hunting


def test_there_are_five_to_eight_hunts_each_documented() -> None:
    assert 5 <= len(HUNTS) <= 8
    readme = (HUNTING / "README.md").read_text(encoding="utf-8")
    for path in HUNTS:
        spl = path.read_text(encoding="utf-8")
        assert "`" not in spl, f"{path.name}: no macros"
        assert spl.splitlines()[0].strip() and not spl.startswith("|")
        assert f"`{path.name}`" in readme, f"{path.name} is not described in README.md"


@pytest.mark.parametrize("hunt", HUNTS, ids=lambda p: p.stem)
def test_hunt_runs_over_the_sample(hunt: Path) -> None:
    search_files(hunt.read_text(encoding="utf-8"), sample_paths())


@pytest.fixture(scope="module")
def scenario_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, EventStore]]:
    """Every scenario simulated (seed 0) and loaded once."""
    root = tmp_path_factory.mktemp("scenarios")
    stores: dict[str, EventStore] = {}
    try:
        for name in SCENARIOS:
            store = EventStore()
            store.load(simulate(name, root / name))
            stores[name] = store
        yield stores
    finally:
        for store in stores.values():
            store.close()


@pytest.mark.parametrize("hunt", HUNTS, ids=lambda p: p.stem)
def test_hunt_runs_over_every_scenario(hunt: Path, scenario_stores: dict[str, EventStore]) -> None:
    spl = hunt.read_text(encoding="utf-8")
    for name, store in scenario_stores.items():
        result = run_spl(spl, store)
        assert isinstance(result.rows, list), name


def _hunt(name: str, store: EventStore) -> list[dict[str, object]]:
    return _rows(run_spl((HUNTING / f"{name}.spl").read_text(encoding="utf-8"), store))


def test_password_archive_hunt_finds_adversary_2(tmp_path: Path) -> None:
    files = simulate("adversary-2-7zip-password", tmp_path / "adv2")
    spl = (HUNTING / "password-archive.spl").read_text(encoding="utf-8")
    rows = _rows(search_files(spl, files))
    assert len(rows) == 1
    (row,) = rows
    # adversary 2: 7z.exe a -tzip -p<password> -mem=AES256 %TEMP%\df00tech-exfil.zip ...,
    # started by the user's powershell.exe on a WKS-HR workstation, seen by Sysmon and 4688
    assert _text(row["host"]).startswith("wks-hr-")
    assert row["Image"] == r"C:\Program Files\7-Zip\7z.exe"
    command = _text(row["Command"])
    assert " a -tzip -p" in command and r"\AppData\Local\Temp\df00tech-exfil.zip" in command
    passwords = _text(row["Passwords"]).split("\n")
    assert passwords[0] in ("Infected2024!", "df00tech#exfil", "Spring2024$", "x7Kq!pL2")
    assert f"-p{passwords[0]} " in command
    assert _text(row["Parents"]).endswith(r"\powershell.exe")
    assert "XmlWinEventLog:Security" in _text(row["Sources"])


def test_password_archive_hunt_is_quiet_on_benign(scenario_stores: dict[str, EventStore]) -> None:
    for name, store in scenario_stores.items():
        if SCENARIOS[name].kind == "benign":
            assert _hunt("password-archive", store) == [], name


def test_hunts_find_their_adversary_scenarios(scenario_stores: dict[str, EventStore]) -> None:
    hidden4 = _hunt("hidden-staging-folders", scenario_stores["adversary-4-linux-cp-tar"])
    assert "/tmp/.df00tech_stage" in [r["HiddenItem"] for r in hidden4]
    hidden3 = _hunt("hidden-staging-folders", scenario_stores["adversary-3-copyitem-programdata"])
    assert [(r["HiddenItem"], _text(r["HiddenBy"])) for r in hidden3] == [
        (r"C:\ProgramData\MicrosoftUpdates", "attrib +h")
    ]
    archives2 = _hunt("archives-in-staging-paths", scenario_stores["adversary-2-7zip-password"])
    assert [_text(r["FilePath"]).rsplit("\\", 1)[-1] for r in archives2] == ["df00tech-exfil.zip"]
    archives4 = _hunt("archives-in-staging-paths", scenario_stores["adversary-4-linux-cp-tar"])
    assert [r["FilePath"] for r in archives4] == ["/tmp/.df00tech_stage.tar.gz"]
    (net5,) = _hunt("net-use-unc-copy", scenario_stores["adversary-5-smb-remote-staging"])
    assert net5["RemoteHost"] == "FILESRV01"
    activities = _text(net5["Activities"])
    assert "net use" in activities and "copy to UNC path" in activities
    assert "explicit credentials for CORP\\svc_backup" in activities
    (smb5,) = _hunt("smb-share-writes", scenario_stores["adversary-5-smb-remote-staging"])
    assert smb5["AdminShare"] == 1 and smb5["SourceAccount"] == "CORP\\svc_backup"
    bulk1 = _hunt("bulk-file-creation-5min", scenario_stores["adversary-1-robocopy-temp"])
    assert any(_text(r["Image"]).endswith("robocopy.exe") for r in bulk1)
    for name in ("adversary-2-7zip-password", "adversary-4-linux-cp-tar"):
        (seq,) = _hunt("copy-then-archive", scenario_stores[name])
        assert seq["StepKinds"] == ["archive", "copy"], name


# --------------------------------------------------------------------------- documents


def _staging_types() -> set[str]:
    """Every StagingType value the corrected variant's case() can assign."""
    spl = (PACK / "corrected.spl").read_text(encoding="utf-8")
    start = spl.index("StagingType=case(")
    end = spl.index("\n| where", start)
    return set(re.findall(r',\s*"([A-Za-z]+)"\s*[,)\n]', spl[start:end]))


def test_staging_types_are_parsed_from_corrected_spl() -> None:
    types = _staging_types()
    assert {"ArchiveCreated", "PasswordArchive", "RemoteStaging", "FileCreatedInStagingPath"} <= (
        types
    )
    assert len(types) >= 8


@pytest.mark.parametrize("document", ["playbook.md", "investigation-guide.md"])
def test_documents_mention_every_staging_type(document: str) -> None:
    text = (PACK / document).read_text(encoding="utf-8")
    missing = sorted(t for t in _staging_types() if t not in text)
    assert not missing, f"{document} does not mention {missing}"


def test_investigation_guide_has_a_section_per_staging_type() -> None:
    text = (PACK / "investigation-guide.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (\w+)$", text, re.M))
    assert _staging_types() <= headings
