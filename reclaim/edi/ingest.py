"""EDI ingestion: store the raw file, read it, match it to claims, say which workflows to signal.

The same function serves `POST /api/v1/edi`, `reclaim import-era` and the clearinghouse poller.
Posting a file twice changes nothing (its sha256 is the key); a file that cannot be read is kept
with the reason; a remittance that matches no claim is kept and listed, never dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from contracts.enums import AWAITING_REMITTANCE
from contracts.messages import EdiEvent
from reclaim import metrics
from reclaim.claims.service import parse_patient_control_number
from reclaim.denials.facts import refresh_denial_facts
from reclaim.models import Claim, EdiFile, PayerResponse, Remittance, Submission
from reclaim.x12.common import X12Error
from reclaim.x12.models import Ack999, Payment, ReadWarning, Status277CA
from reclaim.x12.read_277ca import read_277ca
from reclaim.x12.read_835 import ClaimRead, RemittanceRead, Stream835
from reclaim.x12.read_999 import read_999
from reclaim.x12.reader import detect, first_envelope, first_type

# 277CA claim status categories (STC01-1) in our words, for when the payer sends no text.
STATUS_CATEGORY = {
    "A1": "received by the payer",
    "A2": "accepted into adjudication",
    "A3": "returned as unprocessable: correct and send again",
    "A4": "not found by the payer",
    "A6": "rejected: information is missing",
    "A7": "rejected: information is invalid",
    "A8": "rejected: a field does not agree with another",
}
LOOKUP_CHUNK = 500  # ids per IN (...) query, well under every driver's parameter limit
# An 835 is stored this many claims at a time: one lookup of their claims, one bulk insert, then
# they are dropped, so memory does not grow with the file's claim count.
CLAIM_CHUNK = 500
SIGNAL_PAGE = 500  # signals read from the database and sent at a time


@dataclass
class ClaimSignal:
    claim_id: int
    event: EdiEvent


@dataclass
class IngestResult:
    file_id: int
    type: str | None
    duplicate: bool
    matched: int = 0
    unmatched: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
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
        }


def decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# The hottest statements, built once: a statement built per call is also cache-keyed per call.
# Parameters named b_* are the WHERE clause's.
_EDI_FILES = EdiFile.__table__  # type: ignore[attr-defined]
_CLAIMS = Claim.__table__  # type: ignore[attr-defined]
_BY_DIGEST = select(EdiFile).where(col(EdiFile.sha256) == bindparam("b_sha256"))
_MARK_SIGNALLED = (_EDI_FILES.update()
                   .where(_EDI_FILES.c.id == bindparam("b_id"), _EDI_FILES.c.signalled.is_(False))
                   .values(signalled=True))
_SUBMISSIONS = Submission.__table__  # type: ignore[attr-defined]
_INSERT_REMITTANCES = Remittance.__table__.insert()  # type: ignore[attr-defined]
_INSERT_ANSWERS = PayerResponse.__table__.insert()  # type: ignore[attr-defined]
_SENT_SUBMISSION = sa_select(
    _SUBMISSIONS.c.id, _SUBMISSIONS.c.claim_id, _SUBMISSIONS.c.attempt, _SUBMISSIONS.c.x12,
).where(_SUBMISSIONS.c.id == bindparam("b_id"))
_SUBMISSION_STATUS = _SUBMISSIONS.update().where(_SUBMISSIONS.c.id == bindparam("b_id"))
_ATTEMPTS = sa_select(_CLAIMS.c.id, _CLAIMS.c.attempts).where(
    _CLAIMS.c.id.in_(bindparam("b_ids", expanding=True)))


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


def mark_signalled(*, session: Session, file_id: int) -> None:
    """The file's signals are delivered (the outbox flag); the caller commits. A Core UPDATE:
    an EdiFile already loaded in this session does not see it."""
    session.connection().execute(_MARK_SIGNALLED, {"b_id": file_id})


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


def signals_for_file(*, session: Session, file_id: int,
                     file_type: str | None = None) -> list[ClaimSignal]:
    """Every signal of a file; with its type known, only the table that type fills is read."""
    signals: list[ClaimSignal] = []
    cursor: SignalCursor | None = (1, 0) if file_type == "835" else (0, 0)
    while cursor is not None:
        page, cursor = signal_page(session=session, file_id=file_id, after=cursor)
        signals += page
        if cursor == (1, 0) and file_type in ("999", "277CA"):
            break  # its answers are all read: a 999 or 277CA has no remittances
    return signals


# (0: 999/277CA answers, 1: 835 remittances; the position of the last signal given)
SignalCursor = tuple[int, int]


def signal_page(
    *, session: Session, file_id: int, after: SignalCursor = (0, 0), limit: int | None = None
) -> tuple[list[ClaimSignal], SignalCursor | None]:
    """The file's next signals after `after` (at most `limit`, SIGNAL_PAGE by default, in file
    order: its 999/277CA answers, then its remittances), and the cursor for the next page, None
    after the last."""
    limit = limit or SIGNAL_PAGE
    signals: list[ClaimSignal] = []
    table, last = after
    if table == 0:
        responses = session.execute(
            sa_select(*RESPONSE_SIGNAL_COLUMNS)
            .where(col(PayerResponse.edi_file_id) == file_id,
                   col(PayerResponse.claim_id).is_not(None), col(PayerResponse.position) > last)
            .order_by(col(PayerResponse.position))
            .limit(limit)
        ).all()
        signals += [response_signal(*row) for row in responses]
        return signals, (0, responses[-1][1]) if len(responses) == limit else (1, 0)
    remits = session.execute(
        sa_select(*REMITTANCE_SIGNAL_COLUMNS)
        .where(col(Remittance.edi_file_id) == file_id, col(Remittance.claim_id).is_not(None),
               col(Remittance.position) > last)
        .order_by(col(Remittance.position))
        .limit(limit)
    ).all()
    signals += [remittance_signal(*row) for row in remits]
    return signals, (1, remits[-1][2]) if len(remits) == limit else None


# Only the columns a remittance's signal needs: the rows also carry each claim's JSON.
REMITTANCE_SIGNAL_COLUMNS = (col(Remittance.id), col(Remittance.edi_file_id),
                             col(Remittance.position), col(Remittance.claim_id),
                             col(Remittance.attempt), col(Remittance.payer_claim_control_number))


def remittance_signal(remittance_id: int, file_id: int, position: int, claim_id: int | None,
                      attempt: int | None, control_number: str | None) -> ClaimSignal:
    """The 835 event of one matched Remittance row (REMITTANCE_SIGNAL_COLUMNS, in order)."""
    assert claim_id is not None
    return ClaimSignal(claim_id, EdiEvent(
        file_id=file_id, position=position, kind="835", attempt=attempt or 0,
        remittance_id=remittance_id, payer_claim_control_number=control_number,
    ))


# Only the columns a 999/277CA answer's signal needs, in response_signal's order: as names (the
# keys of a row's dict, _answer) and as columns.
_SIGNAL_KEYS = ("edi_file_id", "position", "kind", "claim_id", "attempt", "accepted", "code",
                "message", "payer_claim_control_number")
RESPONSE_SIGNAL_COLUMNS = tuple(PayerResponse.__table__.c[key]  # type: ignore[attr-defined]
                                for key in _SIGNAL_KEYS)


def response_signal(file_id: int, position: int, kind: str, claim_id: int | None,
                    attempt: int | None, accepted: bool | None, code: str | None,
                    message: str | None, control_number: str | None) -> ClaimSignal:
    """The 999 or 277CA event of one matched PayerResponse row (RESPONSE_SIGNAL_COLUMNS)."""
    assert claim_id is not None
    return ClaimSignal(claim_id, EdiEvent(
        file_id=file_id, position=position, kind=kind,  # type: ignore[arg-type]
        attempt=attempt or 0, accepted=accepted, code=code, message=message,
        payer_claim_control_number=control_number,
    ))


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
            _store_835(session, edi, Stream835(edi.raw))
        elif kind in ANSWER_FILES:
            read, key, store = ANSWER_FILES[kind]
            answers = read(edi.raw)
            edi.type = kind
            edi.warnings = _warnings(answers)
            edi.parsed = {key: [a.model_dump(mode="json") for a in answers]}
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


def _answer(file_id: int, position: int, kind: str, *, claim_id: int | None,
            submission_id: int | None = None, attempt: int | None, accepted: bool,
            code: str | None, message: str | None,
            payer_claim_control_number: str | None = None) -> dict[str, Any]:
    """One PayerResponse row, every column named (an executemany takes rows of one shape)."""
    return {"edi_file_id": file_id, "position": position, "kind": kind, "claim_id": claim_id,
            "submission_id": submission_id, "attempt": attempt, "accepted": accepted,
            "code": code, "message": message,
            "payer_claim_control_number": payer_claim_control_number}


def _store_answers(session: Session, signals: list[ClaimSignal],
                   rows: list[dict[str, Any]]) -> None:
    """Store a 999's or 277CA's answers in one Core executemany; each matched one's signal is
    made from the same values, so a small file's signals need no reading back (in the file's
    order, as signal_page's)."""
    if not rows:
        return
    session.connection().execute(_INSERT_ANSWERS, rows)
    signals.extend(response_signal(*(row[key] for key in _SIGNAL_KEYS))
                   for row in rows if row["claim_id"] is not None)


