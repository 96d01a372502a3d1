"""The daily-work queue: which open items a person sees, filtered and sorted, each as one row
in plain words (the /work page, its CSV export and GET /api/v1/work-items read it).

Default order is urgency: our own SLA due date first (`sla_due_at`, set when the item opens from
RECLAIM_WORK_ITEM_DUE_AFTER), then the dollars at stake (what the claim has not been paid and
the patient does not owe), then the oldest item. The payer's deadline (`due_at`) is shown beside
it and flagged when it is close (RECLAIM_DEADLINE_WARNING_LEAD) or passed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from contracts.enums import QUEUE_ACTIONS
from reclaim.codes.carc import carc_category, describe_carc, describe_rarc
from reclaim.codes.claim_status import short_code, split_code, status_words
from reclaim.codes.plain import group_meaning
from reclaim.models import Claim, User, WorkItem, utcnow
from reclaim.work.items import may_work

PAGE_ROWS = 200
EXPORT_ROWS = 10_000
# How much of the plain words a row shows; the rest is in its tooltip and on the claim page.
SHORT_WORDS = 90
SORTS = ("urgency", "sla", "due", "amount", "age", "claim", "code", "assignee")
_STC = re.compile(r"\b([AEFPRD]\d{1,2}[FN]?:[A-Z0-9]{1,5}(?::[A-Z0-9]{2,3})?)\b")
_TITLE_PREFIX = re.compile(r"^Claim \d+:\s*")

AT_STAKE = (col(Claim.total_charge) - col(Claim.paid_amount)
            - col(Claim.patient_responsibility)).label("at_stake")


# ---------------------------------------------------------------- what an item is about


def reason_code_of(data: Mapping[str, Any] | None, detail: str = "") -> str | None:
    """The code a person files an item under: the denial's "CO-16/N290" (several joined by
    ", "), a 277CA's "A7:33", the first scrub finding's rule; None for the rest."""
    data = data or {}
    denials = data.get("denials") or []
    codes = []
    for d in denials:
        if d.get("group") and d.get("carc"):
            code = f"{d['group']}-{d['carc']}" + "".join(f"/{r}" for r in d.get("rarcs") or [])
            if code not in codes:
                codes.append(code)
    if codes:
        return ", ".join(codes)[:40]
    stc = _STC.search(detail or "")
    if stc:
        category, status, _entity = split_code(stc.group(1))
        return short_code(category, status)
    findings = data.get("findings") or []
    if findings and findings[0].get("rule"):
        return str(findings[0]["rule"])[:40]
    return None


def denial_words(denial: Mapping[str, Any]) -> str:
    """A denial without its codes (they have their own column): what the reason says, what the
    group means for it, what the remarks add."""
    group, carc = str(denial.get("group") or ""), str(denial.get("carc") or "")
    try:
        text = f"{describe_carc(carc)} — {group_meaning(group, carc_category(carc))}"
        remarks = [describe_rarc(r) for r in denial.get("rarcs") or []]
    except ValueError:
        return str(denial.get("plain") or f"{group}-{carc}")
    return text + "".join(f"; {r}" for r in remarks)


def item_words(data: Mapping[str, Any] | None, detail: str = "") -> str:
    """The plain words of an item: its denials', its 277CA's, its findings', or its detail."""
    data = data or {}
    denials = [denial_words(d) for d in data.get("denials") or []]
    if denials:
        return ". ".join(dict.fromkeys(denials)) + "."
    stc = _STC.search(detail or "")
    if stc:
        try:
            return status_words(*split_code(stc.group(1))) + "."
        except ValueError:
            pass
    findings = [str(f.get("message")) for f in data.get("findings") or [] if f.get("message")]
    if findings:
        return "; ".join(dict.fromkeys(findings)) + "."
    return detail


def headline(title: str) -> str:
    """What kind of work it is, from the item's title without the claim number (a column of its
    own) and without the plain words the workflow appended (shown whole beside it)."""
    text = _TITLE_PREFIX.sub("", title).split(" — ")[0].strip()
    return text[:1].upper() + text[1:] if text else "Work item"


