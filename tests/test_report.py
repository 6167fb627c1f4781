"""`stagehunt hunt --report out.html`: a self-contained page that headless Chromium opens,
with the result table and the per-host timeline plot (issue 4 item 6)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from chromium import CHROMIUM, FLAGS
from stagehunt import cli


def _report(tmp_path: Path) -> Path:
    out = tmp_path / "report.html"
    code = cli.main(
        ["hunt", "--detection", "T1074.corrected", "--format", "csv", "--report", str(out)]
    )
    assert code == 0
    return out


def test_report_is_self_contained_and_escaped(tmp_path: Path) -> None:
    page = _report(tmp_path).read_text(encoding="utf-8")
    assert '<table id="results">' in page and '<svg id="timeline"' in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert "WKS-FIN-042.corp.example.com" in page  # the sample's adversary host
    assert "CORP\\jdoe" in page and "<rect" in page
    assert "T1074.001" in page and "high" in page  # metadata from pack.toml


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (make test installs it as root)"
)
def test_report_opens_in_headless_chromium(tmp_path: Path) -> None:
    report = _report(tmp_path)
    profile = tmp_path / "profile"
    common = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}"]
    dom = subprocess.run(
        [*common, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<table id="results">' in dom.stdout
    assert dom.stdout.count("<tr>") >= 2  # header and at least one result row
    assert '<svg id="timeline"' in dom.stdout and "<rect" in dom.stdout
    shot = tmp_path / "report.png"
    run = subprocess.run(
        [*common, "--window-size=1300,1400", f"--screenshot={shot}", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000  # a rendered page, not blank