# Warnings a file gets for answers that match nothing, at most (then a count of the rest).
UNMATCHED_WARNINGS = 20


def _store_999(session: Session, edi: EdiFile, acks: list[Ack999],
               signals: list[ClaimSignal]) -> None:
    """A 999 answers the submission its AK1-02 names (our 837's GS06) only when it comes back
    from the partner that 837 went to and is addressed to us (`_partner_mismatch`); otherwise it
    is stored unmatched, with a warning on the file saying which envelope ids differ (or, when
    AK1-02 names no submission, that it answers none of ours)."""
    assert edi.id is not None
    rows: list[dict[str, Any]] = []
    unmatched: list[ReadWarning] = []
    connection = session.connection()
    for position, ack in enumerate(acks, start=1):
        found = connection.execute(_SENT_SUBMISSION, {"b_id": ack.group_control_number}).first()
        submission = SentSubmission(*found) if found is not None else None
        if submission is None:
            unmatched.append(ReadWarning(
                segment_index=ack.ak1_index, segment_id="AK1",
                message=(f"999 for group {ack.group_control_number} (AK1-02) answers no 837 "
                         "Reclaim sent: AK1-02 must be the GS06 of one of ours; stored "
                         "unmatched")))
        else:
            mismatch = _partner_mismatch(ack, submission)
            if mismatch is not None:
                unmatched.append(mismatch)
                submission = None
        errors = [e for t in ack.transactions for e in t.errors]
        accepted = ack.group_status in ("A", "E")
        rows.append(_answer(
            edi.id, position, "999",
            claim_id=submission.claim_id if submission else None,
            submission_id=submission.id if submission else None,
            attempt=submission.attempt if submission else None,
            accepted=accepted,
            code=ack.group_status,
            message=(errors[0].message or errors[0].code)[:255] if errors else None,
        ))
        if submission is None:
            edi.unmatched += 1
        else:
            edi.matched += 1
            connection.execute(_SUBMISSION_STATUS, {
                "b_id": submission.id, "status": "acknowledged" if accepted else "rejected"})
    _store_answers(session, signals, rows)
    _warn(edi, unmatched)


