"""The manager's numbers (DOMAIN.md "The numbers managers watch"), computed in SQL.

Every KPI runs as a handful of aggregate queries over the projection tables; no claim rows are
loaded into Python. The period filter always applies to the claim's **service date**, and the
payer filter to `Claim.payer_id`; A/R aging counts days from the service date to `today`.

Each number also has a `ClaimFilter` (reclaim/claims/filter.py) that selects exactly the claims
behind it; the dashboard links every number to `/claims` with that filter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, case, distinct, func, true
from sqlalchemy import select as sql_select
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col

from contracts.enums import FINAL_STATUSES, RESOLVED_PAID, ClaimStatus
from reclaim.claims.filter import (
    WORK_AGE_BUCKETS,
    ClaimFilter,
    claim_conditions,
    cohort_condition,
)
from reclaim.codes.carc import describe_carc
from reclaim.db import side_by_side
from reclaim.kpi.sql import ZERO, count_if, days_between, fetch_rows, money, sum_if
from reclaim.kpi.views import (
    AgingBucket,
    Dashboard,
    DaysStat,
    Kpis,
    ParetoRow,
    QueueLoad,
    Ratio,
    ReasonRow,
    StatusCount,
    TrendPoint,
)
from reclaim.models import Claim, Denial, WorkItem

AR_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("120+", 121, None),
)


class _Group(BaseModel):
    """Claims sharing status, first-pass flags and attempts: one row of the grouped scan."""

    status: str
    clean: bool | None
    denied: bool | None
    attempts: int
    claims: int
    charges: Decimal
    paid: Decimal
    patient: Decimal


def _ratio(num: Any, den: Any, num_link: str, den_link: str) -> Ratio:
    n, d = Decimal(str(num or 0)), Decimal(str(den or 0))
    return Ratio(numerator=n, denominator=d, rate=float(n / d) if d else None,
                 numerator_link=num_link, denominator_link=den_link)


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _claim_groups(session: Session, conditions: list[ColumnElement[bool]]) -> list[_Group]:
    """The filtered claims grouped by what the claim-level KPIs need. The grouping columns lead
    the covering index ix_claim_kpi, so this is one ordered index scan, never the wide rows."""
    keys = (col(Claim.status), col(Claim.clean_first_pass), col(Claim.denied_first_pass),
            col(Claim.attempts))
    query = (
        sql_select(*keys, func.count(), func.coalesce(func.sum(Claim.total_charge), 0),
               func.coalesce(func.sum(Claim.paid_amount), 0),
               func.coalesce(func.sum(Claim.patient_responsibility), 0))
        .where(*conditions)
        .group_by(*keys)
    )
    return [
        _Group(status=s, clean=_flag(c), denied=_flag(d), attempts=int(a or 0), claims=int(n),
               charges=money(ch), paid=money(p), patient=money(pr))
        for s, c, d, a, n, ch, p, pr in fetch_rows(session, query)
    ]


def _group_totals(groups: list[_Group]) -> dict[str, Any]:
    """Sums of the grouped rows, by the same rules as `cohort_condition`."""
    adjudicated = [g for g in groups if g.denied is not None]
    denied = [g for g in adjudicated if g.denied]
    return {
        "scrubbed": sum(g.claims for g in groups if g.clean is not None),
        "clean": sum(g.claims for g in groups if g.clean),
        "adjudicated": sum(g.claims for g in adjudicated),
        "denied_first_pass": sum(g.claims for g in denied),
        "fpr": sum(g.claims for g in adjudicated if g.denied is False and g.attempts <= 1
                   and g.status in RESOLVED_PAID),
        "adjudicated_charges": sum((g.charges for g in adjudicated), ZERO),
        "denied_charges": sum((g.charges for g in denied), ZERO),
        "net_revenue": sum((g.paid + g.patient for g in groups), ZERO),
    }


def _aging_case(today: date) -> ColumnElement[str]:
    whens = []
    for label, _low, high in AR_BUCKETS:
        if high is not None:
            whens.append((col(Claim.service_date) >= today - timedelta(days=high), label))
    return case(*whens, else_=AR_BUCKETS[-1][0])


def _balance() -> ColumnElement[Decimal]:
    return col(Claim.total_charge) - col(Claim.paid_amount) - col(Claim.patient_responsibility)


def _aging(session: Session, conditions: list[ColumnElement[bool]], f: ClaimFilter,
           today: date) -> list[AgingBucket]:
    bucket = _aging_case(today)
    query = (
        sql_select(bucket, func.count(), func.coalesce(func.sum(_balance()), 0))
        .where(cohort_condition("open"), *conditions)
        .group_by(bucket)
    )
    found = {label: (int(n), money(b)) for label, n, b in fetch_rows(session, query)}
    return [
        AgingBucket(label=label, min_days=low, max_days=high,
                    claims=found.get(label, (0, ZERO))[0],
                    balance=found.get(label, (0, ZERO))[1],
                    link=f.link(cohort="open", min_age=low, max_age=high))
        for label, low, high in AR_BUCKETS
    ]


def _denial_totals(session: Session, conditions: list[ColumnElement[bool]]) -> dict[str, Any]:
    """Over denied claims: overturned, recovered, written off, resolved and how fast; read from
    each claim's denial facts through the covering index ix_claim_denial_kpi."""
    resolved = and_(col(Claim.status).in_(sorted(FINAL_STATUSES)),
                    col(Claim.closed_at).is_not(None))
    written_off = col(Claim.status) == ClaimStatus.written_off
    query = (
        sql_select(
            func.count().label("denied"),
            count_if(col(Claim.overturned).is_(true())).label("overturned"),
            func.coalesce(func.sum(Claim.recovered_amount), 0).label("recovered"),
            sum_if(written_off, _balance()).label("written_off_amount"),
            count_if(resolved).label("resolved"),
            func.avg(case((resolved, days_between(Claim.denied_at, Claim.closed_at)))
                     ).label("avg_days"),
        )
        .where(cohort_condition("denied"), *conditions)
    )
    return dict(fetch_rows(session, query)[0]._mapping)


