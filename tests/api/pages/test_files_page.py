"""The payer files page: a biller uploads a 999, 277CA or 835 downloaded from a payer's portal
and sees what became of it, every file received with its warnings or why it was refused, and
the payments in 835s that matched no claim (money nothing is posted to)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reclaim.db import session_scope
from reclaim.models import AuditEntry, EdiFile, Remittance, Submission
from tests.api.pages.conftest import csrf_in_page
from tests.api.test_edi_999_partner import sandbox_999
from tests.support import sent_submission

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "x12"
SAMPLE_835 = SAMPLES / "835" / "lfh-managed-care.835"


def upload(client: Any, content: bytes, name: str = "payer.x12") -> Any:
    csrf = csrf_in_page(client.get("/files").text)
    return client.post("/files", data={"csrf_token": csrf},
                       files={"file": (name, content, "application/octet-stream")})


def received_page(client: Any, response: Any) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/files\?received=\d+(&again=1)?", location)
    page = client.get(location)
    assert page.status_code == 200
    return str(page.text)


def sent_claim(engine: Engine) -> Submission:
    with session_scope(engine) as session:
        submission = sent_submission(session)
        session.expunge(submission)
        return submission


def test_an_uploaded_835_that_matches_no_claim_is_listed_as_payments_not_posted(
        page_db: Engine, as_role: Any, fake_client: Any) -> None:
    client = as_role("biller")
    assert "Every payment received is posted to its claim." in client.get("/files").text
    page = received_page(client, upload(client, SAMPLE_835.read_bytes(), SAMPLE_835.name))
    with Session(page_db) as session:
        edi = session.exec(select(EdiFile)).one()
        unposted = session.exec(select(Remittance).where(col(Remittance.claim_id).is_(None))).all()
    assert (edi.source, edi.filename, edi.type, edi.matched) == (
        "upload", SAMPLE_835.name, "835", 0)
    assert len(unposted) == edi.unmatched >= 1
    assert f"Received file {edi.id} ({SAMPLE_835.name})" in page
    assert f"835, 0 answers matched to claims, {edi.unmatched} not matched" in page
    assert "Payments not posted to a claim" in page
    for remittance in unposted:
        assert remittance.patient_control_number in page
    assert fake_client.signals == []
    # The upload is in the audit log, under the biller's name.
    with Session(page_db) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "upload_edi")).one()
    assert entry.username == "bill"
    assert f"file {edi.id}" in entry.detail


def test_an_uploaded_999_answers_its_claim_and_the_workflow_is_told(
        page_db: Engine, as_role: Any, fake_client: Any, tmp_path: Path) -> None:
    submission = sent_claim(page_db)
    client = as_role("coder")
    page = received_page(client, upload(client, sandbox_999(tmp_path, submission).encode()))
    assert "999, 1 answer matched to claims, 0 not matched" in page
    assert [(workflow_id, name) for workflow_id, name, _ in fake_client.signals] == [
        (f"claim-{submission.claim_id}", "edi_event")]
    with Session(page_db) as session:
        assert session.get_one(Submission, submission.id).status in ("acknowledged", "rejected")

    # The same file again changes nothing, and says so.
    again = received_page(client, upload(client, sandbox_999(tmp_path, submission).encode()))
    assert "was received before: nothing changed" in again
    with Session(page_db) as session:
        assert len(session.exec(select(EdiFile)).all()) == 1


def test_a_file_that_cannot_be_read_is_kept_and_the_page_says_where(
        page_db: Engine, as_role: Any, fake_client: Any) -> None:
    client = as_role("biller")
    broken = SAMPLE_835.read_text().replace("CLP*", "CLX*", 1).encode()
    page = received_page(client, upload(client, broken, "broken.835"))
    with Session(page_db) as session:
        edi = session.exec(select(EdiFile)).one()
        assert session.exec(select(Remittance)).all() == []
    assert edi.status == "failed"
    assert edi.error is not None
    assert "it cannot be read safely, so no claim was touched" in page
    # Where, once: the reader's message already names the segment.
    where = f"(segment {edi.error['segment_index']}"
    assert page.count(where) == 2  # the banner, and the file's row
    assert "refused" in page
    assert fake_client.signals == []


def test_an_empty_upload_is_refused_saying_so(page_db: Engine, as_role: Any) -> None:
    client = as_role("biller")
    response = upload(client, b"  \n", "empty.x12")
    assert response.status_code == 422
    assert "none was sent" in response.text
    with Session(page_db) as session:
        assert session.exec(select(EdiFile)).all() == []


def test_an_upload_without_the_csrf_token_is_refused(page_db: Engine, as_role: Any) -> None:
    client = as_role("biller")
    response = client.post("/files", files={"file": ("a.x12", SAMPLE_835.read_bytes())})
    assert response.status_code == 403
    with Session(page_db) as session:
        assert session.exec(select(EdiFile)).all() == []


def test_the_front_desk_neither_sees_nor_uploads_files(as_role: Any) -> None:
    client = as_role("front_desk")
    assert "Payer files" not in client.get("/claims").text
    assert client.post("/files", files={"file": ("a.x12", b"ISA")}).status_code == 403
    assert "Payer files" in as_role("biller").get("/claims").text


def test_a_file_name_with_control_characters_is_stored_printable(
        page_db: Engine, as_role: Any) -> None:
    """A hand-made multipart body can put a NUL in the file's name (a browser would not):
    PostgreSQL could not store it."""
    client = as_role("biller")
    csrf = csrf_in_page(client.get("/files").text)
    boundary = "reclaim-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f'{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="era\x00\x07 2026.835"\r\nContent-Type: application/octet-stream'
            '\r\n\r\n').encode() + SAMPLE_835.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/files", content=body, headers={
        "content-type": f"multipart/form-data; boundary={boundary}"})
    received_page(client, response)
    with Session(page_db) as session:
        assert session.exec(select(EdiFile)).one().filename == "era 2026.835"


def test_the_dashboard_counts_the_payments_not_posted(page_db: Engine, as_role: Any) -> None:
    manager = as_role("manager")
    card = re.compile(r'data-kpi="payments-not-posted"><a class="num" href="/files#unposted"'
                      r'[^>]*>([^<]+)</a>')
    before = card.search(manager.get("/").text)
    assert before is not None
    assert before.group(1) == "$0.00"
    biller = as_role("biller")
    received_page(biller, upload(biller, SAMPLE_835.read_bytes()))
    with Session(page_db) as session:
        unposted = session.exec(select(Remittance).where(col(Remittance.claim_id).is_(None))).all()
    total = sum(r.paid for r in unposted)
    assert total > 0
    html = manager.get("/").text
    after = card.search(html)
    assert after is not None
    assert after.group(1) == f"${total:,.2f}"
    assert f"{len(unposted)} claim payments in 835s matched no claim" in html
