"""The manager's numbers (DOMAIN.md "The numbers managers watch"), computed in SQL.

Every KPI runs as a handful of aggregate queries over the projection tables; no claim rows are
loaded into Python. The period filter always applies to the claim's **service date**, and the
payer filter to `Claim.payer_id`; ages (A/R aging, the /claims "age" filter) are days from the
service date to `today`, computed as date bounds in Python so the SQL stays portable.

Each number also has a `ClaimFilter` that selects exactly the claims behind it; the dashboard
links every number to `/claims` with that filter, and `search_claims` runs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import Float, Select, and_, case, distinct, extract, false, func, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, expression
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session, col, select

from reclaim.codes.carc import describe_carc
from reclaim.models import FINAL_STATUSES, Claim, ClaimStatus, Denial, Remittance, WorkItem

ZERO = Decimal("0.00")
RESOLVED_FIRST_PASS = (
    ClaimStatus.paid,
    ClaimStatus.partially_paid,
    ClaimStatus.patient_responsibility,
)
FINAL = tuple(sorted(FINAL_STATUSES))
AR_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("120+", 121, None),
)
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
COHORTS: tuple[str, ...] = Cohort.__args__  # type: ignore[attr-defined]


# ---------------------------------------------------------------- portable SQL pieces


class days_between(expression.FunctionElement[float]):  # noqa: N801 (a SQL function)
    """Days (fractional) from the first datetime argument to the second."""

    type = Float()
    name = "days_between"
    inherit_cache = True


@compiles(days_between)
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"(julianday({compiler.process(end, **kw)})"
        f" - julianday({compiler.process(start, **kw)}))"
    )


@compiles(days_between, "postgresql")
def _days_between_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)}"
        f" - {compiler.process(start, **kw)})) / 86400.0)"
    )


class utc_time(expression.FunctionElement[datetime]):  # noqa: N801 (a SQL function)
    """A stored timestamp as UTC wall time, whatever the session's time zone."""

    name = "utc_time"
    inherit_cache = True


@compiles(utc_time)
def _utc_time_sqlite(element: utc_time, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(list(element.clauses)[0], **kw)  # SQLite stores UTC already


@compiles(utc_time, "postgresql")
def _utc_time_pg(element: utc_time, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(list(element.clauses)[0], **kw)} AT TIME ZONE 'UTC')"


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _sum_if(condition: ColumnElement[bool], value: Any) -> ColumnElement[Decimal]:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _is_true(column: Any) -> ColumnElement[bool]:
    return col(column).is_(true())


