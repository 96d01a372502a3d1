"""write_scope: a CLI import that reads, then writes, while the worker and the API write too."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlmodel import select

from reclaim.db import make_engine, migrate, write_scope
from reclaim.models import DirectoryProvider


def test_on_sqlite_it_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    """A deferred transaction that has read cannot take the write lock once another connection
    has committed (SQLite answers "database is locked" at once, busy_timeout or not): the
    crash `reclaim providers import` hit beside a running stack. write_scope takes the lock
    before it reads, so the other writer is the one that waits."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    migrate(url)
    engine = make_engine(url)
    other = sqlite3.connect(tmp_path / "r.db", timeout=0.2)
    with write_scope(engine) as session:
        assert session.exec(select(DirectoryProvider)).all() == []
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("INSERT INTO auditentry (at, username, action, detail) "
                          "VALUES ('2026-12-03', 'x', 'x', 'x')")
        session.add(DirectoryProvider(npi="1245319599", first_name="Raj", last_name="Patel"))
    # Committed at the end, and the lock released.
    other.execute("SELECT 1")
    assert [p.npi for p in make_engine(url).connect().exec_driver_sql(
        "SELECT npi FROM directoryprovider")] == ["1245319599"]
    other.close()


def test_it_rolls_back_what_a_failed_batch_wrote(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    migrate(url)
    engine = make_engine(url)
    with pytest.raises(RuntimeError), write_scope(engine) as session:
        session.add(DirectoryProvider(npi="1245319599", first_name="Raj", last_name="Patel"))
        session.flush()
        raise RuntimeError("a bad row")
    with write_scope(engine) as session:
        assert session.exec(select(DirectoryProvider)).all() == []
