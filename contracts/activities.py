"""The activities the workflows call, as stubs: their names and their one model in and out.

Workflows call these, never the implementations (activities/), so a workflow imports nothing
that does I/O; the worker registers the implementations under the same names (a test holds
each stub to its implementation's name and types). Renaming one breaks every history that ran it.
"""

from __future__ import annotations

from temporalio import activity

from contracts.messages import (
    ApplyCorrection,
    AutoFixOutcome,
    AutoFixRequest,
    ClaimContext,
    CorrectionCheck,
    DigestRequest,
    LetterRequest,
    NoticeRequest,
    PollRequest,
    PollResult,
    RejectionRequest,
    RejectionRoute,
    RemittanceOutcome,
    RemittanceRequest,
    ScrubOutcome,
    ScrubRequest,
    SignalFileRequest,
    SignalFileResult,
    StatusChange,
    SubmissionRef,
    SubmitRequest,
    WorkItemClose,
    WorkItemRef,
    WorkItemSpec,
)


class Stub(NotImplementedError):
    """Raised if a stub is ever run: the worker registered no implementation under its name."""


# ------------------------------------------------------------------ the claim (ClaimActivities)


@activity.defn(name="load_claim_context")
def load_claim_context(claim_id: int) -> ClaimContext:
    raise Stub(claim_id)


@activity.defn(name="record_status")
def record_status(change: StatusChange) -> None:
    raise Stub(change)


@activity.defn(name="scrub_claim")
def scrub_claim(request: ScrubRequest) -> ScrubOutcome:
    raise Stub(request)


@activity.defn(name="apply_correction")
def apply_correction(request: ApplyCorrection) -> None:
    raise Stub(request)


@activity.defn(name="submit_claim")
def submit_claim(request: SubmitRequest) -> SubmissionRef:
    raise Stub(request)


@activity.defn(name="record_remittance")
def record_remittance(request: RemittanceRequest) -> RemittanceOutcome:
    raise Stub(request)


@activity.defn(name="apply_auto_fix")
def apply_auto_fix(request: AutoFixRequest) -> AutoFixOutcome:
    raise Stub(request)


@activity.defn(name="write_off_needs_approval")
def write_off_needs_approval(claim_id: int) -> bool:
    raise Stub(claim_id)


@activity.defn(name="route_rejection")
def route_rejection(request: RejectionRequest) -> RejectionRoute:
    raise Stub(request)


# ------------------------------------------------------------------ people (WorkActivities)


@activity.defn(name="create_work_item")
def create_work_item(spec: WorkItemSpec) -> WorkItemRef:
    raise Stub(spec)


@activity.defn(name="close_work_item")
def close_work_item(close: WorkItemClose) -> None:
    raise Stub(close)


@activity.defn(name="check_correction")
def check_correction(check: CorrectionCheck) -> ScrubOutcome:
    raise Stub(check)


@activity.defn(name="write_appeal_letter")
def write_appeal_letter(request: LetterRequest) -> None:
    raise Stub(request)


@activity.defn(name="send_daily_digests")
def send_daily_digests(request: DigestRequest) -> int:
    raise Stub(request)


@activity.defn(name="notify")
def notify(request: NoticeRequest) -> None:
    raise Stub(request)


# ------------------------------------------------------------------ payer files (EdiActivities)


@activity.defn(name="poll_clearinghouse")
def poll_clearinghouse(request: PollRequest) -> PollResult:
    raise Stub(request)


@activity.defn(name="signal_stored_file")
def signal_stored_file(request: SignalFileRequest) -> SignalFileResult:
    raise Stub(request)
