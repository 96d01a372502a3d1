"""Issue 14's loop as people live it, in Chromium against the real stack (`reclaim up`: Temporal,
the worker, the sandbox payer): the front desk fixes a member-id rejection (277CA A7:33) and a
coder fixes a CO-11, each from the form the queue opens, and each claim ends `paid`; an
unchanged claim is refused on the way."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from tests.e2e.conftest import RunningStack, start_stack, stop_stack
from tests.support import claim_doc

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PASSWORD = "copper-lantern-meadow-42"
PEOPLE = {"frank": "front_desk", "cody": "coder"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("stack"))
    try:
        with running.client() as http:
            for name, role in PEOPLE.items():
                made = http.post("/api/v1/users", json={
                    "username": name, "password": PASSWORD, "role": role,
                    "email": f"{name}@example.com"})
                assert made.status_code == 201, made.text
        yield running
    finally:
        stop_stack(running)


def _post(stack: RunningStack, member_id: str, days_ago: int) -> int:
    doc = claim_doc(patient__member_id=member_id,
                    service_date=(date.today() - timedelta(days=days_ago)).isoformat())
    with stack.client() as http:
        response = http.post("/api/v1/claims", json=doc)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _sign_in(page: Any, stack: RunningStack, name: str, path: str) -> None:
    page.goto(f"{stack.api}{path}")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def _open_from_the_queue(page: Any, stack: RunningStack, claim_id: int) -> None:
    page.goto(f"{stack.api}/work")
    link = page.locator(f'a[href^="/claims/{claim_id}"]').first
    deadline = time.monotonic() + 30
    while not link.count() and time.monotonic() < deadline:  # the item is opening
        page.wait_for_timeout(500)
        page.reload()
    link.click()
    page.wait_for_url(re.compile(rf"/claims/{claim_id}"))
    page.locator("#correction-form").wait_for()


def _claim_status_attribute(stack: RunningStack, claim_id: int, status: str) -> bool:
    async def look() -> bool:
        client = await Client.connect(f"127.0.0.1:{stack.ports['temporal']}")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = [w.id async for w in client.list_workflows(
                f'ClaimStatus = "{status}" AND WorkflowId = "claim-{claim_id}"')]
            if found:
                return True
            await asyncio.sleep(0.5)
        return False

    # Sync Playwright keeps an event loop running in this thread: ask from another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, look()).result()


def test_the_front_desk_fixes_a_member_id_rejection(page: Any, stack: RunningStack,
                                                     tmp_path: Path) -> None:
    claim_id = _post(stack, "TEST-REJECT-33", 30)
    stack.wait_claim(claim_id, "needs_correction")
    # The status is true everywhere: the database, the ClaimStatus search attribute, the filter.
    assert _claim_status_attribute(stack, claim_id, "needs_correction")
    _sign_in(page, stack, "frank", "/claims?status=needs_correction")
    assert page.locator(f'a[href^="/claims/{claim_id}"]').count()

    _open_from_the_queue(page, stack, claim_id)
    what = page.locator("fieldset.payer-named")
    assert "A7:33" in what.inner_text()
    member = what.get_by_label("Member id")
    assert member.input_value() == "TEST-REJECT-33"  # pre-filled
    assert not page.locator("details.all-fields").get_attribute("open")
    page.get_by_text("Every other field of the claim").click()
    assert page.get_by_label("Rendering provider NPI").is_visible()
    page.screenshot(path=str(tmp_path / "front-desk-form.png"), full_page=True)

    # Sent unchanged: refused, nothing lost.
    page.get_by_label("Note (optional)").fill("checked the card")
    page.get_by_role("button", name="Send the corrected claim").click()
    page.wait_for_load_state("networkidle")
    assert "nothing changed since attempt 1" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Note (optional)").input_value() == "checked the card"

    # A blank member id is a finding on the field, not ignored.
    page.locator("fieldset.payer-named").get_by_label("Member id").fill("")
    page.get_by_role("button", name="Send the corrected claim").click()
    page.wait_for_load_state("networkidle")
    assert "Member id is required" in page.locator("#err-patient-member_id").inner_text()

    page.locator("fieldset.payer-named").get_by_label("Member id").fill("W123456780")
    page.get_by_role("button", name="Send the corrected claim").click()
    page.wait_for_url(re.compile(r"completed=resubmit"))
    body = stack.wait_claim(claim_id, "paid")
    assert [s["frequency_code"] for s in body["submissions"]] == ["1", "1"]
    page.goto(f"{stack.api}/claims/{claim_id}")
    changes = page.locator("#corrections").inner_text()
    assert "TEST-REJECT-33" in changes
    assert "W123456780" in changes


def test_the_coder_fixes_a_co_11_from_the_queue(page: Any, stack: RunningStack,
                                                 tmp_path: Path) -> None:
    claim_id = _post(stack, "TEST-CO-11", 31)
    stack.wait_claim(claim_id, "needs_correction")
    _sign_in(page, stack, "cody", "/work")
    _open_from_the_queue(page, stack, claim_id)
    what = page.locator("fieldset.payer-named")
    assert "CO-11" in what.inner_text()
    dx = what.get_by_label("Diagnosis 1", exact=True)
    assert dx.input_value() == "E11.9"
    dx.fill("E11.65")
    page.screenshot(path=str(tmp_path / "coder-form.png"), full_page=True)
    page.get_by_role("button", name="Send the corrected claim").click()
    page.wait_for_url(re.compile(r"completed=resubmit"))
    body = stack.wait_claim(claim_id, "paid")
    assert [s["frequency_code"] for s in body["submissions"]] == ["1", "7"]
    assert "E1165" in body["submissions"][1]["x12"]
    assert body["submissions"][1]["changes"][0]["field"] == "diagnoses"