def _appeal_days(session: Session, conditions: list[ColumnElement[bool]]) -> tuple[float | None,
                                                                                     int]:
    """Days from the appeal work item opening (the denial was routed) to the appeal being sent."""
    query = (
        sql_select(func.avg(days_between(WorkItem.created_at, WorkItem.completed_at)),
                   func.count())
        .select_from(WorkItem)
        .where(col(WorkItem.queue) == "appeal", col(WorkItem.resolution) == "appeal_sent",
               col(WorkItem.completed_at).is_not(None))
    )
    if conditions:
        query = query.join(Claim, col(Claim.id) == WorkItem.claim_id).where(*conditions)
    avg, count = fetch_rows(session, query)[0]
    return (float(avg) if avg is not None else None), int(count)


def _reason_counts(session: Session, conditions: list[ColumnElement[bool]],
                   ) -> list[tuple[str, str, str, str, int, int, Decimal]]:
    """Denials by the payer that denied, the month denied (UTC), group and CARC; most first:
    (payer, month, group, carc, denials, claims, amount)."""
    keys = (col(Denial.payer_id), col(Denial.denied_month), col(Denial.group),
            col(Denial.carc))
    query = sql_select(*keys, func.count(), func.count(distinct(col(Denial.claim_id))),
                   func.coalesce(func.sum(Denial.amount), 0)).group_by(*keys)
    if conditions:  # the claim rows are read only when a filter needs them
        query = query.join(Claim, col(Claim.id) == Denial.claim_id).where(*conditions)
    rows = [(payer, month, group, carc, int(n), int(claims), money(amount))
            for payer, month, group, carc, n, claims, amount in fetch_rows(session, query)]
    rows.sort(key=lambda r: (-r[4], r[0], r[1], r[2], r[3]))
    return rows


def _reason_rows(counts: list[tuple[str, str, str, str, int, int, Decimal]], f: ClaimFilter,
                 limit: int = 20) -> list[ReasonRow]:
    return [
        ReasonRow(payer=payer, month=month, group=group, carc=carc, label=describe_carc(carc),
                  denials=n, claims=claims, amount=amount,
                  link=f.link(reason=f"{group}-{carc}", denial_month=month, denial_payer=payer))
        for payer, month, group, carc, n, claims, amount in counts[:limit]
    ]


def top_denial_reasons(*, session: Session, claim_filter: ClaimFilter, today: date,
                       now: datetime, limit: int = 20) -> list[ReasonRow]:
    f = claim_filter.period()
    return _reason_rows(_reason_counts(session, claim_conditions(f, today=today, now=now)), f,
                        limit)


