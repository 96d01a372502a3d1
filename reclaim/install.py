"""One stack, one task queue: the install id kept in var/ and the check for strangers.

`reclaim up` names the embedded stack's task queue after this install (`claims-<id>`), so a
worker left running by another install (or by an earlier `up` whose children outlived it) that
reconnects to a Temporal on the same port polls a queue nobody feeds, and takes no claim.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

INSTALL_ID_FILE = "install-id"
TEMPORAL_STATE = "temporal.db"
LEGACY = "legacy"
_ID = re.compile(r"^(legacy|[a-z0-9]{8,32})$")


def install_id(data_dir: Path) -> str:
    """The id of the install whose data lives in `data_dir`: created once, then reused. A data
    dir whose Temporal state predates install ids gets the id `legacy`: its claims' workflows
    already wait on the plain queue, which `task_queue_for` keeps for it."""
    path = data_dir / INSTALL_ID_FILE
    if not path.exists() and (data_dir / TEMPORAL_STATE).exists():
        path.write_text(LEGACY + "\n")
    if path.exists():
        found = path.read_text().strip()
        if _ID.match(found):
            return found
        raise ValueError(f"{path} does not hold an install id (8-32 lowercase letters or "
                         f"digits): {found[:40]!r}; remove it to make a new one")
    data_dir.mkdir(parents=True, exist_ok=True)
    made = secrets.token_hex(6)
    path.write_text(made + "\n")
    return made


def task_queue_for(base: str, install: str) -> str:
    return base if install == LEGACY else f"{base}-{install}"


async def pollers(client: Client, task_queue: str) -> list[str]:
    """The identities (pid@host) polling `task_queue` for workflow or activity tasks."""
    found: list[str] = []
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        response = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=task_queue),
            task_queue_type=kind))
        found += [p.identity for p in response.pollers if p.identity not in found]
    return found
