"""The mail sink: the newest messages the local SMTP sink received (a 404 when mail goes to
an external server)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from api.deps import SessionDep
from api.pages.render import PageUser, embedded_mail, render
from reclaim.models import ReceivedMail

router = APIRouter(include_in_schema=False)


@router.get("/mail", response_class=HTMLResponse)
def mail_page(request: Request, session: SessionDep, _user: PageUser) -> HTMLResponse:
    if not embedded_mail(request.app.state.settings):
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail="mail goes to an external server; see its own inbox")
    messages = session.exec(
        select(ReceivedMail).order_by(col(ReceivedMail.id).desc()).limit(100)).all()
    return render(request, "pages/mail.html", {"messages": messages})