def _is_false(column: Any) -> ColumnElement[bool]:
    return col(column).is_(false())


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """'2026-10' -> [2026-10-01, 2026-11-01)."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"month {month!r} must look like YYYY-MM") from exc
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


# ---------------------------------------------------------------- the filter behind a number


class ClaimFilter(BaseModel):
    """Which claims: the /claims page's query string and each dashboard number's drill-through.
    `date_from`/`date_to` bound the service date; ages count days from the service date."""

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
    min_amount: Decimal | None = Field(default=None, ge=0)
    max_amount: Decimal | None = Field(default=None, ge=0)
    reason: str | None = Field(default=None, pattern=r"^([A-Z]{2}-)?[A-Z0-9]{1,5}$")
    denial_month: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")
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
        data: dict[str, Any] = {k: v for k, v in params.items() if k != "page"}
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


def _denied_claims() -> Select[Any]:
    return select(Denial.claim_id)


def _first_denials() -> Any:
    """Per denied claim: when it was first denied and the first remittance that denied it."""
    return (
        select(
            col(Denial.claim_id).label("claim_id"),
            func.min(Denial.created_at).label("first_at"),
            func.min(Denial.remittance_id).label("first_remittance_id"),
        )
        .group_by(col(Denial.claim_id))
        .subquery("first_denial")
    )


def _overturned_claims() -> Select[Any]:
    """Denied claims that a later remittance paid (after a correction or an appeal)."""
    first = _first_denials()
    return (
        select(col(Remittance.claim_id))
        .join(first, first.c.claim_id == Remittance.claim_id)
        .where(col(Remittance.id) > first.c.first_remittance_id, col(Remittance.paid) > 0)
    )


def cohort_condition(cohort: Cohort) -> ColumnElement[bool]:
    adjudicated = col(Claim.denied_first_pass).is_not(None)
    conditions: dict[str, ColumnElement[bool]] = {
        "scrubbed": col(Claim.clean_first_pass).is_not(None),
        "clean": _is_true(Claim.clean_first_pass),
        "adjudicated": adjudicated,
        "denied_first_pass": _is_true(Claim.denied_first_pass),
        "first_pass_resolved": and_(
            _is_false(Claim.denied_first_pass),
            col(Claim.attempts) <= 1,
            col(Claim.status).in_(RESOLVED_FIRST_PASS),
        ),
        "denied": col(Claim.id).in_(_denied_claims()),
        "overturned": col(Claim.id).in_(_overturned_claims()),
        "denial_written_off": and_(
            Claim.status == ClaimStatus.written_off, col(Claim.id).in_(_denied_claims())
        ),
        "denial_resolved": and_(
            col(Claim.status).in_(FINAL),
            col(Claim.closed_at).is_not(None),
            col(Claim.id).in_(_denied_claims()),
        ),
        "open": col(Claim.status).not_in(FINAL),
    }
    return conditions[cohort]


def _age_conditions(f: ClaimFilter, today: date) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.min_age is not None:
        out.append(col(Claim.service_date) <= today - timedelta(days=f.min_age))
    if f.max_age is not None:
        out.append(col(Claim.service_date) >= today - timedelta(days=f.max_age))
    return out


def _reason_condition(f: ClaimFilter) -> ColumnElement[bool] | None:
    if f.reason is None and f.denial_month is None:
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


def _search_condition(term: str) -> ColumnElement[bool]:
    term = term.strip()
    if term.isdigit():
        return or_(Claim.id == int(term), col(Claim.member_id).ilike(f"{term}%"))
    like = f"{term}%"
    return or_(
        col(Claim.patient_last_name).ilike(like),
        col(Claim.member_id).ilike(like),
        col(Claim.payer_claim_control_number).ilike(like),
    )


def claim_conditions(f: ClaimFilter, *, today: date, now: datetime) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.status:
        out.append(col(Claim.status).in_([s.strip() for s in f.status.split(",")]))
    if f.payer:
        out.append(Claim.payer_id == f.payer)
    if f.route:
        out.append(Claim.denial_route == f.route)
    if f.assignee:
        out.append(Claim.assigned_to == f.assignee)
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
        out.append(_search_condition(f.q))
    out.extend(_age_conditions(f, today))
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


# ---------------------------------------------------------------- the KPIs


class Ratio(BaseModel):
    numerator: Decimal
    denominator: Decimal
    rate: float | None
    numerator_link: str
    denominator_link: str


class AgingBucket(BaseModel):
    label: str
    min_days: int
    max_days: int | None
    claims: int
    balance: Decimal
    link: str


class DaysStat(BaseModel):
    average_days: float | None
    count: int
    link: str


class ReasonRow(BaseModel):
    payer: str
    month: str
    group: str
    carc: str
    label: str
    denials: int
    claims: int
    amount: Decimal
    link: str


class Kpis(BaseModel):
    as_of: date
    date_basis: Literal["service_date"] = "service_date"
    payer: str | None
    date_from: date | None
    date_to: date | None
    clean_claim_rate: Ratio
    first_pass_resolution_rate: Ratio
    initial_denial_rate: Ratio
    initial_denial_rate_by_charges: Ratio
    overturn_rate: Ratio
    denial_write_off_share: Ratio
    dollars_recovered: Decimal
    dollars_recovered_link: str
    days_to_resolve_denial: DaysStat
    days_denial_to_appeal: DaysStat
    ar_aging: list[AgingBucket]
    top_denial_reasons: list[ReasonRow]


def _ratio(num: Any, den: Any, num_link: str, den_link: str) -> Ratio:
    n, d = Decimal(str(num or 0)), Decimal(str(den or 0))
    return Ratio(numerator=n, denominator=d, rate=float(n / d) if d else None,
                 numerator_link=num_link, denominator_link=den_link)


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _aging_case(today: date) -> ColumnElement[str]:
    whens = []
    for label, _low, high in AR_BUCKETS:
        if high is not None:
            whens.append((col(Claim.service_date) >= today - timedelta(days=high), label))
    return case(*whens, else_=AR_BUCKETS[-1][0])


def _claim_totals(session: Session, conditions: list[ColumnElement[bool]],
                  today: date) -> dict[str, Any]:
    """One pass over the filtered claims for every claim-level count and sum."""
    adjudicated = cohort_condition("adjudicated")
    denied_fp = cohort_condition("denied_first_pass")
    is_open = cohort_condition("open")
    balance = (col(Claim.total_charge) - col(Claim.paid_amount)
               - col(Claim.patient_responsibility))
    bucket = _aging_case(today)
    columns: dict[str, ColumnElement[Any]] = {
        "scrubbed": _count_if(cohort_condition("scrubbed")),
        "clean": _count_if(cohort_condition("clean")),
        "adjudicated": _count_if(adjudicated),
        "denied_first_pass": _count_if(denied_fp),
        "fpr": _count_if(cohort_condition("first_pass_resolved")),
        "adjudicated_charges": _sum_if(adjudicated, Claim.total_charge),
        "denied_charges": _sum_if(denied_fp, Claim.total_charge),
        "net_revenue": func.coalesce(
            func.sum(col(Claim.paid_amount) + col(Claim.patient_responsibility)), 0
        ),
    }
    for label, _low, _high in AR_BUCKETS:
        in_bucket = and_(is_open, bucket == label)
        columns[f"ar_count_{label}"] = _count_if(in_bucket)
        columns[f"ar_balance_{label}"] = _sum_if(in_bucket, balance)
    query = select(*(c.label(k) for k, c in columns.items())).select_from(Claim)
    row = session.exec(query.where(*conditions)).one()
    return dict(row._mapping)


def _denial_totals(session: Session, conditions: list[ColumnElement[bool]]) -> dict[str, Any]:
    first = _first_denials()
    resolved = cohort_condition("denial_resolved")
    written_off = Claim.status == ClaimStatus.written_off
    balance = (col(Claim.total_charge) - col(Claim.paid_amount)
               - col(Claim.patient_responsibility))
    query = (
        select(
            func.count().label("denied"),
            _count_if(cohort_condition("overturned")).label("overturned"),
            _count_if(written_off).label("written_off"),
            _sum_if(written_off, balance).label("written_off_amount"),
            _count_if(resolved).label("resolved"),
            func.avg(case((resolved, days_between(first.c.first_at, Claim.closed_at)))).label(
                "avg_days"
            ),
        )
        .select_from(Claim)
        .join(first, first.c.claim_id == Claim.id)
        .where(*conditions)
    )
    return dict(session.exec(query).one()._mapping)


def _recovered(session: Session, conditions: list[ColumnElement[bool]]) -> Decimal:
    first = _first_denials()
    query = (
        select(func.coalesce(func.sum(Remittance.paid), 0))
        .select_from(Remittance)
        .join(first, first.c.claim_id == Remittance.claim_id)
        .join(Claim, col(Claim.id) == Remittance.claim_id)
        .where(col(Remittance.id) > first.c.first_remittance_id, *conditions)
    )
    return _money(session.exec(query).one())


def _appeal_days(session: Session, conditions: list[ColumnElement[bool]]) -> tuple[float | None,
                                                                                     int]:
    """Days from the appeal work item opening (the denial was routed) to the appeal being sent."""
    query = (
        select(
            func.avg(days_between(WorkItem.created_at, WorkItem.completed_at)),
            func.count(),
        )
        .select_from(WorkItem)
        .join(Claim, col(Claim.id) == WorkItem.claim_id)
        .where(WorkItem.queue == "appeal", WorkItem.resolution == "appeal_sent",
               col(WorkItem.completed_at).is_not(None), *conditions)
    )
    avg, count = session.exec(query).one()
    return (float(avg) if avg is not None else None), int(count)


def top_denial_reasons(
    *, session: Session, claim_filter: ClaimFilter, today: date, now: datetime, limit: int = 20
) -> list[ReasonRow]:
    """Denials grouped by the claim's payer, month denied, group and CARC; most frequent first."""
    conditions = claim_conditions(claim_filter.period(), today=today, now=now)
    year = extract("year", utc_time(Denial.created_at))
    month = extract("month", utc_time(Denial.created_at))
    query = (
        select(
            Claim.payer_id, year.label("y"), month.label("m"), Denial.group, Denial.carc,
            func.count().label("n"), func.count(distinct(Denial.claim_id)).label("claims"),
            func.coalesce(func.sum(Denial.amount), 0).label("amount"),
        )
        .join(Claim, col(Claim.id) == Denial.claim_id)
        .where(*conditions)
        .group_by(Claim.payer_id, year, month, Denial.group, Denial.carc)
        .order_by(func.count().desc(), Claim.payer_id, year.desc(), month.desc(), Denial.carc)
        .limit(limit)
    )
    rows = []
    for payer, y, m, group, carc, n, claims, amount in session.exec(query).all():
        month_label = f"{int(y):04d}-{int(m):02d}"
        link_filter = claim_filter.period().model_copy(update={"payer": payer})
        rows.append(ReasonRow(
            payer=payer, month=month_label, group=group, carc=carc, label=describe_carc(carc),
            denials=int(n), claims=int(claims), amount=_money(amount),
            link=link_filter.link(reason=f"{group}-{carc}", denial_month=month_label),
        ))
    return rows


