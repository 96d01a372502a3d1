"""The worker's database threads (RECLAIM_WORKER_DB_THREADS): one on SQLite, where a second only
waits for the write lock and the GIL; four on PostgreSQL; the running loop's default executor, so
what async activities hand to asyncio.to_thread runs on them too."""

from __future__ import annotations

import asyncio
import threading

import pytest
from pydantic import ValidationError

from reclaim.config import Settings
from worker import use_database_threads


@pytest.mark.parametrize(("url", "threads"), [
    (None, 1),
    ("sqlite:////tmp/x.db", 1),
    ("postgresql+psycopg://postgres@127.0.0.1:5432/test", 4),
])
def test_database_threads_default_by_database(url: str | None, threads: int) -> None:
    assert Settings(database_url=url).resolved_worker_db_threads == threads


def test_database_threads_setting_wins_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLAIM_WORKER_DB_THREADS", "3")
    assert Settings().resolved_worker_db_threads == 3
    monkeypatch.setenv("RECLAIM_WORKER_DB_THREADS", "0")
    with pytest.raises(ValidationError, match="worker_db_threads"):
        Settings()


def test_to_thread_runs_on_the_database_threads() -> None:
    async def names() -> tuple[list[str], int]:
        # A loop of its own: the executor becomes its default, and is shut down with it.
        executor = use_database_threads(Settings(worker_db_threads=2))
        found = await asyncio.gather(*(asyncio.to_thread(lambda: threading.current_thread().name)
                                       for _ in range(8)))
        return list(found), executor._max_workers

    found, max_workers = asyncio.run(names())
    assert {name.rsplit("_", 1)[0] for name in found} == {"reclaim-db"}
    assert max_workers == 2
