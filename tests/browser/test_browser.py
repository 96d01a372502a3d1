"""A coder and a manager in a real browser (Debian's Chromium) at 1366x768."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Site, sign_in

pytestmark = pytest.mark.browser


def test_coder_opens_an_item_from_work_and_sees_the_claim(page: Any, site: Site,
                                                          tmp_path: Path) -> None:
    sign_in(page, site, "coder", "/work")
    assert page.url.endswith("/work")
    row = page.locator(f"#item-{site.ids['coder_item']}")
    assert "overdue" in (row.get_attribute("class") or "")
    assert "claim lacks information or has a billing error — fix and resend" in row.inner_text()
    page.screenshot(path=str(tmp_path / "work.png"), full_page=True)
    row.get_by_role("link", name=re.compile("Okafor")).click()
    page.wait_for_url(re.compile(rf"/claims/{site.ids['denied']}"))
    assert page.get_by_role("heading", name=re.compile(f"Claim {site.ids['denied']}")).is_visible()
    assert page.get_by_text("Type 2 diabetes mellitus without complications").is_visible()
    assert page.locator("#correction-form").is_visible()
    times = page.locator("time[data-utc]").all_inner_texts()
    assert times
    assert not any(t.endswith("UTC") for t in times)  # shown in the viewer's zone
    page.screenshot(path=str(tmp_path / "claim.png"), full_page=True)


def test_the_scrubber_speaks_while_the_coder_types(page: Any, site: Site) -> None:
    sign_in(page, site, "coder", f"/claims/{site.ids['denied']}")
    # CO-16/N290 names the rendering provider: it comes first, the diagnoses one click away.
    assert page.locator("fieldset.payer-named").get_by_label("Rendering provider NPI").is_visible()
    assert not page.get_by_label("Diagnosis 1", exact=True).is_visible()
    page.get_by_text("Every other field of the claim").click()
    page.get_by_label("Diagnosis 1", exact=True).fill("E11")
    findings = page.locator("#scrub-findings")
    findings.get_by_text(re.compile("E11", re.I)).first.wait_for()
    assert page.get_by_label("Diagnosis 1", exact=True).get_attribute("aria-invalid") == "true"
    page.get_by_label("Diagnosis 1", exact=True).fill("E11.65")
    page.get_by_role("button", name="Send the corrected claim").click()
    page.wait_for_url(re.compile(r"completed=resubmit"))
    assert page.get_by_role("status").inner_text().startswith("Done: Send the corrected claim")
    assert site.client.updates[-1][1].corrections == {"diagnoses": ["E11.65", "I10"]}


def test_keyboard_reaches_the_work_queue(page: Any, site: Site) -> None:
    sign_in(page, site, "coder", "/work")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused


def test_a_coder_is_refused_the_routing_page(page: Any, site: Site) -> None:
    sign_in(page, site, "coder", "/admin/routing")
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert page.get_by_role("link", name="Routing").count() == 0


def test_a_manager_edits_routing_and_sees_the_history(page: Any, site: Site,
                                                      tmp_path: Path) -> None:
    sign_in(page, site, "manager", "/admin/routing")
    page.get_by_label("New rule id").fill("co-16-n999")
    page.get_by_label("New rule group").fill("CO")
    page.get_by_label("New rule carc").fill("16")
    page.get_by_label("New rule rarc").fill("N999")
    page.get_by_label("New rule route").select_option("front_desk")
    page.get_by_label("What changed and why").first.fill("N999 goes to the front desk")
    page.get_by_role("button", name="Save as a new version").first.click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.get_by_role("cell", name="N999 goes to the front desk").is_visible()
    page.screenshot(path=str(tmp_path / "routing.png"))


def test_a_manager_sees_the_dashboard_numbers(page: Any, site: Site, tmp_path: Path) -> None:
    sign_in(page, site, "manager")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    rate = page.locator('[data-kpi="initial-denial-rate"]').inner_text()
    assert re.fullmatch(r"\d+\.\d%", rate), rate
    assert page.locator("svg.chart").count() == 3
    page.locator("#initial-denial-rate").get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/claims\?cohort=denied_first_pass"))
    assert page.locator("#claims-total").inner_text() == "2"
    page.go_back()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)


def test_a_biller_uploads_an_835_and_sees_the_payments_not_posted(page: Any, site: Site,
                                                                   tmp_path: Path) -> None:
    sign_in(page, site, "biller", "/claims")
    page.get_by_role("link", name="Payer files").click()
    page.wait_for_url(re.compile(r"/files$"))
    sample = Path(__file__).resolve().parent.parent / "fixtures" / "x12" / "835" / \
        "lfh-managed-care.835"
    page.get_by_label("A 999, 277CA or 835 file").set_input_files(str(sample))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r"/files\?received=\d+$"))
    status = page.get_by_role("status")
    assert "lfh-managed-care.835" in status.inner_text()
    assert "0 answers matched to claims" in status.inner_text()
    assert page.get_by_role("heading", name="Payments not posted to a claim").is_visible()
    assert page.locator("#unposted + p strong").inner_text().startswith("$")
    assert page.get_by_role("cell", name="processed as primary").count() >= 1
    page.screenshot(path=str(tmp_path / "files.png"), full_page=True)
