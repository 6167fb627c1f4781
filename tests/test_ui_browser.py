"""`stagehunt ui` in headless Chromium (Debian's, driven by Playwright): type the seed
query and see its 4 rows, click a field value and see the narrowed search, drag the
histogram, page through 10,000 results, see an inline error with a caret, cancel a long
search, run a detection and follow a hit to its events. Each step saves a screenshot
(tests/artifacts/ui/, ignored by git) after checking the elements it should show.

One server and one browser for the module; every test opens the page afresh."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chromium import CHROMIUM, FLAGS
from stagehunt.api import sample_paths, seed_spl
from uiserver import Served, served

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (make test installs it as root)"
)
SHOTS = Path(__file__).parent / "artifacts" / "ui"
EXPECTED = json.loads(
    (Path(__file__).parent / "fixtures" / "sample_expected.json").read_text(encoding="utf-8")
)


def _sample() -> list[dict[str, Any]]:
    out = []
    for path in sample_paths():
        out += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
    return out


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def ui() -> Iterator[Served]:
    with served() as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, ui: Served) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    tab.goto(f"{ui.base}/?token={ui.token}")
    yield tab
    context.close()


def _search(page: Any, spl: str, state: str = "done") -> None:
    page.fill("#query", spl)
    page.click("#run")
    page.wait_for_selector(f"#status[data-state={state}]")


def _shot(page: Any, name: str) -> Path:
    """Save a screenshot; check it is a real render of the page's size."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1360, 900)
    return path


def _cells(page: Any, column: int) -> list[str]:
    return [
        c.strip()
        for c in page.locator(f"#stats-table tbody tr td:nth-child({column})").all_inner_texts()
    ]


def test_seed_query_shows_the_four_rows(page: Any) -> None:
    _search(page, seed_spl())
    assert page.inner_text("#status").startswith("4 results")
    assert page.locator("#tab-stats.active").count() == 1  # a stats result: statistics
    assert page.locator("#stats-table tbody tr").count() == 4
    headers = page.locator("#stats-table thead th").all_inner_texts()
    assert headers == EXPECTED["columns"]
    assert _cells(page, 2) == [row[1] for row in EXPECTED["rows"]]  # host
    assert _cells(page, 7) == [str(row[6]) for row in EXPECTED["rows"]]  # EventCount
    # StagingTypes is multivalue: one value per line
    first = page.locator("#stats-table tbody tr").first.locator("td:nth-child(6) .mv div")
    assert first.all_inner_texts() == EXPECTED["rows"][0][5]
    assert page.is_visible("#export-csv") and page.is_visible("#export-json")
    _shot(page, "1-seed")


def test_clicking_a_field_value_narrows_the_search(page: Any) -> None:
    events = _sample()
    _search(page, "index=wineventlog")
    assert page.get_attribute("#status", "data-rows") == str(len(events))
    assert page.locator("#tab-events.active").count() == 1
    assert page.locator("#event-list .event").count() == 50  # one page
    assert page.locator("#event-list .event .raw").count() == 50  # events show _raw
    page.click('#field-list button.field-name[data-field="host"]')
    value = "WKS-FIN-042.corp.example.com"
    button = page.locator(f'#field-list button.value[data-field="host"][title="{value}"]')
    assert button.is_visible()
    share = sum(1 for e in events if e["host"] == value)
    row = button.locator("xpath=..").inner_text()
    assert f"{share} ({100 * share / len(events):.1f}%)" in row
    _shot(page, "2-fields")
    button.click()
    # (no wait_for_function: the page's Content-Security-Policy forbids eval)
    page.wait_for_selector(f"#status[data-state=done][data-rows='{share}']")
    assert page.input_value("#query") == f'index=wineventlog host="{value}"'
    hosts = page.locator('#field-list li[data-field="host"] .cov').inner_text()
    assert hosts.startswith("1 ·") and hosts.endswith("100%")
    _shot(page, "3-narrowed")


