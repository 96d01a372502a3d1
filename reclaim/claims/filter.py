"""The one claim filter: the /claims page's query string, each dashboard number's drill-through
and `GET /api/v1/claims` all say which claims they mean as a `ClaimFilter`, and
`claim_conditions` is the one place that turns it into SQL.

Ages by service date (`min_age`/`max_age`) count days from the service date to `today`; the
API's `min_days_since_created` counts days since the claim was entered, to `now`. Both are date
bounds computed in Python so the SQL stays portable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args
from urllib.parse import urlencode

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import and_, false, func, or_, true
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from contracts.enums import FINAL_STATUSES, OPEN_STATUSES, RESOLVED_PAID, ClaimStatus
from reclaim.models import SEARCHED_COLUMNS, Claim, Denial, WorkItem

WORK_AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-2", 0, 2),
    ("3-7", 3, 7),
    ("8+", 8, None),
)
Cohort = Literal[
    "scrubbed",
    "clean",
    "adjudicated",
    "denied_first_pass",
    "first_pass_resolved",
    "denied",
    "overturned",
    "denial_written_off",
    "denial_resolved",
    "open",
]
COHORTS: tuple[str, ...] = get_args(Cohort)
# Only GET /api/v1/claims speaks these; the /claims page's query string never did.
API_ONLY_FIELDS = frozenset({"min_days_since_created"})


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """'2026-10' -> [2026-10-01, 2026-11-01)."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"month {month!r} must look like YYYY-MM") from exc
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


class ClaimFilter(BaseModel):
    """Which claims. `date_from`/`date_to` bound the service date; ages count days from the
    service date."""

    status: str | None = None
    payer: str | None = None
    route: str | None = None
    assignee: str | None = None
    q: str | None = Field(default=None, max_length=80)
    cohort: Cohort | None = None
    date_from: date | None = None
    date_to: date | None = None
    min_age: int | None = Field(default=None, ge=0)
    max_age: int | None = Field(default=None, ge=0)
    min_days_since_created: int | None = Field(default=None, ge=0)
    min_amount: Decimal | None = Field(default=None, ge=0)
    max_amount: Decimal | None = Field(default=None, ge=0)
    reason: str | None = Field(default=None, pattern=r"^([A-Z]{2}-)?[A-Z0-9]{1,5}$")
    denial_month: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")
    denial_payer: str | None = None
    work_queue: str | None = None
    work_age: str | None = None
    overdue: bool = False

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("work_age")
    @classmethod
    def _known_work_age(cls, value: str | None) -> str | None:
        if value is not None and value not in {b[0] for b in WORK_AGE_BUCKETS}:
            raise ValueError(f"work_age must be one of {', '.join(b[0] for b in WORK_AGE_BUCKETS)}")
        return value

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> ClaimFilter:
        """Read a /claims query string (`from`/`to` are the service-date bounds); raises
        ValueError naming each bad parameter."""
        data: dict[str, Any] = {k: v for k, v in params.items()
                                if k != "page" and k not in API_ONLY_FIELDS}
        for short, name in (("from", "date_from"), ("to", "date_to")):
            if short in data:
                data[name] = data.pop(short)
        data["overdue"] = data.get("overdue") in ("1", "true", "on")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"bad filter: {problems}") from exc

    def query(self, **changes: Any) -> str:
        """The /claims query string for this filter (with `changes` applied)."""
        data = self.model_copy(update=changes).model_dump(exclude_defaults=True, mode="json")
        params = {("from" if k == "date_from" else "to" if k == "date_to" else k): v
                  for k, v in data.items()}
        if params.get("overdue") is True:
            params["overdue"] = "1"
        return urlencode(params)

    def link(self, **changes: Any) -> str:
        query = self.query(**changes)
        return f"/claims?{query}" if query else "/claims"

    def period(self) -> ClaimFilter:
        """Only the dashboard's own filters (payer and period) of this filter."""
        return ClaimFilter(payer=self.payer, date_from=self.date_from, date_to=self.date_to)


def _is_true(column: Any) -> ColumnElement[bool]:
    return col(column).is_(true())


def _is_false(column: Any) -> ColumnElement[bool]:
    return col(column).is_(false())


