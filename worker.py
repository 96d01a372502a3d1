"""The worker: registers the workflows and the activities (built with their clients) on the
`claims` task queue."""

from __future__ import annotations

import asyncio
import logging
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)
from temporalio.worker import Worker

from activities.claims import ClaimActivities
from activities.edi import EdiActivities
from activities.work import WorkActivities
from contracts.messages import PollRequest
from reclaim.clearinghouse import Clearinghouse, clearinghouse_from_setting
from reclaim.codes import icd10
from reclaim.config import Settings
from reclaim.db import get_engine
from reclaim.denials.corrections import load_default_map
from reclaim.metrics import worker_runtime
from temporal_client import connect, start_orphans
from workflows.claim import ClaimWorkflow
from workflows.digest import DailyDigestWorkflow
from workflows.edi_signals import EdiSignalWorkflow
from workflows.poll import ClearinghousePollWorkflow
from workflows.work_item import WorkItemWorkflow

log = logging.getLogger("reclaim.worker")
POLL_SCHEDULE = "clearinghouse-poll"
POLL_EVERY = timedelta(minutes=1)
# Activities the worker takes at once. More than its database threads on purpose: the server
# hands a workflow's next activity straight back with the workflow task (eager execution) only
# while a slot is free; the activity then waits its turn for a database thread.
ACTIVITY_SLOTS = 256


def database_threads(settings: Settings) -> ThreadPoolExecutor:
    """The worker's database threads (RECLAIM_WORKER_DB_THREADS), where its sync activities run."""
    return ThreadPoolExecutor(max_workers=settings.resolved_worker_db_threads,
                              thread_name_prefix="reclaim-db")


def use_database_threads(settings: Settings) -> ThreadPoolExecutor:
    """The worker's database threads, made the running event loop's default executor too, so
    everything its async activities hand to asyncio.to_thread runs on them. Call in the
    worker's own process, then pass to build_worker."""
    executor = database_threads(settings)
    asyncio.get_running_loop().set_default_executor(executor)
    return executor


def build_worker(
    client: Client,
    settings: Settings,
    *,
    engine: Engine,
    clearinghouse: Clearinghouse,
    task_queue: str | None = None,
    executor: ThreadPoolExecutor | None = None,
    max_cached_workflows: int = 1000,
) -> Worker:
    # The ICD-10-CM code set takes about 2 s to load: at start-up, not in the first claim's
    # scrub (once per process; later workers reuse it).
    icd10.preload()
    load_default_map()  # a correction map with a mistake stops the start, naming its row
    claims = ClaimActivities(engine=engine, settings=settings, clearinghouse=clearinghouse,
                             client=client)
    work = WorkActivities(engine=engine, settings=settings)
    edi = EdiActivities(engine=engine, settings=settings, clearinghouse=clearinghouse,
                        client=client)
    if executor is None:
        executor = database_threads(settings)
    with warnings.catch_warnings():
        # "max_concurrent_activities is N but activity_executor's max_workers is only M": meant
        # (ACTIVITY_SLOTS).
        warnings.filterwarnings("ignore", message="Worker max_concurrent_activities")
        return Worker(
            client,
            task_queue=task_queue or settings.task_queue,
            workflows=[ClaimWorkflow, WorkItemWorkflow, ClearinghousePollWorkflow,
                       DailyDigestWorkflow, EdiSignalWorkflow],
            activities=[
                claims.load_claim_context,
                claims.record_status,
                claims.scrub_claim,
                claims.apply_correction,
                claims.submit_claim,
                claims.record_remittance,
                claims.apply_auto_fix,
                claims.write_off_needs_approval,
                claims.route_rejection,
                work.create_work_item,
                work.close_work_item,
                work.check_correction,
                work.write_appeal_letter,
                work.notify,
                work.send_daily_digests,
                edi.poll_clearinghouse,
                edi.signal_stored_file,
            ],
            activity_executor=executor,
            max_concurrent_activities=ACTIVITY_SLOTS,
            # Workflow activations hold the GIL: a few at a time beat 64 threads taking turns
            # (bench/throughput.py: +20% claims/s, -10% CPU per claim on 2 cores).
            max_concurrent_workflow_tasks=8,
            max_cached_workflows=max_cached_workflows,
        )


async def ensure_poll_schedule(client: Client, settings: Settings) -> None:
    """The inbox poller: a schedule whose runs poll for a minute each, back to back."""
    action = ScheduleActionStartWorkflow(
        ClearinghousePollWorkflow.run,
        PollRequest(run_seconds=POLL_EVERY.total_seconds(),
                    interval_seconds=settings.clearinghouse_poll_seconds),
        id="clearinghouse-poll-run",
        task_queue=settings.task_queue,
    )
    schedule = Schedule(
        action=action,
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=POLL_EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE),
    )
    try:
        await client.create_schedule(POLL_SCHEDULE, schedule, trigger_immediately=True)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(POLL_SCHEDULE).trigger(
            overlap=ScheduleOverlapPolicy.SKIP
        )


DIGEST_SCHEDULE = "daily-digest"


async def ensure_digest_schedule(client: Client, settings: Settings) -> None:
    """Every morning at RECLAIM_DIGEST_HOUR (UTC), each coder gets their open items."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            DailyDigestWorkflow.run, id="daily-digest-run", task_queue=settings.task_queue
        ),
        spec=ScheduleSpec(calendars=[ScheduleCalendarSpec(
            hour=[ScheduleRange(settings.digest_hour)], minute=[ScheduleRange(0)],
            second=[ScheduleRange(0)])]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(DIGEST_SCHEDULE, schedule)
    except ScheduleAlreadyRunningError:
        pass


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    client = await connect(settings, runtime=worker_runtime(settings))
    engine = get_engine(settings.resolved_database_url)
    clearinghouse = clearinghouse_from_setting(settings.clearinghouse,
                                               payer_url=settings.payer_url)
    worker = build_worker(client, settings, engine=engine, clearinghouse=clearinghouse,
                          executor=use_database_threads(settings))
    await ensure_poll_schedule(client, settings)
    await ensure_digest_schedule(client, settings)
    started = await start_orphans(engine=engine, client=client, settings=settings)
    if started:
        log.info("started workflows for stored claims that had none", extra={"count": started})
    log.info("worker running", extra={"task_queue": settings.task_queue})
    try:
        if stop is None:
            await worker.run()
            return
        async with worker:
            await stop.wait()
    finally:
        await clearinghouse.aclose()
