"""Replay the saved histories (tests/histories, written by record_histories.py) with today's
workflow code: a change that would break a claim already in flight fails here, before it
ships. Such a change must keep the old path behind `workflow.patched`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from reclaim.config import Settings
from temporal_client import data_converter
from tests.replay.changed import ClaimWorkflowWithAnExtraFirstStep
from workflows.claim import ClaimWorkflow
from workflows.poll import ClearinghousePollWorkflow
from workflows.work_item import WorkItemWorkflow

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
WORKFLOWS = [ClaimWorkflow, WorkItemWorkflow, ClearinghousePollWorkflow]
EXPECTED = {  # file -> workflow type
    "claim_happy_path": "ClaimWorkflow",
    "claim_denial_coder_corrected": "ClaimWorkflow",
    "claim_scrub_correction": "ClaimWorkflow",
    "claim_rejection_front_desk": "ClaimWorkflow",
    "work_item_denial_completed": "WorkItemWorkflow",
    "work_item_reminded_escalated": "WorkItemWorkflow",
}


def load(name: str) -> WorkflowHistory:
    path = HISTORIES / f"{name}.json"
    return WorkflowHistory.from_json(name, path.read_text())


def replayer(*workflows: type) -> Replayer:
    return Replayer(workflows=list(workflows or WORKFLOWS),
                    data_converter=data_converter(Settings(payload_key="test-payload-key")))


def workflow_type(history: WorkflowHistory) -> str:
    started = history.events[0].workflow_execution_started_event_attributes
    return str(started.workflow_type.name)


def test_every_saved_history_is_expected() -> None:
    assert {p.stem for p in HISTORIES.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_history_replays_with_todays_code(name: str) -> None:
    history = load(name)
    assert workflow_type(history) == EXPECTED[name]
    # Completed histories: the replay runs the workflow to its end, every command checked.
    assert history.events[-1].HasField("workflow_execution_completed_event_attributes")
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


def claim_histories() -> Iterator[str]:
    return (name for name, kind in EXPECTED.items() if kind == "ClaimWorkflow")


@pytest.mark.parametrize("name", sorted(claim_histories()))
async def test_an_incompatible_change_fails_the_replay(name: str) -> None:
    with pytest.raises(NondeterminismError):
        await replayer(ClaimWorkflowWithAnExtraFirstStep, WorkItemWorkflow).replay_workflow(
            load(name))