def cohort_condition(cohort: Cohort) -> ColumnElement[bool]:
    adjudicated = col(Claim.denied_first_pass).is_not(None)
    denied = col(Claim.denied_at).is_not(None)
    conditions: dict[str, ColumnElement[bool]] = {
        "scrubbed": col(Claim.clean_first_pass).is_not(None),
        "clean": _is_true(Claim.clean_first_pass),
        "adjudicated": adjudicated,
        "denied_first_pass": _is_true(Claim.denied_first_pass),
        "first_pass_resolved": and_(
            _is_false(Claim.denied_first_pass),
            col(Claim.attempts) <= 1,
            col(Claim.status).in_(RESOLVED_PAID),
        ),
        # The denial facts (reclaim/denials/facts.py): ever denied, and paid after that.
        "denied": denied,
        "overturned": and_(denied, _is_true(Claim.overturned)),
        "denial_written_off": and_(denied, col(Claim.status) == ClaimStatus.written_off),
        "denial_resolved": and_(denied, col(Claim.status).in_(sorted(FINAL_STATUSES)),
                                col(Claim.closed_at).is_not(None)),
        # Listed rather than NOT IN so the status-led covering index can seek to them.
        "open": col(Claim.status).in_(OPEN_STATUSES),
    }
    return conditions[cohort]


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


def _age_conditions(f: ClaimFilter, today: date, now: datetime) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.min_age is not None:
        out.append(col(Claim.service_date) <= today - timedelta(days=f.min_age))
    if f.max_age is not None:
        out.append(col(Claim.service_date) >= today - timedelta(days=f.max_age))
    if f.min_days_since_created is not None:
        out.append(col(Claim.created_at) <= now - timedelta(days=f.min_days_since_created))
    return out


def _reason_condition(f: ClaimFilter) -> ColumnElement[bool] | None:
    if f.reason is None and f.denial_month is None and f.denial_payer is None:
        return None
    query = select(Denial.claim_id)
    if f.reason is not None:
        group, _, carc = f.reason.rpartition("-")
        query = query.where(Denial.carc == carc)
        if group:
            query = query.where(Denial.group == group)
    if f.denial_month is not None:
        start, end = month_bounds(f.denial_month)
        query = query.where(col(Denial.created_at) >= start, col(Denial.created_at) < end)
    if f.denial_payer is not None:
        query = query.where(Denial.payer_id == f.denial_payer)
    return col(Claim.id).in_(query)


def _work_condition(f: ClaimFilter, now: datetime) -> ColumnElement[bool] | None:
    if f.work_queue is None and f.work_age is None and not f.overdue:
        return None
    query = select(WorkItem.claim_id).where(WorkItem.status == "open")
    if f.work_queue is not None:
        query = query.where(WorkItem.queue == f.work_queue)
    if f.overdue:
        query = query.where(col(WorkItem.due_at) < now)
    if f.work_age is not None:
        _, low, high = next(b for b in WORK_AGE_BUCKETS if b[0] == f.work_age)
        query = query.where(col(WorkItem.created_at) <= now - timedelta(days=low))
        if high is not None:
            query = query.where(col(WorkItem.created_at) > now - timedelta(days=high + 1))
    return col(Claim.id).in_(query)


def claim_conditions(f: ClaimFilter, *, today: date, now: datetime) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.status:
        out.append(col(Claim.status).in_([s.strip() for s in f.status.split(",")]))
    if f.payer:
        out.append(col(Claim.payer_id) == f.payer)
    if f.route:
        out.append(col(Claim.denial_route) == f.route)
    if f.assignee:
        out.append(col(Claim.assigned_to) == f.assignee)
    if f.date_from:
        out.append(col(Claim.service_date) >= f.date_from)
    if f.date_to:
        out.append(col(Claim.service_date) <= f.date_to)
    if f.min_amount is not None:
        out.append(col(Claim.total_charge) >= f.min_amount)
    if f.max_amount is not None:
        out.append(col(Claim.total_charge) <= f.max_amount)
    if f.cohort:
        out.append(cohort_condition(f.cohort))
    if f.q:
        out.append(search_condition(f.q))
    out.extend(_age_conditions(f, today, now))
    for extra in (_reason_condition(f), _work_condition(f, now)):
        if extra is not None:
            out.append(extra)
    return out


def search_claims(
    *, session: Session, claim_filter: ClaimFilter, today: date, now: datetime, page: int = 1,
    page_size: int = 50,
) -> tuple[list[Claim], int]:
    """One page of the claims behind a filter (newest activity first) and how many there are."""
    conditions = claim_conditions(claim_filter, today=today, now=now)
    page = max(page, 1)
    rows = session.exec(
        select(Claim)
        .where(*conditions)
        .order_by(col(Claim.updated_at).desc(), col(Claim.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    total = session.exec(select(func.count()).select_from(Claim).where(*conditions)).one()
    return list(rows), int(total)
