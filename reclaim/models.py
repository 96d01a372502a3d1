"""Database tables: the projection that lists, dashboards and reports read.

Temporal is the system of record for each claim's process; these rows are written by activities
(upserts keyed so a retried activity writes nothing twice) and by EDI ingestion.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Numeric,
    Text,
    UniqueConstraint,
    event,
    func,
    literal_column,
)
from sqlmodel import Field, SQLModel

from contracts.enums import ClaimStatus, Queue, Route
from reclaim.db import EnumText


def utcnow() -> datetime:
    return datetime.now(UTC)


MONEY = Numeric(12, 2)
SEARCHED_COLUMNS = ("patient_last_name", "member_id", "payer_claim_control_number")


class Claim(SQLModel, table=True):
    __table_args__ = (
        Index("ix_claim_status_updated", "status", "updated_at"),
        Index("ix_claim_payer_status", "payer_id", "status"),
        # Pages and KPIs (reclaim/kpi/, bench/pages.py): the unfiltered claim list's order, and
        # covering indexes so the dashboard's aggregates never read the wide claim rows.
        Index("ix_claim_updated_id", "updated_at", "id"),
        Index("ix_claim_kpi", "status", "clean_first_pass", "denied_first_pass", "attempts",
              "service_date", "payer_id", "total_charge", "paid_amount",
              "patient_responsibility"),
        Index("ix_claim_service_kpi", "service_date", "denied_first_pass", "payer_id"),
        # The denial KPIs read the denial facts below through this, never the wide rows.
        Index("ix_claim_denial_kpi", "denied_at", "status", "closed_at", "overturned",
              "recovered_amount", "total_charge", "paid_amount", "patient_responsibility",
              "payer_id", "service_date"),
        # The search box (`?q=`): a prefix of the last name, member id or payer's claim number,
        # whatever its case, is a range over these (reclaim/claims/filter.py `search_condition`).
        *(Index(f"ix_claim_lower_{name}", func.lower(literal_column(name)))
          for name in SEARCHED_COLUMNS),
    )

    id: int | None = Field(default=None, primary_key=True)
    status: ClaimStatus = Field(default=ClaimStatus.coding, sa_type=EnumText(ClaimStatus, 32),
                                index=True)
    claim_type: str = Field(default="professional", max_length=16)
    payer_id: str = Field(max_length=80, index=True)
    patient_last_name: str = Field(max_length=60)
    patient_first_name: str = Field(max_length=35)
    member_id: str = Field(max_length=80, index=True)
    billing_npi: str = Field(max_length=15)
    service_date: date = Field(index=True)
    total_charge: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    paid_amount: Decimal = Field(default=Decimal("0"), sa_column=Column(MONEY, nullable=False))
    patient_responsibility: Decimal = Field(
        default=Decimal("0"), sa_column=Column(MONEY, nullable=False)
    )
    attempts: int = 0
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    # What the visit record says (place of service, referring provider): auto-fix reads it.
    encounter: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # True when the claim passed the scrubber the first time with no manual touch (KPI).
    clean_first_pass: bool | None = None
    denied_first_pass: bool | None = None
    payer_claim_control_number: str | None = Field(default=None, max_length=50)
    denial_route: Route | None = Field(default=None, sa_type=EnumText(Route, 16), index=True)
    assigned_to: str | None = Field(default=None, max_length=80, index=True)
    workflow_id: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    # The payer's terms in force when the claim was submitted (reclaim/payers.py): its
    # deadlines are computed from these, whatever the payer's record says later.
    payer_terms_version: int | None = None
    payer_terms: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Denial facts, recomputed from the denial and remittance rows by
    # reclaim.denials.facts.refresh_denial_facts whenever either changes (null: never denied):
    # when the claim was first denied, what remittances after that first denial paid, and
    # whether any of them paid (the denial was overturned).
    denied_at: datetime | None = None
    recovered_amount: Decimal | None = Field(default=None, sa_column=Column(MONEY))
    overturned: bool | None = None


class ClaimEvent(SQLModel, table=True):
    """The claim's timeline. `key` makes each write idempotent (a retried activity adds nothing)."""

    __table_args__ = (UniqueConstraint("claim_id", "key", name="uq_claimevent_key"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    key: str = Field(max_length=120)
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=40)
    status: ClaimStatus | None = Field(default=None, sa_type=EnumText(ClaimStatus, 32))
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class Submission(SQLModel, table=True):
    """One 837 sent for one claim attempt. Its id is the ISA13/GS06 control number."""

    __table_args__ = (UniqueConstraint("claim_id", "attempt", name="uq_submission_attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    attempt: int
    patient_control_number: str = Field(max_length=20, index=True)
    frequency_code: str = Field(default="1", max_length=1)
    original_reference: str | None = Field(default=None, max_length=50)
    transaction_type: str = Field(default="837P", max_length=5)
    x12: str = Field(default="", sa_column=Column(Text, nullable=False))
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="built", max_length=16)
    clearinghouse_ref: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class EdiFile(SQLModel, table=True):
    """Every X12 file received, stored raw whatever happens to it."""

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    type: str | None = Field(default=None, max_length=8)
    source: str = Field(default="api", max_length=40)
    filename: str | None = Field(default=None, max_length=255)
    size: int = 0
    raw: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="received", max_length=16)  # received|processed|failed
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    warnings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    parsed: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    matched: int = 0
    unmatched: int = 0
    signalled: bool = False
    received_at: datetime = Field(default_factory=utcnow, index=True)


class PayerResponse(SQLModel, table=True):
    """A 999 or 277CA answer about one claim attempt."""

    __table_args__ = (UniqueConstraint("edi_file_id", "position", name="uq_payerresponse_pos"),)

    id: int | None = Field(default=None, primary_key=True)
    edi_file_id: int = Field(foreign_key="edifile.id", index=True)
    position: int
    kind: str = Field(max_length=8)  # 999 | 277CA
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    attempt: int | None = None
    accepted: bool
    code: str | None = Field(default=None, max_length=40)
    message: str | None = Field(default=None, max_length=255)
    payer_claim_control_number: str | None = Field(default=None, max_length=50)
    received_at: datetime = Field(default_factory=utcnow)


class Remittance(SQLModel, table=True):
    """One CLP of an 835, matched to a claim or kept unmatched (never dropped)."""

    __table_args__ = (UniqueConstraint("edi_file_id", "position", name="uq_remittance_pos"),)

    id: int | None = Field(default=None, primary_key=True)
    edi_file_id: int = Field(foreign_key="edifile.id", index=True)
    position: int
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    attempt: int | None = None
    patient_control_number: str = Field(max_length=38, index=True)
    status_code: str = Field(max_length=4)
    charge: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    paid: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    patient_responsibility: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    payer_claim_control_number: str | None = Field(default=None, max_length=50)
    payment_date: date | None = None
    trace_number: str | None = Field(default=None, max_length=50)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    outcome: str | None = Field(default=None, max_length=24)
    received_at: datetime = Field(default_factory=utcnow, index=True)


class Denial(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("remittance_id", "level", "line_index", "carc", name="uq_denial"),
        Index("ix_denial_claim_first", "claim_id", "remittance_id", "created_at"),  # KPIs
        # Top denial reasons by payer and month: one ordered scan of this index.
        Index("ix_denial_reasons", "payer_id", "denied_month", "group", "carc", "claim_id",
              "amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    remittance_id: int = Field(foreign_key="remittance.id", index=True)
    attempt: int
    level: str = Field(max_length=8)  # claim | line
    line_index: int = -1
    procedure: str | None = Field(default=None, max_length=48)
    group: str = Field(max_length=2)
    carc: str = Field(max_length=8, index=True)
    rarcs: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    amount: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    route: Route | None = Field(default=None, sa_type=EnumText(Route, 16), index=True)
    route_reason: str | None = Field(default=None, max_length=255)
    rule_id: str | None = Field(default=None, max_length=40)
    payer_id: str = Field(max_length=80, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    denied_month: str = Field(default="", max_length=7)  # YYYY-MM of created_at in UTC
    resolved_at: datetime | None = None
    resolution: str | None = Field(default=None, max_length=24)


def month_of(moment: datetime) -> str:
    """YYYY-MM of a moment in UTC (a naive datetime is taken as UTC, as the database keeps it)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m")


@event.listens_for(Denial, "before_insert")
def _denial_month(_mapper: object, _connection: object, denial: Denial) -> None:
    denial.denied_month = month_of(denial.created_at)


class WorkItem(SQLModel, table=True):
    __table_args__ = (
        Index("ix_workitem_queue_status_due", "queue", "status", "due_at"),
        Index("ix_workitem_assignee_status", "assignee", "status"),
        # The queue's default order: internal SLA first (RECLAIM_WORK_ITEM_DUE_AFTER).
        Index("ix_workitem_status_sla", "status", "sla_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)  # idempotency: claim, attempt, reason
    claim_id: int = Field(foreign_key="claim.id", index=True)
    queue: Queue = Field(sa_type=EnumText(Queue, 16))
    kind: str = Field(max_length=32)  # correction | denial | follow_up | approval | deadline
    status: str = Field(default="open", max_length=16)  # open | done | cancelled
    title: str = Field(max_length=200)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    assignee: str | None = Field(default=None, max_length=80)
    due_at: datetime | None = None  # the payer's deadline or the item's window
    # Our own deadline for the person (RECLAIM_WORK_ITEM_DUE_AFTER of the queue), set at opening.
    sla_due_at: datetime | None = None
    # What the queue files it under: "CO-16/N290", "A7:33", a scrub rule (reclaim.work.queue).
    reason_code: str | None = Field(default=None, max_length=40)
    workflow_id: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow)
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    completed_at: datetime | None = None
    completed_by: str | None = Field(default=None, max_length=80)
    resolution: str | None = Field(default=None, max_length=24)
    note: str | None = Field(default=None, sa_column=Column(Text))


class MailMessage(SQLModel, table=True):
    """Outgoing mail (the outbox) — sent by an activity, retried until the server takes it."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)
    to: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    text: str = Field(sa_column=Column(Text, nullable=False))
    html: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(default="queued", max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class ReceivedMail(SQLModel, table=True):
    """What the embedded SMTP sink received (shown at /mail in embedded mode)."""

    id: int | None = Field(default=None, primary_key=True)
    mail_from: str = Field(max_length=255)
    to: str = Field(max_length=1000)
    subject: str = Field(default="", max_length=255)
    body: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, index=True)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    email: str | None = Field(default=None, max_length=255)
    role: str = Field(max_length=16)
    password_hash: str | None = Field(default=None, max_length=255)
    api_token_hash: str | None = Field(default=None, max_length=64, index=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class ClearinghouseCursor(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=80)
    position: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class DirectoryProvider(SQLModel, table=True):
    """The practice's provider directory: who renders under which billing NPI (written through
    reclaim/providers.py: the API, the managers' page, the CSV import and the demo data)."""

    npi: str = Field(primary_key=True, max_length=10)
    # An organisation has a name; a person a first and last name (either is enough).
    name: str | None = Field(default=None, max_length=60)
    first_name: str = Field(default="", max_length=35)
    last_name: str = Field(default="", max_length=60)
    billing_npi: str | None = Field(default=None, max_length=10, index=True)
    role: str = Field(default="rendering", max_length=16)
    taxonomy: str | None = Field(default=None, max_length=10)
    tax_id: str | None = Field(default=None, max_length=9)
    address: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    active_from: date | None = None
    active_to: date | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class PayerTermsVersion(SQLModel, table=True):
    """A payer's business terms as managers set them: every change is a new version (who, when,
    why); the newest version of a payer is in force (reclaim/payers.py)."""

    __table_args__ = (UniqueConstraint("payer_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    payer_id: str = Field(max_length=80, index=True)
    version: int
    created_at: datetime = Field(default_factory=utcnow)
    author: str = Field(max_length=80)
    note: str = Field(default="", max_length=500)
    terms: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class AuditEntry(SQLModel, table=True):
    """Append-only: rows are inserted, never updated or deleted by the application."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    username: str = Field(max_length=80, index=True)
    action: str = Field(max_length=40)
    claim_id: int | None = Field(default=None, index=True)
    detail: str = Field(default="", max_length=500)


class UserSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random id, only its SHA-256 digest is stored.
    Deleting the row (logout, password change, disabled user) ends the session."""

    id_digest: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)


class ClaimImport(SQLModel, table=True):
    """An 837 a practice's system exported, brought in as claims (reclaim/claims/intake.py): the
    file, and what became of it (`summary`: accepted, refused, duplicates, warnings)."""

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    file_type: str | None = Field(default=None, max_length=8)
    submitter: str | None = Field(default=None, max_length=80)
    filename: str | None = Field(default=None, max_length=255)
    size: int = 0
    raw: str = Field(sa_column=Column(Text, nullable=False))
    username: str | None = Field(default=None, max_length=80)
    accepted: int = 0
    refused: int = 0
    duplicates: int = 0
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    received_at: datetime = Field(default_factory=utcnow, index=True)


class ImportedClaim(SQLModel, table=True):
    """One claim an 837 import created, keyed by whose it is: the same patient control number
    from the same submitter is the same claim, however often the file comes."""

    __table_args__ = (UniqueConstraint("submitter", "patient_control_number",
                                       name="uq_importedclaim_submitter_pcn"),)

    id: int | None = Field(default=None, primary_key=True)
    submitter: str = Field(max_length=80)
    patient_control_number: str = Field(max_length=38)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    import_id: int = Field(foreign_key="claimimport.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