def _warn(edi: EdiFile, warnings: list[ReadWarning]) -> None:
    """Add warnings to the file's, the first UNMATCHED_WARNINGS of them and a count of the rest
    (a file of another submitter's answers would otherwise carry one per claim). A new list:
    the JSON column only sees an assignment, and an autoflush may have run."""
    if not warnings:
        return
    kept = [w.model_dump() for w in warnings[:UNMATCHED_WARNINGS]]
    if len(warnings) > UNMATCHED_WARNINGS:
        kept.append(ReadWarning(message=f"and {len(warnings) - UNMATCHED_WARNINGS} more answers "
                                        "not matched, not listed").model_dump())
    edi.warnings = [*(edi.warnings or []), *kept]


class SentSubmission(NamedTuple):
    """What a 999 is checked and matched against (_SENT_SUBMISSION's columns): not the whole
    Submission row, whose claim document a 999 does not need."""

    id: int
    claim_id: int
    attempt: int
    x12: str


def _same_id(got: str | None, wanted: str) -> bool:
    return (got or "").strip().upper() == wanted.strip().upper()


def _partner_mismatch(ack: Ack999, submission: SentSubmission) -> ReadWarning | None:
    """Why the 999 does not answer the submission's 837, None when it does: its sender
    (ISA05/ISA06, and GS02 when present) must be that 837's receiver and its receiver
    (ISA07/ISA08, GS03 when present) that 837's sender, trimmed and case-insensitive. The
    qualifier is part of an id (ZZ:RECLAIM and 01:RECLAIM are different parties), and the
    sandbox payer, like a real partner, answers with the 837's envelope turned round."""
    got, sent = ack.envelope, first_envelope(submission.x12)
    if sent is None:
        return ReadWarning(
            segment_index=ack.ak1_index, segment_id="AK1",
            message=(f"999 for group {ack.group_control_number} not matched to submission "
                     f"{submission.id}: that submission has no 837 it could answer"))
    checks = [
        ("ISA05", got.sender_qualifier, sent.receiver_qualifier, "our 837's ISA07"),
        ("ISA06", got.sender_id, sent.receiver_id, "our 837's ISA08"),
        ("ISA07", got.receiver_qualifier, sent.sender_qualifier, "our 837's ISA05"),
        ("ISA08", got.receiver_id, sent.sender_id, "our 837's ISA06"),
        ("GS02", got.application_sender, sent.application_receiver or sent.receiver_id,
         "our 837's GS03"),
        ("GS03", got.application_receiver, sent.application_sender or sent.sender_id,
         "our 837's GS02"),
    ]
    wrong = [(element, value, wanted, where) for element, value, wanted, where in checks
             if not (element.startswith("GS") and not value) and not _same_id(value, wanted)]
    if not wrong:
        return None
    in_isa = wrong[0][0].startswith("ISA")
    return ReadWarning(
        segment_index=ack.interchange_index if in_isa else ack.group_index,
        segment_id="ISA" if in_isa else "GS",
        message=(f"999 for group {ack.group_control_number} not matched to submission "
                 f"{submission.id}: the envelope does not answer that 837 ("
                 + "; ".join(f"{element} {(value or '').strip()!r} is not "
                             f"{wanted.strip()!r}, {where}"
                             for element, value, wanted, where in wrong) + ")"),
    )


