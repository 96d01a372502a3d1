"""Users (admins only) and the audit log (managers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from sqlmodel import select

from api.deps import Admin, Manager, Reader, SessionDep
from api.limits import OptionalRowId
from reclaim import audit
from reclaim.auth import (
    PASSWORD_MIN_LENGTH,
    NewUser,
    PasswordError,
    UserError,
    create_user,
    verify_password,
)
from reclaim.models import User
from reclaim.sessions import set_active, set_password

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


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=200)


class UserChange(BaseModel):
    active: bool


class UserState(BaseModel):
    username: str
    role: str
    active: bool


@router.post("/users/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_own_password(body: PasswordChange, session: SessionDep, user: Reader) -> None:
    """A new password (12+ characters, zxcvbn score 3+) ends every session of the user, this
    one included: sign in again with it."""
    if not verify_password(body.current_password, user.password_hash):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="current_password: that is not your current password")
    try:
        set_password(session=session, user=user, password=body.new_password)
    except PasswordError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            detail=f"new_password: {exc}") from exc
    audit.record(session=session, user=user.username, action="change_password",
                 detail="own password; sessions ended")


@router.patch("/users/{username}", response_model=UserState)
def patch_user(username: str, body: UserChange, session: SessionDep, admin: Admin) -> UserState:
    """Disable (`{"active": false}`: every session and the API token stop working at once) or
    enable a user."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no user {username!r}")
    if user.id == admin.id and not body.active:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="active: you cannot disable yourself")
    set_active(session=session, user=user, active=body.active)
    audit.record(session=session, user=admin.username,
                 action="enable_user" if body.active else "disable_user", detail=username)
    return UserState(username=user.username, role=user.role, active=user.active)


@router.get("/audit")
def get_audit(session: SessionDep, _user: Manager, claim_id: OptionalRowId = None,
              username: str | None = None) -> dict[str, Any]:
    rows = audit.entries(session=session, claim_id=claim_id, user=username)
    return {"entries": [r.model_dump() for r in rows]}