def test_dragging_the_histogram_narrows_the_time_range(page: Any) -> None:
    times = [_epoch(e["_time"]) for e in _sample()]
    _search(page, "index=wineventlog")
    page.wait_for_selector("#histogram rect.bar")
    box = page.locator("#histogram").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.30, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.55, y, steps=5)
    assert page.locator("#histogram rect.selection").count() == 1
    _shot(page, "4-histogram-drag")
    page.mouse.up()
    assert page.input_value("#time") == "custom"
    earliest = int(page.input_value("#earliest"))
    latest = int(page.input_value("#latest"))
    assert min(times) < earliest < latest < max(times)
    expected = sum(1 for t in times if earliest <= t < latest)
    assert 0 < expected < len(times)
    page.wait_for_selector(f"#status[data-state=done][data-rows='{expected}']")
    _shot(page, "5-histogram-narrowed")


def test_paging_through_ten_thousand_results(page: Any) -> None:
    _search(page, "| makeresults count=10000 | streamstats count as n | table n")
    assert page.get_attribute("#status", "data-rows") == "10000"
    assert page.inner_text("#page-info") == "page 1 of 200"
    assert _cells(page, 1)[:2] == ["1", "2"]
    page.click("#next")
    page.wait_for_selector("#page-info[data-page='2']")
    assert _cells(page, 1)[0] == "51"
    page.click("#last")
    page.wait_for_selector("#page-info[data-page='200']")
    cells = _cells(page, 1)
    assert cells[0] == "9951" and cells[-1] == "10000" and len(cells) == 50
    assert page.is_disabled("#next") and not page.is_disabled("#prev")
    _shot(page, "6-paging")


def test_a_broken_query_shows_the_error_with_a_caret(page: Any) -> None:
    page.fill("#query", "foo | stats cnt(x")
    page.click("#run")
    page.wait_for_selector("#error:not([hidden])")
    message = page.inner_text("#error-message")
    assert message == (
        "syntax error at line 1, column 18: expected ')' to close cnt(, found end of query"
    )
    where = page.text_content("#error-where")
    assert where == "foo | stats cnt(x\n" + " " * 17 + "^"
    _shot(page, "7-error")


def test_a_long_search_shows_progress_and_cancels(page: Any) -> None:
    page.fill(
        "#query", "| makeresults count=10000000 | eval x=md5(tostring(random())) | stats dc(x)"
    )
    page.click("#run")
    page.wait_for_selector("#cancel:visible")
    page.wait_for_selector("#progress[value]")
    _shot(page, "8-running")
    page.click("#cancel")
    page.wait_for_selector("#status[data-state=cancelled]", timeout=10_000)
    assert page.inner_text("#status").startswith("cancelled")
    assert not page.is_visible("#cancel")


def test_explain_shows_the_sql(page: Any) -> None:
    page.fill("#query", "EventCode=11 | stats count by host")
    page.click("#explain")
    page.wait_for_selector("#sql:not([hidden])")
    assert page.text_content("#sql").lstrip().startswith("WITH")


def test_detections_view_links_hits_to_their_events(page: Any) -> None:
    page.click("#nav-detections")
    row = page.locator('#detection-list tr[data-name="T1074.seed"]')
    row.locator("button.run-detection").click()
    page.wait_for_selector("#hits tbody tr")
    assert page.locator("#hits tbody tr").count() == 4
    page.wait_for_selector("#host-timeline svg#timeline rect")
    assert page.locator("#host-timeline svg#timeline rect").count() == 4
    page.locator("#host-timeline").scroll_into_view_if_needed()
    _shot(page, "9-detections")
    page.locator("#hits tbody tr").first.locator("button.hit-events").click()
    page.wait_for_selector("#view-search:not([hidden])")
    page.wait_for_selector("#status[data-state=done]")
    assert page.get_attribute("#status", "data-rows") == str(EXPECTED["rows"][0][6])
    assert 'host="WKS-FIN-042.corp.example.com"' in page.input_value("#query")
    _shot(page, "10-hit-events")


def test_the_page_without_the_token_is_refused(browser: Any, ui: Served) -> None:
    context = browser.new_context()
    tab = context.new_page()
    response = tab.goto(f"{ui.base}/")
    assert response is not None and response.status == 403
    assert "token" in tab.inner_text("body") and tab.locator("#query").count() == 0
    context.close()
