"""Claim records: create, correct, read and record events (plain functions over a Session)."""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from contracts.enums import ClaimStatus
from contracts.names import claim_workflow_id
from reclaim.claims.plain_errors import plain_errors
from reclaim.claims.schemas import ClaimDocument
from reclaim.models import Claim, ClaimEvent, Submission, utcnow

PCN_PREFIX = "RC"
# ASCII digits only (str.isdigit() takes '²'), and short enough for the integer columns.
_PCN = re.compile(r"([0-9]{1,9})(?:-([0-9]{1,4}))?")


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
        # In plain words for the form (reclaim.claims.plain_errors), each at its field's path.
        raise CorrectionError(plain_errors(exc.errors())) from exc


def last_attempt(*, session: Session, claim_id: int) -> Submission | None:
    """The claim's latest 837 (its attempt and the document it sent)."""
    return session.exec(
        select(Submission).where(Submission.claim_id == claim_id)
        .order_by(col(Submission.attempt).desc()).limit(1)
    ).first()


def unchanged_since(*, session: Session, claim_id: int, document: ClaimDocument) -> int | None:
    """The attempt whose 837 carried exactly this document (compared as claim documents, so
    `150` and `150.00` are the same charge), or None when it differs or nothing was sent."""
    last = last_attempt(session=session, claim_id=claim_id)
    if last is None:
        return None
    try:
        sent = ClaimDocument.model_validate(last.document)
    except ValidationError:
        return None
    return last.attempt if sent == document else None


def nothing_changed(attempt: int) -> str:
    return (f"nothing changed since attempt {attempt}: the payer would get the same claim "
            "again. Change the fields the payer named, or choose another action.")


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