def _store_277ca(session: Session, edi: EdiFile, statuses: list[Status277CA],
                 signals: list[ClaimSignal]) -> None:
    assert edi.id is not None
    rows: list[dict[str, Any]] = []
    attempts = _attempts_by_claim(session, [i.patient_control_number for s in statuses
                                            for i in s.claims])
    items = (item for status in statuses for item in status.claims)
    unmatched: list[ReadWarning] = []
    for position, item in enumerate(items, start=1):
        claim_id, attempt = _match_pcn(attempts, item.patient_control_number)
        if claim_id is None:
            unmatched.append(ReadWarning(
                segment_index=item.trn_index, segment_id="TRN",
                message=(f"277CA status for patient control number "
                         f"{item.patient_control_number!r} (TRN02) matches no claim Reclaim "
                         "sent: TRN02 must be the CLM01 of one of ours; stored unmatched")))
        rows.append(_answer(
            edi.id, position, "277CA",
            claim_id=claim_id,
            attempt=attempt,
            accepted=item.action == "accepted",
            code=f"{item.status_category}:{item.status_code}",
            message=(item.message or STATUS_CATEGORY.get(item.status_category, ""))[:255]
            or None,
            payer_claim_control_number=item.payer_claim_control_number,
        ))
        if claim_id is None:
            edi.unmatched += 1
        else:
            edi.matched += 1
    _store_answers(session, signals, rows)
    _warn(edi, unmatched)


# A 999's and a 277CA's reader, the key EdiFile.parsed keeps their answers under, and the store
# of their PayerResponse rows.
ANSWER_FILES: dict[str, tuple[Callable[[str], Any], str, Callable[..., None]]] = {
    "999": (read_999, "acknowledgments", _store_999),
    "277CA": (read_277ca, "statuses", _store_277ca),
}