def _kpis(f: ClaimFilter, parts: Mapping[str, Any], today: date) -> Kpis:
    t = _group_totals(parts["groups"])
    d = parts["denials"]
    appeal_avg, appeal_count = parts["appeal"]

    def link(cohort: str, **extra: Any) -> str:
        return f.link(cohort=cohort, **extra)

    return Kpis(
        as_of=today, payer=f.payer, date_from=f.date_from, date_to=f.date_to,
        clean_claim_rate=_ratio(t["clean"], t["scrubbed"], link("clean"), link("scrubbed")),
        first_pass_resolution_rate=_ratio(t["fpr"], t["adjudicated"],
                                          link("first_pass_resolved"), link("adjudicated")),
        initial_denial_rate=_ratio(t["denied_first_pass"], t["adjudicated"],
                                   link("denied_first_pass"), link("adjudicated")),
        initial_denial_rate_by_charges=_ratio(
            t["denied_charges"], t["adjudicated_charges"],
            link("denied_first_pass"), link("adjudicated")),
        overturn_rate=_ratio(d["overturned"], d["denied"], link("overturned"), link("denied")),
        denial_write_off_share=_ratio(
            money(d["written_off_amount"]), t["net_revenue"],
            link("denial_written_off"), f.link()),
        dollars_recovered=money(d["recovered"]),
        dollars_recovered_link=link("overturned"),
        days_to_resolve_denial=DaysStat(
            average_days=float(d["avg_days"]) if d["avg_days"] is not None else None,
            count=int(d["resolved"]), link=link("denial_resolved")),
        days_denial_to_appeal=DaysStat(average_days=appeal_avg, count=appeal_count,
                                       link=link("denied", status="appealing")),
        ar_aging=parts["aging"],
        top_denial_reasons=_reason_rows(parts["counts"], f),
    )


def _kpi_jobs(f: ClaimFilter, conditions: list[ColumnElement[bool]],
              today: date) -> dict[str, Callable[[Session], Any]]:
    """The KPIs' independent queries, slowest first (the pool starts them in this order)."""
    return {
        "groups": lambda s: _claim_groups(s, conditions),
        "counts": lambda s: _reason_counts(s, conditions),
        "aging": lambda s: _aging(s, conditions, f, today),
        "denials": lambda s: _denial_totals(s, conditions),
        "appeal": lambda s: _appeal_days(s, conditions),
    }


def compute_kpis(
    *, session: Session, claim_filter: ClaimFilter, today: date, now: datetime
) -> Kpis:
    """Every KPI of DOMAIN.md for the filter's payer and service-date period."""
    f = claim_filter.period()
    conditions = claim_conditions(f, today=today, now=now)
    parts = side_by_side(session, _kpi_jobs(f, conditions, today))
    return _kpis(f, parts, today)


def dashboard(*, session: Session, claim_filter: ClaimFilter, today: date,
              now: datetime) -> Dashboard:
    """The KPIs plus the dashboard's breakdowns, sharing the grouped scans between them."""
    f = claim_filter.period()
    conditions = claim_conditions(f, today=today, now=now)
    jobs = _kpi_jobs(f, conditions, today)
    jobs["queues"] = lambda s: work_by_queue(session=s, claim_filter=f, today=today, now=now)
    jobs["trend"] = lambda s: denial_trend(session=s, claim_filter=f, today=today, now=now)
    parts = side_by_side(session, jobs)
    return Dashboard(
        kpis=_kpis(f, parts, today),
        statuses=_statuses(parts["groups"], f),
        queues=parts["queues"],
        trend=parts["trend"],
        pareto=_pareto(parts["counts"], f),
    )


# ---------------------------------------------------------------- dashboard breakdowns


def _statuses(groups: list[_Group], f: ClaimFilter) -> list[StatusCount]:
    claims: dict[str, int] = {}
    charges: dict[str, Decimal] = {}
    for g in groups:
        claims[g.status] = claims.get(g.status, 0) + g.claims
        charges[g.status] = charges.get(g.status, ZERO) + g.charges
    order = {s.value: i for i, s in enumerate(ClaimStatus)}
    return [StatusCount(status=s, claims=n, charges=charges[s], link=f.link(status=s))
            for s, n in sorted(claims.items(), key=lambda kv: order.get(kv[0], len(order)))]


def claims_by_status(*, session: Session, claim_filter: ClaimFilter, today: date,
                     now: datetime) -> list[StatusCount]:
    f = claim_filter.period()
    return _statuses(_claim_groups(session, claim_conditions(f, today=today, now=now)), f)


