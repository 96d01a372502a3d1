"""The manager's numbers as the dashboard and `/api/v1/metrics` return them: each number with
the `/claims` links to the claims behind it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel


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


class Dashboard(BaseModel):
    kpis: Kpis
    statuses: list[StatusCount]
    queues: list[QueueLoad]
    trend: list[TrendPoint]
    pareto: list[ParetoRow]