def whole_words_title(title: str, detail: str) -> str:
    """A title whose end is the start of the detail cut at a fixed length ("denied — CO-16 claim
    lacks inform") ends at a word instead ("denied — CO-16 claim lacks…")."""
    head, sep, tail = title.partition(" — ")
    if not sep or not tail or len(tail) >= len(detail) or not detail.startswith(tail):
        return title
    return f"{head}{sep}{shorten(detail, len(tail))}"


def shorten(text: str, limit: int = SHORT_WORDS) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis, never mid-word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0].rstrip(" ,;:—-.")
    return (cut or text[:limit]) + "…"


# ---------------------------------------------------------------- filters and order


@dataclass
class WorkFilter:
    queue: str | None = None
    assignee: str | None = None
    code: str | None = None  # prefix of the reason code: "CO-16", "A7", "CO"
    claim_status: str | None = None
    kind: str | None = None
    overdue: bool = False  # past its SLA
    scope: str = "mine"  # non-managers: "mine" (mine and nobody's) or "queue" (everyone's)
    sort: str = "urgency"
    descending: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> WorkFilter:
        sort = params.get("sort") or "urgency"
        return cls(
            queue=params.get("queue") or None,
            assignee=params.get("assignee") or None,
            code=(params.get("code") or "").strip().upper() or None,
            claim_status=params.get("status") or None,
            kind=params.get("kind") or None,
            overdue=params.get("overdue") in ("1", "true", "on"),
            scope=params.get("scope") or "mine",
            sort=sort if sort in SORTS else "urgency",
            descending=params.get("dir") == "desc",
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """The filter as query parameters (only those set), with `changes` applied."""
        values: dict[str, Any] = {
            "queue": self.queue, "assignee": self.assignee, "code": self.code,
            "status": self.claim_status, "kind": self.kind,
            "overdue": "1" if self.overdue else None,
            "scope": self.scope if self.scope != "mine" else None,
            "sort": self.sort if self.sort != "urgency" else None,
            "dir": "desc" if self.descending else None,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def order_by(sort: str, descending: bool) -> list[ColumnElement[Any]]:
    sla = col(WorkItem.sla_due_at)
    due = col(WorkItem.due_at)
    if sort == "urgency":
        return [sla.asc().nulls_last(), AT_STAKE.desc(), col(WorkItem.created_at).asc(),
                col(WorkItem.id).asc()]
    keys: dict[str, Any] = {
        "sla": sla, "due": due, "amount": AT_STAKE,
        # Age ascending is the youngest first: the newest creation time.
        "age": col(WorkItem.created_at), "claim": col(WorkItem.claim_id),
        "code": col(WorkItem.reason_code), "assignee": col(WorkItem.assignee),
    }
    key = keys[sort]
    ascending = not descending if sort != "age" else descending
    first = key.asc().nulls_last() if ascending else key.desc().nulls_last()
    return [first, sla.asc().nulls_last(), col(WorkItem.id).asc()]


def visible_queues(user: User) -> list[str]:
    return [q for q in QUEUE_ACTIONS if may_work(user, q)]


def open_items(session: Session, *, user: User, flt: WorkFilter, manager: bool,
               limit: int = PAGE_ROWS,
               lead: timedelta = timedelta(days=14)) -> list[dict[str, Any]]:
    """The open items the user may see, filtered and ordered, as rows."""
    query = (
        sa_select(WorkItem, col(Claim.patient_first_name), col(Claim.patient_last_name),
                  col(Claim.payer_id), col(Claim.status), AT_STAKE)
        .join(Claim, col(Claim.id) == WorkItem.claim_id)
        .where(col(WorkItem.status) == "open")
    )
    queues = visible_queues(user)
    if flt.queue:
        queues = [q for q in queues if q == flt.queue]
    query = query.where(col(WorkItem.queue).in_(queues))
    if manager:
        if flt.assignee == "nobody":
            query = query.where(col(WorkItem.assignee).is_(None))
        elif flt.assignee:
            query = query.where(col(WorkItem.assignee) == flt.assignee)
    elif flt.scope != "queue":  # my queue: mine and nobody's
        query = query.where(
            or_(col(WorkItem.assignee) == user.username, col(WorkItem.assignee).is_(None)))
    if flt.code:
        query = query.where(col(WorkItem.reason_code).startswith(flt.code, autoescape=True))
    if flt.claim_status:
        query = query.where(col(Claim.status) == flt.claim_status)
    if flt.kind:
        query = query.where(col(WorkItem.kind) == flt.kind)
    if flt.overdue:
        query = query.where(col(WorkItem.sla_due_at) < utcnow())
    query = query.order_by(*order_by(flt.sort, flt.descending)).limit(limit)
    now = utcnow()
    return [row(item, first, last, payer, status, at_stake, now=now, lead=lead)
            for item, first, last, payer, status, at_stake in session.execute(query).all()]


# ---------------------------------------------------------------- one row


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def age_text(delta: timedelta) -> str:
    if delta < timedelta(hours=1):
        return f"{max(int(delta.total_seconds() // 60), 0)} min"
    if delta < timedelta(days=1):
        return f"{int(delta.total_seconds() // 3600)} h"
    return f"{delta.days} d"


def due_text(due: datetime | None, *, now: datetime) -> str:
    """"in 5 h", "2 d late": how long is left, or how late it is."""
    if due is None:
        return "—"
    if due >= now:
        return f"in {age_text(due - now)}"
    return f"{age_text(now - due)} late"


def deadline_state(due_at: datetime | None, *, now: datetime, lead: timedelta) -> str | None:
    """"passed", "close" (within the warning lead) or None, for the payer's deadline."""
    if due_at is None:
        return None
    if due_at < now:
        return "passed"
    if due_at - now <= lead:
        return "close"
    return None


def row(item: WorkItem, first: str, last: str, payer: str, claim_status: str,
        at_stake: Decimal | None, *, now: datetime,
        lead: timedelta = timedelta(days=14)) -> dict[str, Any]:
    words = item_words(item.data, item.detail)
    sla = _aware(item.sla_due_at)
    due = _aware(item.due_at)
    created = _aware(item.created_at) or now
    state = deadline_state(due, now=now, lead=lead)
    code = item.reason_code or reason_code_of(item.data, item.detail)
    return {
        "id": item.id, "claim_id": item.claim_id, "queue": item.queue, "kind": item.kind,
        "headline": headline(item.title), "title": item.title,
        "code": code,
        # The same, with places to wrap a long one ("CO-16/MA130/M77") in a narrow column.
        "code_breaks": (code or "").replace("/", "/\u200b").replace(", ", ",\u200b "),
        "words": words, "words_short": shorten(words),
        "at_stake": Decimal(at_stake if at_stake is not None else 0).quantize(Decimal("0.01")),
        "age": age_text(now - created), "age_days": max((now - created).days, 0),
        "created_at": created,
        "sla_due_at": sla, "sla_overdue": sla is not None and sla < now,
        "sla_text": due_text(sla, now=now),
        "due_at": due, "deadline": state,
        "escalated": item.escalated_at is not None or state is not None,
        "assignee": item.assignee, "patient": f"{last}, {first}", "payer": payer,
        "claim_status": str(claim_status), "detail": item.detail, "data": item.data,
        # The page's historic name: past the SLA (or, for items without one, the due date).
        "overdue": (sla or due) is not None and (sla or due) < now,  # type: ignore[operator]
    }


# ---------------------------------------------------------------- CSV

CSV_COLUMNS = ("item", "claim", "patient", "payer", "claim_status", "queue", "kind", "what",
               "code", "plain_words", "at_stake", "age_days", "sla_due", "sla_overdue",
               "payer_deadline", "payer_deadline_state", "escalated", "assignee")


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _cell(value: str) -> str:
    """A spreadsheet reads a cell starting with = + - @ as a formula: make it text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([
            r["id"], r["claim_id"], _cell(r["patient"]), _cell(r["payer"]), r["claim_status"],
            r["queue"], r["kind"], _cell(r["headline"]), _cell(r["code"] or ""),
            _cell(r["words"]), f"{r['at_stake']:.2f}", r["age_days"], _iso(r["sla_due_at"]),
            "yes" if r["sla_overdue"] else "no", _iso(r["due_at"]), r["deadline"] or "",
            "yes" if r["escalated"] else "no", _cell(r["assignee"] or "")])
    return out.getvalue()
