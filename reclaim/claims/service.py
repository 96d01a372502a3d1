"""Claim records: create, correct, list and read (plain functions over a Session)."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, bindparam, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from contracts.enums import ClaimStatus
from contracts.names import claim_workflow_id
from reclaim.claims.schemas import ClaimDocument
from reclaim.models import (
    SEARCHED_COLUMNS,
    Claim,
    ClaimEvent,
    Denial,
    PayerResponse,
    Remittance,
    Submission,
    WorkItem,
    utcnow,
)

PCN_PREFIX = "RC"
# ASCII digits only (str.isdigit() takes '²'), and short enough for the integer columns.
_PCN = re.compile(r"([0-9]{1,9})(?:-([0-9]{1,4}))?")
PAGE_SIZE = 50


class CorrectionError(ValueError):
    """A correction that does not produce a valid claim document."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


def patient_control_number(claim_id: int, attempt: int) -> str:
    """CLM01: claim and attempt, so each 277CA/835 names the submission it answers."""
    return f"{PCN_PREFIX}{claim_id}-{attempt}"


def parse_patient_control_number(pcn: str) -> tuple[int, int] | None:
    value = pcn.strip().upper()
    if not value.startswith(PCN_PREFIX):
        return None
    match = _PCN.fullmatch(value[len(PCN_PREFIX) :])
    if match is None:
        return None
    claim, attempt = match.groups()
    return int(claim), int(attempt) if attempt else 0


def create_claim(*, session: Session, document: ClaimDocument) -> Claim:
    claim = Claim(
        claim_type=document.claim_type,
        payer_id=document.payer_id,
        patient_last_name=document.patient.last_name,
        patient_first_name=document.patient.first_name,
        member_id=document.patient.member_id,
        billing_npi=document.billing_provider.npi,
        service_date=document.service_date,
        total_charge=document.total_charge,
        document=document.model_dump(mode="json"),
    )
    session.add(claim)
    session.flush()
    assert claim.id is not None
    claim.workflow_id = claim_workflow_id(claim.id)
    session.add(
        ClaimEvent(claim_id=claim.id, key="created", kind="created", status=ClaimStatus.coding,
                   message="Claim created")
    )
    return claim


def get_claim(*, session: Session, claim_id: int) -> Claim | None:
    return session.get(Claim, claim_id)


def document_of(claim: Claim) -> ClaimDocument:
    return ClaimDocument.model_validate(claim.document)


