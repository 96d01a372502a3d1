"""Work items: open (keyed, so a retried activity opens nothing twice), assign, close, list, and
the notices about them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from contracts.enums import Queue
from contracts.messages import LetterRequest, NoticeRequest, WorkItemClose, WorkItemSpec
from contracts.names import work_item_workflow_id
from reclaim.claims.service import document_of
from reclaim.models import Claim, Denial, Remittance, User, WorkItem, utcnow
from reclaim.work.notices import render_appeal_letter, render_email

# The role that works each queue.
QUEUE_ROLE: dict[str, str] = {Queue.coder: "coder", Queue.front_desk: "front_desk",
                              Queue.appeal: "biller", Queue.manager: "manager"}


def may_work(user: User, queue: str) -> bool:
    """Who works a queue: its role (QUEUE_ROLE), managers and admins; the table README prints
    with the route x role table (api/policy.py)."""
    return user.role in ("admin", "manager") or QUEUE_ROLE.get(queue) == user.role


def open_work_item(*, session: Session, spec: WorkItemSpec,
                   sla: timedelta | None = None) -> WorkItem:
    """`sla`: the queue's internal SLA (Settings.work_item_sla), kept on the item as
    `sla_due_at`; the queue page orders by it."""
    existing = session.exec(select(WorkItem).where(WorkItem.key == spec.key)).first()
    if existing is not None:
        return existing
    from reclaim.work.queue import reason_code_of, whole_words_title

    now = utcnow()
    item = WorkItem(
        key=spec.key,
        claim_id=spec.claim_id,
        queue=spec.queue,
        kind=spec.kind,
        title=whole_words_title(spec.title, spec.detail)[:200],
        detail=spec.detail,
        data=spec.data,
        assignee=pick_assignee(session=session, queue=spec.queue),
        due_at=now + spec.due_in,
        sla_due_at=now + sla if sla is not None else None,
        reason_code=reason_code_of(spec.data, spec.detail),
    )
    session.add(item)
    session.flush()
    assert item.id is not None
    item.workflow_id = work_item_workflow_id(item.id)
    claim = session.get(Claim, spec.claim_id)
    if claim is not None:
        claim.assigned_to = item.assignee
        session.add(claim)
    session.add(item)
    return item


def pick_assignee(*, session: Session, queue: Queue) -> str | None:
    """The least-loaded active user with the queue's role (ties: alphabetical)."""
    role = QUEUE_ROLE[queue]
    users = session.exec(
        select(User.username).where(User.role == role, col(User.active).is_(True))
    ).all()
    if not users:
        return None
    loads = dict(
        session.exec(
            select(WorkItem.assignee, func.count())
            .where(WorkItem.status == "open", col(WorkItem.assignee).in_(users))
            .group_by(WorkItem.assignee)
        ).all()
    )
    return min(sorted(users), key=lambda u: loads.get(u, 0))


def close_work_item(*, session: Session, close: WorkItemClose) -> None:
    item = session.get(WorkItem, close.work_item_id)
    if item is None or item.status != "open":
        return
    item.status = close.status
    item.completed_at = utcnow()
    if close.result is not None:
        item.resolution = close.result.action
        item.completed_by = close.result.user
        item.note = close.result.note
    session.add(item)
    claim = session.get(Claim, item.claim_id)
    if claim is not None and claim.assigned_to == item.assignee:
        claim.assigned_to = None
        session.add(claim)


def assign(*, session: Session, item: WorkItem, username: str | None) -> WorkItem:
    item.assignee = username
    session.add(item)
    claim = session.get(Claim, item.claim_id)
    if claim is not None and item.status == "open":
        claim.assigned_to = username
        session.add(claim)
    return item


