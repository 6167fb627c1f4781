"""`stagehunt ingest` and reading any supported input: content sniffing, zips, folders,
idempotent re-ingest, the summary, and bad input that is reported, never fatal."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from stagehunt import cli
from stagehunt.store.event_store import EventStore

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
PANACHE = REAL / "sbousseaden-EVTX-ATTACK-SAMPLES" / "PanacheSysmon_vs_AtomicRedTeam01.evtx"
ARP = REAL / "OTRF-Security-Datasets" / "sh_arp_cache_2020-11-10074812.log"
REGRESSION = (
    REAL / "SigmaHQ-sigma" / "regression_data" / "rules" / "windows" / "file" / "file_event"
)
PUBLIC_BAT = REGRESSION / "file_event_win_susp_public_folder_extension"


def _lines(path: Path, objs: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


def test_ingesting_the_same_file_twice_adds_nothing(tmp_path: Path) -> None:
    store_path = tmp_path / "s.duckdb"
    with EventStore(store_path) as store:
        first = store.load([ARP])
        second = store.load([ARP])
        (count,) = store.connection.execute("SELECT count(*) FROM events").fetchone() or (0,)
    assert first.stored == 2  # SOURCES.md: two execve groups (arp -a, grep -v ^?)
    assert second.stored == 0 and second.duplicates == 2
    assert second.already_stored == [str(ARP)]
    assert count == 2


def test_copy_of_a_file_under_another_name_is_recognised(tmp_path: Path) -> None:
    copy = tmp_path / "renamed.log"
    copy.write_bytes(ARP.read_bytes())
    with EventStore() as store:
        store.load([ARP])
        again = store.load([copy])
    assert again.stored == 0 and again.duplicates == 2


def test_zip_members_are_read_like_files(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(ARP, "inner/arp.log")
        zf.writestr("events.jsonl", json.dumps({"_time": 1, "host": "h", "EventCode": "1"}) + "\n")
    with EventStore() as store:
        report = store.load([archive])
    assert report.stored == 3 and not report.errors
    assert report.sourcetypes.get("linux:audit") == 2


def test_zip_bomb_member_is_refused_at_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found building fuzz/fuzz_zip.py: a member was inflated whole to disk, however large.
    8 MiB of zeros compress ~1,000 times; with the floor lowered to 1 MiB, the bound is
    1 MiB and the member stops there while the next member still loads."""
    from stagehunt.ingest import registry

    monkeypatch.setattr(registry, "ZIP_RATIO_FROM_BYTES", 1 << 20)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.jsonl", b"\0" * (8 << 20))
        zf.writestr("events.jsonl", json.dumps({"_time": 1, "host": "h"}) + "\n")
    with EventStore() as store:
        report = store.load([archive])
    assert report.stored == 1
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"{archive}!zeros.jsonl: cannot extract: inflates past ")
    assert report.errors[0].endswith("a zip bomb?")


def test_zip_member_with_broken_deflate_data_is_an_error(tmp_path: Path) -> None:
    """Found by fuzz/fuzz_zip.py: zlib's error escaped the load as a traceback."""
    archive = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("events.jsonl", json.dumps({"_time": 1, "host": "h"}) + "\n")
    data = bytearray(archive.read_bytes())
    start = 30 + len("events.jsonl")  # the member's deflate stream, after its local header
    data[start : start + 4] = b"\0\0\0\0"  # a stored block whose lengths disagree
    archive.write_bytes(bytes(data))
    with EventStore() as store:
        report = store.load([archive])
    assert report.stored == 0 and report.files == 0
    assert report.errors == [
        f"{archive}!events.jsonl: cannot extract: "
        "Error -3 while decompressing data: invalid stored block lengths"
    ]


def _one_member_zip(path: Path) -> tuple[bytearray, int]:
    """A zip of one member ``events.jsonl`` as bytes, and where its central directory
    entry starts (to damage it)."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("events.jsonl", json.dumps({"_time": 1, "host": "h"}) + "\n")
    data = bytearray(path.read_bytes())
    return data, data.index(b"PK\x01\x02")


def test_zip_needing_a_version_zipfile_lacks_is_unreadable(tmp_path: Path) -> None:
    """Found by fuzz/fuzz_zip.py: zipfile's NotImplementedError escaped the load."""
    archive = tmp_path / "v64.zip"
    data, central = _one_member_zip(archive)
    data[central + 6] = 64  # "version needed to extract": 6.4
    archive.write_bytes(bytes(data))
    with EventStore() as store:
        report = store.load([archive])
    assert report.errors == [f"{archive}: unreadable zip archive: zip file version 6.4"]


def test_zip_member_name_flagged_utf8_but_not_is_unreadable(tmp_path: Path) -> None:
    """Found by fuzz/fuzz_zip.py: a UnicodeDecodeError escaped the load."""
    archive = tmp_path / "name.zip"
    data, central = _one_member_zip(archive)
    data[central + 9] |= 0x08  # general purpose flag bit 11: the name is UTF-8
    data[central + 46] = 0xBC  # ... and its first byte cannot start a UTF-8 character
    archive.write_bytes(bytes(data))
    with EventStore() as store:
        report = store.load([archive])
    assert report.errors == [
        f"{archive}: unreadable zip archive: 'utf-8' codec can't decode byte 0xbc in "
        "position 0: invalid start byte"
    ]


