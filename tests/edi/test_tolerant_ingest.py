"""A payer file with one malformed claim is not refused whole: every other claim is stored (and
posted), the bad one is listed in the file's answer with its segment and why."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reclaim.edi.ingest import ingest_file
from reclaim.models import EdiFile, Remittance

SAMPLES = Path("/work/shared/samples/x12")
EMEDNY = SAMPLES / "835" / "edi835parser-emedny_sample.txt"


def unique(text: str) -> str:
    """Another file's bytes (the database is shared, and a file is stored once by its sha256)."""
    return text.replace("TRN*1*", f"TRN*1*{uuid.uuid4().hex[:8]}", 1)


def test_an_835_with_a_truncated_claim_stores_the_others(engine: Engine) -> None:
    text = unique(EMEDNY.read_text()).replace(
        "CLP*PATIENT ACCOUNT NUMBER*2*34*0**MC*1000220000000020*11",
        "CLP*PATIENT ACCOUNT NUMBER*2*34", 1)
    with Session(engine) as session:
        result = ingest_file(session=session, raw=text.encode())
    assert result.error is None
    assert result.as_dict()["refused"] == [{
        "patient_control_number": "PATIENT ACCOUNT NUMBER", "segment": 34,
        "reason": "required element CLP04 (payment amount) is missing"}]
    assert result.matched + result.unmatched == 2
    with Session(engine) as session:
        stored = session.get(EdiFile, result.file_id)
        assert stored is not None
        assert stored.status == "processed"
        rows = session.exec(select(Remittance).where(
            col(Remittance.edi_file_id) == result.file_id)).all()
    assert sorted(r.status_code for r in rows) == ["1", "2"]
    assert any(w["segment_index"] == 34 and "refused" in w["message"] for w in result.warnings)


def test_file_warnings_are_stated_once_however_many_interchanges(engine: Engine) -> None:
    one = unique(EMEDNY.read_text()).replace("*006000600*0*T*:", "*006000600*0*X*:", 1)
    assert "*0*X*:" in one
    two = one.replace("006000600", "006000601").replace("TRN*1*", "TRN*1*B", 1)
    with Session(engine) as session:
        result = ingest_file(session=session, raw=(one + two).encode())
    assert result.error is None
    usage = [w for w in result.warnings if "ISA15" in w["message"]]
    assert len(usage) == 1