def _store_835(session: Session, edi: EdiFile, stream: Stream835) -> None:
    """Claims are matched and inserted CLAIM_CHUNK at a time as the file is read; the file keeps
    only each remittance's header (GET /api/v1/edi/{id} reads the claims from their rows)."""
    assert edi.id is not None
    counts = _Counts()
    chunk: list[tuple[Payment, ClaimRead]] = []
    for remittance, claim in stream:
        assert remittance.header is not None
        chunk.append((remittance.header.payment, claim))
        if len(chunk) >= CLAIM_CHUNK:
            _store_claims(session, edi.id, chunk, counts)
            chunk = []
    if chunk:
        _store_claims(session, edi.id, chunk, counts)
    edi.matched += counts.matched
    edi.unmatched += counts.unmatched
    _settle_payments(session, edi.id, stream.remittances)
    edi.warnings = [w.model_dump() for r in stream.remittances if r.header
                    for w in r.header.warnings]
    # DESIGN.md: GET /api/v1/edi/{id} of an 835 shows payer, payment, PLB and claims at the top.
    views = [_header_view(r) for r in stream.remittances]
    if not views:
        edi.parsed = {"claim_count": 0}
    elif len(views) == 1:
        edi.parsed = views[0]
    else:
        edi.parsed = {**views[0], "remittances": views}


@dataclass
class _Counts:
    matched: int = 0
    unmatched: int = 0
    position: int = 0  # of the last claim stored


def _store_claims(session: Session, file_id: int, chunk: list[tuple[Payment, ClaimRead]],
                  counts: _Counts) -> None:
    attempts = _attempts_by_claim(session, [claim.patient_control_number for _, claim in chunk])
    rows: list[dict[str, Any]] = []
    for payment, claim in chunk:
        counts.position += 1
        claim_id, attempt = _match_pcn(attempts, claim.patient_control_number)
        if claim_id is None:
            claim_id, attempt = _match_by_lines(session, claim)
        rows.append(
            dict(
                edi_file_id=file_id,
                position=counts.position,
                claim_id=claim_id,
                attempt=attempt,
                patient_control_number=claim.patient_control_number[:38],
                status_code=claim.status_code,
                charge=claim.charge,
                paid=claim.paid,
                patient_responsibility=claim.patient_responsibility,
                payer_claim_control_number=claim.payer_claim_control_number,
                payment_date=payment.date,
                trace_number=payment.trace_number,
                data=claim.data,
            )
        )
        if claim_id is None:
            counts.unmatched += 1
        else:
            counts.matched += 1
    # A Core bulk insert: ORM objects (or the ORM's bulk path) cost more than reading the file.
    session.connection().execute(_INSERT_REMITTANCES, rows)
    # A remittance after a claim's first denial is money recovered (a no-op for the rest).
    refresh_denial_facts(session, (row["claim_id"] for row in rows if row["claim_id"]))


def _settle_payments(session: Session, file_id: int,
                     remittances: list[RemittanceRead]) -> None:
    """A payer that sends BPR again after its claims changes the payment they were stored with
    (the last BPR holds, as it always has): those rows are brought to it."""
    start = 1
    for remittance in remittances:
        used, final = remittance.preview, remittance.header
        assert final is not None
        if remittance.claim_count and used is not None and (
                (used.date, used.trace_number) != (final.payment.date, final.payment.trace_number)):
            session.execute(
                update(Remittance)
                .where(col(Remittance.edi_file_id) == file_id, col(Remittance.position) >= start,
                       col(Remittance.position) < start + remittance.claim_count)
                .values(payment_date=final.payment.date, trace_number=final.payment.trace_number)
                .execution_options(synchronize_session=False)
            )
        start += remittance.claim_count


def _header_view(remittance: RemittanceRead) -> dict[str, Any]:
    header = remittance.header
    assert header is not None
    return {
        "payer": {"name": header.payer_name, "id": header.payer_id},
        "payee": {"name": header.payee_name, "npi": header.payee_npi},
        "payment": header.payment.model_dump(mode="json"),
        "provider_adjustments": [p.model_dump(mode="json") for p in header.provider_adjustments],
        "claim_count": remittance.claim_count,
    }


CLAIM_VIEW = ("patient_control_number", "status_code", "charge", "paid", "patient_responsibility",
              "payer_claim_control_number", "adjustments", "remarks", "lines")
