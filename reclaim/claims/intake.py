"""837 intake: a practice's own claims, exported by its practice-management system or EHR.

Each CLM of the file becomes a claim document and a claim (the same `create_claim` that
`POST /api/v1/claims` uses; the caller then starts its workflow, see temporal_client). A file is
taken claim by claim: good claims go in, each bad one is listed with its segment number and the
reason (reclaim/x12/read_837_claims.py). A claim is its submitter's patient control number: the
`importedclaim` table is unique on (submitter, PCN), so importing a file again, or a PCN the same
submitter sent before, creates nothing (two imports racing: the loser's insert fails on that key
and counts a duplicate). Every file is kept (`claimimport`), with what became of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from reclaim.claims.service import create_claim
from reclaim.models import ClaimImport, ImportedClaim
from reclaim.x12.common import X12Error
from reclaim.x12.read_837_claims import ReadClaim, read_837_claims
from reclaim.x12.tokenizer import decode

Progress = Callable[[int, int], None]  # (claims done, claims in the file)


@dataclass
class ImportResult:
    import_id: int
    file_type: str | None = None
    submitter: str | None = None
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    duplicate_claims: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    # (claim id, payer id) of each claim created: the workflows the caller starts.
    started: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "file_type": self.file_type,
                "submitter": self.submitter, "accepted": self.accepted, "refused": self.refused,
                "duplicates": self.duplicates, "duplicate_claims": self.duplicate_claims,
                "warnings": self.warnings, "error": self.error}


def import_837(*, engine: Engine, raw: bytes | str, filename: str | None = None,
               username: str | None = None, progress: Progress | None = None) -> ImportResult:
    """Store the file, read it, create each good claim in its own transaction."""
    data = raw.encode() if isinstance(raw, str) else raw
    ignored: list[str] = []
    text = decode(data, lambda _i, _s, message: ignored.append(message))
    with Session(engine, expire_on_commit=False) as session:
        stored = ClaimImport(sha256=hashlib.sha256(data).hexdigest(),
                             raw=text.replace("\x00", "\ufffd"), size=len(data),
                             filename=(filename or "")[:255] or None, username=username)
        session.add(stored)
        session.commit()
    assert stored.id is not None
    result = ImportResult(import_id=stored.id)
    try:
        read = read_837_claims(data)
    except X12Error as exc:
        result.error = exc.as_dict() | {"detail": str(exc)}
        _finish(engine, stored, result)
        return result
    result.file_type, result.submitter = read.file_type, read.submitter[:80]
    result.warnings = [w.model_dump() for w in read.warnings]
    result.refused = [r.as_dict() for r in read.refused]
    total = len(read.claims)
    for done, claim in enumerate(read.claims, start=1):
        _create(engine, stored.id, result, claim)
        if progress is not None:
            progress(done, total)
    _finish(engine, stored, result)
    return result


def _create(engine: Engine, import_id: int, result: ImportResult, read: ReadClaim) -> None:
    submitter = result.submitter or ""
    pcn = read.patient_control_number
    with Session(engine) as session:
        known = _known(session, submitter, pcn)
        if known is None:
            claim = create_claim(session=session, document=read.document)
            assert claim.id is not None
            session.add(ImportedClaim(submitter=submitter, patient_control_number=pcn,
                                      claim_id=claim.id, import_id=import_id))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # another import took this PCN at the same moment
                known = _known(session, submitter, pcn)
            else:
                result.accepted.append({"claim_id": claim.id, "patient_control_number": pcn})
                result.started.append((claim.id, read.document.payer_id))
                return
    result.duplicates += 1
    result.duplicate_claims.append({"claim_id": known, "patient_control_number": pcn})


def _known(session: Session, submitter: str, pcn: str) -> int | None:
    return session.exec(select(ImportedClaim.claim_id).where(
        col(ImportedClaim.submitter) == submitter,
        col(ImportedClaim.patient_control_number) == pcn)).first()


def _finish(engine: Engine, stored: ClaimImport, result: ImportResult) -> None:
    with Session(engine) as session:
        row = session.get(ClaimImport, stored.id)
        assert row is not None
        row.file_type, row.submitter = result.file_type, result.submitter
        row.accepted, row.refused = len(result.accepted), len(result.refused)
        row.duplicates = result.duplicates
        row.error = result.error
        row.summary = result.as_dict()
        session.add(row)
        session.commit()


def recent_imports(*, session: Session, limit: int = 20) -> list[ClaimImport]:
    return list(session.exec(select(ClaimImport).order_by(col(ClaimImport.id).desc())
                             .limit(limit)))
