"""One pydantic model in, one out, for every workflow, activity, update and signal.

Payloads carry ids and codes, not the claim document: activities load PHI from the database, and
what does travel (corrections) is encrypted by the payload codec.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.enums import AutoFixKind, ClaimStatus, Queue, Route


class ClaimContext(BaseModel):
    """Everything the claim's timers need, read once by an activity so replays never re-read."""

    claim_id: int
    payer_id: str
    max_attempts: int = 3
    ack_deadline: timedelta
    status_deadline: timedelta
    adjudication_deadline: timedelta
    remind_after: timedelta
    escalate_after: timedelta
    timely_filing_deadline: datetime
    appeal_window: timedelta
    corrected_claim_window: timedelta
    deadline_warning_lead: timedelta


class ClaimInput(BaseModel):
    claim_id: int
    search_attributes: bool = True
    # Carried across continue-as-new.
    attempt: int = 0
    frequency_code: str = "1"
    original_reference: str | None = None
    status: ClaimStatus = ClaimStatus.coding
    event_seq: int = 0
    seen_events: list[str] = Field(default_factory=list)
    max_attempts: int | None = None


class ClaimResult(BaseModel):
    claim_id: int
    status: ClaimStatus
    attempts: int
    paid: Decimal = Decimal("0")


class StatusChange(BaseModel):
    claim_id: int
    key: str
    status: ClaimStatus | None = None
    kind: str = "status"
    message: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class Finding(BaseModel):
    """One problem the scrubber found on a claim. `field` is a path into the claim document
    (`lines[0].modifiers`, `diagnoses[0]`, `billing_provider.npi`); errors hold the claim,
    warnings are recorded only."""

    model_config = ConfigDict(frozen=True)

    rule: str
    severity: Literal["error", "warning"] = "error"
    field: str
    message: str


class ScrubOutcome(BaseModel):
    errors: list[Finding] = Field(default_factory=list)
    warnings: list[Finding] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ScrubRequest(BaseModel):
    claim_id: int
    first_pass: bool = False


class CorrectionCheck(BaseModel):
    claim_id: int
    corrections: dict[str, Any]


class ApplyCorrection(BaseModel):
    claim_id: int
    corrections: dict[str, Any]
    key: str
    user: str | None = None
    note: str | None = None


class SubmitRequest(BaseModel):
    claim_id: int
    attempt: int
    frequency_code: str = "1"
    original_reference: str | None = None


class SubmissionRef(BaseModel):
    submission_id: int
    patient_control_number: str
    frequency_code: str


class EdiEvent(BaseModel):
    """A payer answer about one claim attempt, signalled by EDI ingestion."""

    file_id: int
    position: int
    kind: Literal["999", "277CA", "835"]
    attempt: int
    accepted: bool = True
    code: str | None = None
    message: str | None = None
    remittance_id: int | None = None
    payer_claim_control_number: str | None = None

    @property
    def key(self) -> str:
        return f"{self.file_id}:{self.position}"


class RemittanceRequest(BaseModel):
    claim_id: int
    attempt: int
    remittance_id: int


class RoutedDenial(BaseModel):
    denial_id: int
    group: str
    carc: str
    rarcs: list[str] = Field(default_factory=list)
    amount: Decimal
    level: str = "claim"
    route: Route
    reason: str = ""
    auto_fix_kind: AutoFixKind | None = None
    plain: str = ""


class RemittanceOutcome(BaseModel):
    outcome: Literal["paid", "partially_paid", "patient_responsibility", "denied", "reversed"]
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_control_number: str | None = None
    denials: list[RoutedDenial] = Field(default_factory=list)
    route: Route | None = None
    denied_amount: Decimal = Decimal("0")
    # MA130: the resubmission must be a new original claim, not a replacement.
    new_original: bool = False
    # The payer's attempt limit is reached: a manager decides, nothing is resubmitted by itself.
    escalate: bool = False


class AutoFixRequest(BaseModel):
    claim_id: int
    attempt: int
    denial_ids: list[int]


class AutoFixOutcome(BaseModel):
    fixed: bool
    new_original: bool = False
    changes: list[str] = Field(default_factory=list)
    reason: str = ""
    # Not fixed: the fix that could not be made (None: no fix applied), and who corrects the
    # claim instead (reclaim.denials.autofix.corrector_of).
    kind: AutoFixKind | None = None
    queue: Queue | None = None

    @model_validator(mode="before")
    @classmethod
    def _queue_of_recorded_outcomes(cls, data: Any) -> Any:
        # Outcomes recorded in histories before `queue` existed named it only in their reason.
        if isinstance(data, dict) and not data.get("fixed") and data.get("queue") is None:
            reason = str(data.get("reason", ""))
            front = "provider" in reason or "place" in reason
            data = {**data, "queue": Queue.front_desk if front else Queue.coder}
        return data


class RejectionRequest(BaseModel):
    """A 277CA (or 999) rejection of one attempt: who can fix it (the correction map)."""

    claim_id: int
    attempt: int
    code: str | None = None  # 277CA `category:status[:entity]`, e.g. A7:33 or A7:562:85
    message: str | None = None


class RejectionRoute(BaseModel):
    queue: Queue
    rule_id: str | None = None  # the correction map's row; None: its default
    fields: list[str] = Field(default_factory=list)
    hint: str = ""


class WorkItemSpec(BaseModel):
    claim_id: int
    key: str
    queue: Queue
    kind: str
    title: str
    detail: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    due_in: timedelta


class WorkItemRef(BaseModel):
    work_item_id: int
    workflow_id: str
    assignee: str | None = None
    due_at: datetime | None = None


class WorkItemInput(BaseModel):
    work_item_id: int
    claim_id: int
    queue: Queue
    kind: str
    allowed_actions: list[str]
    remind_after: timedelta
    escalate_after: timedelta
    requires_clean_scrub: bool = False


class CompleteRequest(BaseModel):
    action: str
    note: str | None = None
    corrections: dict[str, Any] | None = None
    payer_id: str | None = None
    user: str | None = None
    role: str | None = None


class WorkItemResult(BaseModel):
    work_item_id: int
    action: str
    note: str | None = None
    corrections: dict[str, Any] | None = None
    payer_id: str | None = None
    user: str | None = None


NoticeKind = Literal["new_work_item", "reminder", "escalation"]


class NoticeRequest(BaseModel):
    work_item_id: int
    kind: NoticeKind


class WorkItemClose(BaseModel):
    work_item_id: int
    status: Literal["done", "cancelled"]
    result: WorkItemResult | None = None


class AppealDecision(BaseModel):
    decision: Literal["overturned", "upheld"]
    note: str | None = None
    user: str | None = None


class LetterRequest(BaseModel):
    claim_id: int
    work_item_id: int
    denial_ids: list[int]


class DigestRequest(BaseModel):
    day: date


class PollRequest(BaseModel):
    run_seconds: float = 55.0
    interval_seconds: float = 1.0


class PollResult(BaseModel):
    files: int
    failed: int
    resignalled: int = 0


class SignalFileRequest(BaseModel):
    file_id: int


class SignalFileResult(BaseModel):
    file_id: int
    # signalled: sent now; already_signalled: the file was marked signalled before (a repeat);
    # nothing_to_signal: a file that was never read (no such file fails, non-retryable).
    outcome: Literal["signalled", "already_signalled", "nothing_to_signal"]