def corrected_document(document: dict[str, Any], corrections: dict[str, Any]) -> ClaimDocument:
    """Replace top-level fields of the claim document (DESIGN.md `corrections`); nested objects
    given as dicts are merged so a coder can send `{"patient": {"member_id": ...}}`."""
    merged = copy.deepcopy(document)
    for key, value in corrections.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    try:
        return ClaimDocument.model_validate(merged)
    except ValidationError as exc:
        raise CorrectionError(
            [
                {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                for e in exc.errors()
            ]
        ) from exc


def apply_correction(
    *, session: Session, claim_id: int, corrections: dict[str, Any], key: str, message: str
) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise LookupError(f"claim {claim_id} not found")
    event_key = f"correction-{key}"
    done = session.exec(
        select(ClaimEvent).where(ClaimEvent.claim_id == claim_id, ClaimEvent.key == event_key)
    ).first()
    if done is not None:  # a retried activity: the correction is already on the claim
        return claim
    document = corrected_document(claim.document, corrections)
    claim.document = document.model_dump(mode="json")
    claim.payer_id = document.payer_id
    claim.member_id = document.patient.member_id
    claim.patient_last_name = document.patient.last_name
    claim.patient_first_name = document.patient.first_name
    claim.billing_npi = document.billing_provider.npi
    claim.service_date = document.service_date
    claim.total_charge = document.total_charge
    claim.updated_at = utcnow()
    session.add(claim)
    session.add(
        ClaimEvent(
            claim_id=claim_id,
            key=event_key,
            kind="correction",
            message=message,
            data={"fields": sorted(corrections)},
        )
    )
    return claim


# record_event's statements, built once: a statement built per call is also cache-keyed per
# call, which cost more than running it. Parameters named b_* are the WHERE clause's; the
# UPDATE sets the columns its parameters name.
_EVENTS = ClaimEvent.__table__  # type: ignore[attr-defined]
_CLAIMS = Claim.__table__  # type: ignore[attr-defined]
_EVENT_EXISTS = sa_select(_EVENTS.c.id).where(_EVENTS.c.claim_id == bindparam("b_claim_id"),
                                             _EVENTS.c.key == bindparam("b_key"))
_EVENT_INSERT = _EVENTS.insert()
_CLAIM_UPDATE = _CLAIMS.update().where(_CLAIMS.c.id == bindparam("b_claim_id"))


def record_event(
    *,
    session: Session,
    claim_id: int,
    key: str,
    kind: str,
    message: str,
    status: str | None = None,
    data: dict[str, Any] | None = None,
) -> bool:
    """Append to the timeline and move the projected status; False when already recorded.
    Core statements on the session's connection (the projection's hottest write: several per
    claim): a Claim already loaded in this session does not see the new status."""
    connection = session.connection()
    if connection.execute(_EVENT_EXISTS, {"b_claim_id": claim_id, "b_key": key}).first():
        return False
    now = utcnow()
    connection.execute(_EVENT_INSERT, {
        "claim_id": claim_id, "key": key, "at": now, "kind": kind, "status": status,
        "message": message, "data": data or {},
    })
    if status is not None:
        # One UPDATE: loading the claim would read (and parse) its whole JSON document.
        values: dict[str, Any] = {"b_claim_id": claim_id, "status": status, "updated_at": now}
        if kind == "closed":
            values["closed_at"] = now
        if status == "denied" and data and data.get("route"):
            values["denial_route"] = data["route"]
        connection.execute(_CLAIM_UPDATE, values)
    return True


def _prefix(column: Any, term: str) -> ColumnElement[bool]:
    """`column` starts with `term`, ignoring case. An ASCII term is also a range over
    lower(column), which ix_claim_lower_<column> serves; SQLite's lower() folds ASCII only, so
    any other term is matched by the LIKE alone (a scan, as before)."""
    folded = func.lower(column)
    like = folded.startswith(term.lower(), autoescape=True)
    if not term.isascii():
        return like
    low = term.lower()
    high = low[:-1] + chr(ord(low[-1]) + 1)
    return and_(folded >= low, folded < high, like)


def search_condition(q: str) -> ColumnElement[bool]:
    """The search box: a claim id, or the start of a last name, member id or payer's claim
    control number (any case; `%` and `_` are plain characters)."""
    term = q.strip()
    prefixes = [_prefix(getattr(Claim, name), term) for name in SEARCHED_COLUMNS]
    if re.fullmatch(r"[0-9]{1,9}", term):
        prefixes.insert(0, col(Claim.id) == int(term))
    return or_(*prefixes)


def list_claims(
    *,
    session: Session,
    status: str | None = None,
    payer: str | None = None,
    assignee: str | None = None,
    route: str | None = None,
    q: str | None = None,
    min_age_days: int | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> tuple[list[Claim], int]:
    query = select(Claim)
    count = select(func.count()).select_from(Claim)
    filters: list[ColumnElement[bool]] = []
    if status:
        filters.append(col(Claim.status).in_(status.split(",")))
    if payer:
        filters.append(col(Claim.payer_id) == payer)
    if assignee:
        filters.append(col(Claim.assigned_to) == assignee)
    if route:
        filters.append(col(Claim.denial_route) == route)
    if min_age_days is not None:
        filters.append(col(Claim.created_at) <= utcnow() - timedelta(days=min_age_days))
    if q and q.strip():
        filters.append(search_condition(q))
    for f in filters:
        query = query.where(f)
        count = count.where(f)
    page = max(page, 1)
    rows = session.exec(
        query.order_by(col(Claim.updated_at).desc(), col(Claim.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    total = session.exec(count).one()
    return list(rows), int(total)


def claim_detail(*, session: Session, claim: Claim) -> dict[str, Any]:
    assert claim.id is not None
    cid = claim.id
    submissions = session.exec(
        select(Submission).where(Submission.claim_id == cid).order_by(col(Submission.attempt))
    ).all()
    responses = session.exec(
        select(PayerResponse).where(PayerResponse.claim_id == cid).order_by(col(PayerResponse.id))
    ).all()
    remittances = session.exec(
        select(Remittance).where(Remittance.claim_id == cid).order_by(col(Remittance.id))
    ).all()
    denials = session.exec(
        select(Denial).where(Denial.claim_id == cid).order_by(col(Denial.id))
    ).all()
    items = session.exec(
        select(WorkItem).where(WorkItem.claim_id == cid).order_by(col(WorkItem.id))
    ).all()
    events = session.exec(
        select(ClaimEvent).where(ClaimEvent.claim_id == cid).order_by(col(ClaimEvent.id))
    ).all()
    return {
        **claim_summary(claim),
        "document": claim.document,
        "findings": claim.findings or [],
        "submissions": [
            {
                "id": s.id,
                "attempt": s.attempt,
                "patient_control_number": s.patient_control_number,
                "frequency_code": s.frequency_code,
                "original_reference": s.original_reference,
                "transaction_type": s.transaction_type,
                "status": s.status,
                "created_at": s.created_at,
                "sent_at": s.sent_at,
                "x12": s.x12,
            }
            for s in submissions
        ],
        "acknowledgments": [
            {
                "kind": r.kind,
                "file_id": r.edi_file_id,
                "attempt": r.attempt,
                "accepted": r.accepted,
                "code": r.code,
                "message": r.message,
                "received_at": r.received_at,
            }
            for r in responses
        ],
        "remittances": [
            {
                "id": r.id,
                "file_id": r.edi_file_id,
                "attempt": r.attempt,
                "patient_control_number": r.patient_control_number,
                "status_code": r.status_code,
                "charge": str(r.charge),
                "paid": str(r.paid),
                "patient_responsibility": str(r.patient_responsibility),
                "payer_claim_control_number": r.payer_claim_control_number,
                "outcome": r.outcome,
                "adjustments": r.data.get("adjustments", []),
                "lines": r.data.get("lines", []),
                "received_at": r.received_at,
            }
            for r in remittances
        ],
        "denials": [denial_view(d) for d in denials],
        "work_items": [work_item_view(w) for w in items],
        "timeline": [
            {"at": e.at, "kind": e.kind, "status": e.status, "message": e.message}
            for e in events
        ],
    }


def claim_summary(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.id,
        "status": claim.status,
        "workflow_id": claim.workflow_id,
        "claim_type": claim.claim_type,
        "payer_id": claim.payer_id,
        "patient": f"{claim.patient_first_name} {claim.patient_last_name}",
        "service_date": claim.service_date,
        "total_charge": str(claim.total_charge),
        "paid": str(claim.paid_amount),
        "patient_responsibility": str(claim.patient_responsibility),
        "attempts": claim.attempts,
        "denial_route": claim.denial_route,
        "assigned_to": claim.assigned_to,
        "created_at": claim.created_at,
        "updated_at": claim.updated_at,
    }


def denial_view(d: Denial) -> dict[str, Any]:
    return {
        "id": d.id,
        "attempt": d.attempt,
        "level": d.level,
        "line_index": d.line_index,
        "procedure": d.procedure,
        "group": d.group,
        "carc": d.carc,
        "rarcs": d.rarcs,
        "amount": str(d.amount),
        "route": d.route,
        "route_reason": d.route_reason,
    }


def work_item_view(w: WorkItem) -> dict[str, Any]:
    overdue = w.status == "open" and w.due_at is not None and w.due_at < utcnow()
    return {
        "id": w.id,
        "claim_id": w.claim_id,
        "queue": w.queue,
        "kind": w.kind,
        "status": w.status,
        "title": w.title,
        "detail": w.detail,
        "assignee": w.assignee,
        "due_at": w.due_at,
        "overdue": overdue,
        "created_at": w.created_at,
        "completed_at": w.completed_at,
        "completed_by": w.completed_by,
        "resolution": w.resolution,
        "data": w.data,
    }

