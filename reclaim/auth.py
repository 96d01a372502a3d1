"""Users, passwords (argon2, zxcvbn policy) and API tokens (stored hashed). Browser sessions:
reclaim/sessions.py."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import BaseModel, EmailStr, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from zxcvbn import zxcvbn

from reclaim.models import User

Role = Literal["coder", "front_desk", "biller", "manager", "admin"]
ROLES: tuple[str, ...] = ("coder", "front_desk", "biller", "manager", "admin")
PASSWORD_MIN_LENGTH = 12
PASSWORD_MIN_SCORE = 3  # zxcvbn: 0 (guessable) .. 4 (very unguessable)

_hasher = PasswordHash((Argon2Hasher(),))


class UserError(ValueError):
    pass


class UsernameTaken(UserError):
    """The username exists (found by the check, or inserted by someone else at the same
    moment: the unique constraint refused ours)."""

    field = "username"


class PasswordError(UserError):
    pass


def check_password(password: str, *, user_inputs: tuple[str, ...] = ()) -> None:
    """Refuse a password set from input unless it has 12 characters and zxcvbn scores it 3+;
    the message carries zxcvbn's feedback."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise PasswordError(f"password must be at least {PASSWORD_MIN_LENGTH} characters")
    result = zxcvbn(password[:100], user_inputs=[u for u in user_inputs if u])
    if int(result["score"]) < PASSWORD_MIN_SCORE:
        feedback = result.get("feedback") or {}
        hints = [str(feedback.get("warning") or ""), *map(str, feedback.get("suggestions") or [])]
        hint = " ".join(h for h in hints if h)
        raise PasswordError("password is too easy to guess" + (f": {hint}" if hint else ""))


class NewUser(BaseModel):
    """A user from input (the API, the admin page): the password must pass check_password."""

    username: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=200)
    role: Role
    email: EmailStr | None = None

    @field_validator("password")
    @classmethod
    def _strong(cls, value: str) -> str:
        try:
            check_password(value)
        except PasswordError as exc:
            raise ValueError(str(exc)) from exc
        return value


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
