"""End to end over HTTP: `reclaim up`, a claim posted, the sandbox payer's real X12, paid."""

from __future__ import annotations

import socket

import pytest

from reclaim.x12.validate import validate_x12
from tests.e2e.conftest import RunningStack, stop_stack
from tests.support import claim_doc

pytestmark = pytest.mark.e2e


def test_a_claim_goes_from_post_to_paid_over_http(running_stack: RunningStack) -> None:
    with running_stack.client() as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        created = http.post("/api/v1/claims", json=claim_doc())
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["workflow_id"] == f"claim-{body['id']}"
        detail = running_stack.wait_claim(body["id"], "paid")
        x12 = http.get(f"/api/v1/claims/{body['id']}/x12").text
    assert validate_x12(x12) == []
    kinds = {a["kind"] for a in detail["acknowledgments"]}
    assert kinds == {"999", "277CA"}
    assert len(detail["remittances"]) == 1
    assert detail["remittances"][0]["paid"] == detail["paid"]
    assert [s["frequency_code"] for s in detail["submissions"]] == ["1"]
    # Nothing about the patient reaches the logs.
    logs = running_stack.logs()
    assert "Ann" not in logs.split()
    assert "Lee" not in logs.split()
    assert "W123456789" not in logs


def test_bad_input_is_a_clear_4xx(running_stack: RunningStack) -> None:
    with running_stack.client() as http:
        bad = claim_doc()
        del bad["patient"]["birth_date"]
        bad["lines"][0]["charge"] = "a lot"
        response = http.post("/api/v1/claims", json=bad)
        assert response.status_code == 422
        fields = {f["field"] for f in response.json()["fields"]}
        assert {"patient.birth_date", "lines[0].charge"} <= fields
        garbled = http.post("/api/v1/edi", content=b"ISA*00*garbage~IEA*1*1~")
        assert garbled.status_code in (400, 422)
        assert "segment" in garbled.text
        assert http.get("/api/v1/claims").status_code == 200
    with running_stack.client(token="wrong") as http:
        assert http.get("/api/v1/claims").status_code == 401


def test_ctrl_c_stops_every_process(running_stack: RunningStack) -> None:
    assert stop_stack(running_stack) == 0
    port = int(running_stack.api.rsplit(":", 1)[1])
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
