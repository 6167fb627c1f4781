"""to-sigma / convert / round trip on the T1074 pack (expected values from the SPL text)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stagehunt.lookups import LookupLibrary
from stagehunt.packs import load_pack
from stagehunt.sigma import export as convert
from stagehunt.sigma import roundtrip
from stagehunt.sigma.detection import item
from stagehunt.sigma.emit import collection_text
from stagehunt.sigma.from_spl import translate
from stagehunt.sigma.logic import Pred
from stagehunt.sigma.pack_rules import check, pack_translation

PACK = load_pack("T1074")
SIGMA = PACK.folder / "sigma"
CONVERTED = PACK.folder / "converted"
WEAK = ("bulk_copy_command", "scripted_copy", "file_created_in_staging_path")


@pytest.fixture(scope="module")
def fresh() -> tuple[object, str]:
    translation, docs = pack_translation(PACK)
    return translation, collection_text(docs)


def test_wildcards_become_modifiers_and_escapes() -> None:
    assert item(Pred("TargetFilename", "wild", "*\\Temp\\*")) == (
        "TargetFilename|contains",
        "\\Temp\\",
    )
    assert item(Pred("Image", "wild", "*\\msiexec.exe")) == ("Image|endswith", "\\msiexec.exe")
    # a literal backslash before a wildcard is escaped, or Sigma reads \* as a literal star
    assert item(Pred("F", "wild", "*\\{*}\\*")) == ("F", "*\\{*}\\\\*")
    assert item(Pred("CommandLine", "re", "(?i)robocopy")) == ("CommandLine|re|i", "robocopy")


def test_corrected_rules_per_label_and_log_source(fresh: tuple[object, str]) -> None:
    translation = fresh[0]
    names = {r.name for r in translation.rules}  # type: ignore[attr-defined]
    # case() labels of corrected.spl: 6 on command lines, 3 on file paths; windows and linux
    for label in ("password_archive", "remote_staging", "archive_command", *WEAK[:2]):
        for product in ("windows", "linux"):
            assert f"t1074_corrected_{label}_process_creation_{product}" in names
    for label in ("archive_created", "credential_staging", WEAK[2]):
        assert f"t1074_corrected_{label}_file_event_windows" in names
    assert len(names) == 18
    corr = translation.correlation  # type: ignore[attr-defined]
    # stats count by host, Actor, Image | where EventCount >= 5 OR mvfind(strong labels)
    assert corr.gte == 5
    assert corr.group_by == ("Computer", "User", "Image")
    assert all(any(w in r for w in WEAK) for r in corr.rules)  # only the weak labels
    assert len(corr.rules) == 6
    unexpressed = " ".join(u.render() for u in translation.unexpressed)  # type: ignore[attr-defined]
    assert "eventstats values(Allowed) AS ProcessAllowed" in unexpressed
    assert "IsRapidStaging" in unexpressed


def test_rules_load_and_pass_pysigma_validators(fresh: tuple[object, str]) -> None:
    problems, _skipped = check(fresh[1])
    assert problems == []
    assert "correlation:" in fresh[1] and "event_count" in fresh[1]


def test_shipped_files_equal_a_fresh_translation_and_conversion(  # scripts/make_pack_sigma.py
    fresh: tuple[object, str], tmp_path: Path
) -> None:
    _, docs = pack_translation(PACK)
    assert sorted(p.name for p in SIGMA.glob("*.yml")) == sorted(f"{d.name}.yml" for d in docs)
    for doc in docs:
        assert (SIGMA / f"{doc.name}.yml").read_text(encoding="utf-8") == doc.text()
    text = "---\n".join(p.read_text(encoding="utf-8") for p in sorted(SIGMA.glob("*.yml")))
    for name in ("splunk", "kusto", "kusto-sentinel", "lucene", "eql", "esql"):
        tgt = convert.target(name)
        written = convert.write(convert.convert_text(text, tgt), tgt, tmp_path)
        shipped = sorted((CONVERTED / name).iterdir())
        assert [p.name for p in shipped] == sorted(p.name for p in written)
        for path in written:
            assert path.read_text(encoding="utf-8") == (CONVERTED / name / path.name).read_text(
                encoding="utf-8"
            )


def _read(target: str, rule: str) -> str:
    ext = convert.target(target).extension
    return (CONVERTED / target / f"t1074_corrected_{rule}.{ext}").read_text(encoding="utf-8")


def test_converted_queries_name_the_targets_fields_and_values() -> None:
    kql = _read("kusto", "password_archive_process_creation_windows")
    assert kql.startswith("DeviceProcessEvents\n| where ProcessCommandLine matches regex")
    assert 'FolderPath endswith "\\\\msiexec.exe"' in kql  # the installer allowlist row
    assert _read("kusto", "archive_created_file_event_windows").startswith("DeviceFileEvents")
    asim = _read("kusto-sentinel", "remote_staging_process_creation_windows")
    assert asim.startswith("imProcessCreate") and "TargetProcessCommandLine" in asim
    lucene = _read("lucene", "archive_created_file_event_windows")
    assert "file.path:" in lucene and "zip|7z|rar" in lucene
    eql = _read("eql", "remote_staging_process_creation_windows")
    assert eql.startswith("any where process.command_line regex~")
    esql = _read("esql", "password_archive_process_creation_windows")
    assert esql.startswith("from * metadata") and "process.command_line rlike" in esql
    spl = _read("splunk", "archive_created_file_event_windows")
    assert "EventCode=11" in spl and "| regex TargetFilename=" in spl
    corr = _read("splunk", "event_count")
    assert "| bin _time span=24h" in corr and "event_count >= 5" in corr


def test_round_trip_verdicts_equal_the_spl(fresh: tuple[object, str]) -> None:
    verdicts = {v.scenario: v for v in roundtrip.round_trip(PACK, "T1074.corrected", fresh[1])}
    assert len(verdicts) == 10
    # validation.toml: the corrected SPL fires on the five adversary scenarios only
    assert {n for n, v in verdicts.items() if v.spl_fires} == {
        n for n in verdicts if n.startswith("adversary-")
    }
    for name, v in verdicts.items():
        assert v.spl_fires == v.sigma_fires, name


def test_cli_to_sigma_bad_input_is_one_line() -> None:
    cmd = [sys.executable, "-m", "stagehunt.cli", "to-sigma", "index=foo bar=1"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: cannot translate")
    assert "Traceback" not in done.stderr


def test_translate_a_plain_query_without_pack() -> None:
    t = translate(
        'index=wineventlog EventCode=1 CommandLine="*robocopy*"', lookups=LookupLibrary(None)
    )
    assert [r.logsource for r in t.rules] == [
        {"category": "process_creation", "product": "windows"}
    ]
    assert t.correlation is None
