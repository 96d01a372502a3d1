"""How fast the pages and the read API answer with a big claim history.

Fills a fresh database (SQLite in a temporary folder, or PostgreSQL with `--db URL`, in a schema
of its own) with `--n` claims and their events, submissions, remittances, denials and work
items, then times requests through the ASGI app in-process. Prints p50/p95 per path and, last,
one JSON line: {"bench": "pages", "p95_ms": {path: ms}, "max_p95_ms": ...}.

    .venv/bin/python bench/pages.py                     # 100,000 claims on SQLite
    .venv/bin/python bench/pages.py --n 20000 --db postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, insert, text
from sqlmodel import Session, select

from api.app import create_app
from api.deps import SESSION_COOKIE
from reclaim.auth import hash_password, token_digest
from reclaim.config import Settings
from reclaim.db import get_engine, migrate
from reclaim.denials.facts import refresh_denial_facts
from reclaim.models import (
    Claim,
    ClaimEvent,
    Denial,
    EdiFile,
    Remittance,
    Submission,
    User,
    WorkItem,
    month_of,
)
from reclaim.sessions import start_session

PAYERS = ("SANDBOX", "AETNA", "BCBSIL", "CIGNA", "MEDICARE", "UHC")
LAST_NAMES = ("Lee", "Garcia", "Okafor", "Nguyen", "Smith", "Patel", "Kowalski", "Haddad",
              "Johnson", "Ng", "Rossi", "Cohen", "Silva", "Brown", "Kim", "Ali")
DENIALS: tuple[tuple[str, str, list[str]], ...] = (
    ("CO", "16", ["N290"]), ("CO", "50", []), ("CO", "97", []), ("CO", "197", []),
    ("CO", "11", []), ("PR", "27", []), ("CO", "29", []), ("OA", "18", []), ("CO", "4", []),
    ("CO", "167", []),
)
CODERS = ("cora", "carl", "cleo")
SECRET = "bench-secret"
BATCH = 5000
DOCUMENT = {
    "claim_type": "professional", "payer_id": "SANDBOX",
    "patient": {"first_name": "Ann", "last_name": "Lee", "birth_date": "1960-04-02", "sex": "F",
                "member_id": "W123456789",
                "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL",
                            "zip": "62701"}},
    "billing_provider": {"npi": "1234567893", "name": "Springfield Family Medicine",
                         "tax_id": "371234567",
                         "address": {"line1": "9 Oak Ave", "city": "Springfield",
                                     "state": "IL", "zip": "62704"}},
    "rendering_provider": {"npi": "1245319599", "first_name": "Raj", "last_name": "Patel"},
    "service_date": "2026-01-02", "place_of_service": "11", "diagnoses": ["E11.9", "I10"],
    "lines": [{"procedure": "99214", "modifiers": ["25"], "units": 1, "charge": "150.00",
               "diagnosis_pointers": [1, 2]}],
}


# ---------------------------------------------------------------- database


def fresh_database(db: str | None, tmp: Path) -> str:
    if not db:
        return f"sqlite:///{tmp / 'bench.db'}"
    schema = f"bench_pages_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in db else "?"
    return f"{db}{sep}options=-csearch_path%3D{schema}"


def drop_schema(db: str, url: str) -> None:
    schema = url.rsplit("%3D", 1)[1]
    admin = create_engine(db)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start:start + BATCH]


def _insert(engine: Engine, model: Any, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for chunk in _chunks(rows):
            conn.execute(insert(model.__table__), chunk)  # type: ignore[attr-defined]


def _claim_plan(rng: random.Random, now: datetime) -> dict[str, Any]:
    """One claim's fate: scrubbed, adjudicated, maybe denied, then its outcome."""
    service = now.date() - timedelta(days=rng.randint(0, 540))
    charge = Decimal(rng.choice((95, 150, 210, 320, 480, 1250))) + Decimal("0.50")
    roll = rng.random()
    plan: dict[str, Any] = {"service": service, "charge": charge, "clean": rng.random() > 0.07,
                            "denied": False, "status": "paid", "paid": charge, "attempts": 1,
                            "adjudicated": True}
    if roll < 0.04:
        plan.update(status=rng.choice(("coding", "scrubbing", "needs_correction")),
                    paid=Decimal(0), adjudicated=False,
                    clean=None if roll < 0.02 else plan["clean"])
    elif roll < 0.10:
        plan.update(status=rng.choice(("submitted", "accepted")), paid=Decimal(0),
                    adjudicated=False)
    elif roll < 0.21:
        outcome = rng.choice(("denied", "appealing", "needs_correction", "paid", "paid",
                              "written_off", "resubmitted"))
        paid = charge if outcome == "paid" else Decimal(0)
        plan.update(denied=True, status=outcome, paid=paid,
                    attempts=2 if outcome in ("paid", "resubmitted") else 1)
    elif roll < 0.25:
        plan.update(status="patient_responsibility", paid=Decimal(0))
    elif roll < 0.32:
        plan.update(status="partially_paid", paid=(charge * Decimal("0.7")).quantize(
            Decimal("0.01")))
    return plan


