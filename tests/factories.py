"""Rows for KPI and page tests, written straight into the projection tables."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from reclaim.auth import create_user
from reclaim.denials.facts import refresh_denial_facts
from reclaim.models import (
    Claim,
    ClaimEvent,
    Denial,
    EdiFile,
    ReceivedMail,
    Remittance,
    Submission,
    User,
    WorkItem,
)
from tests.support import claim_doc

_seq = itertools.count(1)


def add_claim(
    session: Session,
    *,
    status: str = "submitted",
    payer: str = "SANDBOX",
    service_date: date = date(2026, 1, 10),
    charge: str = "100.00",
    paid: str = "0",
    patient_resp: str = "0",
    clean: bool | None = None,
    denied: bool | None = None,
    attempts: int = 1,
    closed_at: datetime | None = None,
    last_name: str = "Lee",
    member_id: str | None = None,
    route: str | None = None,
    assigned_to: str | None = None,
    document: dict[str, Any] | None = None,
) -> Claim:
    doc = document or claim_doc(payer_id=payer, service_date=service_date.isoformat(),
                                patient__last_name=last_name)
    claim = Claim(
        status=status, payer_id=payer, patient_last_name=last_name,
        patient_first_name=doc["patient"]["first_name"],
        member_id=member_id or doc["patient"]["member_id"], billing_npi="1234567893",
        service_date=service_date, total_charge=Decimal(charge), paid_amount=Decimal(paid),
        patient_responsibility=Decimal(patient_resp), attempts=attempts, document=doc,
        clean_first_pass=clean, denied_first_pass=denied, closed_at=closed_at,
        denial_route=route, assigned_to=assigned_to,
    )
    session.add(claim)
    session.flush()
    claim.workflow_id = f"claim-{claim.id}"
    return claim


def add_remittance(session: Session, claim: Claim, *, paid: str, attempt: int = 1,
                   status_code: str = "1", received_at: datetime | None = None) -> Remittance:
    n = next(_seq)
    edi = EdiFile(sha256=hashlib.sha256(f"edi-{n}-{datetime.now()}".encode()).hexdigest(),
                  type="835", raw=f"ISA*{n}~")
    session.add(edi)
    session.flush()
    remittance = Remittance(
        edi_file_id=edi.id, position=0, claim_id=claim.id, attempt=attempt,  # type: ignore[arg-type]
        patient_control_number=f"RC{claim.id}-{attempt}", status_code=status_code,
        charge=claim.total_charge, paid=Decimal(paid), patient_responsibility=Decimal("0"),
        data={"adjustments": [], "lines": []},
        received_at=received_at or datetime(2026, 1, 1, tzinfo=UTC),
    )
    session.add(remittance)
    refresh_denial_facts(session, [remittance.claim_id or 0])
    return remittance


def add_denial(session: Session, claim: Claim, remittance: Remittance, *, created_at: datetime,
               group: str = "CO", carc: str = "16", amount: str = "100.00",
               rarcs: list[str] | None = None, route: str = "coder") -> Denial:
    denial = Denial(
        claim_id=claim.id, remittance_id=remittance.id, attempt=remittance.attempt or 1,  # type: ignore[arg-type]
        level="claim", group=group, carc=carc, rarcs=rarcs or [], amount=Decimal(amount),
        route=route, payer_id=claim.payer_id, created_at=created_at,
    )
    session.add(denial)
    refresh_denial_facts(session, [denial.claim_id])
    return denial


def add_item(session: Session, claim: Claim, *, queue: str = "coder", status: str = "open",
             due_at: datetime | None = None, created_at: datetime | None = None,
             assignee: str | None = None, data: dict[str, Any] | None = None,
             resolution: str | None = None, completed_at: datetime | None = None,
             title: str | None = None, kind: str = "denial",
             sla_due_at: datetime | None = None, detail: str = "check the claim") -> WorkItem:
    from reclaim.work.queue import reason_code_of

    n = next(_seq)
    item = WorkItem(
        key=f"test-{claim.id}-{n}", claim_id=claim.id, queue=queue, kind=kind,  # type: ignore[arg-type]
        status=status, title=title or f"Claim {claim.id}: {queue} work", detail=detail,
        data=data or {}, assignee=assignee, due_at=due_at, sla_due_at=sla_due_at,
        reason_code=reason_code_of(data, detail),
        created_at=created_at or datetime(2026, 1, 1, tzinfo=UTC), resolution=resolution,
        completed_at=completed_at,
    )
    session.add(item)
    session.flush()
    item.workflow_id = f"work-item-{item.id}"
    return item


def add_submission(session: Session, claim: Claim, *, attempt: int = 1,
                   transaction_type: str = "837P") -> Submission:
    submission = Submission(
        claim_id=claim.id, attempt=attempt, patient_control_number=f"RC{claim.id}-{attempt}",  # type: ignore[arg-type]
        transaction_type=transaction_type, x12="ISA*00~GS*HC~ST*837*0001~CLM*X*100***11:B:1~SE~",
        document=claim.document, status="sent", sent_at=datetime(2026, 1, 2, 15, 30, tzinfo=UTC),
    )
    session.add(submission)
    session.flush()
    return submission


def add_event(session: Session, claim: Claim, *, message: str, status: str | None = None) -> None:
    session.add(ClaimEvent(claim_id=claim.id, key=f"ev-{next(_seq)}", kind="status",  # type: ignore[arg-type]
                           status=status, message=message))


def add_user(session: Session, username: str, role: str, password: str = "correct-horse-1",
             email: str | None = None) -> tuple[User, str]:
    return create_user(session=session, username=username, role=role, password=password,
                       email=email)


def seed(engine: Engine, *, claims: int = 3) -> dict[str, int]:
    """A denied claim with an open coder item, an appeal with its letter, and `claims` more."""
    now = datetime.now(UTC)
    with Session(engine) as s:
        denied = add_claim(s, status="needs_correction", payer="ACME", charge="1234.5",
                           clean=True, denied=True, route="coder", last_name="Okafor",
                           service_date=date.today() - timedelta(days=20))
        denied.findings = [{"rule": "icd10.billable", "severity": "error",
                            "field": "diagnoses[0]", "message": "E11 is not billable"}]
        add_submission(s, denied)
        remit = add_remittance(s, denied, paid="0", status_code="4", received_at=now)
        add_denial(s, denied, remit, created_at=now, group="CO", carc="16", rarcs=["N290"],
                   amount="1234.50")
        add_event(s, denied, message="Denied by ACME: CO-16", status="denied")
        coder_item = add_item(
            s, denied, queue="coder", created_at=now - timedelta(days=3),
            due_at=now - timedelta(hours=2), assignee="cora", title="Fix the rendering NPI",
            data={"denials": [{"group": "CO", "carc": "16", "rarcs": ["N290"],
                               "plain": "The rendering provider's NPI is missing."}]})
        appealed = add_claim(s, status="appealing", payer="BETA", denied=True, last_name="Ng",
                             service_date=date.today() - timedelta(days=40))
        r2 = add_remittance(s, appealed, paid="0", status_code="4", received_at=now)
        add_denial(s, appealed, r2, created_at=now, carc="50", route="appeal")
        appeal_item = add_item(s, appealed, queue="appeal", due_at=now + timedelta(days=30),
                               data={"letter_html": "<!doctype html><p>Dear payer, please "
                                     "reconsider claim.</p>", "denials": [
                                         {"group": "CO", "carc": "50", "rarcs": []}]})
        institutional = claim_doc(claim_type="institutional", type_of_bill="0131")
        institutional["lines"][0]["revenue_code"] = "0450"
        ub = add_claim(s, status="submitted", document=institutional, last_name="Lee")
        add_submission(s, ub, transaction_type="837I")
        for i in range(claims):
            c = add_claim(s, status="paid", payer="ACME", clean=True, denied=False,
                          paid="100", last_name=f"Patient{i}")
            add_item(s, c, queue="coder", due_at=now + timedelta(days=i + 1))
        s.add(ReceivedMail(mail_from="reclaim@localhost", to="cora@example.test",
                           subject="New work: claim", body="Claim waiting for you"))
        s.commit()
        return {"denied": denied.id, "appealed": appealed.id, "coder_item": coder_item.id,
                "appeal_item": appeal_item.id, "ub": ub.id}  # type: ignore[dict-item]
