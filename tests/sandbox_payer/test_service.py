"""The payer over HTTP (httpx ASGI transport): 999 at once, idempotent resubmission, batched 277CA
and 835 files after the delays, a restart that keeps pending outputs, /submissions."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reclaim.sandbox_payer.app import create_payer_app
from reclaim.sandbox_payer.config import PayerConfig
from reclaim.sandbox_payer.service import PayerService
from reclaim.x12.models import ClaimPayment
from reclaim.x12.read_277ca import read_277ca
from reclaim.x12.read_835 import read_835
from reclaim.x12.read_999 import read_999
from reclaim.x12.validate import validate_x12

from .factories import claim837, file837

X12 = {"Content-Type": "application/edi-x12"}


@asynccontextmanager
async def running(
    config: PayerConfig, *, lifespan: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on a payer app; with `lifespan` the background release task runs too."""
    app = create_payer_app(config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://payer") as client:
        if lifespan:
            async with app.router.lifespan_context(app):
                yield client
        else:
            client.app = app  # type: ignore[attr-defined]
            yield client
            service(app).close()


def service(app: FastAPI) -> PayerService:
    return app.state.service  # type: ignore[no-any-return]


def config(tmp_path: Path, *, ack: float = 0, era: float = 0) -> PayerConfig:
    return PayerConfig(data_dir=tmp_path, ack_delay=ack, era_delay=era, seed=3, tick=0.02)


async def wait_for(
    client: httpx.AsyncClient, done: Callable[[list[dict[str, Any]]], bool], *, within: float = 5
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within
    while True:
        files = (await client.get("/files")).json()["files"]
        if done(files) or time.monotonic() > deadline:
            return files
        await asyncio.sleep(0.02)


MIXED = file837(
    [
        claim837("PCN1"),
        claim837("PCN2", member_id="TEST-CO-16-N290"),
        claim837("PCN3", member_id="TEST-REJECT-21"),
        claim837("PCN4", member_id="TEST-PR-1"),
    ]
)


async def test_837_is_answered_with_a_valid_999_and_files_follow(tmp_path: Path) -> None:
    async with running(config(tmp_path)) as client:
        response = await client.post("/837", content=MIXED, headers=X12)
        assert response.status_code == 200
        body = response.json()
        assert (body["accepted"], body["group_status"], body["claims"]) == (True, "A", 4)
        assert body["accepted_claims"] == 3
        assert validate_x12(body["ack"]) == []
        ack = read_999(body["ack"])[0]
        assert [t.status for t in ack.transactions] == ["A"]

        files = await wait_for(client, lambda f: len(f) >= 2)
    assert [f["type"] for f in files] == ["277CA", "835"]
    for file in files:
        assert validate_x12(file["content"]) == [], file["name"]
    statuses = {c.patient_control_number: c for c in read_277ca(files[0]["content"])[0].claims}
    assert {pcn: s.action for pcn, s in statuses.items()} == {
        "PCN1": "accepted",
        "PCN2": "accepted",
        "PCN3": "rejected",
        "PCN4": "accepted",
    }
    assert (statuses["PCN3"].status_category, statuses["PCN3"].status_code) == ("A7", "21")
    remit = read_835(files[1]["content"])[0]
    by_pcn = {c.patient_control_number: c for c in remit.claims}
    assert set(by_pcn) == {"PCN1", "PCN2", "PCN4"}
    assert (by_pcn["PCN1"].status_code, str(by_pcn["PCN1"].paid)) == ("1", "144")
    assert by_pcn["PCN2"].status_code == "4"
    assert by_pcn["PCN4"].patient_responsibility == 162
    assert remit.payment.amount == by_pcn["PCN1"].paid
    assert by_pcn["PCN1"].payer_claim_control_number == statuses["PCN1"].payer_claim_control_number


async def test_same_bytes_twice_get_the_same_answer_and_record_nothing(tmp_path: Path) -> None:
    async with running(config(tmp_path, ack=60, era=60)) as client:
        first = await client.post("/837", content=MIXED, headers=X12)
        second = await client.post("/837", content=MIXED.encode(), headers={})
        assert second.status_code == 200
        assert second.json() == first.json()
        submissions = (await client.get("/submissions")).json()
        assert [s["patient_control_number"] for s in submissions] == [
            "PCN1",
            "PCN2",
            "PCN3",
            "PCN4",
        ]
        assert (await client.get("/healthz")).json()["pending"] == 7  # 4 statuses + 3 payments


async def test_submissions_list_each_claim_once_per_distinct_file(tmp_path: Path) -> None:
    async with running(config(tmp_path, ack=60, era=60)) as client:
        await client.post("/837", content=file837([claim837("A1"), claim837("A2")]))
        await client.post("/837", content=file837([claim837("A1")], number=102))
        await client.post("/837", content=file837([claim837("A1")], number=102))
        everything = (await client.get("/submissions")).json()
        a1 = (await client.get("/submissions", params={"pcn": "A1"})).json()
    assert len(everything) == 3
    assert len(a1) == 2
    assert len({s["file_id"] for s in a1}) == 2
    assert len({s["payer_claim_control_number"] for s in a1}) == 2
    row = a1[0]
    assert set(row) >= {
        "patient_control_number",
        "frequency_code",
        "original_claim_number",
        "payer_id",
        "member_id",
        "received_at",
        "file_id",
        "payer_claim_control_number",
    }
    assert (row["frequency_code"], row["payer_id"], row["status"]) == ("1", "SANDBOX", "accepted")


def _paid_claims(files: list[dict[str, Any]]) -> list[ClaimPayment]:
    """Every 835 claim in release order (fast mode may batch both into one file)."""
    remits = [read_835(f["content"])[0] for f in files if f["type"] == "835"]
    return [claim for remit in remits for claim in remit.claims]


async def test_denied_claim_then_its_replacement_is_paid(tmp_path: Path) -> None:
    async with running(config(tmp_path)) as client:
        await client.post("/837", content=file837([claim837("R1", member_id="TEST-CO-50")]))
        (original,) = (await client.get("/submissions", params={"pcn": "R1"})).json()
        replacement = claim837(
            "R1",
            member_id="TEST-CO-50",
            frequency_code="7",
            original=original["payer_claim_control_number"],
        )
        answer = await client.post("/837", content=file837([replacement], number=102))
        assert answer.json()["accepted"] is True
        files = await wait_for(client, lambda f: len(_paid_claims(f)) >= 2)
        rows = (await client.get("/submissions", params={"pcn": "R1"})).json()
    denied, replaced = _paid_claims(files)
    assert (denied.status_code, denied.paid) == ("4", 0)
    assert (replaced.status_code, replaced.paid, replaced.frequency_code) == ("1", 144, "7")
    assert rows[1]["original_claim_number"] == original["payer_claim_control_number"]


async def test_outputs_wait_for_their_delays(tmp_path: Path) -> None:
    async with running(config(tmp_path, ack=0.4, era=1.0)) as client:
        posted = time.monotonic()
        await client.post("/837", content=MIXED)
        assert (await client.get("/files")).json() == {"files": [], "last_seq": 0}
        files = await wait_for(client, lambda f: len(f) >= 1)
        assert time.monotonic() - posted >= 0.4
        if time.monotonic() - posted < 0.9:
            assert [f["type"] for f in files] == ["277CA"]
        files = await wait_for(client, lambda f: len(f) >= 2)
        assert time.monotonic() - posted >= 1.0
        assert [f["type"] for f in files] == ["277CA", "835"]
        page = (await client.get("/files", params={"after": files[0]["seq"]})).json()
        assert [f["seq"] for f in page["files"]] == [files[1]["seq"]]
        assert page["last_seq"] == files[1]["seq"]


async def test_due_outputs_of_many_files_travel_in_one_277ca_and_one_835(tmp_path: Path) -> None:
    async with running(config(tmp_path), lifespan=False) as client:
        for n in range(5):
            claims = [claim837(f"B{n}-{k}") for k in range(3)]
            await client.post("/837", content=file837(claims, number=200 + n))
        seqs = service(client.app).release_due()  # type: ignore[attr-defined]
        files = (await client.get("/files")).json()["files"]
    assert len(seqs) == 2
    assert [f["type"] for f in files] == ["277CA", "835"]
    remit = read_835(files[1]["content"])[0]
    assert len(remit.claims) == 15
    assert remit.payment.amount == 15 * 144
    assert validate_x12(files[1]["content"]) == []
    assert len(read_277ca(files[0]["content"])[0].claims) == 15


async def test_restarted_payer_still_releases_pending_outputs(tmp_path: Path) -> None:
    settings = config(tmp_path, ack=0.3, era=0.3)
    async with running(settings) as client:
        await client.post("/837", content=MIXED)
        assert (await client.get("/files")).json()["files"] == []
    async with running(settings) as client:
        files = await wait_for(client, lambda f: len(f) >= 2)
        assert len((await client.get("/submissions")).json()) == 4
        again = await client.post("/837", content=MIXED)
        assert again.json()["accepted_claims"] == 3
        assert len((await client.get("/submissions")).json()) == 4
    assert [f["type"] for f in files] == ["277CA", "835"]
    assert all(validate_x12(f["content"]) == [] for f in files)


def _unbalanced(text: str) -> str:
    return text.replace("CLM*BAD1*162*", "CLM*BAD1*999*")


def _without_original(text: str) -> str:
    """A replacement whose REF*F8 was lost on the way; SE01 counts one segment less."""
    count = int(re.search(r"~\s*SE\*(\d+)\*", text).group(1))  # type: ignore[union-attr]
    text = re.sub(r"REF\*F8\*[^~]*~\s*", "", text)
    return re.sub(r"~(\s*)SE\*\d+\*", f"~\\g<1>SE*{count - 1}*", text)


@pytest.mark.parametrize(
    ("text", "segment", "element"),
    [
        (_unbalanced(file837([claim837("BAD1"), claim837("OK1")])), "CLM", "2"),
        (
            _without_original(file837([claim837("BAD2", frequency_code="7", original="X9")])),
            "REF",
            None,
        ),
    ],
)
async def test_claim_failing_basic_checks_gets_a_rejecting_999(
    tmp_path: Path, text: str, segment: str, element: str | None
) -> None:
    async with running(config(tmp_path)) as client:
        body = (await client.post("/837", content=text)).json()
        await asyncio.sleep(0.1)
        files = (await client.get("/files")).json()["files"]
        rows = (await client.get("/submissions")).json()
    assert (body["accepted"], body["group_status"], body["accepted_claims"]) == (False, "R", 0)
    assert validate_x12(body["ack"]) == []
    (transaction,) = read_999(body["ack"])[0].transactions
    assert transaction.status == "R"
    assert transaction.errors[0].segment_id == segment
    assert "IK3*" + segment in body["ack"]
    if element:
        assert "IK4*" + element in body["ack"]
    assert files == []
    assert {r["status"] for r in rows} == {"rejected_999"}
    assert all(r["payer_claim_control_number"] is None for r in rows)


@pytest.mark.parametrize(
    "body",
    [
        "NOT X12 AT ALL",
        "ISA*00*          *00*          *ZZ*RECLAIM        *ZZ*SANDBOXCH      "
        "*260320*0930*^*00501*000000101*0*P*:~GS*HC*X~",
    ],
)
async def test_unreadable_837_is_a_400_saying_where(tmp_path: Path, body: str) -> None:
    async with running(config(tmp_path)) as client:
        response = await client.post("/837", content=body)
        assert (await client.get("/submissions")).json() == []
    assert response.status_code == 400
    assert set(response.json()) == {"error", "segment_index", "segment_id"}
    assert response.json()["error"]


async def test_empty_body_is_a_400(tmp_path: Path) -> None:
    async with running(config(tmp_path)) as client:
        response = await client.post("/837", content=b"")
    assert response.status_code == 400


async def test_healthz(tmp_path: Path) -> None:
    async with running(config(tmp_path, ack=2, era=5)) as client:
        health = (await client.get("/healthz")).json()
    assert health == {"status": "ok", "pending": 0, "ack_delay": 2.0, "era_delay": 5.0}


def test_a_batch_that_cannot_be_written_does_not_hold_back_the_others(tmp_path: Path) -> None:
    payer = PayerService(config(tmp_path))
    payer.receive(file837([claim837("G1")]).encode())
    (good_payment,) = [p for p in _pending_items(payer) if p["type"] == "835"]
    # An 835 needs the payee's NPI or tax id; this batch key has neither.
    bad_key = json.loads(good_payment["batch_key"])
    bad_key.update(billing_npi=None, billing_tax_id=None)
    with payer.store.transaction() as db:
        payer.store.add_pending(
            db,
            submission_id=1,
            type="835",
            batch_key=json.dumps(bad_key),
            release_at=0,
            item=ClaimPayment.model_validate(good_payment["item"]),
        )
    payer.release_due()
    released = payer.store.released_files(after=0, limit=10)
    assert [f.type for f in released] == ["277CA", "835"]
    assert payer.store.pending_count() == 1
    payer.close()


def _pending_items(payer: PayerService) -> list[dict[str, Any]]:
    with payer.store.transaction() as db:
        rows = db.execute("SELECT type, batch_key, item FROM pending_outputs").fetchall()
    return [{"type": r[0], "batch_key": r[1], "item": json.loads(r[2])} for r in rows]
