"""The JSON API at the door: field errors, roles, EDI files stored whatever happens."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, insert
from sqlmodel import Session, col, func, select

from reclaim.claims.schemas import ClaimDocument
from reclaim.claims.service import create_claim, patient_control_number
from reclaim.db import session_scope
from reclaim.edi import outbox, payments
from reclaim.edi.ingest import ingest_file
from reclaim.edi.outbox import signal_page
from reclaim.models import Claim, EdiFile, Remittance
from reclaim.x12.models import (
    Adjustment,
    ClaimPayment,
    Envelope,
    Payment,
    Remittance835,
    ServicePayment,
)
from reclaim.x12.write_payer import write_835
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


async def test_a_nul_byte_in_a_query_or_path_is_422_naming_it(
    api: dict[str, httpx.AsyncClient],
) -> None:
    """PostgreSQL refuses NUL in text: found by schemathesis as a 500 on ?assignee=%00."""
    for url, field in (("/api/v1/claims?status=&assignee=%00", "assignee"),
                       ("/api/v1/claims?q=a%00b", "q"),
                       ("/api/v1/claims/%00", "path")):
        response = await api["manager"].get(url)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["fields"][0]["field"] == field
    # An ordinary filter still answers.
    assert (await api["manager"].get("/api/v1/claims?assignee=nobody")).status_code == 200


async def test_the_claim_list_filters_by_the_claims_age_on_file_and_its_status(
    api: dict[str, httpx.AsyncClient], engine: Engine,
) -> None:
    """`min_age_days` counts days since the claim was entered; `status` takes a list."""
    with session_scope(engine) as session:
        made = []
        for days, status in ((30, "denied"), (1, "denied"), (30, "paid")):
            claim = create_claim(session=session, document=ClaimDocument.model_validate(
                claim_doc(patient__last_name="Agewright")))
            claim.created_at = datetime.now(UTC) - timedelta(days=days)
            claim.status = status
            made.append(claim.id)
    old_denied, _new_denied, old_paid = made

    async def listed(query: str) -> list[int]:
        response = await api["manager"].get(f"/api/v1/claims?q=agewright&{query}")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"items", "total", "page", "page_size"}
        assert body["total"] == len(body["items"])
        return sorted(item["id"] for item in body["items"])

    assert await listed("min_age_days=7") == sorted([old_denied, old_paid])
    assert await listed("min_age_days=7&status=denied") == [old_denied]
    assert await listed("status=denied,paid") == sorted(made)
    assert (await api["manager"].get("/api/v1/claims?min_age_days=-1")).status_code == 422


async def test_a_nul_in_a_json_body_is_422_before_it_reaches_a_workflow(
    api: dict[str, httpx.AsyncClient],
) -> None:
    decision = "/api/v1/claims/999999/appeal-decision"
    response = await api["manager"].post(decision, json={"decision": "upheld",
                                                          "note": "sent\x00twice"})
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["field"] == "note"
    response = await api["admin"].post("/api/v1/users", json={"username": "nul\x00user",
                                                              "role": "coder"})
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["field"] == "username"
    # The six characters \u0000 typed into a note are text, not a NUL: the request goes on
    # (to a 404, as claim 999999 has no workflow).
    response = await api["manager"].post(decision, json={"decision": "upheld",
                                                          "note": "typed \\u0000 as text"})
    assert response.status_code == 404, response.text


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
    assert created.status_code == 201
    assert created.json()["api_token"].startswith("rk_")
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
        assert body["segment_index"] >= 1
        assert body["segment_id"]
    with Session(engine) as session:
        stored = session.get(EdiFile, body["file_id"])
        assert stored is not None
        assert stored.status == "failed"
        assert stored.raw.encode() == content
    again = await api["biller"].post("/api/v1/edi", content=content)
    assert again.status_code == status
    assert again.json()["file_id"] == body["file_id"]


async def test_an_unmatched_835_is_kept_listed_and_idempotent(
    api: dict[str, httpx.AsyncClient], engine  # type: ignore[no-untyped-def]
) -> None:
    raw = (FIXTURES / "835" / "pyx12-835_mult_loops.txt").read_bytes()
    first = await api["biller"].post("/api/v1/edi", content=raw)
    assert first.status_code == 202, first.text
    body = first.json()
    assert (body["type"], body["matched"]) == ("835", 0)
    assert body["unmatched"] >= 1
    with Session(engine) as session:
        rows = session.exec(select(func.count()).select_from(Remittance)
                            .where(Remittance.edi_file_id == body["file_id"])).one()
    again = await api["biller"].post("/api/v1/edi", content=raw)
    assert again.json()["file_id"] == body["file_id"]
    assert again.json()["duplicate"] is True
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


# ---------------------------------------------------------------- an 835 stored as it is read

def paid_claim(pcn: str, *, member: str | None = None, day: date | None = None,
               procedure: str = "99214") -> ClaimPayment:
    return ClaimPayment(
        patient_control_number=pcn, status_code="1", charge=Decimal("150.00"),
        paid=Decimal("120.00"), payer_claim_control_number=f"SBX-{pcn}", member_id=member,
        lines=[ServicePayment(procedure=procedure, charge=Decimal("150.00"),
                              paid=Decimal("120.00"), units=Decimal("1"), service_date=day,
                              adjustments=[Adjustment(group="CO", reason="45",
                                                      amount=Decimal("30.00"))])])


def era_835(claims: list[ClaimPayment], *, number: int) -> str:
    return write_835(Remittance835(
        envelope=Envelope(sender_id="SANDBOX", receiver_id="RECLAIM",
                          interchange_control_number=number, group_control_number=number,
                          created=datetime(2026, 11, 21, 9, 30)),
        payer_name="SANDBOX HEALTH PLAN", payer_id="SANDBOX",
        payee_name="SPRINGFIELD FAMILY MEDICINE", payee_npi="1234567893",
        payment=Payment(amount=sum((c.paid for c in claims), Decimal("0")), method="ACH",
                        date=date(2026, 11, 21), trace_number=f"TRC{number}",
                        payer_identifier="1990000001"),
        claims=claims))


async def test_an_835_is_stored_a_few_claims_at_a_time_and_shown_a_page_at_a_time(
    api: dict[str, httpx.AsyncClient], engine, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(payments, "CLAIM_CHUNK", 3)
    monkeypatch.setattr(outbox, "SIGNAL_PAGE", 4)
    documents = [claim_doc() for _ in range(8)]
    with session_scope(engine) as session:
        stored = []
        for document in documents:
            claim = create_claim(session=session, document=ClaimDocument.model_validate(document))
            claim.status, claim.attempts = "submitted", 1
            stored.append(claim)
        session.flush()
        ids = [c.id for c in stored]
    lost = documents[5]  # its number mangled by the payer: matched by member, date and visit
    first = [paid_claim(patient_control_number(i, 1)) for i in ids[:5]] + [
        paid_claim("RCX" + str(ids[5]), member=lost["patient"]["member_id"],
                   day=date.fromisoformat(lost["service_date"]),
                   procedure=lost["lines"][0]["procedure"]),
        paid_claim("RC999999999-1")]
    second = [paid_claim(patient_control_number(i, 1)) for i in ids[6:]]
    number = ids[0] % 900_000_000 + 1
    text = era_835(first, number=number) + era_835(second, number=number + 1)
    posted = await api["biller"].post("/api/v1/edi", content=text.encode())
    assert posted.status_code == 202, posted.text
    file_id = posted.json()["file_id"]
    assert (posted.json()["matched"], posted.json()["unmatched"]) == (8, 1)
    expected = [*ids[:6], None, *ids[6:]]
    with Session(engine) as session:
        rows = session.exec(select(Remittance).where(Remittance.edi_file_id == file_id)
                            .order_by(col(Remittance.position))).all()
        assert [r.position for r in rows] == list(range(1, 10))
        assert [r.claim_id for r in rows] == expected
        assert [r.trace_number for r in rows] == [f"TRC{number}"] * 7 + [f"TRC{number + 1}"] * 2
        edi = session.get(EdiFile, file_id)
        assert edi is not None
        assert edi.signalled
        # The file keeps each remittance's header, not its claims.
        assert edi.parsed is not None
        assert "claims" not in edi.parsed
        assert [r["claim_count"] for r in edi.parsed["remittances"]] == [7, 2]
        pages, cursor = [], (0, 0)
        while cursor is not None:
            page, cursor = signal_page(session=session, file_id=file_id, after=cursor)
            pages.append([(s.claim_id, s.event.position) for s in page])
    assert all(len(page) <= 4 for page in pages)
    assert [s for page in pages for s in page] == [
        (claim_id, position) for position, claim_id in enumerate(expected, 1) if claim_id]

    shown = (await api["coder"].get(f"/api/v1/edi/{file_id}")).json()
    assert (shown["claims_total"], shown["claims_offset"], shown["claims_limit"]) == (9, 0, 200)
    assert shown["payment"]["trace_number"] == f"TRC{number}"
    assert [c["matched_claim_id"] for c in shown["claims"]] == expected[:7]
    assert [[c["matched_claim_id"] for c in r["claims"]] for r in shown["remittances"]] == [
        expected[:7], expected[7:]]
    assert shown["claims"][0] == {
        "patient_control_number": patient_control_number(ids[0], 1), "status_code": "1",
        "charge": "150", "paid": "120", "patient_responsibility": "0",  # as the 835 says
        "payer_claim_control_number": f"SBX-{patient_control_number(ids[0], 1)}",
        "adjustments": [], "remarks": [], "lines": [{
            "procedure": "99214", "qualifier": "HC", "modifiers": [], "charge": "150",
            "paid": "120", "units": "1", "revenue_code": None, "service_date": None,
            "line_control_number": None,
            "adjustments": [{"group": "CO", "reason": "45", "amount": "30",
                             "quantity": None}], "remarks": []}],
        "matched_claim_id": ids[0]}

    page = (await api["coder"].get(f"/api/v1/edi/{file_id}",
                                   params={"offset": 5, "limit": 3})).json()
    assert (page["claims_total"], page["claims_offset"], page["claims_limit"]) == (9, 5, 3)
    assert [[c["matched_claim_id"] for c in r["claims"]] for r in page["remittances"]] == [
        [ids[5], None], [ids[6]]]
    assert [c["patient_control_number"] for c in page["claims"]] == [
        "RCX" + str(ids[5]), "RC999999999-1"]
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
        assert (await api["coder"].get(f"/api/v1/edi/{file_id}", params=bad)).status_code == 422


def test_an_835_is_read_and_stored_without_holding_every_claim(fresh_engine) -> None:  # type: ignore[no-untyped-def]
    """Four times the claims may cost the copies of the larger text, not a copy of every
    claim (reading the whole file into models first cost about 8 KiB a claim)."""
    count = 4000
    with session_scope(fresh_engine) as session:
        session.execute(insert(Claim), [dict(
            status="accepted", payer_id="SANDBOX", patient_last_name="Lee",
            patient_first_name="Ann", member_id=f"W{n:09d}", billing_npi="1234567893",
            service_date=date(2026, 11, 2), total_charge=Decimal("150.00"),
            paid_amount=Decimal("0"), patient_responsibility=Decimal("0"), attempts=1,
            document={}) for n in range(count)])
        ids = list(session.exec(select(Claim.id).order_by(col(Claim.id))).all())

    def era(claim_ids: list[int | None], number: int) -> bytes:
        return era_835([paid_claim(patient_control_number(i, 1)) for i in claim_ids if i],
                       number=number).encode()

    def peak(raw: bytes, matched: int) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            with session_scope(fresh_engine) as session:
                result = ingest_file(session=session, raw=raw, source="test",
                                     collect_signals=False)
            _, found = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert (result.matched, result.unmatched, result.signals) == (matched, 0, [])
        return found

    peak(era(ids[:3], 1), 3)  # what any first file costs (compiled queries, imports)
    small, large = era(ids[: count // 4], 2), era(ids, 3)
    growth = peak(large, count) - peak(small, count // 4)
    assert growth < 3 * (len(large) - len(small)) + 2**20, growth
