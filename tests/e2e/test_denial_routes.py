"""Issue 4's "done when", as a user would see it after `make run`: the four trigger member ids
through the real stack, its sandbox payer and its SMTP sink."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningStack, start_stack, stop_stack
from tests.support import claim_doc

pytestmark = pytest.mark.e2e


def _post(stack: RunningStack, member_id: str, days_ago: int, **changes: object) -> int:
    doc = claim_doc(patient__member_id=member_id,
                    service_date=(date.today() - timedelta(days=days_ago)).isoformat(),
                    **changes)
    if member_id == "TEST-CO-16-N290":
        del doc["rendering_provider"]  # the fix the directory supplies
    with stack.client() as http:
        response = http.post("/api/v1/claims", json=doc)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _open_item(stack: RunningStack, claim_id: int, timeout: float = 60) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    with stack.client() as http:
        while time.monotonic() < deadline:
            items = http.get("/api/v1/work-items", params={"claim_id": claim_id}).json()["items"]
            if items:
                return items[0]
            time.sleep(0.3)
    raise AssertionError(f"no work item for claim {claim_id}")


def test_trigger_ids_end_where_the_design_says(tmp_path: Path) -> None:
    stack = start_stack(tmp_path, demo=True)
    try:
        autofix = _post(stack, "TEST-CO-16-N290", 41)
        coder = _post(stack, "TEST-CO-11", 42)
        appeal = _post(stack, "TEST-CO-50", 43)
        patient = _post(stack, "TEST-PR-1", 44)

        fixed = stack.wait_claim(autofix, "paid")
        assert [s["frequency_code"] for s in fixed["submissions"]] == ["1", "7"]
        assert "REF*F8*" in fixed["submissions"][1]["x12"]

        assert stack.wait_claim(patient, "patient_responsibility")

        stack.wait_claim(coder, "needs_correction")  # a coder must correct it (DESIGN.md)
        item = _open_item(stack, coder)
        assert item["queue"] == "coder"
        with stack.client() as http:
            deadline = time.monotonic() + 30
            mail = []
            while not mail and time.monotonic() < deadline:
                page = http.get("/mail")
                mail = [line for line in page.text.splitlines() if f"claim {coder}" in line]
                time.sleep(0.3)
            assert mail, "the coder's notice never reached /mail"
            done = http.post(f"/api/v1/work-items/{item['id']}/complete",
                             json={"action": "resubmit", "note": "diabetes with hyperglycemia",
                                   "corrections": {"diagnoses": ["E11.65", "I10"]}})
            assert done.status_code == 200, done.text
        stack.wait_claim(coder, "paid")

        stack.wait_claim(appeal, "appealing")
        item = _open_item(stack, appeal)
        assert item["queue"] == "appeal"
        deadline = time.monotonic() + 30
        while "letter_html" not in item["data"] and time.monotonic() < deadline:
            time.sleep(0.3)
            item = _open_item(stack, appeal)
        assert "CO-50" in item["data"]["letter_html"]
    finally:
        stop_stack(stack)
