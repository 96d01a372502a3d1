"""The daily-work queue and the friendly edges in a real browser (Debian's Chromium)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from reclaim.models import WorkItem
from tests.browser.conftest import Site, sign_in
from tests.factories import add_claim, add_item

pytestmark = pytest.mark.browser
NOW = datetime.now(UTC)
# Realistic items: the reasons the demo payers send, with long plain words.
REASONS = [
    {"group": "CO", "carc": "16", "rarcs": ["N290"]},
    {"group": "CO", "carc": "11", "rarcs": []},
    {"group": "CO", "carc": "151", "rarcs": ["N362"]},
    {"group": "CO", "carc": "97", "rarcs": ["M15"]},
    {"group": "CO", "carc": "4", "rarcs": []},
    {"group": "CO", "carc": "16", "rarcs": ["MA130", "M77"]},
]


def _many_items(site: Site, count: int = 24) -> list[int]:
    ids = []
    with Session(site.engine) as s:
        for i in range(count):
            claim = add_claim(s, status="needs_correction", charge=f"{100 + 37 * i}.00",
                              last_name=f"Longfamilyname{i}")
            denial = REASONS[i % len(REASONS)]
            item = add_item(s, claim, data={"denials": [denial]},
                            title=f"Claim {claim.id}: denied — {denial['group']}-"
                                  f"{denial['carc']} claim lacks informa",
                            sla_due_at=NOW + timedelta(hours=3 * i - 5),
                            due_at=NOW + timedelta(days=5 + 20 * i),
                            created_at=NOW - timedelta(days=i),
                            assignee="cora" if i % 2 else None)
            ids.append(item.id)
        s.commit()
    return ids  # type: ignore[return-value]


@pytest.fixture
def big_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900},
                                  timezone_id="America/Chicago", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _visible_rows(page: Any) -> int:
    return page.evaluate("""() => Array.from(document.querySelectorAll('#work-table tbody tr'))
        .filter(tr => { const r = tr.getBoundingClientRect();
                        return r.top >= 0 && r.bottom <= window.innerHeight; }).length""")


def test_a_coder_sees_at_least_15_rows_at_1440x900(big_page: Any, site: Site,
                                                   tmp_path: Path) -> None:
    _many_items(site)
    sign_in(big_page, site, "coder", "/work")
    assert big_page.evaluate("window.scrollY") == 0
    visible = _visible_rows(big_page)
    big_page.screenshot(path=str(tmp_path / "work-1440.png"))
    assert visible >= 15, f"only {visible} rows fit in 1440x900"
    # Every row reads once: no cut title, the code once, the words whole or cut at a word.
    first = big_page.locator("#work-table tbody tr").first.inner_text()
    assert not re.search(r"informa\b", first)  # the workflow's title, cut mid-word
    words = big_page.locator("#work-table tbody tr td.what .words").all_inner_texts()
    for text in words:
        assert not re.search(r"\w…", text) or text.endswith("…")
        assert "absorbs" not in text


def test_sort_and_filters_are_kept_in_the_url(big_page: Any, site: Site,
                                              tmp_path: Path) -> None:
    _many_items(site, 8)
    sign_in(big_page, site, "manager", "/work")
    big_page.screenshot(path=str(tmp_path / "work-manager.png"))
    big_page.get_by_role("link", name=re.compile("^At stake")).click()
    big_page.wait_for_url(re.compile(r"sort=amount&dir=desc"))
    amounts = big_page.locator("#work-table tbody tr td:nth-child(5)").all_inner_texts()
    values = [float(a.replace("$", "").replace(",", "")) for a in amounts]
    assert values == sorted(values, reverse=True)
    big_page.get_by_label("Denial code").fill("CO-16")
    big_page.get_by_role("button", name="Show").click()
    big_page.wait_for_url(re.compile(r"code=CO-16"))
    assert "sort=amount" in big_page.url  # filtering kept the sort
    codes = big_page.locator("#work-table tbody tr td.code").all_inner_texts()
    assert codes
    assert all(c.startswith("CO-16") for c in codes)
    big_page.reload()
    assert big_page.get_by_label("Denial code").input_value() == "CO-16"


def test_a_manager_bulk_assigns_checked_items(big_page: Any, site: Site) -> None:
    ids = _many_items(site, 6)
    unassigned = [ids[0], ids[2]]
    sign_in(big_page, site, "manager", "/work?assignee=nobody")
    for item_id in unassigned:
        big_page.locator(f"#pick-{item_id}").check()
    big_page.wait_for_timeout(6_000)  # a refresh comes and goes: the checks stay
    for item_id in unassigned:
        assert big_page.locator(f"#pick-{item_id}").is_checked()
    big_page.get_by_label("Assign the checked items to").select_option("cora")
    big_page.get_by_role("button", name="Assign checked").click()
    notice = big_page.get_by_role("status")
    notice.wait_for()
    assert "2 items assigned to cora." in notice.inner_text()
    with Session(site.engine) as s:
        assert [s.get(WorkItem, i).assignee for i in unassigned] == ["cora", "cora"]  # type: ignore[union-attr]


def test_export_downloads_the_filtered_list(big_page: Any, site: Site, tmp_path: Path) -> None:
    _many_items(site, 8)
    sign_in(big_page, site, "manager", "/work?code=CO-11&sort=amount&dir=desc")
    shown = big_page.locator("#work-table tbody tr").count()
    with big_page.expect_download() as info:
        big_page.get_by_role("link", name="Export CSV").click()
    path = tmp_path / "work.csv"
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) == shown
    assert {r["code"] for r in rows} == {"CO-11"}
    amounts = [float(r["at_stake"]) for r in rows]
    assert amounts == sorted(amounts, reverse=True)


def test_a_too_large_upload_gets_a_page_that_says_the_limit(page: Any, site: Site,
                                                            tmp_path: Path) -> None:
    big = tmp_path / "remit.835"
    with big.open("wb") as f:
        f.truncate(51 * 1024 * 1024)  # over the 50 MiB of a payer file
    sign_in(page, site, "biller", "/files")
    page.get_by_label(re.compile("A 999, 277CA or 835 file")).set_input_files(str(big))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("heading", name="Too large").wait_for()
    text = page.locator("main").inner_text()
    assert "50.1 MiB" in text
    assert "Content Too Large" not in text
    assert page.get_by_role("link", name="Back to payer files").is_visible()


def test_api_docs_render_with_no_other_host_reachable(page: Any, site: Site) -> None:
    outside: list[str] = []

    def only_ours(route: Any) -> None:
        if route.request.url.startswith(site.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_ours)
    page.goto(f"{site.url}/docs")
    page.locator(".swagger-ui .info .title").get_by_text("Reclaim").wait_for()
    assert page.locator(".opblock-tag").count() > 0  # the operations, from /openapi.json
    page.goto(f"{site.url}/redoc")
    page.get_by_role("heading", name=re.compile("Reclaim")).first.wait_for()
    assert outside == []
