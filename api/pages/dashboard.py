"""The manager's dashboard: KPIs, the denial-rate trend, the denial Pareto, A/R aging and the
overdue work, for the claims the filter picks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.deps import SessionDep
from api.pages.claims import filter_from_query, payers, today_now
from api.pages.files import UNPOSTED_TOTAL
from api.pages.render import PageDashboard, PageUser, money, pct, render
from api.policy import PERMISSIONS
from reclaim.claims.filter import WORK_AGE_BUCKETS, ClaimFilter, claim_conditions
from reclaim.kpi import dashboard as kpi
from reclaim.kpi.views import ParetoRow, TrendPoint
from reclaim.models import Claim, WorkItem
from reclaim.work.queue import row as queue_row

router = APIRouter(include_in_schema=False)


def _chart_scale(value: float, top: float, height: float) -> float:
    return height - (value / top * height if top else 0.0)


def trend_chart(points: list[TrendPoint], width: int = 560,
                height: int = 160) -> dict[str, Any]:
    """Geometry of the denial-rate line: one point per month, y from 0 to the highest rate."""
    rated = [p for p in points if p.rate is not None]
    top = max([p.rate or 0.0 for p in rated] + [0.1])
    step = width / max(len(points) - 1, 1)
    dots = [
        {"x": round(i * step, 1), "y": round(_chart_scale(p.rate or 0.0, top, height), 1),
         "label": p.month, "rate": p.rate, "denied": p.denied, "adjudicated": p.adjudicated}
        for i, p in enumerate(points)
    ]
    return {
        "width": width, "height": height, "dots": dots,
        "polyline": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "ticks": [{"y": round(_chart_scale(top * k / 4, top, height), 1), "label": pct(top * k / 4)}
                  for k in range(5)],
    }


def bar_chart(bars: list[dict[str, Any]], width: int = 560, height: int = 160) -> dict[str, Any]:
    top = max([float(b["value"]) for b in bars] + [1.0])
    slot = width / max(len(bars), 1)
    out = []
    for i, b in enumerate(bars):
        y = _chart_scale(float(b["value"]), top, height)
        out.append({**b, "x": round(i * slot + slot * 0.15, 1), "w": round(slot * 0.7, 1),
                    "y": round(y, 1), "h": round(height - y, 1),
                    "cx": round(i * slot + slot / 2, 1)})
    return {"width": width, "height": height, "bars": out}


def pareto_chart(rows: list[ParetoRow], width: int = 560,
                 height: int = 160) -> dict[str, Any]:
    chart = bar_chart([{"label": r.reason, "value": r.denials, "link": r.link, "title":
                        f"{r.reason} {r.label}: {r.denials}"} for r in rows], width, height)
    line = [(b["cx"], round(_chart_scale(r.cumulative_share, 1.0, height), 1))
            for b, r in zip(chart["bars"], rows, strict=True)]
    chart["cumulative"] = " ".join(f"{x},{y}" for x, y in line)
    chart["cumulative_dots"] = [{"x": x, "y": y, "share": r.cumulative_share}
                                for (x, y), r in zip(line, rows, strict=True)]
    return chart


def overdue_items(session: Session, f: ClaimFilter, today: date, now: datetime,
                  limit: int = 10) -> list[dict[str, Any]]:
    sla = func.coalesce(col(WorkItem.sla_due_at), col(WorkItem.due_at))  # past our SLA
    query = (
        select(WorkItem, Claim.patient_first_name, Claim.patient_last_name, Claim.payer_id)
        .join(Claim, col(Claim.id) == WorkItem.claim_id)
        .where(WorkItem.status == "open", sla < now,
               *claim_conditions(f.period(), today=today, now=now))
        .order_by(sla, col(WorkItem.id))
        .limit(limit)
    )
    return [queue_row(item, first, last, payer, "", None, now=now)
            for item, first, last, payer in session.exec(query).all()]


def dashboard_context(session: Session, f: ClaimFilter) -> dict[str, Any]:
    today, now = today_now()
    board = kpi.dashboard(session=session, claim_filter=f, today=today, now=now)
    aging = bar_chart([{"label": b.label, "value": b.balance, "link": b.link,
                        "title": f"{b.label} days: {b.claims} claims, {money(b.balance)}"}
                       for b in board.kpis.ar_aging])
    return {
        "filter": f, "kpis": board.kpis, "statuses": board.statuses, "queues": board.queues,
        "trend": board.trend, "trend_chart": trend_chart(board.trend), "pareto": board.pareto,
        "pareto_chart": pareto_chart(board.pareto), "aging_chart": aging,
        "overdue": overdue_items(session, f, today, now),
        "work_age_buckets": [b[0] for b in WORK_AGE_BUCKETS],
        "payers": payers(session),
        "unposted": session.execute(UNPOSTED_TOTAL).one(),
    }


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, user: PageUser) -> Response:
    if not PERMISSIONS["dashboard"].allows(user.role):
        return RedirectResponse("/work", status_code=status.HTTP_303_SEE_OTHER)
    f = filter_from_query(request)
    return render(request, "pages/dashboard.html", dashboard_context(session, f))


@router.get("/partials/dashboard", response_class=HTMLResponse)
def dashboard_partial(request: Request, session: SessionDep, _user: PageDashboard) -> HTMLResponse:
    f = filter_from_query(request)
    return render(request, "pages/_dashboard_body.html", dashboard_context(session, f))
