"""The JSON API at the door: field errors, roles, EDI files stored whatever happens."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, func, select

from reclaim.models import Claim, EdiFile, Remittance
from tests.support import claim_doc

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "x12"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("patient", "birth_date"), "not a date", "patient.birth_date"),
        (("lines", 0, "charge"), "a lot", "lines[0].charge"),
        (("claim_type",), "dental", "claim_type"),
        (("service_date",), None, "service_date"),
        (("lines",), [], "lines"),
    ],
)
async def test_malformed_claims_are_422_naming_the_field(
    api: dict[str, httpx.AsyncClient], engine, path, value, field  # type: ignore[no-untyped-def]
) -> None:
    with Session(engine) as session:
        before = session.exec(select(func.count()).select_from(Claim)).one()
    doc = claim_doc()
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    response = await api["biller"].post("/api/v1/claims", json=doc)
    assert response.status_code == 422
    assert field in {f["field"] for f in response.json()["fields"]}
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Claim)).one() == before


async def test_missing_field_is_422(api: dict[str, httpx.AsyncClient]) -> None:
    doc = claim_doc()
    del doc["patient"]["member_id"]
    response = await api["biller"].post("/api/v1/claims", json=doc)
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "patient.member_id"


async def test_claim_created_starts_its_workflow(api: dict[str, httpx.AsyncClient],
                                                 dev_env) -> None:  # type: ignore[no-untyped-def]
    response = await api["biller"].post("/api/v1/claims", json=claim_doc())
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "coding"
    description = await dev_env.client.get_workflow_handle(body["workflow_id"]).describe()
    assert description.workflow_type == "ClaimWorkflow"
    detail = await api["coder"].get(f"/api/v1/claims/{body['id']}")
    assert detail.status_code == 200
    assert detail.json()["timeline"][0]["kind"] == "created"


async def test_roles(api: dict[str, httpx.AsyncClient]) -> None:
    assert (await api["anonymous"].get("/api/v1/claims")).status_code == 401
    new_user = {"username": "zed", "password": "long enough pw", "role": "coder"}
    assert (await api["coder"].post("/api/v1/users", json=new_user)).status_code == 403
    created = await api["admin"].post("/api/v1/users", json=new_user)
    assert created.status_code == 201 and created.json()["api_token"].startswith("rk_")
    token = created.json()["api_token"]
    me = await api["anonymous"].get("/api/v1/claims",
                                    headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert (await api["front_desk"].get("/api/v1/audit")).status_code == 403


async def test_unknown_claim_is_404(api: dict[str, httpx.AsyncClient]) -> None:
    response = await api["coder"].get("/api/v1/claims/999999999")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"hello, this is not X12", 400),
        (b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250101*1200*"
         b"^*00501*000000001*0*P*:~"
         b"GS*HP*A*B*20250101*1200*1*X*005010X221A1~ST*835*0001~BPR*I*abc*C*ACH~", 422),
        (b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *250101*1200*"
         b"^*00501*000000001*0*P*:~GS*HP*A*B*20250101*1200*1*X*005010X221A1~ST*835*0001~", 422),
    ],
)
async def test_garbled_edi_is_refused_naming_the_segment_and_kept(
    api: dict[str, httpx.AsyncClient], engine, content: bytes, status: int  # type: ignore[no-untyped-def]
) -> None:
    response = await api["biller"].post("/api/v1/edi", content=content)
    assert response.status_code == status
    body = response.json()
    assert body["error"]
    assert body["file_id"]
    if status == 422:
        assert "segment" in body["detail"]
        assert body["segment_index"] >= 1 and body["segment_id"]
    with Session(engine) as session:
        stored = session.get(EdiFile, body["file_id"])
        assert stored is not None and stored.status == "failed"
        assert stored.raw.encode() == content
    again = await api["biller"].post("/api/v1/edi", content=content)
    assert again.status_code == status and again.json()["file_id"] == body["file_id"]


async def test_an_unmatched_835_is_kept_listed_and_idempotent(
    api: dict[str, httpx.AsyncClient], engine  # type: ignore[no-untyped-def]
) -> None:
    raw = (FIXTURES / "835" / "pyx12-835_mult_loops.txt").read_bytes()
    first = await api["biller"].post("/api/v1/edi", content=raw)
    assert first.status_code == 202, first.text
    body = first.json()
    assert body["type"] == "835" and body["matched"] == 0 and body["unmatched"] >= 1
    with Session(engine) as session:
        rows = session.exec(select(func.count()).select_from(Remittance)
                            .where(Remittance.edi_file_id == body["file_id"])).one()
    again = await api["biller"].post("/api/v1/edi", content=raw)
    assert again.json()["file_id"] == body["file_id"] and again.json()["duplicate"] is True
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Remittance)
                            .where(Remittance.edi_file_id == body["file_id"])).one() == rows
    shown = (await api["coder"].get(f"/api/v1/edi/{body['file_id']}")).json()
    assert set(shown["payment"]) >= {"amount", "method", "date", "trace_number"}
    claim = shown["claims"][0]
    assert {"patient_control_number", "status_code", "charge", "paid", "adjustments",
            "matched_claim_id", "lines"} <= set(claim)
    assert claim["matched_claim_id"] is None
    listed = (await api["coder"].get("/api/v1/edi")).json()["unmatched_remittances"]
    assert any(r["file_id"] == body["file_id"] for r in listed)