def test_zip_member_name_cut_to_nothing_is_an_error(tmp_path: Path) -> None:
    """Found by fuzz/fuzz_zip.py: a name starting with a NUL byte is empty to zipfile,
    and ZipInfo.is_dir() raised IndexError on it."""
    archive = tmp_path / "nul.zip"
    data, central = _one_member_zip(archive)
    data[central + 46] = 0  # zipfile cuts the name at its first NUL byte
    archive.write_bytes(bytes(data))
    with EventStore() as store:
        report = store.load([archive])
    assert report.stored == 0
    assert report.errors == [
        f"{archive}!: cannot extract: "
        "File name in directory '\\x00vents.jsonl' and header b'events.jsonl' differ."
    ]


def test_folder_skips_documentation_and_reads_events(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Notes, with a comma\nnot, events\n")
    (tmp_path / "rule.yml").write_text("title: x\n")
    _lines(tmp_path / "a.json", [{"_time": 1, "host": "a"}, {"_time": 2, "host": "b"}])
    with EventStore() as store:
        report = store.load([tmp_path])
    assert report.stored == 2 and not report.errors and not report.rejects


def test_pretty_printed_pyevtx_json_document(tmp_path: Path) -> None:
    """The SigmaHQ regression twins are pretty-printed pyevtx-rs JSON documents."""
    doc = next(PUBLIC_BAT.glob("*.json"))
    with EventStore() as store:
        report = store.load([doc])
        row = store.connection.execute(
            'SELECT "EventCode", "TargetFilename" FROM events'
        ).fetchall()
    assert report.stored == 1
    assert row == [("11", "C:\\Users\\Public\\persistence.bat")]  # per SOURCES.md


def test_ingest_cli_summary_and_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _lines(tmp_path / "a.json", [{"_time": 1, "sourcetype": "st1"}])
    with (tmp_path / "a.json").open("a") as fh:
        fh.write("{broken\n")
    store = tmp_path / "s.duckdb"
    code = cli.main(["ingest", str(good), str(tmp_path / "missing.json"), "--store", str(store)])
    err = capsys.readouterr().err
    assert code == 0
    assert "records read 2, stored 1, rejected 1" in err
    assert "st1" in err
    assert "line 2: malformed JSON" in err
    assert "missing.json: cannot read" in err
    assert "Traceback" not in err
    strict = cli.main(["ingest", str(good), "--store", str(tmp_path / "t.duckdb"), "--strict"])
    assert strict == 1


def test_ingest_needs_a_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ingest", str(ARP)]) == 2
    assert "--store" in capsys.readouterr().err


def test_search_reads_evtx_directly(capsys: pytest.CaptureFixture[str]) -> None:
    """SOURCES.md: PanacheSysmon holds 565 events, 4 of them Sysmon EID 11."""
    code = cli.main(["search", "EventCode=11 | stats count", str(PANACHE), "--format", "json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == [{"count": 4}]


def test_sourcetype_style_and_index_options(capsys: pytest.CaptureFixture[str]) -> None:
    spl = "index=hunt sourcetype=XmlWinEventLog | stats count by source"
    args = ["search", spl, str(PANACHE), "--format", "json"]
    code = cli.main([*args, "--sourcetype-style", "modern", "--index", "hunt"])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == [
        {"source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational", "count": 565}
    ]


def test_seed_query_verbatim_is_empty_on_the_whole_real_set(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 3 acceptance / SOURCES.md: every EID 11 row dies at the stats/null trap and no
    real EID 1 matches the copy clause, so the verbatim seed returns no rows."""
    code = cli.main(["hunt", str(REAL), "--format", "json", "--store", str(tmp_path / "s.duckdb")])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == []


def test_shipper_json_event_keeps_its_line_as_raw() -> None:
    """A HELK/OTRF JSON line is what Splunk would index as `_raw`; bare terms search it."""
    path = REAL / "OTRF-Security-Datasets" / "cmd_sam_copy_esentutl_2020-10-1900290001.json"
    first_line = path.read_text(encoding="utf-8").splitlines()[0].strip()
    with EventStore() as store:
        store.load([path])
        (raw,) = store.connection.execute(
            'SELECT "_raw" FROM events ORDER BY "__seq" LIMIT 1'
        ).fetchone() or (None,)
    assert raw == first_line


def test_splunk_export_raw_is_not_replaced(tmp_path: Path) -> None:
    path = _lines(tmp_path / "e.json", [{"_time": 1, "host": "h", "_raw": "original"}])
    with EventStore() as store:
        store.load([path])
        rows = store.connection.execute('SELECT "_raw" FROM events').fetchall()
    assert rows == [("original",)]


def test_ingest_stores_everything_when_no_one_reads_its_messages(tmp_path: Path) -> None:
    """`stagehunt ingest DIR 2>&1 | head` closes the pipe while the load goes on: the
    messages are dropped from then on, the load still commits every record it read, and
    the command exits 0. Here the pipe's reading end is closed before the command starts,
    so its very first message meets a broken pipe. 5 files of 2 distinct records: 10."""
    import os
    import subprocess
    import sys

    files = [
        _lines(tmp_path / f"f{i}.jsonl", [{"n": i, "k": k, "host": f"h{i}"} for k in (1, 2)])
        for i in range(5)
    ]
    store_path = tmp_path / "s.duckdb"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        code = "import sys; from stagehunt.cli import main; sys.exit(main())"
        args = [sys.executable, "-c", code, "ingest", *map(str, files), "--store", str(store_path)]
        done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=write_end, timeout=300)
    finally:
        os.close(write_end)
    assert done.returncode == 0
    with EventStore(store_path) as store:
        (count,) = store.connection.execute("SELECT count(*) FROM events").fetchone() or (0,)
    assert count == 10
