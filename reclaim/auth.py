"""Users, passwords (argon2), API tokens (stored hashed) and signed session cookies."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import BaseModel, EmailStr, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from reclaim.models import User

Role = Literal["coder", "front_desk", "biller", "manager", "admin"]
ROLES: tuple[str, ...] = ("coder", "front_desk", "biller", "manager", "admin")
SESSION_MAX_AGE = 12 * 3600

_hasher = PasswordHash((Argon2Hasher(),))


class UserError(ValueError):
    pass


class UsernameTaken(UserError):
    """The username exists (found by the check, or inserted by someone else at the same
    moment: the unique constraint refused ours)."""

    field = "username"


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Role
    email: EmailStr | None = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    if not hashed:
        return False
    try:
        return _hasher.verify(password, hashed)
    except Exception:  # a malformed stored hash is a failed login, not a 500
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "rk_" + secrets.token_urlsafe(32)


def create_user(
    *,
    session: Session,
    username: str,
    role: str,
    password: str | None = None,
    email: str | None = None,
    api_token: str | None = None,
) -> tuple[User, str]:
    """Returns the user and its API token (shown once; only its hash is stored)."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not username or len(username) > 80:
        raise UserError("username must be 1 to 80 characters")
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise UsernameTaken(f"username: user {username!r} already exists")
    token = api_token or new_token()
    user = User(
        username=username,
        role=role,
        email=email,
        password_hash=hash_password(password) if password else None,
        api_token_hash=token_digest(token),
    )
    try:
        with session.begin_nested():  # a savepoint: the race rolls back our row, not the caller's
            session.add(user)
    except IntegrityError as exc:
        raise UsernameTaken(f"username: user {username!r} already exists") from exc
    return user, token


def ensure_admin(*, session: Session, token: str) -> User:
    """RECLAIM_ADMIN_TOKEN: a user `admin` with role admin and that API token exists."""
    user = session.exec(select(User).where(User.username == "admin")).first()
    digest = token_digest(token)
    if user is None:
        user, _ = create_user(session=session, username="admin", role="admin", api_token=token)
        return user
    if user.api_token_hash != digest or user.role != "admin" or not user.active:
        user.api_token_hash = digest
        user.role = "admin"
        user.active = True
        session.add(user)
    return user


def user_for_token(*, session: Session, token: str) -> User | None:
    if not token:
        return None
    return session.exec(
        select(User).where(User.api_token_hash == token_digest(token), col(User.active).is_(True))
    ).first()


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    user = session.exec(
        select(User).where(User.username == username, col(User.active).is_(True))
    ).first()
    if user is None:
        hash_password(password)  # same work either way: no user enumeration by timing
        return None
    return user if verify_password(password, user.password_hash) else None


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="reclaim-session")


def session_cookie(*, secret: str, user: User) -> str:
    return _serializer(secret).dumps({"uid": user.id, "csrf": secrets.token_urlsafe(16)})


def read_session_cookie(*, secret: str, value: str) -> dict[str, object] | None:
    try:
        data = _serializer(secret).loads(value, max_age=SESSION_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    return data if isinstance(data, dict) else None
