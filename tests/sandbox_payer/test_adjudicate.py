"""Adjudication rules as tables: trigger member ids, replacements, voids, rejects, the SANDBOX fee
schedule, bundling, diagnosis requirements, eligibility, timely filing, seeded random denials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reclaim.sandbox_payer.adjudicate import Adjudication, adjudicate_claim, parse_trigger
from reclaim.sandbox_payer.config import PACKAGED_RULES
from reclaim.sandbox_payer.rules import PayerRuleSet, load_rules
from reclaim.x12.models import ClaimPayment, Envelope, Payment, ReceivedClaim837, Remittance835
from reclaim.x12.validate import validate_x12
from reclaim.x12.write_payer import write_835

from .factories import RECEIVED_ON, SERVICE_DAY, assert_balanced, line, received_claim

RULES = load_rules(PACKAGED_RULES)
PCN = "SAND2603200000001"


def adjudicate(
    claim: ReceivedClaim837, *, rules: PayerRuleSet = RULES, pcn: str = PCN, seed: int = 7
) -> Adjudication:
    return adjudicate_claim(
        claim=claim, rules=rules, payer_claim_number=pcn, seed=seed, received_on=RECEIVED_ON
    )


def paid(claim: ReceivedClaim837, **kwargs: object) -> ClaimPayment:
    result = adjudicate(claim, **kwargs)  # type: ignore[arg-type]
    assert result.status.action == "accepted"
    assert result.status.payer_claim_control_number == kwargs.get("pcn", PCN)
    assert result.payment is not None
    assert_balanced(result.payment)
    return result.payment


TWO_LINES = [line("99214", "150.00"), line("36415", "12.00")]


@pytest.mark.parametrize(
    ("member_id", "status", "group", "reason", "remark"),
    [
        ("TEST-CO-16-N290", "4", "CO", "16", "N290"),
        ("TEST-CO-11", "4", "CO", "11", None),
        ("TEST-CO-50", "4", "CO", "50", None),
        ("TEST-CO-50-N115", "4", "CO", "50", "N115"),
        ("TEST-CO-29", "4", "CO", "29", None),
        ("TEST-CO-197", "4", "CO", "197", None),
        ("TEST-CO-151-N362", "4", "CO", "151", "N362"),
        ("TEST-CO-16-MA130", "4", "CO", "16", "MA130"),
        ("TEST-OA-23", "4", "OA", "23", None),
        ("TEST-PI-204", "4", "PI", "204", None),
        ("test-co-4-n519", "4", "CO", "4", "N519"),
        ("TEST-PR-1", "1", "PR", "1", None),
        ("TEST-PR-3", "1", "PR", "3", None),
    ],
)
def test_trigger_member_denies_the_original_in_full(
    member_id: str, status: str, group: str, reason: str, remark: str | None
) -> None:
    payment = paid(received_claim(member_id=member_id, lines=TWO_LINES))
    assert payment.status_code == status
    assert payment.paid == 0
    assert payment.patient_responsibility == (Decimal("162.00") if group == "PR" else 0)
    assert payment.remarks == ([remark] if remark else [])
    for service, sent in zip(payment.lines, TWO_LINES, strict=True):
        assert [(a.group, a.reason, a.amount) for a in service.adjustments] == [
            (group, reason, sent.charge)
        ]
        assert service.remarks == ([remark] if remark else [])
        assert service.line_control_number == sent.line_control_number


@pytest.mark.parametrize("member_id", ["TEST-CO-16-N290", "TEST-CO-50", "TEST-PR-1"])
def test_replacement_of_a_trigger_claim_is_paid_by_the_fee_schedule(member_id: str) -> None:
    claim = received_claim(
        member_id=member_id, lines=TWO_LINES, frequency_code="7", original="SAND2603010000009"
    )
    payment = paid(claim)
    assert (payment.status_code, payment.paid, payment.patient_responsibility) == ("1", 144, 0)
    assert payment.frequency_code == "7"
    assert [(a.group, a.reason, a.amount) for a in payment.lines[1].adjustments] == [
        ("CO", "45", Decimal("8.00"))
    ]


def test_void_is_a_zero_reversal_of_the_claim_it_names() -> None:
    claim = received_claim(frequency_code="8", original="SAND2603010000009")
    payment = paid(claim)
    assert (payment.status_code, payment.charge, payment.paid) == ("22", 0, 0)
    assert payment.payer_claim_control_number == "SAND2603010000009"
    assert payment.lines == []


@pytest.mark.parametrize(
    ("member_id", "code", "entity"),
    [("TEST-REJECT-21", "21", None), ("TEST-REJECT-562-85", "562", "85")],
)
def test_reject_trigger_rejects_in_the_277ca_without_an_835(
    member_id: str, code: str, entity: str | None
) -> None:
    result = adjudicate(received_claim(member_id=member_id))
    assert result.payment is None
    status = result.status
    assert (status.action, status.status_category, status.status_code) == ("rejected", "A7", code)
    assert status.entity_code == entity
    assert status.payer_claim_control_number is None


def test_claim_for_an_unknown_payer_is_rejected() -> None:
    result = adjudicate(received_claim(payer_id="NOSUCHPAYER"))
    assert result.payment is None
    assert (result.status.status_category, result.status.status_code) == ("A7", "116")


def test_accepted_claim_is_a2_20_with_the_payer_claim_number() -> None:
    status = adjudicate(received_claim()).status
    assert (status.status_category, status.status_code, status.action) == ("A2", "20", "accepted")
    assert status.total_charge == Decimal("150.00")


@pytest.mark.parametrize(
    ("procedure", "charge", "units", "expected_paid", "contract_reduction"),
    [
        ("99214", "150.00", "1", "140.00", "10.00"),  # fee schedule, CO-45 for the difference
        ("99213", "80.00", "1", "80.00", None),  # billed below the fee: the charge is allowed
        ("36415", "10.00", "2", "8.00", "2.00"),  # fee per unit
        ("96372", "40.00", "1", "18.00", "22.00"),
        ("99499", "100.00", "1", "80.00", "20.00"),  # unlisted: 80% of charge
        ("99499", "33.33", "1", "26.66", "6.67"),  # rounded half up to the cent
    ],
)
def test_sandbox_pays_its_fee_schedule(
    procedure: str, charge: str, units: str, expected_paid: str, contract_reduction: str | None
) -> None:
    payment = paid(received_claim(lines=[line(procedure, charge, units=units)]))
    assert payment.status_code == "1"
    assert payment.paid == Decimal(expected_paid)
    assert payment.patient_responsibility == 0
    expected = [("CO", "45", Decimal(contract_reduction))] if contract_reduction else []
    assert [(a.group, a.reason, a.amount) for a in payment.lines[0].adjustments] == expected


@pytest.mark.parametrize(
    ("second_line", "denied"),
    [
        (line("82947", "20.00"), True),
        (line("82947", "20.00", modifiers=["59"]), False),
        (line("82947", "20.00", modifiers=["XU"]), False),
        (line("82947", "20.00", modifiers=["25"]), True),
        (line("82947", "20.00", service_date=SERVICE_DAY + timedelta(days=1)), False),
        (line("85025", "20.00"), False),
    ],
)
def test_column2_code_is_bundled_into_column1_on_the_same_day(
    second_line: object, denied: bool
) -> None:
    claim = received_claim(lines=[line("80053", "40.00"), second_line])  # type: ignore[list-item]
    payment = paid(claim)
    assert payment.lines[0].paid == Decimal("14.00")
    adjustments = [(a.group, a.reason) for a in payment.lines[1].adjustments]
    if denied:
        assert adjustments == [("CO", "97")]
        assert payment.lines[1].remarks == ["M15"]
        assert payment.lines[1].paid == 0
    else:
        assert ("CO", "97") not in adjustments
        assert payment.lines[1].paid > 0
    assert payment.status_code == "1"


@pytest.mark.parametrize(
    ("diagnoses", "pointers", "supported"),
    [
        (["E119", "I10"], [1], True),
        (["I10"], [1], False),
        (["I10", "E119"], [1], False),  # E11.9 is on the claim but not pointed to by the line
        (["I10", "R7303"], [1, 2], True),
        (["E11.9"], [1], True),
    ],
)
def test_procedure_needs_a_supporting_diagnosis(
    diagnoses: list[str], pointers: list[int], supported: bool
) -> None:
    claim = received_claim(lines=[line("83036", "30.00", pointers=pointers)], diagnoses=diagnoses)
    payment = paid(claim)
    if supported:
        assert (payment.status_code, payment.paid) == ("1", Decimal("13.00"))
    else:
        assert (payment.status_code, payment.paid) == ("4", 0)
        assert [(a.group, a.reason) for a in payment.lines[0].adjustments] == [("CO", "11")]


@pytest.mark.parametrize(
    ("member_id", "reason", "remark"),
    [("W900000027", "27", "N382"), ("W900000031", "31", None)],
)
def test_ineligible_member_is_denied(member_id: str, reason: str, remark: str | None) -> None:
    payment = paid(received_claim(member_id=member_id, lines=TWO_LINES))
    assert (payment.status_code, payment.paid) == ("4", 0)
    assert {(a.group, a.reason) for ln in payment.lines for a in ln.adjustments} == {("CO", reason)}
    assert payment.remarks == ([remark] if remark else [])


def test_claim_past_timely_filing_is_denied_co29() -> None:
    old = RECEIVED_ON - timedelta(days=366)
    payment = paid(received_claim(service_date=old))
    assert payment.status_code == "4"
    assert payment.lines[0].adjustments[0].reason == "29"
    assert paid(received_claim(service_date=RECEIVED_ON - timedelta(days=365))).status_code == "1"


def _no_random(payer_id: str) -> PayerRuleSet:
    payer = RULES.payers[payer_id].model_copy(update={"random_denial_percent": Decimal(0)})
    return PayerRuleSet(payers={**RULES.payers, payer_id: payer})


def test_commercial_demo_payer_charges_coinsurance() -> None:
    claim = received_claim(payer_id="ACMEHEALTH", lines=[line("99214", "150.00")])
    payment = paid(claim, rules=_no_random("ACMEHEALTH"))
    assert (payment.paid, payment.patient_responsibility) == (Decimal("112.00"), Decimal("28.00"))
    assert [(a.group, a.reason, a.amount) for a in payment.lines[0].adjustments] == [
        ("CO", "45", Decimal("10.00")),
        ("PR", "2", Decimal("28.00")),
    ]
    assert payment.filing_indicator == "CI"


def test_medicare_demo_payer_uses_its_own_schedule_and_filing_indicator() -> None:
    claim = received_claim(payer_id="MCAREDEMO", lines=[line("99214", "150.00")])
    payment = paid(claim, rules=_no_random("MCAREDEMO"))
    assert (payment.paid, payment.patient_responsibility) == (Decimal("101.60"), Decimal("25.40"))
    assert payment.filing_indicator == "MB"


def _outcomes(payer_id: str, *, seed: int, frequency: str = "1") -> list[str]:
    outcomes = []
    for n in range(400):
        claim = received_claim(
            payer_id=payer_id, frequency_code=frequency, original="X1" if frequency == "7" else None
        )
        payment = paid(claim, pcn=f"ACME26032{n:07d}", seed=seed)
        reasons = sorted({a.reason for ln in payment.lines for a in ln.adjustments} - {"45", "2"})
        outcomes.append(f"{payment.status_code}:{','.join(reasons)}")
    return outcomes


@pytest.mark.parametrize(
    ("payer_id", "low", "high"), [("ACMEHEALTH", 30, 70), ("MCAREDEMO", 15, 50)]
)
def test_random_denials_are_reproducible_from_the_seed(payer_id: str, low: int, high: int) -> None:
    first = _outcomes(payer_id, seed=11)
    assert first == _outcomes(payer_id, seed=11)
    assert first != _outcomes(payer_id, seed=12)
    denied = [o for o in first if o.startswith("4:")]
    assert low <= len(denied) <= high  # 12% and 8% of 400
    allowed = {f"4:{d.reason}" for d in RULES.payers[payer_id].random_denials}
    assert {o for o in denied} <= allowed
    assert len(set(denied)) >= 4  # drawn from the weighted list, not one reason


def test_replacements_are_never_randomly_denied() -> None:
    assert not [o for o in _outcomes("ACMEHEALTH", seed=11, frequency="7") if o.startswith("4:")]


def test_sandbox_is_deterministic_whatever_the_seed() -> None:
    claims = [received_claim(lines=TWO_LINES), received_claim(member_id="TEST-CO-11")]
    for claim in claims:
        runs = {
            paid(claim, seed=s, pcn=f"SAND{s:09d}").model_dump_json(
                exclude={"payer_claim_control_number"}
            )
            for s in range(20)
        }
        assert len(runs) == 1


def test_parse_trigger_ignores_ordinary_member_ids() -> None:
    assert parse_trigger("W123456789") is None
    assert parse_trigger("TEST-XX-16") is None
    trigger = parse_trigger("TEST-CO-16-N290")
    assert trigger is not None
    assert (trigger.group, trigger.reason, trigger.remark) == ("CO", "16", "N290")


CASES = [
    received_claim(lines=TWO_LINES),
    received_claim(member_id="TEST-CO-16-N290", lines=TWO_LINES),
    received_claim(member_id="TEST-PR-1"),
    received_claim(frequency_code="8", original="SAND2603010000009"),
    received_claim(lines=[line("80053", "40.00"), line("82947", "20.00")]),
    received_claim(lines=[line("83036", "30.00")], diagnoses=["I10"]),
]


def test_every_outcome_writes_a_valid_835() -> None:
    claims = [paid(c, pcn=f"SAND{n:09d}") for n, c in enumerate(CASES)]
    total = sum((c.paid for c in claims), Decimal("0"))
    remit = Remittance835(
        envelope=Envelope(
            sender_id="SANDBOXCH",
            receiver_id="RECLAIM",
            interchange_control_number=5,
            group_control_number=5,
            created=datetime(2026, 3, 21, 8, 0, tzinfo=UTC),
        ),
        payer_name="SANDBOX HEALTH PLAN",
        payer_id="SANDBOX",
        payee_name="SPRINGFIELD FAMILY MEDICINE",
        payee_npi="1234567893",
        payment=Payment(
            amount=total,
            method="ACH",
            date=RECEIVED_ON,
            trace_number="000000005",
            payer_identifier="1990000001",
        ),
        claims=claims,
    )
    assert validate_x12(write_835(remit)) == []
