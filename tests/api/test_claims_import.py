"""POST /api/v1/claims/import: an 837 from the practice's own system, claim by claim, each good
claim with its workflow started as POST /api/v1/claims starts it."""

from __future__ import annotations

import asyncio

import httpx
from temporalio.testing import WorkflowEnvironment

from contracts.names import claim_workflow_id
from tests.claims.test_intake import TWO_INSTITUTIONAL, UHIN, from_submitter


async def test_import_answers_201_and_starts_each_claims_workflow(
    api: dict[str, httpx.AsyncClient], dev_env: WorkflowEnvironment,
) -> None:
    import uuid

    text = from_submitter(TWO_INSTITUTIONAL, f"API{uuid.uuid4().hex[:8]}")
    broken = text.replace("SV2*0305*HC:85025*13.39*UN*1.00", "SV2*0305")
    response = await api["biller"].post("/api/v1/claims/import", content=broken,
                                        headers={"x-filename": "two.837i"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["file_type"] == "837I"
    assert body["duplicates"] == 0
    [accepted] = body["accepted"]
    assert accepted["patient_control_number"] == "756049Q"
    [refused] = body["refused"]
    assert (refused["patient_control_number"], refused["segment"]) == ("756048Q", 29)
    assert "SV202" in refused["reason"]
    handle = dev_env.client.get_workflow_handle(claim_workflow_id(accepted["claim_id"]))
    assert (await handle.describe()).id == claim_workflow_id(accepted["claim_id"])
    detail = await api["biller"].get(f"/api/v1/claims/{accepted['claim_id']}")
    assert detail.status_code == 200

    # The same file again (now whole): the claim taken before is a duplicate, the other is new.
    again = (await api["coder"].post("/api/v1/claims/import", content=text)).json()
    assert again["duplicates"] == 1
    assert [a["patient_control_number"] for a in again["accepted"]] == ["756048Q"]


async def test_two_imports_at_once_never_answer_500(
    api: dict[str, httpx.AsyncClient],
) -> None:
    import uuid

    text = from_submitter(UHIN, f"RACE{uuid.uuid4().hex[:8]}")
    answers = await asyncio.gather(*(api["manager"].post("/api/v1/claims/import", content=text)
                                     for _ in range(3)))
    assert [a.status_code for a in answers] == [201, 201, 201]
    bodies = [a.json() for a in answers]
    assert sum(len(b["accepted"]) for b in bodies) == 1
    assert sum(b["duplicates"] for b in bodies) == 2


async def test_front_desk_may_not_import_and_bad_files_say_why(
    api: dict[str, httpx.AsyncClient],
) -> None:
    text = UHIN.read_text()
    assert (await api["front_desk"].post("/api/v1/claims/import",
                                         content=text)).status_code == 403
    assert (await api["anonymous"].post("/api/v1/claims/import",
                                        content=text)).status_code == 401
    empty = await api["biller"].post("/api/v1/claims/import", content=b"  ")
    assert empty.status_code == 400
    garbage = await api["biller"].post("/api/v1/claims/import", content=b"not x12 at all")
    assert garbage.status_code == 400
    assert garbage.json()["import_id"] > 0
    era = (TWO_INSTITUTIONAL.parent.parent / "835" / "pyx12-835_mult_loops.txt").read_bytes()
    wrong = await api["biller"].post("/api/v1/claims/import", content=era)
    assert wrong.status_code == 422
    assert "expected 837P or 837I" in wrong.json()["detail"]
    assert wrong.json()["segment_id"] == "ST"
