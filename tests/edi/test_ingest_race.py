"""The same payer file stored by someone else between our digest check and our insert: the
unique digest refuses ours and the answer is the other one's file, as a duplicate (the same
file twice changes nothing), never a 500."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from reclaim.edi import ingest
from reclaim.models import EdiFile

RAW = b"ISA*not a real interchange~"


def test_a_file_stored_at_the_same_moment_is_a_duplicate(db: Engine,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real = ingest.decode

    def decode_then_race(data: bytes) -> str:
        with Session(db) as other:
            other.add(EdiFile(sha256=hashlib.sha256(RAW).hexdigest(), raw=RAW.decode(),
                              size=len(RAW), source="other", status="failed"))
            other.commit()
        return real(data)

    monkeypatch.setattr(ingest, "decode", decode_then_race)
    with Session(db) as session:
        result = ingest.ingest_file(session=session, raw=RAW)
    assert result.duplicate
    with Session(db) as s:
        files = s.exec(select(EdiFile)).all()
    assert [(f.id, f.source) for f in files] == [(result.file_id, "other")]
