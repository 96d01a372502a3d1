"""The poller's sweep: a payer answer stored but never signalled still moves its claim."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from activities.edi import EdiActivities
from reclaim.db import session_scope
from reclaim.edi.ingest import ingest_file
from reclaim.edi.outbox import stale_answers, unsignalled_files
from tests.support import claim_doc
from tests.workflows.conftest import Stack


def store_without_signalling(stack: Stack) -> int:
    """What a crash between storing the payer's files and signalling their claims leaves."""
    stack.payer.release()
    files = stack.payer.service.store.released_files(after=stack.pump.cursor, limit=500)
    for f in files:
        with session_scope(stack.engine) as session:
            result = ingest_file(session=session, raw=f.content, source="test")
        assert result.error is None
        assert result.signals
        stack.pump.cursor = f.seq
    return len(files)


def sweep(stack: Stack, grace: timedelta) -> list[tuple[int, str]]:
    with session_scope(stack.engine) as session:
        return [(s.claim_id, s.event.kind) for s in stale_answers(session=session, grace=grace)]


async def test_an_answer_stored_but_never_signalled_is_signalled_by_the_sweep(
    stack: Stack,
) -> None:
    waiting = await stack.post(claim_doc())
    await stack.wait_status(waiting, "submitted")
    # Only its 999 so far: the claim is waiting on the payer, not stuck.
    assert sweep(stack, timedelta(0)) == []
    assert store_without_signalling(stack) >= 2  # the 277CA and the 835
    await stack.wait_status(waiting, "submitted")
    # Young answers are left to the signal that is surely on its way.
    assert sweep(stack, timedelta(hours=1)) == []
    assert sorted(sweep(stack, timedelta(0))) == [(waiting, "277CA"), (waiting, "835"),
                                                  (waiting, "999")]

    activities = EdiActivities(
        engine=stack.engine, client=stack.client, clearinghouse=stack.payer,
        settings=stack.settings.model_copy(update={"reconcile_grace": timedelta(0)}),
    )
    assert await activities.resignal_stale() == 1
    await stack.wait_status(waiting, "paid")
    assert sweep(stack, timedelta(0)) == []
    # The sweep sends a claim's answers in order, and the workflow acts on each once.
    story = stack.story(waiting)
    assert story.count("277CA: accepted") == 1, story
    assert story.index("277CA: accepted") < story.index("paid:"), story
    assert await activities.resignal_stale() == 0


async def test_a_file_never_marked_signalled_is_signalled_by_the_outbox_sweep(
    stack: Stack,
) -> None:
    claim_id = await stack.post(claim_doc())
    await stack.wait_status(claim_id, "submitted")
    store_without_signalling(stack)
    with session_scope(stack.engine) as session:
        assert len(unsignalled_files(session=session, grace=timedelta(0))) >= 2
        assert unsignalled_files(session=session, grace=timedelta(hours=1)) == []
    activities = EdiActivities(
        engine=stack.engine, client=stack.client, clearinghouse=stack.payer,
        settings=stack.settings.model_copy(update={"reconcile_grace": timedelta(0)}),
    )
    assert await activities.drain_outbox() >= 2
    await stack.wait_status(claim_id, "paid")
    with session_scope(stack.engine) as session:
        assert unsignalled_files(session=session, grace=timedelta(0)) == []
    assert await activities.drain_outbox() == 0


async def test_a_claim_that_does_not_move_is_signalled_three_times_then_reported(
    stack: Stack, caplog: pytest.LogCaptureFixture,
) -> None:
    stuck = await stack.post(claim_doc())
    await stack.wait_status(stuck, "submitted")
    # Its workflow is gone (an operator terminated it): no signal can move the claim.
    await stack.client.get_workflow_handle(f"claim-{stuck}").terminate("operator")
    store_without_signalling(stack)
    activities = EdiActivities(
        engine=stack.engine, client=stack.client, clearinghouse=stack.payer,
        settings=stack.settings.model_copy(update={"reconcile_grace": timedelta(0)}),
    )
    with caplog.at_level(logging.WARNING, logger="activities.edi"):
        assert [await activities.resignal_stale() for _ in range(4)] == [1, 1, 1, 0]
    reported = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(reported) == 1
    assert reported[0].claim_id == stuck  # type: ignore[attr-defined]
    # The sweep itself still finds it: another worker (or a restart) tries again.
    assert {claim for claim, _ in sweep(stack, timedelta(0))} == {stuck}