def compute_kpis(
    *, session: Session, claim_filter: ClaimFilter, today: date, now: datetime
) -> Kpis:
    f = claim_filter.period()
    conditions = claim_conditions(f, today=today, now=now)
    t = _claim_totals(session, conditions, today)
    d = _denial_totals(session, conditions)
    appeal_avg, appeal_count = _appeal_days(session, conditions)

    def link(cohort: str, **extra: Any) -> str:
        return f.link(cohort=cohort, **extra)

    aging = [
        AgingBucket(label=label, min_days=low, max_days=high,
                    claims=int(t[f"ar_count_{label}"]), balance=_money(t[f"ar_balance_{label}"]),
                    link=link("open", min_age=low, max_age=high))
        for label, low, high in AR_BUCKETS
    ]
    return Kpis(
        as_of=today, payer=f.payer, date_from=f.date_from, date_to=f.date_to,
        clean_claim_rate=_ratio(t["clean"], t["scrubbed"], link("clean"), link("scrubbed")),
        first_pass_resolution_rate=_ratio(t["fpr"], t["adjudicated"],
                                          link("first_pass_resolved"), link("adjudicated")),
        initial_denial_rate=_ratio(t["denied_first_pass"], t["adjudicated"],
                                   link("denied_first_pass"), link("adjudicated")),
        initial_denial_rate_by_charges=_ratio(
            _money(t["denied_charges"]), _money(t["adjudicated_charges"]),
            link("denied_first_pass"), link("adjudicated")),
        overturn_rate=_ratio(d["overturned"], d["denied"], link("overturned"), link("denied")),
        denial_write_off_share=_ratio(
            _money(d["written_off_amount"]), _money(t["net_revenue"]),
            link("denial_written_off"), f.link()),
        dollars_recovered=_recovered(session, conditions),
        dollars_recovered_link=link("overturned"),
        days_to_resolve_denial=DaysStat(
            average_days=float(d["avg_days"]) if d["avg_days"] is not None else None,
            count=int(d["resolved"]), link=link("denial_resolved")),
        days_denial_to_appeal=DaysStat(average_days=appeal_avg, count=appeal_count,
                                       link=link("denied", status="appealing")),
        ar_aging=aging,
        top_denial_reasons=top_denial_reasons(session=session, claim_filter=f, today=today,
                                              now=now),
    )