def list_work_items(
    *,
    session: Session,
    queue: str | None = None,
    assignee: str | None = None,
    status: str | None = "open",
    claim_id: int | None = None,
    code: str | None = None,
    sort: str = "urgency",
    descending: bool = False,
    limit: int = 200,
) -> list[WorkItem]:
    """Work items by queue (comma-separated), assignee ("nobody": unassigned), status, claim
    and reason-code prefix, in the queue's orders (reclaim.work.queue: urgency by default)."""
    from reclaim.work.queue import SORTS, order_by

    if sort not in SORTS:
        raise ValueError(f"sort {sort!r} is not one of {', '.join(SORTS)}")
    query = select(WorkItem).join(Claim, col(Claim.id) == WorkItem.claim_id)
    if queue:
        query = query.where(col(WorkItem.queue).in_(queue.split(",")))
    if assignee == "nobody":
        query = query.where(col(WorkItem.assignee).is_(None))
    elif assignee:
        query = query.where(WorkItem.assignee == assignee)
    if status:
        query = query.where(WorkItem.status == status)
    if claim_id is not None:
        query = query.where(WorkItem.claim_id == claim_id)
    if code:
        query = query.where(col(WorkItem.reason_code).startswith(code.strip().upper(),
                                                                  autoescape=True))
    query = query.order_by(*order_by(sort, descending))
    return list(session.exec(query.limit(limit)).all())


# ---------------------------------------------------------------- notices


def queue_notices(*, session: Session, request: NoticeRequest, public_url: str) -> list[int]:
    """Store the mail for one notice; returns the ids of the messages to send."""
    from reclaim.mail import queue_mail

    item = session.get(WorkItem, request.work_item_id)
    if item is None:
        return []
    claim = session.get(Claim, item.claim_id)
    assert claim is not None
    recipients = _recipients(session, item, request.kind)
    ids: list[int] = []
    for user in recipients:
        if not user.email:
            continue
        context = _notice_context(item, claim, user, public_url, request.kind)
        rendered = render_email(request.kind, context)
        message = queue_mail(
            session=session,
            key=f"wi-{item.id}-{request.kind}-{user.username}",
            to=user.email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )
        assert message.id is not None
        if message.status != "sent":
            ids.append(message.id)
    now = utcnow()
    if request.kind == "reminder" and item.reminded_at is None:
        item.reminded_at = now
    if request.kind == "escalation" and item.escalated_at is None:
        item.escalated_at = now
    session.add(item)
    return ids


def _recipients(session: Session, item: WorkItem, kind: str) -> list[User]:
    if kind == "escalation":
        return list(
            session.exec(
                select(User).where(User.role == "manager", col(User.active).is_(True))
            ).all()
        )
    if item.assignee:
        user = session.exec(select(User).where(User.username == item.assignee)).first()
        return [user] if user else []
    role = QUEUE_ROLE.get(item.queue, item.queue)
    return list(
        session.exec(select(User).where(User.role == role, col(User.active).is_(True))).all()
    )


def _denial_codes(item: WorkItem) -> list[dict[str, Any]]:
    return [
        {"group": d["group"], "carc": d["carc"], "rarcs": d.get("rarcs", [])}
        for d in item.data.get("denials", [])
    ]


def _notice_context(
    item: WorkItem, claim: Claim, user: User, public_url: str, kind: str
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "work_item_id": str(item.id),
        "claim_id": str(claim.id),
        "queue": item.queue,
        "patient": {
            "first_name": claim.patient_first_name,
            "last_name": claim.patient_last_name,
            "member_id": claim.member_id,
        },
        "denials": _denial_codes(item),
        "summary": item.title,
        "due": item.sla_due_at or item.due_at or utcnow(),  # our SLA first
        "link": f"{public_url}/claims/{claim.id}",
        "assignee_name": item.assignee,
        "note": item.detail,
        "recipient_name": user.username,
    }
    if kind == "escalation":
        context["reason"] = f"Open since {item.created_at:%Y-%m-%d %H:%M} UTC and not completed"
        context["overdue_since"] = item.due_at
    return context


# ---------------------------------------------------------------- appeal letter


