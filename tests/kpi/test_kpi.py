"""Every KPI against a hand-computed fixture of eight claims (today = 2026-03-15).

claim payer service     charge clean denied1st status                  paid+pr denial
c1    ACME  2026-01-05  100    yes   no        paid                    80+20
c2    ACME  2026-01-10  200    no    yes       paid (attempt 2)        200     CO-16 1-20, end 1-30
c3    ACME  2026-02-01  300    yes   yes       written_off             0       CO-50 2-05, end 2-25
c4    BETA  2026-02-10  400    yes   -         submitted (open, 33 d)  0
c5    BETA  2025-11-01  50     -     -         coding (open, 134 d)    0
c6    BETA  2026-03-01  150    yes   yes       appealing (open, 14 d)  0       CO-50 3-5, appeal 3-8
c7    BETA  2026-01-20  120    yes   no        partially_paid          90
c8    ACME  2026-02-20  80     yes   no        patient_responsibility  0+80
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from reclaim.claims.filter import ClaimFilter, search_claims
from reclaim.kpi.dashboard import (
    claims_by_status,
    compute_kpis,
    denial_pareto,
    denial_trend,
    work_by_queue,
)
from reclaim.kpi.views import Kpis, Ratio
from tests.factories import add_claim, add_denial, add_item, add_remittance


def dt(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


TODAY = date(2026, 3, 15)
NOW = dt(2026, 3, 15, 12, 0)


@pytest.fixture
def fixture_db(db: Engine) -> Engine:
    with Session(db) as s:
        c1 = add_claim(s, payer="ACME", service_date=date(2026, 1, 5), charge="100", paid="80",
                       patient_resp="20", clean=True, denied=False, status="paid",
                       closed_at=dt(2026, 1, 25))
        add_remittance(s, c1, paid="80")
        c2 = add_claim(s, payer="ACME", service_date=date(2026, 1, 10), charge="200", paid="200",
                       clean=False, denied=True, status="paid", attempts=2,
                       closed_at=dt(2026, 1, 30))
        r21 = add_remittance(s, c2, paid="0", status_code="4")
        add_denial(s, c2, r21, created_at=dt(2026, 1, 20), carc="16", amount="200")
        add_remittance(s, c2, paid="200", attempt=2)
        c3 = add_claim(s, payer="ACME", service_date=date(2026, 2, 1), charge="300", clean=True,
                       denied=True, status="written_off", closed_at=dt(2026, 2, 25))
        r3 = add_remittance(s, c3, paid="0", status_code="4")
        add_denial(s, c3, r3, created_at=dt(2026, 2, 5), carc="50", amount="300")
        add_claim(s, payer="BETA", service_date=date(2026, 2, 10), charge="400", clean=True)
        add_claim(s, payer="BETA", service_date=date(2025, 11, 1), charge="50", status="coding")
        c6 = add_claim(s, payer="BETA", service_date=date(2026, 3, 1), charge="150", clean=True,
                       denied=True, status="appealing")
        r6 = add_remittance(s, c6, paid="0", status_code="4")
        add_denial(s, c6, r6, created_at=dt(2026, 3, 5), carc="50", amount="150")
        add_item(s, c6, queue="appeal", status="done", created_at=dt(2026, 3, 5),
                 completed_at=dt(2026, 3, 8), resolution="appeal_sent")
        c7 = add_claim(s, payer="BETA", service_date=date(2026, 1, 20), charge="120", paid="90",
                       clean=True, denied=False, status="partially_paid")
        add_remittance(s, c7, paid="90")
        c8 = add_claim(s, payer="ACME", service_date=date(2026, 2, 20), charge="80",
                       patient_resp="80", clean=True, denied=False,
                       status="patient_responsibility")
        add_remittance(s, c8, paid="0")
        s.commit()
    return db


def compute(engine: Engine, **filters: object) -> Kpis:
    with Session(engine) as s:
        return compute_kpis(session=s, claim_filter=ClaimFilter(**filters), today=TODAY,
                            now=NOW)


def ratio(r: Ratio) -> tuple[Decimal, Decimal]:
    return r.numerator, r.denominator


def test_every_kpi_over_all_claims(fixture_db: Engine) -> None:
    k = compute(fixture_db)
    assert ratio(k.clean_claim_rate) == (6, 7)
    assert k.clean_claim_rate.rate == pytest.approx(6 / 7)
    assert ratio(k.initial_denial_rate) == (3, 6)
    assert ratio(k.initial_denial_rate_by_charges) == (Decimal("650.00"), Decimal("950.00"))
    assert ratio(k.first_pass_resolution_rate) == (3, 6)
    assert ratio(k.overturn_rate) == (1, 3)
    assert ratio(k.denial_write_off_share) == (Decimal("300.00"), Decimal("470.00"))
    assert k.dollars_recovered == Decimal("200.00")
    assert k.days_to_resolve_denial.average_days == pytest.approx(15.0)
    assert k.days_to_resolve_denial.count == 2
    assert k.days_denial_to_appeal.average_days == pytest.approx(3.0)
    assert k.days_denial_to_appeal.count == 1
    assert [(b.label, b.claims, b.balance) for b in k.ar_aging] == [
        ("0-30", 1, Decimal("150.00")), ("31-60", 1, Decimal("400.00")),
        ("61-90", 0, Decimal("0.00")), ("91-120", 0, Decimal("0.00")),
        ("120+", 1, Decimal("50.00")),
    ]
    reasons = {(r.payer, r.month, f"{r.group}-{r.carc}"): r.denials for r in k.top_denial_reasons}
    assert reasons == {("ACME", "2026-01", "CO-16"): 1, ("ACME", "2026-02", "CO-50"): 1,
                       ("BETA", "2026-03", "CO-50"): 1}


def test_payer_filter(fixture_db: Engine) -> None:
    k = compute(fixture_db, payer="ACME")
    assert ratio(k.clean_claim_rate) == (3, 4)
    assert ratio(k.initial_denial_rate) == (2, 4)
    assert ratio(k.first_pass_resolution_rate) == (2, 4)
    assert ratio(k.overturn_rate) == (1, 2)
    assert ratio(k.denial_write_off_share) == (Decimal("300.00"), Decimal("380.00"))
    assert [b.claims for b in k.ar_aging] == [0, 0, 0, 0, 0]
    assert k.days_denial_to_appeal.count == 0
    assert k.days_denial_to_appeal.average_days is None


def test_service_date_filter(fixture_db: Engine) -> None:
    k = compute(fixture_db, date_from=date(2026, 2, 1), date_to=date(2026, 2, 28))
    assert ratio(k.clean_claim_rate) == (3, 3)  # c3, c4, c8
    assert ratio(k.initial_denial_rate) == (1, 2)  # c3 of c3, c8
    assert ratio(k.initial_denial_rate_by_charges) == (Decimal("300.00"), Decimal("380.00"))
    assert k.dollars_recovered == Decimal("0.00")
    assert [b.claims for b in k.ar_aging] == [0, 1, 0, 0, 0]


def test_empty_database_gives_no_rates(db: Engine) -> None:
    k = compute(db)
    assert k.clean_claim_rate.rate is None
    assert k.initial_denial_rate.rate is None
    assert k.dollars_recovered == Decimal("0.00")
    assert k.days_to_resolve_denial.average_days is None
    assert k.top_denial_reasons == []


def _claims_behind(engine: Engine, link: str) -> int:
    params = dict(parse_qsl(urlsplit(link).query))
    with Session(engine) as s:
        _, total = search_claims(session=s, claim_filter=ClaimFilter.from_query(params),
                                 today=TODAY, now=NOW)
    return total


@pytest.mark.parametrize("payer", [None, "ACME", "BETA"])
def test_each_number_links_to_exactly_its_claims(fixture_db: Engine, payer: str | None) -> None:
    k = compute(fixture_db, payer=payer)
    for r in (k.clean_claim_rate, k.first_pass_resolution_rate, k.initial_denial_rate,
              k.overturn_rate):
        assert _claims_behind(fixture_db, r.numerator_link) == r.numerator, r.numerator_link
        assert _claims_behind(fixture_db, r.denominator_link) == r.denominator, r.denominator_link
    for b in k.ar_aging:
        assert _claims_behind(fixture_db, b.link) == b.claims, b.link
    assert _claims_behind(fixture_db, k.days_to_resolve_denial.link) == \
        k.days_to_resolve_denial.count
    for row in k.top_denial_reasons:
        assert _claims_behind(fixture_db, row.link) == row.claims, row.link


@pytest.mark.parametrize(
    ("age_days", "bucket"),
    [(0, "0-30"), (30, "0-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"),
     (91, "91-120"), (120, "91-120"), (121, "120+"), (400, "120+")],
)
def test_ar_aging_bucket_edges(db: Engine, age_days: int, bucket: str) -> None:
    with Session(db) as s:
        add_claim(s, service_date=date.fromordinal(TODAY.toordinal() - age_days), charge="10")
        s.commit()
    k = compute(db)
    assert {b.label: b.claims for b in k.ar_aging}[bucket] == 1
    assert sum(b.claims for b in k.ar_aging) == 1


def test_final_claims_are_not_receivables(db: Engine) -> None:
    with Session(db) as s:
        for status in ("paid", "partially_paid", "patient_responsibility", "written_off",
                       "voided"):
            add_claim(s, status=status, service_date=date(2026, 3, 1))
        add_claim(s, status="denied", service_date=date(2026, 3, 1), charge="70", paid="20")
        s.commit()
    k = compute(db)
    assert [(b.claims, b.balance) for b in k.ar_aging][0] == (1, Decimal("50.00"))


def test_an_appeal_paid_on_the_same_attempt_is_an_overturn(db: Engine) -> None:
    """Appeals are paid by a later 835 for the same attempt: later remittance, not attempt."""
    with Session(db) as s:
        c = add_claim(s, denied=True, status="paid", charge="90", paid="90",
                      closed_at=dt(2026, 2, 11, 12))
        r1 = add_remittance(s, c, paid="0", status_code="4")
        add_denial(s, c, r1, created_at=dt(2026, 2, 1))
        add_remittance(s, c, paid="90", attempt=1)
        s.commit()
    k = compute(db)
    assert ratio(k.overturn_rate) == (1, 1)
    assert k.dollars_recovered == Decimal("90.00")
    assert k.days_to_resolve_denial.average_days == pytest.approx(10.5)


def test_a_claim_denied_twice_counts_once(db: Engine) -> None:
    with Session(db) as s:
        c = add_claim(s, denied=True, status="denied")
        r1 = add_remittance(s, c, paid="0", status_code="4")
        add_denial(s, c, r1, created_at=dt(2026, 2, 1), carc="16")
        add_denial(s, c, r1, created_at=dt(2026, 2, 1), carc="197")
        r2 = add_remittance(s, c, paid="0", status_code="4", attempt=2)
        add_denial(s, c, r2, created_at=dt(2026, 2, 20), carc="16")
        s.commit()
    k = compute(db)
    assert ratio(k.overturn_rate) == (0, 1)
    assert k.dollars_recovered == Decimal("0.00")
    assert sum(r.denials for r in k.top_denial_reasons) == 3


def test_breakdowns(fixture_db: Engine) -> None:
    with Session(fixture_db) as s:
        args = {"session": s, "claim_filter": ClaimFilter(), "today": TODAY, "now": NOW}
        statuses = {r.status: r.claims for r in claims_by_status(**args)}
        trend = denial_trend(**args)
        pareto = denial_pareto(**args)
    assert statuses == {"paid": 2, "written_off": 1, "submitted": 1, "coding": 1,
                        "appealing": 1, "partially_paid": 1, "patient_responsibility": 1}
    assert [(p.month, p.adjudicated, p.denied) for p in trend] == [
        ("2026-01", 3, 1), ("2026-02", 2, 1), ("2026-03", 1, 1)]
    assert [(p.reason, p.denials) for p in pareto] == [("CO-50", 2), ("CO-16", 1)]
    assert pareto[-1].cumulative_share == pytest.approx(1.0)


def test_work_by_queue(db: Engine) -> None:
    with Session(db) as s:
        a = add_claim(s)
        b = add_claim(s)
        add_item(s, a, queue="coder", created_at=dt(2026, 3, 14), due_at=dt(2026, 3, 20))
        add_item(s, b, queue="coder", created_at=dt(2026, 3, 1), due_at=dt(2026, 3, 10))
        add_item(s, b, queue="appeal", created_at=dt(2026, 3, 10),
                 due_at=dt(2026, 6, 1))
        add_item(s, a, queue="coder", status="done", created_at=dt(2026, 1, 1))
        s.commit()
        loads = {q.queue: q for q in work_by_queue(session=s, claim_filter=ClaimFilter(),
                                                     today=TODAY, now=NOW)}
    assert loads["coder"].open == 2
    assert loads["coder"].overdue == 1
    assert loads["coder"].by_age == {"0-2": 1, "3-7": 0, "8+": 1}
    assert loads["appeal"].by_age == {"0-2": 0, "3-7": 1, "8+": 0}
    for q in loads.values():
        assert _claims_behind(db, q.open_link) == q.open
        assert _claims_behind(db, q.overdue_link) == q.overdue
        for bucket, n in q.by_age.items():
            assert _claims_behind(db, q.age_links[bucket]) == n


@pytest.mark.parametrize(
    ("params", "message"),
    [({"cohort": "nonsense"}, "cohort"), ({"from": "2026-13-01"}, "date_from"),
     ({"min_amount": "-1"}, "min_amount"), ({"reason": "CO 16"}, "reason"),
     ({"work_age": "99"}, "work_age")],
)
def test_bad_filters_name_the_parameter(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClaimFilter.from_query(params)


def test_filter_round_trips_through_its_link() -> None:
    f = ClaimFilter(payer="ACME", date_from=date(2026, 1, 1), cohort="open", min_age=31,
                    max_age=60, overdue=True)
    params = dict(parse_qsl(urlsplit(f.link()).query))
    assert ClaimFilter.from_query(params) == f
