"""The demo data set `reclaim up` loads on an empty database: users, the provider directory and
a few dozen claims that end up in every state (the sandbox payer's trigger member ids and the
demo payers' seeded denial rates do the rest)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, func, select

from reclaim import payers
from reclaim.auth import create_user
from reclaim.claims.schemas import ClaimDocument
from reclaim.models import Claim, DirectoryProvider, User
from reclaim.providers import NewProvider, create_provider

DEMO_PASSWORD = "reclaim-demo"
DEMO_USERS = (
    ("maria", "manager"),
    ("cody", "coder"),
    ("carla", "coder"),
    ("frank", "front_desk"),
    ("bill", "biller"),
)
BILLING: dict[str, Any] = {
    "npi": "1234567893",
    "name": "Springfield Family Medicine",
    "tax_id": "371234567",
    "address": {"line1": "9 Oak Ave", "city": "Springfield", "state": "IL", "zip": "627041234"},
}
RENDERING = {"npi": "1245319599", "first_name": "Raj", "last_name": "Patel"}
PATIENTS = [
    ("Ann", "Lee", "1960-04-02", "F"),
    ("Omar", "Haddad", "1975-09-14", "M"),
    ("Grace", "Kim", "1988-01-30", "F"),
    ("Luis", "Ortega", "1952-07-08", "M"),
    ("Nora", "Walsh", "1999-12-12", "F"),
    ("Ben", "Adler", "1944-03-21", "M"),
    ("Ivy", "Chen", "1967-05-05", "F"),
    ("Sam", "Okafor", "1981-11-19", "M"),
]
# (procedure, modifiers, charge, diagnosis pointers)
ServiceLine = tuple[str, list[str], str, list[int]]
VISITS: list[tuple[list[str], list[ServiceLine]]] = [
    (["E11.9", "I10"], [("99214", ["25"], "150.00", [1, 2])]),
    (["J06.9"], [("99213", [], "110.00", [1])]),
    (["M54.50"], [("99214", [], "150.00", [1]), ("97110", ["GP"], "45.00", [1])]),
    (["I10", "E78.5"], [("99215", [], "210.00", [1, 2])]),
    (["Z00.00"], [("99396", [], "240.00", [1])]),
    (["L03.115"], [("99213", ["25"], "110.00", [1]), ("10060", [], "180.00", [1])]),
]


def _document(payer: str, patient: tuple[str, str, str, str], member_id: str, visit: int,
              service_date: date, *, rendering: bool = True) -> dict[str, Any]:
    first, last, dob, sex = patient
    diagnoses, lines = VISITS[visit % len(VISITS)]
    doc: dict[str, Any] = {
        "claim_type": "professional",
        "payer_id": payer,
        "patient": {"first_name": first, "last_name": last, "birth_date": dob, "sex": sex,
                    "member_id": member_id,
                    "address": {"line1": "1 Main St", "city": "Springfield", "state": "IL",
                                "zip": "62701"}},
        "billing_provider": BILLING,
        "service_date": service_date.isoformat(),
        "place_of_service": "11",
        "diagnoses": diagnoses,
        "lines": [
            {"procedure": p, "modifiers": m, "units": 1, "charge": c, "diagnosis_pointers": ptr}
            for p, m, c, ptr in lines
        ],
    }
    if rendering:
        doc["rendering_provider"] = RENDERING
    return doc


def demo_documents(today: date, *, seed: int = 7) -> list[ClaimDocument]:
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = []
    triggers = ["TEST-CO-16-N290", "TEST-CO-11", "TEST-CO-50", "TEST-PR-1", "TEST-CO-29",
                "TEST-REJECT-33"]
    for i, member in enumerate(triggers):
        docs.append(_document("SANDBOX", PATIENTS[i % len(PATIENTS)], member, i,
                              today - timedelta(days=3 + i),
                              rendering=member != "TEST-CO-16-N290"))
    for i in range(24):
        payer = ("ACMEHEALTH", "MCAREDEMO", "SANDBOX")[i % 3]
        member = f"{'W' if payer != 'MCAREDEMO' else '1EG4TE5MK'}{rng.randint(10**7, 10**8 - 1)}"
        if payer == "MCAREDEMO":
            member = f"1EG4TE5MK{rng.randint(10, 99)}"
        docs.append(_document(payer, PATIENTS[i % len(PATIENTS)], member, i,
                              today - timedelta(days=rng.randint(2, 60))))
    # Two that the scrubber stops: a category code, and 99214 + a procedure without modifier 25.
    bad = _document("SANDBOX", PATIENTS[2], "W55501234", 0, today - timedelta(days=4))
    bad["diagnoses"] = ["E11", "I10"]
    docs.append(bad)
    bundle = _document("SANDBOX", PATIENTS[3], "W55509876", 0, today - timedelta(days=5))
    bundle["lines"] = [
        {"procedure": "99214", "modifiers": [], "units": 1, "charge": "150.00",
         "diagnosis_pointers": [1]},
        {"procedure": "11042", "modifiers": [], "units": 1, "charge": "220.00",
         "diagnosis_pointers": [1]},
    ]
    docs.append(bundle)
    return [ClaimDocument.model_validate(d) for d in docs]


def needs_demo(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(Claim)).one() == 0


def seed_people(session: Session) -> list[tuple[str, str]]:
    """Demo users (password `reclaim-demo`), the provider directory (the practice and its
    rendering provider) and the payers of payers.toml. Returns the logins."""
    logins = []
    for username, role in DEMO_USERS:
        if session.exec(select(User).where(User.username == username)).first() is None:
            create_user(session=session, username=username, role=role, password=DEMO_PASSWORD,
                        email=f"{username}@clinic.test")
        logins.append((username, role))
    # Through the directory's own service, as a practice's CSV import or the page would.
    for provider in (
        NewProvider(npi=BILLING["npi"], name=BILLING["name"], tax_id=BILLING["tax_id"],
                    taxonomy="207Q00000X", address=BILLING["address"]),
        NewProvider(npi=RENDERING["npi"], first_name=RENDERING["first_name"],
                    last_name=RENDERING["last_name"], taxonomy="207Q00000X",
                    billing_npi=BILLING["npi"]),
    ):
        if session.get(DirectoryProvider, provider.npi) is None:
            create_provider(session=session, provider=provider)
    payers.seed_shipped(session=session)
    return logins
