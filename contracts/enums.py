"""The claim's statuses, the people's queues, the denial routes, and the status groups (defined
here once; lists, sweeps, the scrubber and the dashboard read them)."""

from __future__ import annotations

from enum import StrEnum


class ClaimStatus(StrEnum):
    coding = "coding"
    scrubbing = "scrubbing"
    needs_correction = "needs_correction"
    submitted = "submitted"
    accepted = "accepted"
    rejected = "rejected"
    denied = "denied"
    appealing = "appealing"
    resubmitted = "resubmitted"
    paid = "paid"
    partially_paid = "partially_paid"
    patient_responsibility = "patient_responsibility"
    written_off = "written_off"
    voided = "voided"


class Queue(StrEnum):
    """Who works an item: each queue is a role's (see reclaim.work.items.QUEUE_ROLE)."""

    coder = "coder"
    front_desk = "front_desk"
    appeal = "appeal"
    manager = "manager"


class Route(StrEnum):
    """Where a denial goes (reclaim/denials/routing_table.toml)."""

    auto_fix = "auto_fix"
    coder = "coder"
    front_desk = "front_desk"
    appeal = "appeal"
    write_off = "write_off"
    patient = "patient"
    close = "close"


class AutoFixKind(StrEnum):
    """The fixes Reclaim makes by itself, each needing its data on file."""

    rendering_provider = "rendering_provider"
    place_of_service = "place_of_service"
    referring_provider = "referring_provider"
    ordering_provider = "ordering_provider"
    modifier = "modifier"


S = ClaimStatus

# The claim's story is over: nothing moves it again.
FINAL_STATUSES: frozenset[ClaimStatus] = frozenset(
    {S.paid, S.partially_paid, S.patient_responsibility, S.written_off, S.voided}
)
OPEN_STATUSES: tuple[ClaimStatus, ...] = tuple(s for s in ClaimStatus if s not in FINAL_STATUSES)
# Not yet filed with the payer (the timely-filing clock still matters).
UNFILED_STATUSES: frozenset[ClaimStatus] = frozenset(
    {S.coding, S.scrubbing, S.needs_correction, S.rejected}
)
# Sent and waiting for the 999/277CA; then for the 835 too. A rejection moves either to
# `rejected`; an accepted 277CA moves `submitted` to `accepted`.
AWAITING_ACK: tuple[ClaimStatus, ...] = (S.submitted, S.resubmitted)
AWAITING_PAYER: tuple[ClaimStatus, ...] = (*AWAITING_ACK, S.accepted)
# A claim an 835 may still answer (matched by member and lines when its PCN is unknown).
AWAITING_REMITTANCE: tuple[ClaimStatus, ...] = (*AWAITING_PAYER, S.appealing, S.denied)
# Sent to the payer at least once and not voided or written off: a new claim for the same visit
# is a duplicate of these.
SUBMITTED_STATUSES: tuple[ClaimStatus, ...] = (
    S.submitted, S.accepted, S.resubmitted, S.paid, S.partially_paid, S.denied, S.appealing,
    S.patient_responsibility,
)
# Closed with the payer's money: the first-pass resolution rate counts these.
RESOLVED_PAID: tuple[ClaimStatus, ...] = (S.paid, S.partially_paid, S.patient_responsibility)

# What a person may do with an item of each queue.
QUEUE_ACTIONS: dict[Queue, tuple[str, ...]] = {
    Queue.coder: ("resubmit",),
    Queue.front_desk: ("resubmit", "redirect", "write_off"),
    Queue.appeal: ("appeal_sent", "write_off"),
    Queue.manager: ("approve", "reject"),
}
# Queues whose items correct the claim (their completion is scrubbed before it is accepted).
CORRECTING_QUEUES: tuple[Queue, ...] = (Queue.coder, Queue.front_desk)