CLAIMS_PAGE = 200  # claims GET /api/v1/edi/{id} shows of an 835 unless asked for more


def _claim_view(payment: dict[str, Any], claim_id: int | None) -> dict[str, Any]:
    """`payment`: the claim as its Remittance row stores it (ClaimPayment as JSON)."""
    view = {name: payment[name] for name in CLAIM_VIEW}
    view["matched_claim_id"] = claim_id
    return view


def remittance_view(session: Session, edi: EdiFile, *, offset: int = 0,
                    limit: int = CLAIMS_PAGE) -> dict[str, Any]:
    """A stored 835 as GET /api/v1/edi/{id} shows it: each remittance's header (payer, payee,
    payment, provider adjustments, claim_count) with the claims at file positions offset + 1 to
    offset + limit, read from the Remittance rows, and `claims_total`. Several remittances in
    one file: the first at the top, every one under `remittances`."""
    assert edi.id is not None
    parsed = edi.parsed or {}
    several = parsed.get("remittances")
    headers: list[dict[str, Any]] = several if several is not None else [parsed]
    # Files stored before claim_count kept every claim in `parsed`: they are counted there.
    counts = [h.get("claim_count", len(h.get("claims", []))) for h in headers]
    rows = session.execute(
        sa_select(col(Remittance.position), col(Remittance.claim_id), col(Remittance.data))
        .where(col(Remittance.edi_file_id) == edi.id, col(Remittance.position) > offset,
               col(Remittance.position) <= offset + limit)
        .order_by(col(Remittance.position))
    ).all()
    shown = []
    start = 1
    for header, count in zip(headers, counts, strict=True):
        view = {key: value for key, value in header.items() if key != "claims"}
        view["claim_count"] = count
        view["claims"] = [_claim_view(data, claim_id) for position, claim_id, data in rows
                          if start <= position < start + count]
        shown.append(view)
        start += count
    body = dict(shown[0])
    if several is not None:
        body["remittances"] = shown
    body.update(claims_total=sum(counts), claims_offset=offset, claims_limit=limit)
    return body


def _attempts_by_claim(session: Session, pcns: list[str]) -> dict[int, int]:
    """Attempts of every claim the patient control numbers name, a few queries per file rather
    than one per claim (an 835 can carry thousands)."""
    ids = sorted({parsed[0] for pcn in pcns if (parsed := parse_patient_control_number(pcn))})
    found: dict[int, int] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start:start + LOOKUP_CHUNK]
        found.update((claim_id, attempts) for claim_id, attempts in
                     session.connection().execute(_ATTEMPTS, {"b_ids": chunk}))
    return found


def _match_pcn(attempts: dict[int, int], pcn: str) -> tuple[int | None, int | None]:
    parsed = parse_patient_control_number(pcn)
    if parsed is None or parsed[0] not in attempts:
        return None, None
    claim_id, attempt = parsed
    return claim_id, attempt or attempts[claim_id]


def _match_by_lines(session: Session, payment: ClaimRead) -> tuple[int | None, int | None]:
    """Fallback when the payer mangled the patient control number: the member, the date of
    service and the procedures billed, ignoring modifiers (payers drop them)."""
    if not payment.member_id:
        return None, None
    service_date = payment.service_date
    query = select(Claim).where(
        Claim.member_id == payment.member_id, col(Claim.status).in_(AWAITING_REMITTANCE)
    )
    if service_date is not None:
        query = query.where(Claim.service_date == service_date)
    wanted = sorted(payment.procedures)
    candidates = []
    for claim in session.exec(query.limit(20)).all():
        billed = sorted(line["procedure"] for line in claim.document.get("lines", []))
        if not wanted or billed == wanted:
            if Decimal(str(claim.total_charge)) == payment.charge or wanted:
                candidates.append(claim)
    if len(candidates) != 1:
        return None, None
    return candidates[0].id, candidates[0].attempts


def list_unmatched(*, session: Session, limit: int = 100) -> list[Remittance]:
    return list(
        session.exec(
            select(Remittance)
            .where(col(Remittance.claim_id).is_(None))
            .order_by(col(Remittance.id).desc())
            .limit(limit)
        ).all()
    )
