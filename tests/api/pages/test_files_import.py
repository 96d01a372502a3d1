"""The payer files page takes an 837 too: the practice's own claims, imported as
POST /api/v1/claims/import imports them (real Temporal dev server: their workflows start)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.deps import SESSION_COOKIE
from contracts.names import claim_workflow_id
from reclaim.config import Settings
from reclaim.models import AuditEntry, Claim, User
from reclaim.sessions import start_session
from tests.api.pages.conftest import ROLE_USERS, csrf_in_page
from tests.claims.test_intake import TWO_INSTITUTIONAL, from_submitter


async def test_an_uploaded_837_is_imported_claim_by_claim(
        page_db: Engine, tmp_path: Path, dev_env: WorkflowEnvironment) -> None:
    settings = Settings(data_dir=tmp_path, database_url=page_db.url.render_as_string(False),
                        secret_key="test-secret", payload_key="test-payload-key",
                        smtp_host="127.0.0.1", task_queue=f"files-{uuid.uuid4().hex[:8]}")
    app = create_app(settings, client=dev_env.client)
    with Session(page_db) as s:
        user = s.exec(select(User).where(User.username == ROLE_USERS["coder"])).one()
        cookie, _csrf = start_session(session=s, user=user)
        s.commit()
    text = from_submitter(TWO_INSTITUTIONAL, "PAGE1").replace(
        "SV2*0305*HC:85025*13.39*UN*1.00", "SV2*0305")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                 cookies={SESSION_COOKIE: cookie}) as client:
        csrf = csrf_in_page((await client.get("/files")).text)
        response = await client.post("/files", data={"csrf_token": csrf},
                                     files={"file": ("claims.837", text.encode(), "text/plain")})
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        assert re.fullmatch(r"/files\?imported=\d+", location)
        page = (await client.get(location)).text
    with Session(page_db) as s:
        [claim] = s.exec(select(Claim)).all()
        audit = s.exec(select(AuditEntry).where(AuditEntry.action == "import_claims")).one()
    assert "837I from PAGE1: 1 claim imported, 1 refused, 0 already imported before." in page
    assert f'<a href="/claims/{claim.id}">Claim {claim.id}</a>' in page
    assert "Refused 756048Q, segment 29: required element SV202" in page
    assert "claims.837" in page
    assert audit.username == ROLE_USERS["coder"]
    handle = dev_env.client.get_workflow_handle(claim_workflow_id(claim.id or 0))
    assert (await handle.describe()).id == claim_workflow_id(claim.id or 0)