def attach_appeal_letter(*, session: Session, request: LetterRequest) -> None:
    item = session.get(WorkItem, request.work_item_id)
    claim = session.get(Claim, request.claim_id)
    if item is None or claim is None:
        raise LookupError("work item or claim not found")
    if item.data.get("letter_html"):
        return
    document = document_of(claim)
    denials = [d for d in (session.get(Denial, i) for i in request.denial_ids) if d is not None]
    remittance = session.get(Remittance, denials[0].remittance_id) if denials else None
    payment_date = remittance.payment_date if remittance else None
    from reclaim import payers

    terms = payers.claim_terms(session=session, claim=claim)
    to = terms.appeals_address
    base = payment_date or utcnow().date()
    deadline = base.toordinal() + terms.appeal_window_days
    address = document.billing_provider.address
    html = render_appeal_letter(
        {
            "letter_date": utcnow().date(),
            "payer": {"name": terms.name, "address_lines": [
                line for line in ([to.name, to.line1, to.line2, f"{to.city}, {to.state} {to.zip}"]
                                  if to else []) if line]},
            "provider": {
                "name": document.billing_provider.name,
                "address_lines": [address.line1, f"{address.city}, {address.state} {address.zip}"],
            },
            "provider_npi": document.billing_provider.npi,
            "provider_tax_id": document.billing_provider.tax_id,
            "patient_name": f"{document.patient.first_name} {document.patient.last_name}",
            "patient_birth_date": document.patient.birth_date,
            "member_id": document.patient.member_id,
            "claim_id": str(claim.id),
            "payer_claim_control_number": claim.payer_claim_control_number,
            "service_date": document.service_date,
            "billed_amount": claim.total_charge,
            "denied_amount": sum((d.amount for d in denials), Decimal("0")),
            "remittance_date": payment_date,
            "denials": [{"group": d.group, "carc": d.carc, "rarcs": d.rarcs} for d in denials]
            or [{"group": "CO", "carc": "50"}],
            "argument": "The services billed were medically necessary and documented in the "
            "patient's record, which is enclosed. We ask that the claim be reprocessed and paid.",
            "enclosures": ["Medical record for the date of service", "Copy of the remittance"],
            "appeal_deadline": datetime.fromordinal(deadline).replace(tzinfo=UTC).date(),
            "signer_name": "Billing Office",
        }
    )
    item.data = {**item.data, "letter_html": html,
                 "appeal_deadline": datetime.fromordinal(deadline).date().isoformat()}
    session.add(item)


# ---------------------------------------------------------------- daily digest


def queue_digests(*, session: Session, day: date, public_url: str) -> list[int]:
    """One digest per user with open items assigned to them (keyed by user and day, so a
    re-run sends nothing twice). Returns the ids of the messages still to send."""
    from reclaim.mail import queue_mail

    rows = session.exec(
        select(WorkItem, Claim, User)
        .join(Claim, col(Claim.id) == WorkItem.claim_id)
        .join(User, col(User.username) == WorkItem.assignee)
        .where(WorkItem.status == "open", col(User.active).is_(True),
               col(User.email).is_not(None))
        .order_by(col(User.username), col(WorkItem.sla_due_at).asc().nulls_last(),
                  col(WorkItem.due_at).asc().nulls_last())
    ).all()
    by_user: dict[str, tuple[User, list[dict[str, Any]]]] = {}
    for item, claim, user in rows:
        entry = by_user.setdefault(user.username, (user, []))
        entry[1].append(_item_ref(item, claim, public_url))
    ids: list[int] = []
    for user, items in by_user.values():
        rendered = render_email("daily_digest", {
            "recipient_name": user.username, "day": day, "items": items,
            "queue_link": f"{public_url}/work",
        })
        assert user.email is not None
        message = queue_mail(session=session, key=f"digest-{user.username}-{day.isoformat()}",
                             to=user.email, subject=rendered.subject, text=rendered.text,
                             html=rendered.html)
        assert message.id is not None
        if message.status != "sent":
            ids.append(message.id)
    return ids


def _item_ref(item: WorkItem, claim: Claim, public_url: str) -> dict[str, Any]:
    return {
        "work_item_id": str(item.id),
        "claim_id": str(claim.id),
        "queue": item.queue,
        "patient": {"first_name": claim.patient_first_name,
                    "last_name": claim.patient_last_name, "member_id": claim.member_id},
        "denials": _denial_codes(item),
        "summary": item.title,
        "due": item.sla_due_at or item.due_at or utcnow(),  # our SLA first
        "link": f"{public_url}/claims/{claim.id}",
        "assignee_name": item.assignee,
    }
