"""Server-side sessions: the cookie carries a random id, the table `usersession` its SHA-256
digest, the user and the session's CSRF token. Logout, a password change and disabling the user
delete the rows; idle and absolute timeouts (RECLAIM_SESSION_IDLE_MINUTES,
RECLAIM_SESSION_MAX_HOURS) end them too."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from reclaim.auth import check_password, hash_password, token_digest
from reclaim.models import User, UserSession, utcnow

# last_seen_at is written at most this often: one UPDATE a minute per browser, not per request.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Resolved:
    user: User
    csrf: str


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def start_session(*, session: Session, user: User) -> tuple[str, str]:
    """A new session for this user: returns (the cookie value, the CSRF token)."""
    assert user.id is not None
    value = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    session.add(UserSession(id_digest=token_digest(value), user_id=user.id, csrf_token=csrf))
    session.flush()
    return value, csrf


def resolve_session(*, session: Session, value: str, idle: timedelta,
                    max_age: timedelta) -> Resolved | None:
    """The active user and CSRF token of this cookie, or None (unknown, timed out, revoked)."""
    if not value or len(value) > 200:
        return None
    row = session.get(UserSession, token_digest(value))
    if row is None:
        return None
    now = utcnow()
    if now - _aware(row.created_at) > max_age or now - _aware(row.last_seen_at) > idle:
        session.delete(row)
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if now - _aware(row.last_seen_at) > TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return Resolved(user=user, csrf=row.csrf_token)


def end_session(*, session: Session, value: str) -> None:
    session.execute(delete(UserSession).where(col(UserSession.id_digest) == token_digest(value)))


def revoke_user_sessions(*, session: Session, user_id: int) -> None:
    session.execute(delete(UserSession).where(col(UserSession.user_id) == user_id))


def set_password(*, session: Session, user: User, password: str) -> None:
    """A new password (checked against the policy) ends every session of the user."""
    check_password(password, user_inputs=(user.username, user.email or ""))
    user.password_hash = hash_password(password)
    session.add(user)
    assert user.id is not None
    revoke_user_sessions(session=session, user_id=user.id)


def set_active(*, session: Session, user: User, active: bool) -> None:
    """Disabling a user ends its sessions (and its API token stops working: user_for_token)."""
    user.active = active
    session.add(user)
    if not active:
        assert user.id is not None
        revoke_user_sessions(session=session, user_id=user.id)