# ---------------------------------------------------------------- dashboard breakdowns


class StatusCount(BaseModel):
    status: str
    claims: int
    charges: Decimal
    link: str


class QueueLoad(BaseModel):
    queue: str
    open: int
    overdue: int
    by_age: dict[str, int]
    open_link: str
    overdue_link: str
    age_links: dict[str, str]


class TrendPoint(BaseModel):
    month: str
    adjudicated: int
    denied: int
    rate: float | None


class ParetoRow(BaseModel):
    reason: str
    label: str
    denials: int
    cumulative_share: float
    link: str


def claims_by_status(*, session: Session, claim_filter: ClaimFilter, today: date,
                     now: datetime) -> list[StatusCount]:
    f = claim_filter.period()
    query = (
        select(Claim.status, func.count(), func.coalesce(func.sum(Claim.total_charge), 0))
        .where(*claim_conditions(f, today=today, now=now))
        .group_by(Claim.status)
    )
    order = {s.value: i for i, s in enumerate(ClaimStatus)}
    rows = [StatusCount(status=s, claims=int(n), charges=_money(c), link=f.link(status=s))
            for s, n, c in session.exec(query).all()]
    return sorted(rows, key=lambda r: order.get(r.status, len(order)))


def work_by_queue(*, session: Session, claim_filter: ClaimFilter, today: date,
                  now: datetime) -> list[QueueLoad]:
    """Claims with open work, per queue: how many, how many overdue, by the item's age."""
    f = claim_filter.period()
    whens = [
        (col(WorkItem.created_at) > now - timedelta(days=high + 1), label)
        for label, _low, high in WORK_AGE_BUCKETS if high is not None
    ]
    age = case(*whens, else_=WORK_AGE_BUCKETS[-1][0])
    overdue = col(WorkItem.due_at) < now
    query = (
        select(WorkItem.queue, age.label("age"), func.count(distinct(WorkItem.claim_id)),
               func.count(distinct(case((overdue, WorkItem.claim_id)))))
        .join(Claim, col(Claim.id) == WorkItem.claim_id)
        .where(WorkItem.status == "open", *claim_conditions(f, today=today, now=now))
        .group_by(WorkItem.queue, age)
    )
    totals = (
        select(WorkItem.queue, func.count(distinct(WorkItem.claim_id)),
               func.count(distinct(case((overdue, WorkItem.claim_id)))))
        .join(Claim, col(Claim.id) == WorkItem.claim_id)
        .where(WorkItem.status == "open", *claim_conditions(f, today=today, now=now))
        .group_by(WorkItem.queue)
    )
    ages: dict[str, dict[str, int]] = {}
    for queue, bucket, n, _late in session.exec(query).all():
        ages.setdefault(queue, {})[bucket] = int(n)
    loads = []
    for queue, n, late in sorted(session.exec(totals).all()):
        loads.append(QueueLoad(
            queue=queue, open=int(n), overdue=int(late),
            by_age={b[0]: ages.get(queue, {}).get(b[0], 0) for b in WORK_AGE_BUCKETS},
            open_link=f.link(work_queue=queue),
            overdue_link=f.link(work_queue=queue, overdue=True),
            age_links={b[0]: f.link(work_queue=queue, work_age=b[0]) for b in WORK_AGE_BUCKETS},
        ))
    return loads


