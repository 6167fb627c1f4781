"""The T1074 pack as data: metadata, named detections, `hunt --detection`."""

from __future__ import annotations

import json

import pytest

from stagehunt import cli
from stagehunt.api import seed_spl
from stagehunt.packs import load_pack


def test_pack_metadata_from_the_seed_page() -> None:
    pack = load_pack("T1074")
    assert pack.meta["attack"]["technique"] == "T1074"
    assert pack.meta["attack"]["subtechniques"] == ["T1074.001", "T1074.002"]
    assert pack.meta["attack"]["tactic"] == "Collection"
    assert (pack.meta["rating"]["severity"], pack.meta["rating"]["confidence"]) == (
        "high",
        "medium",
    )
    assert len(pack.meta["false_positives"]) == 5
    assert list(pack.detections) == ["T1074.seed", "T1074.corrected"]
    assert pack.detection("T1074.seed").spl == seed_spl().rstrip("\n")


def test_unknown_detection_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["hunt", "--detection", "T1074.nope"]) == 2
    assert "known: T1074.seed, T1074.corrected" in capsys.readouterr().err


def test_corrected_variant_sees_what_the_seed_misses_in_the_sample(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The bundled sample's adversary (data/sample/README.md): a 7-Zip password archive in
    %TEMP%, `net use` to the file server, Copy-Item into ProgramData\\MicrosoftUpdates. The
    seed drops the archive (EID 11 has no CommandLine; the 7z command line runs once) and
    `net use`; the corrected variant keeps them (FileCreate grouped by Image, archives and
    remote staging fire on their own)."""
    assert cli.main(["hunt", "--detection", "T1074.corrected", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_image = {
        (r["host"], r["Image"].rsplit("\\", 1)[-1].lower()): r
        for r in rows
        if r["Actor"] == "CORP\\jdoe"
    }
    fin = "WKS-FIN-042.corp.example.com"
    assert {"ArchiveCreated", "PasswordArchive"} <= set(by_image[(fin, "7z.exe")]["StagingTypes"])
    assert "RemoteStaging" in by_image[(fin, "net.exe")]["StagingTypes"]
    assert "ScriptedCopy" in by_image[(fin, "powershell.exe")]["StagingTypes"]
    assert by_image[(fin, "robocopy.exe")]["UniqueFiles"] > 0  # file creations survive stats
    assert all(r["FirstSeen"].endswith("Z") for r in rows)  # readable times
