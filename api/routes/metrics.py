"""The manager's numbers as JSON: the same KPIs the dashboard shows (reclaim.kpi.dashboard)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from api.deps import Dashboard, SessionDep
from reclaim.claims.filter import ClaimFilter
from reclaim.kpi.dashboard import compute_kpis
from reclaim.kpi.views import Kpis
from reclaim.models import utcnow

router = APIRouter(prefix="/api/v1", tags=["metrics"])

@router.get("/metrics", response_model=Kpis)
def get_metrics(
    session: SessionDep,
    _user: Dashboard,
    payer: Annotated[str | None, Query(max_length=80)] = None,
    date_from: Annotated[date | None, Query(alias="from",
                                            description="first service date (inclusive)")] = None,
    date_to: Annotated[date | None, Query(alias="to",
                                          description="last service date (inclusive)")] = None,
) -> Kpis:
    """KPIs over claims with service dates in [from, to] (either end open) for one payer or all."""
    if date_from and date_to and date_from > date_to:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            detail=f"from ({date_from}) is after to ({date_to})")
    now = utcnow()
    return compute_kpis(
        session=session,
        claim_filter=ClaimFilter(payer=payer or None, date_from=date_from, date_to=date_to),
        today=now.date(), now=now,
    )