def fill(engine: Engine, n: int, *, seed: int = 11) -> dict[str, Any]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    claims, events, subs, remits, denials, items = [], [], [], [], [], []
    edi_files = [{"id": i + 1, "sha256": uuid.uuid4().hex * 2, "type": "835", "raw": "ISA~",
                  "received_at": now} for i in range(n // 1000 + 2)]
    remit_id = denial_id = 0
    for cid in range(1, n + 1):
        p = _claim_plan(rng, now)
        created = datetime.combine(p["service"], datetime.min.time(), UTC) + timedelta(days=2)
        last = LAST_NAMES[cid % len(LAST_NAMES)]
        final = p["status"] in ("paid", "partially_paid", "patient_responsibility",
                                "written_off")
        open_denial = p["denied"] and p["status"] in ("denied", "appealing", "needs_correction")
        assignee = rng.choice(CODERS) if open_denial else None
        claims.append({
            "id": cid, "status": p["status"], "claim_type": "professional",
            "payer_id": PAYERS[cid % len(PAYERS)], "patient_last_name": last,
            "patient_first_name": "Pat", "member_id": f"M{cid:09d}", "billing_npi": "1234567893",
            "service_date": p["service"], "total_charge": p["charge"], "paid_amount": p["paid"],
            "patient_responsibility": p["charge"] if p["status"] == "patient_responsibility"
            else Decimal(0),
            "attempts": p["attempts"], "document": DOCUMENT, "findings": [],
            "clean_first_pass": p["clean"], "denied_first_pass": p["denied"]
            if p["adjudicated"] else None,
            "denial_route": "coder" if p["denied"] else None, "assigned_to": assignee,
            "workflow_id": f"claim-{cid}", "created_at": created,
            "updated_at": created + timedelta(days=rng.randint(0, 60)),
            "closed_at": created + timedelta(days=rng.randint(10, 90)) if final else None,
        })
        events += [
            {"claim_id": cid, "key": "created", "kind": "created", "status": "coding",
             "message": "Claim created", "at": created, "data": {}},
            {"claim_id": cid, "key": "submitted-1", "kind": "status", "status": "submitted",
             "message": "837 sent", "at": created + timedelta(hours=1), "data": {}},
        ]
        if p["status"] in ("coding", "scrubbing"):
            continue
        subs.append({"claim_id": cid, "attempt": 1, "patient_control_number": f"RC{cid}-1",
                     "frequency_code": "1", "transaction_type": "837P", "x12": "ISA*00~",
                     "document": DOCUMENT, "status": "sent", "created_at": created})
        if not p["adjudicated"]:
            continue
        remit_id += 1
        first_paid = Decimal(0) if p["denied"] else p["paid"]
        remits.append(_remit(remit_id, cid, 1, first_paid, p["charge"], created, edi_files))
        events.append({"claim_id": cid, "key": "era-1", "kind": "status",
                       "status": "denied" if p["denied"] else p["status"],
                       "message": "835 received", "at": created + timedelta(days=14),
                       "data": {}})
        if p["denied"]:
            group, carc, rarcs = DENIALS[min(int(rng.expovariate(0.45)), len(DENIALS) - 1)]
            denial_id += 1
            denials.append({
                "id": denial_id, "claim_id": cid, "remittance_id": remit_id, "attempt": 1,
                "level": "claim", "line_index": -1, "group": group, "carc": carc,
                "rarcs": rarcs, "amount": p["charge"], "route": "coder",
                "payer_id": PAYERS[cid % len(PAYERS)], "created_at": created + timedelta(days=14),
                "denied_month": month_of(created + timedelta(days=14)),
            })
            if p["status"] == "paid":
                remit_id += 1
                remits.append(_remit(remit_id, cid, 2, p["charge"], p["charge"],
                                     created + timedelta(days=30), edi_files))
            if open_denial:
                due = now + timedelta(days=rng.randint(-5, 10))
                items.append({
                    "key": f"bench-{cid}", "claim_id": cid,
                    "queue": "appeal" if p["status"] == "appealing" else "coder",
                    "kind": "denial", "status": "open", "title": f"Claim {cid}: {group}-{carc}",
                    "detail": "", "data": {"denials": [{"group": group, "carc": carc,
                                                        "rarcs": rarcs}]},
                    "assignee": assignee, "due_at": due + timedelta(days=60),
                    "sla_due_at": due, "reason_code": f"{group}-{carc}"[:40],
                    "workflow_id": f"work-item-{cid}", "created_at": due - timedelta(days=5),
                })
    started = time.perf_counter()
    for model, rows in ((EdiFile, edi_files), (Claim, claims), (ClaimEvent, events),
                        (Submission, subs), (Remittance, remits), (Denial, denials),
                        (WorkItem, items)):
        _insert(engine, model, rows)
    with Session(engine) as session:  # what posting the remittances would have derived
        refresh_denial_facts(session, (d["claim_id"] for d in denials))
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("claim", "denial", "edifile"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
        # As autovacuum leaves a table that has settled: statistics, and the visibility map
        # that lets PostgreSQL answer from an index alone (a bulk load leaves it empty).
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("claim", "claimevent", "submission", "remittance", "denial",
                          "workitem", "edifile"):
                conn.execute(text(f"VACUUM ANALYZE {table}"))  # this schema's tables only
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return {"claims": len(claims), "events": len(events), "remittances": len(remits),
            "denials": len(denials), "work_items": len(items),
            "load_s": round(time.perf_counter() - started, 1)}


def _remit(rid: int, cid: int, attempt: int, paid: Decimal, charge: Decimal, at: datetime,
           files: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": rid, "edi_file_id": files[rid // 1000]["id"], "position": rid % 1000,
            "claim_id": cid, "attempt": attempt, "patient_control_number": f"RC{cid}-{attempt}",
            "status_code": "4" if paid == 0 else "1", "charge": charge, "paid": paid,
            "patient_responsibility": Decimal(0), "data": {}, "outcome": None,
            "received_at": at}


def add_users(engine: Engine) -> dict[str, User]:
    hashed = hash_password("bench-password")
    with Session(engine, expire_on_commit=False) as s:
        for name, role in (("mona", "manager"), *((c, "coder") for c in CODERS)):
            s.add(User(username=name, role=role, password_hash=hashed,
                       api_token_hash=token_digest(f"tok-{name}")))
        s.commit()
        return {u.username: u for u in s.exec(select(User)).all()}


def sign_in(engine: Engine, user: User) -> str:
    """A session as the sign-in page starts one: the cookie value a browser would carry."""
    with Session(engine) as session:
        cookie, _csrf = start_session(session=session, user=user)
        session.commit()
    return cookie


# ---------------------------------------------------------------- timing


def timed(client: TestClient, path: str, cookie: str, rounds: int) -> list[float]:
    client.cookies.set(SESSION_COOKIE, cookie)
    client.get(path)  # warm caches and code paths once
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
    return out


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="claims to generate")
    parser.add_argument("--db", help="a PostgreSQL URL (default: SQLite in a temporary folder)")
    parser.add_argument("--rounds", type=int, default=40, help="requests per path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.db, Path(tmp))
        try:
            run(url, Path(tmp), args.n, args.rounds)
        finally:
            if args.db:
                get_engine(url).dispose()
                drop_schema(args.db, url)


def run(url: str, tmp: Path, n: int, rounds: int) -> None:
    migrate(url)
    engine = get_engine(url)
    loaded = fill(engine, n)
    users = add_users(engine)
    print(f"loaded {loaded} into {engine.dialect.name}")
    settings = Settings(data_dir=tmp, database_url=url, secret_key=SECRET,
                        smtp_host="127.0.0.1")
    app = create_app(settings)
    manager, coder = sign_in(engine, users["mona"]), sign_in(engine, users["cora"])
    rng = random.Random(3)
    ids = [rng.randint(1, n) for _ in range(rounds)]
    paths: list[tuple[str, list[str], str]] = [
        ("/api/v1/claims", ["/api/v1/claims"], manager),
        ("/api/v1/claims?status=denied", ["/api/v1/claims?status=denied"], manager),
        ("/api/v1/claims?payer=AETNA&page=20", ["/api/v1/claims?payer=AETNA&page=20"], manager),
        ("/api/v1/claims?assignee=cora", ["/api/v1/claims?assignee=cora"], manager),
        ("/api/v1/claims?q=okafor", ["/api/v1/claims?q=okafor"], manager),
        ("/api/v1/claims/{id}", [f"/api/v1/claims/{i}" for i in ids], manager),
        ("/api/v1/metrics", ["/api/v1/metrics"], manager),
        ("/api/v1/metrics?payer=CIGNA", ["/api/v1/metrics?payer=CIGNA"], manager),
        ("/", ["/"], manager),
        ("/work (manager)", ["/work"], manager),
        ("/work (coder)", ["/work"], coder),
        ("/claims?cohort=denied", ["/claims?cohort=denied"], manager),
        ("/claims/{id}", [f"/claims/{i}" for i in ids], coder),
        ("/files", ["/files"], manager),
    ]
    results: dict[str, dict[str, float]] = {}
    with TestClient(app) as client:
        for label, urls, cookie in paths:
            samples: list[float] = []
            per_url = max(rounds // len(urls), 1)
            for path in urls:
                samples += timed(client, path, cookie, per_url)
            results[label] = {"p50": statistics.median(samples), "p95": p95(samples)}
            print(f"{label:42s} p50 {results[label]['p50']:7.1f} ms   "
                  f"p95 {results[label]['p95']:7.1f} ms")
    p95s = {k: round(v["p95"], 1) for k, v in results.items()}
    print(json.dumps({"bench": "pages", "db": engine.dialect.name, "claims": n,
                      "p50_ms": {k: round(v["p50"], 1) for k, v in results.items()},
                      "p95_ms": p95s, "max_p95_ms": max(p95s.values())}))


if __name__ == "__main__":
    main()
