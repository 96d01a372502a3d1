"""The list and KPI queries read through indexes (SQLite's EXPLAIN QUERY PLAN), so the pages
stay fast at 100,000 claims (bench/pages.py measures it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlmodel import Session

from api.pages.files import files_context
from reclaim.claims.filter import ClaimFilter, search_claims
from reclaim.kpi.dashboard import dashboard
from reclaim.models import User
from reclaim.work.queue import WorkFilter, open_items
from tests.factories import add_claim, add_denial, add_item, add_remittance

NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def filled(db: Engine) -> Engine:
    if db.dialect.name != "sqlite":
        pytest.skip("plans are checked on SQLite; PostgreSQL picks by its own statistics")
    with Session(db) as s:
        for i in range(40):
            c = add_claim(s, payer=f"P{i % 4}", status=("paid", "denied", "submitted")[i % 3],
                          denied=i % 3 == 1, clean=i % 5 != 0, assigned_to="cora" if i % 7 == 0
                          else None, service_date=date(2026, 1, 1) + timedelta(days=i))
            if i % 3 == 1:
                r = add_remittance(s, c, paid="0", status_code="4")
                add_denial(s, c, r, created_at=NOW - timedelta(days=i))
                add_item(s, c, queue="coder", due_at=NOW + timedelta(days=i), assignee="cora")
        s.commit()
    with db.begin() as conn:
        conn.execute(text("ANALYZE"))
    return db


def plans(engine: Engine, run: Callable[[Session], Any]) -> list[tuple[str, list[str]]]:
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as s:
            run(s)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    out = []
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for statement, parameters in seen:
            rows = raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
            out.append((statement, [row[3] for row in rows]))
    return out


def assert_indexed(found: list[tuple[str, list[str]]], *, table: str, wants: str = "",
                   sort_allowed: bool = False) -> None:
    steps = [step for _sql, plan in found for step in plan
             if step.startswith(("SCAN", "SEARCH")) and f" {table}" in step]
    assert steps, f"no step reads {table}: {found}"
    for step in steps:
        assert "INDEX" in step or "PRIMARY KEY" in step, f"full scan of {table}: {step}"
    assert wants in " | ".join(steps), f"expected {wants!r} in {steps}"
    for _sql, plan in found:
        assert sort_allowed or not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan


@pytest.mark.parametrize(
    ("filters", "wants"),
    [
        ({}, "ix_claim_updated_id"),
        ({"status": "denied"}, "ix_claim_status_updated"),
        ({"assignee": "cora"}, "INDEX"),
        ({"payer": "P1"}, "INDEX"),
    ],
)
def test_claim_list_api_query_uses_an_index(filled: Engine, filters: dict[str, str],
                                            wants: str) -> None:
    f = ClaimFilter(**filters)  # as GET /api/v1/claims builds it from its query parameters
    found = plans(filled, lambda s: search_claims(session=s, claim_filter=f, today=TODAY, now=NOW))
    assert_indexed(found[:1], table="claim", wants=wants)


@pytest.mark.parametrize(
    "params",
    [{}, {"status": "denied"}, {"cohort": "denied"}, {"cohort": "open", "min_age": "30"},
     {"reason": "CO-16"}, {"work_queue": "coder"}],
)
def test_claims_page_query_uses_an_index(filled: Engine, params: dict[str, str]) -> None:
    f = ClaimFilter.from_query(params)
    found = plans(filled, lambda s: search_claims(session=s, claim_filter=f, today=TODAY,
                                                  now=NOW))
    assert_indexed(found[:1], table="claim")


def test_kpi_scans_read_covering_indexes(filled: Engine) -> None:
    found = plans(filled, lambda s: dashboard(session=s, claim_filter=ClaimFilter(),
                                              today=TODAY, now=NOW))
    claim_steps = [step for _sql, plan in found for step in plan if " claim" in step
                   and step.startswith(("SCAN", "SEARCH"))]
    for step in claim_steps:
        assert "COVERING INDEX" in step or "PRIMARY KEY" in step, step


def test_work_queue_query_uses_an_index(filled: Engine) -> None:
    coder = User(username="cora", role="coder")
    found = plans(filled, lambda s: open_items(s, user=coder, flt=WorkFilter(), manager=False))
    # Sorting is fine here: only the open items of the coder's queues are read.
    assert_indexed(found, table="workitem", wants="ix_workitem_", sort_allowed=True)


def test_the_search_box_reads_the_lower_case_indexes(filled: Engine) -> None:
    api = ClaimFilter(q="Lee")
    found = plans(filled, lambda s: search_claims(session=s, claim_filter=api, today=TODAY,
                                                  now=NOW))
    # The page and its count: each of the three prefixes is a range over its own index.
    for _sql, plan in found:
        searched = " | ".join(plan)
        for name in ("patient_last_name", "member_id", "payer_claim_control_number"):
            assert f"USING INDEX ix_claim_lower_{name}" in searched, plan
        assert "SCAN claim" not in searched, plan
    f = ClaimFilter.from_query({"q": "lee"})
    page = plans(filled, lambda s: search_claims(session=s, claim_filter=f, today=TODAY,
                                                 now=NOW))
    assert "ix_claim_lower_patient_last_name" in " | ".join(page[0][1])


def test_the_payer_files_page_reads_unposted_payments_by_index(filled: Engine) -> None:
    found = plans(filled, lambda s: files_context(s, received=1))
    # Payments not posted: a range of the claim_id index, in id order (no sort anywhere).
    assert_indexed(found, table="remittance", wants="ix_remittance_claim_id")
    # The newest files: the table read backwards in rowid order, stopping at the page's size
    # (SQLite calls that a SCAN); the file just received by its primary key.
    steps = sorted(step for _sql, plan in found for step in plan if " edifile" in step)
    assert steps == ["SCAN edifile", "SEARCH edifile USING INTEGER PRIMARY KEY (rowid=?)"]
