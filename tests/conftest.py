"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when RECLAIM_DATABASE_URL says so),
Temporal servers from the pip packages (never a download), and settings for a test."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, create_engine, text
from temporalio.testing import WorkflowEnvironment

from reclaim.config import SEARCH_ATTRIBUTES, Settings
from reclaim.db import get_engine, migrate
from tests.ports import free_port

BIN = Path(sys.executable).parent
TEMPORAL = BIN / "temporal"
TEST_SERVER = BIN / "temporal-test-server"
PG_PREFIX = "postgresql"


def _fresh_pg(url: str, schema: str) -> str:
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def fresh_database_url(tmp_path: Path) -> str:
    """A database of its own (a SQLite file, or a new PostgreSQL schema), migrated."""
    base = os.environ.get("RECLAIM_DATABASE_URL", "")
    if base.startswith(PG_PREFIX):
        url = _fresh_pg(base, f"t_{uuid.uuid4().hex[:12]}")
    else:
        url = f"sqlite:///{tmp_path / 'reclaim.db'}"
    migrate(url)
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return fresh_database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    """The session's shared database. Tests never truncate it: claim ids keep growing, so
    workflow ids stay unique on the session's Temporal servers."""
    return get_engine(database_url)


@pytest.fixture(scope="session")
def people(engine: Engine) -> dict[str, str]:
    """The demo users (every one with an email) and provider directory in the shared database."""
    from reclaim.db import session_scope
    from reclaim.demo import seed_people

    with session_scope(engine) as session:
        return dict(seed_people(session))


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = get_engine(fresh_database_url(tmp_path))
    yield eng
    eng.dispose()


@pytest.fixture
def db(fresh_engine: Engine) -> Engine:
    """The database of tests that read and write rows directly (an empty one per test)."""
    return fresh_engine


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        task_queue=f"claims-{uuid.uuid4().hex[:8]}",
        payload_key="test-payload-key",
        secret_key="test-secret",
        smtp_host="127.0.0.1",
        smtp_port=1,  # overridden by tests that run an SMTP server
        work_item_remind_after=timedelta(days=2),
        work_item_escalate_after=timedelta(days=5),
        payer_follow_up_after=timedelta(days=30),
        payer_ack_after=timedelta(days=2),
    )


@dataclass
class SmtpSink:
    port: int
    messages: list[EmailMessage]
    controller: Controller | None = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def start(self) -> None:
        sink = self

        class Handler:
            async def handle_DATA(self, _server, _session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
                sink.messages.append(
                    message_from_bytes(envelope.content, policy=email_policy.default)  # type: ignore[arg-type]
                )
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) keeping what it receives."""
    sink = SmtpSink(port=free_port(), messages=[])
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    from temporal_client import data_converter

    args = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL),
        data_converter=data_converter(Settings(payload_key="test-payload-key")),
        dev_server_extra_args=[*args, "--log-level", "error"],
        ui=False,
    )
    yield env
    await env.shutdown()
