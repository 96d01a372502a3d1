"""EDI ingestion: store the raw file, read it by its type, say which workflows to signal.

The same function serves `POST /api/v1/edi`, `reclaim import-era` and the clearinghouse poller.
Posting a file twice changes nothing (its sha256 is the key); a file that cannot be read is kept
with the reason; a remittance that matches no claim is kept and listed, never dropped. Reading a
999 or 277CA is reclaim.edi.answers, an 835 reclaim.edi.payments; the signals, reclaim.edi.outbox.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from reclaim import metrics
from reclaim.edi.answers import ANSWER_FILES
from reclaim.edi.outbox import ClaimSignal, signals_for_file
from reclaim.edi.payments import store_835
from reclaim.models import EdiFile
from reclaim.x12.common import X12Error
from reclaim.x12.models import Ack999, Status277CA
from reclaim.x12.read_835 import Stream835
from reclaim.x12.reader import detect, first_type


@dataclass
class IngestResult:
    file_id: int
    type: str | None
    duplicate: bool
    matched: int = 0
    unmatched: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    # Claims (835 CLP loops) refused on their own, the rest of the file read:
    # [{patient_control_number, segment, reason}].
    refused: list[dict[str, Any]] = field(default_factory=list)
    signals: list[ClaimSignal] = field(default_factory=list)
    # The file's signals are not confirmed yet (`signalled` is the outbox): `signals` holds them
    # when `signals_collected`, else the caller pages them itself (`signal_page`).
    pending_signals: bool = False
    signals_collected: bool = False
    # How many claim signals the file holds (its matched 999/277CA answers and remittances: one
    # signal each), known from reading it, whether or not they are still pending.
    signal_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "type": self.type,
            "duplicate": self.duplicate,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "warnings": self.warnings,
            "error": self.error,
            "refused": self.refused,
        }


def decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# Built once: a statement built per call is also cache-keyed per call (b_*: the WHERE clause's).
_BY_DIGEST = select(EdiFile).where(col(EdiFile.sha256) == bindparam("b_sha256"))


def ingest_file(
    *, session: Session, raw: bytes | str, source: str = "api", filename: str | None = None,
    collect_signals: bool | int = True,
) -> IngestResult:
    """Store and read one file. Commits the raw file before reading it, so a file that fails to
    read is still kept (with its error) and a crash mid-way loses nothing.

    `collect_signals=False` leaves `signals` empty for a caller that reads them a page at a time
    (`signal_page`, while `pending_signals` says there are any): a big 835's are thousands. A
    number N collects them only for a file that holds at most N (a small file's signals come
    with its reading; a big one's are paged)."""
    data = raw.encode() if isinstance(raw, str) else raw
    digest = hashlib.sha256(data).hexdigest()
    existing = session.exec(_BY_DIGEST, params={"b_sha256": digest}).first()
    if existing is not None and existing.status != "received":
        metrics.edi_file_processed(file_type=existing.type, outcome="duplicate")
        return _result(session, existing, duplicate=True, collect=collect_signals)
    if existing is None:
        # PostgreSQL text cannot hold NUL; the sha256 stays that of the bytes received.
        existing = EdiFile(
            sha256=digest, raw=decode(data).replace("\x00", "\ufffd"), size=len(data),
            source=source, filename=(filename or "")[:255] or None,
        )
        session.add(existing)
        try:
            session.commit()
        except IntegrityError:
            # The same file arrived twice at the same moment: the other one owns it.
            session.rollback()
            other = session.exec(select(EdiFile).where(EdiFile.sha256 == digest)).one()
            return _result(session, other, duplicate=True, collect=collect_signals)
    edi = existing
    try:
        read = _read_into(session, edi)
    except X12Error as exc:
        session.rollback()
        failed = session.get(EdiFile, edi.id)
        assert failed is not None
        failed.status = "failed"
        failed.error = exc.as_dict() | {"detail": str(exc)}
        session.add(failed)
        session.commit()
        metrics.edi_file_processed(file_type=failed.type, outcome="failed")
        return _result(session, failed, duplicate=False, collect=collect_signals)
    edi.status = "processed"
    session.add(edi)
    session.commit()
    metrics.edi_file_processed(file_type=edi.type, outcome="processed")
    return _result(session, edi, duplicate=False, collect=collect_signals, read=read)

def _result(session: Session, edi: EdiFile, *, duplicate: bool, collect: bool | int,
            read: list[ClaimSignal] | None = None) -> IngestResult:
    """`read`: the signals the reading made as it stored the file, if it could (999/277CA)."""
    assert edi.id is not None
    result = IngestResult(
        file_id=edi.id,
        type=edi.type,
        duplicate=duplicate,
        matched=edi.matched,
        unmatched=edi.unmatched,
        warnings=edi.warnings or [],
        error=edi.error,
        refused=list((edi.parsed or {}).get("refused_claims") or []),
    )
    # A duplicate whose signals were never confirmed is signalled again (workflows dedupe).
    result.pending_signals = edi.status == "processed" and not edi.signalled
    # Every matched row is one signal (signal_page sends exactly the rows with a claim).
    result.signal_count = edi.matched if edi.status == "processed" else 0
    wanted = collect is True or (collect is not False and result.signal_count <= collect)
    if result.pending_signals and wanted:
        result.signals = (read if read is not None else
                          signals_for_file(session=session, file_id=edi.id, file_type=edi.type))
        result.signals_collected = True
    return result


def _read_into(session: Session, edi: EdiFile) -> list[ClaimSignal] | None:
    """Read the file once, by the type of its first transaction set, storing as it reads; the
    signals of a 999's or 277CA's matched answers (None for an 835: its signals need the ids of
    the remittances, read back). Any problem anywhere in the file (another type further on
    included) is reported as detect() reports it, as when the whole file was checked before it
    was read."""
    kind = first_type(edi.raw)
    signals: list[ClaimSignal] = []
    try:
        if kind == "835":
            edi.type = "835"
            store_835(session, edi, Stream835(edi.raw))
        elif kind in ANSWER_FILES:
            read, key, store = ANSWER_FILES[kind]
            answers = read(edi.raw)
            edi.type = kind
            edi.warnings = _warnings(answers)
            edi.parsed = {key: [a.model_dump(mode="json") for a in answers],
                          "refused_claims": [r for a in answers
                                             for r in getattr(a, "refused", [])]}
            store(session, edi, answers, signals)
        else:
            kind = None
    except X12Error:
        detect(edi.raw)
        raise
    if kind is None:
        detected = detect(edi.raw)
        edi.type = detected.type
        raise X12Error(
            f"a {detected.type} is not something a payer sends; POST 999, 277CA or 835 files",
            segment_index=None,
            segment_id="ST",
        )
    return None if kind == "835" else signals


def _warnings(models: list[Ack999] | list[Status277CA]) -> list[dict[str, Any]]:
    """The answers' warnings, in order; a file-level one, which every answer carries, once."""
    unique = {(w.segment_index, w.segment_id, w.message): w for m in models for w in m.warnings}
    return [w.model_dump() for w in unique.values()]
