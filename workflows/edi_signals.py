"""Started by POST /api/v1/edi for a file holding more signals than RECLAIM_EDI_INLINE_SIGNALS: the
worker sends them after the API has answered 202 (id `edi-signals-<file_id>`, one per file)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts import activities as act
    from contracts.messages import SignalFileRequest, SignalFileResult

# A page of 500 signals takes about a second; 20 s without one means the worker is gone. The SDK
# sends heartbeats at most every 0.8 x this, so a worker killed outright resends at most the
# pages of the last 16 s when the retry resumes from the last cursor the server holds.
HEARTBEAT = timedelta(seconds=20)
# A 50 MiB 835 holds a few hundred thousand claims: minutes of signals, never an hour.
SIGNAL_TIMEOUT = timedelta(hours=1)
SIGNAL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1),
                           maximum_interval=timedelta(minutes=1), maximum_attempts=10)


@workflow.defn
class EdiSignalWorkflow:
    @workflow.run
    async def run(self, request: SignalFileRequest) -> SignalFileResult:
        # Should every attempt fail, the file stays unsignalled and the poller's outbox sweep
        # (reclaim/edi/outbox.py) sends it once this workflow has closed.
        return await workflow.execute_activity(
            act.signal_stored_file,
            request,
            start_to_close_timeout=SIGNAL_TIMEOUT,
            heartbeat_timeout=HEARTBEAT,
            retry_policy=SIGNAL_RETRY,
        )

