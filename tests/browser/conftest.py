"""The app served by uvicorn on a free port (fresh database, seeded, fake Temporal client) and
Debian's Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine
from sqlmodel import Session

from api.app import create_app
from reclaim.auth import hash_password
from reclaim.config import Settings
from reclaim.models import User
from tests.api.pages.conftest import PASSWORD, ROLE_USERS, FakeClient
from tests.factories import seed
from tests.ports import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--no-first-run"]


@dataclass
class Site:
    url: str
    ids: dict[str, int]
    engine: Engine
    client: FakeClient


@pytest.fixture
def site(fresh_engine: Engine, tmp_path: Path) -> Iterator[Site]:
    engine = fresh_engine
    hashed = hash_password(PASSWORD)
    with Session(engine) as s:
        for role, name in ROLE_USERS.items():
            s.add(User(username=name, role=role, password_hash=hashed))
        s.commit()
    ids = seed(engine)
    fake = FakeClient()
    settings = Settings(data_dir=tmp_path, database_url=engine.url.render_as_string(False),
                        secret_key="browser-secret", payload_key="test-payload-key",
                        smtp_host="127.0.0.1")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, client=fake),  # type: ignore[arg-type]
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield Site(url=f"http://127.0.0.1:{port}", ids=ids, engine=engine, client=fake)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: sync Playwright keeps an event loop running in this thread until it stops,
    # and the async tests collected after this module need the thread free of it.
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: `make system-deps` installs it")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768},
                                  timezone_id="America/Chicago")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page: Any, site: Site, role: str, path: str = "/") -> None:
    page.goto(f"{site.url}{path}")
    page.get_by_label("Username").fill(ROLE_USERS[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