def work_by_queue(*, session: Session, claim_filter: ClaimFilter, today: date,
                  now: datetime) -> list[QueueLoad]:
    """Claims with open work, per queue: how many, how many overdue, by the item's age."""
    f = claim_filter.period()
    conditions = claim_conditions(f, today=today, now=now)
    whens = [
        (col(WorkItem.created_at) > now - timedelta(days=high + 1), label)
        for label, _low, high in WORK_AGE_BUCKETS if high is not None
    ]
    age = case(*whens, else_=WORK_AGE_BUCKETS[-1][0])
    # Past our SLA (RECLAIM_WORK_ITEM_DUE_AFTER); an item opened before it had one, its due date.
    overdue = func.coalesce(col(WorkItem.sla_due_at), col(WorkItem.due_at)) < now
    claims = func.count(distinct(col(WorkItem.claim_id)))
    late = func.count(distinct(case((overdue, WorkItem.claim_id))))

    def scoped(query: Any) -> Any:
        query = query.where(col(WorkItem.status) == "open")
        if conditions:
            query = query.join(Claim, col(Claim.id) == WorkItem.claim_id).where(*conditions)
        return query

    queue_col = col(WorkItem.queue)
    by_age = scoped(sql_select(queue_col, age, claims).group_by(queue_col, age))
    totals = scoped(sql_select(queue_col, claims, late).group_by(queue_col))
    ages: dict[str, dict[str, int]] = {}
    for queue, bucket, n in fetch_rows(session, by_age):
        ages.setdefault(queue, {})[bucket] = int(n)
    return [
        QueueLoad(
            queue=queue, open=int(n), overdue=int(n_late),
            by_age={b[0]: ages.get(queue, {}).get(b[0], 0) for b in WORK_AGE_BUCKETS},
            open_link=f.link(work_queue=queue),
            overdue_link=f.link(work_queue=queue, overdue=True),
            age_links={b[0]: f.link(work_queue=queue, work_age=b[0]) for b in WORK_AGE_BUCKETS},
        )
        for queue, n, n_late in sorted(fetch_rows(session, totals))
    ]


def denial_trend(*, session: Session, claim_filter: ClaimFilter, today: date, now: datetime,
                 months: int = 12) -> list[TrendPoint]:
    """Initial denial rate per service month (the last `months` when no period is given).
    Grouped by day in SQL (a covering index range), folded into months here."""
    f = claim_filter.period()
    if f.date_from is None:
        start = (today.replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
        f = f.model_copy(update={"date_from": start})
    query = (
        sql_select(col(Claim.service_date), func.count(),
                   count_if(cohort_condition("denied_first_pass")))
        .where(cohort_condition("adjudicated"), *claim_conditions(f, today=today, now=now))
        .group_by(col(Claim.service_date))
    )
    per_month: dict[str, list[int]] = {}
    for day, n, denied in fetch_rows(session, query):
        key = (day if isinstance(day, date) else date.fromisoformat(str(day))).strftime("%Y-%m")
        totals = per_month.setdefault(key, [0, 0])
        totals[0] += int(n)
        totals[1] += int(denied)
    return [TrendPoint(month=m, adjudicated=n, denied=dn, rate=dn / n if n else None)
            for m, (n, dn) in sorted(per_month.items())]


def _pareto(counts: list[tuple[str, str, str, str, int, int, Decimal]], f: ClaimFilter,
            limit: int = 10) -> list[ParetoRow]:
    per_reason: dict[tuple[str, str], int] = {}
    for _payer, _month, group, carc, n, _claims, _amount in counts:
        per_reason[(group, carc)] = per_reason.get((group, carc), 0) + n
    ranked = sorted(per_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum(per_reason.values())
    out: list[ParetoRow] = []
    running = 0
    for (group, carc), n in ranked[:limit]:
        running += n
        out.append(ParetoRow(reason=f"{group}-{carc}", label=describe_carc(carc), denials=n,
                             cumulative_share=running / total if total else 0.0,
                             link=f.link(reason=f"{group}-{carc}")))
    return out


def denial_pareto(*, session: Session, claim_filter: ClaimFilter, today: date, now: datetime,
                  limit: int = 10) -> list[ParetoRow]:
    f = claim_filter.period()
    return _pareto(_reason_counts(session, claim_conditions(f, today=today, now=now)), f, limit)
