"""Engine, sessions and migrations. SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Dialect, Engine, String, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import SingletonThreadPool, StaticPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"
T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
SQLITE_MMAP_BYTES = 1 << 30  # address space, not memory: pages are shared with the OS cache


class EnumText(TypeDecorator[E], Generic[E]):
    """A StrEnum column stored as its value in a VARCHAR (no database enum type, so a new member
    needs no migration); rows read back as the enum."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:  # noqa: ARG002
        # Filters bind plain strings too (a status from a query string, already validated).
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:  # noqa: ARG002
        return None if value is None else self.enum(value)


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the worker writes; busy_timeout rides out short write locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Reads straight from the mapped file instead of copying each page through read(2) into
    # the page cache: the dashboard's aggregates over 100,000 claims take half the time.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    return make_engine(url)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commit at the end, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def write_scope(engine: Engine) -> Iterator[Session]:
    """session_scope for a batch that reads and then writes while the stack runs (the CLI's
    imports). On SQLite its transaction takes the write lock first (BEGIN IMMEDIATE), waiting
    out other writers by busy_timeout: a deferred transaction that has read cannot take it once
    another writer has committed (SQLite answers "database is locked" at once). Elsewhere the
    same as session_scope."""
    if engine.dialect.name != "sqlite":
        with session_scope(engine) as session:
            yield session
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        with Session(bind=connection, expire_on_commit=False) as session:
            try:
                yield session
                session.flush()
                connection.commit()
            except BaseException:
                session.rollback()
                connection.rollback()
                raise


def conflict_insert(session: Session, model: type[SQLModel]) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that can say ON CONFLICT, in the session's dialect. Reclaim runs on the two
    databases make_engine configures; any other URL is refused here by name."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(model)
    if dialect == "postgresql":
        return postgresql.insert(model)
    raise ValueError(f"database {dialect!r}: Reclaim runs on SQLite or PostgreSQL")


# Threads for `side_by_side`: a few, so one page's queries cannot take the connection pool.
_READERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="reader")


def side_by_side(session: Session, jobs: Mapping[str, Callable[[Session], T]]) -> dict[str, T]:
    """Run independent read-only jobs each in its own session on the session's engine, at the
    same time, and return their results by name. SQLite and psycopg release the GIL while a
    query runs, so a page made of several aggregates waits for the slowest, not for their sum.
    List the slowest job first: jobs start in order. Each job sees its own snapshot, as each
    statement of one READ COMMITTED (or SQLite autocommit) session already did.

    Runs the jobs one after the other, in the given session, where other connections would not
    see the same data (an in-memory SQLite database, or a session bound to a connection)."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or isinstance(bind.pool, (SingletonThreadPool, StaticPool)):
        return {name: job(session) for name, job in jobs.items()}
    engine = bind

    def run(job: Callable[[Session], T]) -> T:
        with Session(engine) as own:
            return job(own)

    futures = {name: _READERS.submit(run, job) for name, job in jobs.items()}
    return {name: future.result() for name, future in futures.items()}


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the schema to the newest revision (run at every start-up; a no-op when current)."""
    command.upgrade(alembic_config(url), "head")
