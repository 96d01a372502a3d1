"""Names both sides of a Temporal call must agree on: workflow ids, signals, queries, updates and
search attributes. Changing one breaks every claim in flight."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

# Search attributes (registered by `reclaim up` and deploy/temporal/search-attributes.sh).
CLAIM_STATUS = SearchAttributeKey.for_keyword("ClaimStatus")
PAYER_ID = SearchAttributeKey.for_keyword("PayerId")
DENIAL_ROUTE = SearchAttributeKey.for_keyword("DenialRoute")
ASSIGNED_TO = SearchAttributeKey.for_keyword("AssignedTo")

# ClaimWorkflow's messages.
EDI_EVENT_SIGNAL = "edi_event"
APPEAL_DECISION_SIGNAL = "appeal_decision"
STATUS_QUERY = "status"
# WorkItemWorkflow's update.
COMPLETE_UPDATE = "complete"

CLAIM_WORKFLOW_PREFIX = "claim-"
WORK_ITEM_WORKFLOW_PREFIX = "work-item-"
SIGNAL_WORKFLOW_PREFIX = "edi-signals-"


def claim_workflow_id(claim_id: int) -> str:
    return f"{CLAIM_WORKFLOW_PREFIX}{claim_id}"


def work_item_workflow_id(work_item_id: int) -> str:
    return f"{WORK_ITEM_WORKFLOW_PREFIX}{work_item_id}"


def signal_workflow_id(file_id: int) -> str:
    """The id of the EdiSignalWorkflow that sends a stored file's signals: one per file."""
    return f"{SIGNAL_WORKFLOW_PREFIX}{file_id}"