def denial_trend(*, session: Session, claim_filter: ClaimFilter, today: date, now: datetime,
                 months: int = 12) -> list[TrendPoint]:
    """Initial denial rate per service month (the last `months` when no period is given)."""
    f = claim_filter.period()
    if f.date_from is None:
        start = (today.replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
        f = f.model_copy(update={"date_from": start})
    year = extract("year", Claim.service_date)
    month = extract("month", Claim.service_date)
    query = (
        select(year, month, func.count(), _count_if(cohort_condition("denied_first_pass")))
        .where(cohort_condition("adjudicated"), *claim_conditions(f, today=today, now=now))
        .group_by(year, month)
        .order_by(year, month)
    )
    return [
        TrendPoint(month=f"{int(y):04d}-{int(m):02d}", adjudicated=int(n), denied=int(dn),
                   rate=(int(dn) / int(n)) if n else None)
        for y, m, n, dn in session.exec(query).all()
    ]


def denial_pareto(*, session: Session, claim_filter: ClaimFilter, today: date, now: datetime,
                  limit: int = 10) -> list[ParetoRow]:
    f = claim_filter.period()
    query = (
        select(Denial.group, Denial.carc, func.count())
        .join(Claim, col(Claim.id) == Denial.claim_id)
        .where(*claim_conditions(f, today=today, now=now))
        .group_by(Denial.group, Denial.carc)
        .order_by(func.count().desc(), Denial.group, Denial.carc)
    )
    rows = session.exec(query).all()
    total = sum(int(r[2]) for r in rows)
    out: list[ParetoRow] = []
    running = 0
    for group, carc, n in rows[:limit]:
        running += int(n)
        out.append(ParetoRow(reason=f"{group}-{carc}", label=describe_carc(carc),
                             denials=int(n), cumulative_share=running / total if total else 0.0,
                             link=f.link(reason=f"{group}-{carc}")))
    return out
