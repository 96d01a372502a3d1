"""What a claim looks like to the API and the pages: its summary, its full detail (submissions,
acknowledgments, remittances, denials, work, timeline), a denial and a work item."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from reclaim.claims.diff import document_diff
from reclaim.codes.plain import route_reason_words
from reclaim.models import (
    Claim,
    ClaimEvent,
    Denial,
    PayerResponse,
    Remittance,
    Submission,
    WorkItem,
    utcnow,
)


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
                # What this attempt changed against the one before it (a correction's diff).
                "changes": document_diff(submissions[n - 1].document, s.document) if n else [],
            }
            for n, s in enumerate(submissions)
        ],
        # A correction recorded on the claim and not sent yet, against the last attempt.
        "pending_changes": (document_diff(submissions[-1].document, claim.document)
                            if submissions else []),
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
        "route_reason": route_reason_words(d.route_reason),  # older rows in people's words too
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
        # Our internal SLA (RECLAIM_WORK_ITEM_DUE_AFTER) and the code the queue files it under.
        "sla_due_at": w.sla_due_at,
        "sla_overdue": w.status == "open" and w.sla_due_at is not None
        and w.sla_due_at < utcnow(),
        "reason_code": w.reason_code,
        "created_at": w.created_at,
        "completed_at": w.completed_at,
        "completed_by": w.completed_by,
        "resolution": w.resolution,
        "data": w.data,
    }

