"""Users (admins only) and the audit log (managers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from api.deps import Admin, Manager, SessionDep
from api.limits import OptionalRowId
from reclaim import audit
from reclaim.auth import NewUser, UserError, create_user

router = APIRouter(prefix="/api/v1", tags=["users"])


class UserCreated(BaseModel):
    id: int
    username: str
    role: str
    api_token: str


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserCreated)
def post_user(body: NewUser, session: SessionDep, admin: Admin) -> UserCreated:
    try:
        user, token = create_user(session=session, username=body.username, role=body.role,
                                  password=body.password, email=body.email)
    except UserError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    audit.record(session=session, user=admin.username, action="create_user",
                 detail=f"{body.username} as {body.role}")
    assert user.id is not None
    return UserCreated(id=user.id, username=user.username, role=user.role, api_token=token)


@router.get("/audit")
def get_audit(session: SessionDep, _user: Manager, claim_id: OptionalRowId = None,
              username: str | None = None) -> dict[str, Any]:
    rows = audit.entries(session=session, claim_id=claim_id, user=username)
    return {"entries": [r.model_dump() for r in rows]}
