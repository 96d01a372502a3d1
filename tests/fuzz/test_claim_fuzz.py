"""POST /api/v1/claims under hostile claim documents: seeded mutations of the DESIGN.md claim
(wrong types, missing and unknown fields, huge and odd values) and bodies that are not claims.

Never a 5xx; a 422 names the field that was broken; a 201 starts a claim; no stored claim
changes. (Schemathesis in tests/contract generates documents from the OpenAPI schema too.)
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from copy import deepcopy
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reclaim.models import Claim
from tests.support import claim_doc

Path = tuple[str | int, ...]
ROUNDS = (3, 5, 8)
CASES_PER_ROUND = 150
ODD_VALUES: tuple[Any, ...] = (
    None, True, 0, -1, 10**30, -(10**30), 1.5, 1e308, "", " ", "\x00", "a\x00b", "é🙂",
    "x" * 100, "x" * 20_000, "1e999", "NaN", "-0", "9999999999999.99", "0.001",
    "2026-02-30", "0000-01-01", "9999-12-31", "20261102", [], [None], {}, {"a": 1},
    ["E11.9"] * 13,
)


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from paths(inner, (*prefix, index))


def field_name(path: Path) -> str:
    """('lines', 0, 'charge') -> 'lines[0].charge', as api.errors names fields."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return out or "body"


def parent_of(doc: dict[str, Any], path: Path) -> Any:
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    return target


def mutate(rng: random.Random, doc: dict[str, Any]) -> tuple[str, Path, dict[str, Any]]:
    """One change at one path: (what was done, where, the document)."""
    doc = deepcopy(doc)
    path = rng.choice([p for p in paths(doc) if p])
    parent = parent_of(doc, path)
    action = rng.choice(("replace", "replace", "replace", "delete", "extra", "grow"))
    if action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
        return action, path, doc
    if action == "extra":
        target = parent_of(doc, (*path, "x"))
        if isinstance(target, dict):
            target["unexpected_field"] = rng.choice(ODD_VALUES)
            return action, (*path, "unexpected_field"), doc
    if action == "grow" and isinstance(parent[path[-1]], list) and parent[path[-1]]:
        parent[path[-1]] = parent[path[-1]] * rng.choice((5, 13, 51))
        return action, path, doc
    parent[path[-1]] = rng.choice(ODD_VALUES)
    return "replace", path, doc


def raw_bodies() -> list[bytes]:
    return [b"", b"null", b"[]", b"{", b"\"claim\"", b"{\"a\":" * 5_000 + b"1" + b"}" * 5_000,
            b"\xff\xfe\x00", json.dumps(claim_doc()).encode()[:-10], b"NaN", b"{}"]


def claims_state(engine: Engine, up_to: int) -> tuple[int, list[dict[str, Any]]]:
    with Session(engine) as session:
        count = session.exec(select(func.count()).select_from(Claim)).one()
        rows = session.exec(select(Claim).where(col(Claim.id) <= up_to).order_by(Claim.id)).all()
        return count, [r.model_dump() for r in rows]


def last_claim_id(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.max(Claim.id))).one() or 0


def assert_field_named(fields: list[str], path: Path, what: str) -> None:
    """The broken field, one of its parents (a missing/too long container) or children (a
    replaced object missing its fields) is named."""
    name = field_name(path)
    assert any(f == name or f.startswith(name) or name.startswith(f) for f in fields), (
        f"{what} at {name}: the 422 names {fields}")


@pytest.mark.parametrize("rng_seed", ROUNDS)
async def test_hostile_claim_documents(biller: httpx.AsyncClient, engine: Engine,
                                       rng_seed: int) -> None:
    rng = random.Random(rng_seed)
    up_to = last_claim_id(engine)
    count, before = claims_state(engine, up_to)
    created = 0
    for number in range(CASES_PER_ROUND):
        action, path, doc = mutate(rng, claim_doc())
        what = f"#{rng_seed}-{number} {action} {field_name(path)}"
        response = await biller.post("/api/v1/claims", json=doc)
        assert response.status_code in (201, 422), f"{what}: {response.status_code} {response.text}"
        body = response.json()
        if response.status_code == 201:
            created += 1
            assert body["status"] == "coding"
            assert body["workflow_id"] == f"claim-{body['id']}"
            continue
        fields = [f["field"] for f in body["fields"]]
        assert fields, what
        assert all(f["message"] for f in body["fields"]), what
        assert_field_named(fields, path, what)
    assert claims_state(engine, up_to) == (count + created, before)
    # The mix had both sides: claims created and documents refused.
    assert CASES_PER_ROUND // 10 < created < CASES_PER_ROUND * 9 // 10, created


async def test_bodies_that_are_not_claims(biller: httpx.AsyncClient) -> None:
    for raw in raw_bodies():
        response = await biller.post(
            "/api/v1/claims", content=raw, headers={"content-type": "application/json"})
        assert response.status_code in (400, 422), f"{raw[:40]!r}: {response.status_code}"
        assert response.json()["detail"], raw[:40]


async def test_strings_with_nul_bytes_are_refused_or_stored(
    biller: httpx.AsyncClient,
) -> None:
    # PostgreSQL text cannot hold NUL: such a claim must be a 422 naming the field, not a 500.
    doc = claim_doc(patient__first_name="A\x00nn")
    response = await biller.post("/api/v1/claims", json=doc)
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        assert "patient.first_name" in response.json()["detail"]


async def test_total_charge_beyond_storage_is_a_422(biller: httpx.AsyncClient) -> None:
    # Each line fits NUMERIC(12, 2), their sum does not.
    line = {"procedure": "99214", "units": 1, "charge": "9999999999.99", "diagnosis_pointers": [1]}
    response = await biller.post("/api/v1/claims", json=claim_doc(lines=[line, line]))
    assert response.status_code in (201, 422), response.text


async def test_json_bodies_over_the_limit_are_413(biller: httpx.AsyncClient,
                                                  engine: Engine) -> None:
    from api.limits import JSON_BODY_LIMIT

    up_to = last_claim_id(engine)
    doc = claim_doc(patient__address__line2="x" * JSON_BODY_LIMIT)
    response = await biller.post("/api/v1/claims", json=doc)
    assert response.status_code == 413

    async def chunks() -> Any:
        for _ in range(3):
            yield b" " * JSON_BODY_LIMIT

    streamed = await biller.post("/api/v1/claims", content=chunks(),
                                 headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert last_claim_id(engine) == up_to
    # A real claim is far below the limit.
    assert (await biller.post("/api/v1/claims", json=claim_doc())).status_code == 201
