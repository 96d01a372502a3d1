from __future__ import annotations

from decimal import Decimal

import pytest

from reclaim.denials.detect import DenialInputError, claim_outcome, detect_denials, judge_adjustment

# (case, payment spec, expected findings as (level, line_index, "G-C"), expected outcome)
CLAIM_CASES = [
    ("CO-45 zero paid is a write-off", {"claim_codes": (("CO-45", "100"),)}, [], "paid"),
    (
        "contract adjustments only, zero paid",
        {"claim_codes": (("CO-45", "40"), ("CO-253", "2"), ("CO-24", "28"), ("OA-23", "30"))},
        [],
        "paid",
    ),
    (
        "PR-only is the patient's",
        {"patient_resp": "100", "claim_codes": (("PR-1", "80"), ("PR-2", "15"), ("PR-3", "5"))},
        [],
        "patient_responsibility",
    ),
    (
        "paid with coinsurance is paid",
        {"paid": "80", "patient_resp": "20", "claim_codes": (("PR-2", "20"),)},
        [],
        "paid",
    ),
    (
        "OA-96 zero paid is a denial",
        {"claim_codes": (("OA-96", "100"),)},
        [("claim", None, "OA-96")],
        "denied",
    ),
    (
        "CO-16 zero paid is a denial",
        {"claim_codes": (("CO-16", "100"),), "remarks": ("N290",)},
        [("claim", None, "CO-16")],
        "denied",
    ),
    (
        "CO-16 is a denial even beside a contract reduction",
        {"claim_codes": (("CO-45", "20"), ("CO-16", "80"))},
        [("claim", None, "CO-16")],
        "denied",
    ),
    (
        "CLP02=4 with only a contract code still denies",
        {"status": "4", "claim_codes": (("CO-45", "100"),)},
        [("claim", None, "CO-45")],
        "denied",
    ),
    ("CLP02=4 without any CAS", {"status": "4"}, [("claim", None, "OA-A1")], "denied"),
    (
        "reversal produces no denials",
        {"status": "22", "paid": "-50", "claim_codes": (("CR-16", "100"),)},
        [],
        "reversed",
    ),
    (
        "a zero or negative CAS denies no money",
        {"paid": "100", "claim_codes": (("CO-16", "0"), ("CO-97", "-10"))},
        [],
        "paid",
    ),
    (
        "PR with a non-share reason is a denial routed to the patient",
        {"patient_resp": "100", "claim_codes": (("PR-204", "100"),)},
        [("claim", None, "PR-204")],
        "denied",
    ),
]


@pytest.mark.parametrize(
    ("case", "spec", "expected", "outcome"), CLAIM_CASES, ids=[c[0] for c in CLAIM_CASES]
)
def test_claim_level_detection(make_payment, case, spec, expected, outcome):
    pay = make_payment(**spec)
    found = detect_denials(pay, attempt=1)
    assert [(f.level, f.line_index, f"{f.group}-{f.carc}") for f in found] == expected, case
    assert claim_outcome(pay) == outcome


def test_line_level_partial_denial(make_payment, make_line):
    pay = make_payment(
        charge="210",
        paid="100",
        lines=(
            make_line("99214", "150", "100", ("CO-45", "50")),
            make_line("93000", "60", "0", ("CO-97", "60"), remarks=("M15",)),
        ),
    )
    [denial] = detect_denials(pay, attempt=2)
    assert (denial.level, denial.line_index, denial.procedure) == ("line", 1, "93000")
    assert (denial.group, denial.carc, denial.rarcs) == ("CO", "97", ["M15"])
    assert denial.amount == Decimal("60")
    assert denial.attempt == 2
    assert denial.payer_claim_control_number == "PAYER-CCN-9"
    assert "nothing paid on the line" in denial.reasoning
    assert claim_outcome(pay) == "partially_paid"


def test_line_level_medical_necessity_and_claim_remarks(make_payment, make_line):
    pay = make_payment(
        charge="210",
        paid="150",
        remarks=("MA130",),
        lines=(
            make_line("99214", "150", "150"),
            make_line("93000", "60", "0", ("CO-50", "60"), remarks=("N115",)),
        ),
    )
    [denial] = detect_denials(pay, attempt=1)
    assert denial.rarcs == ["N115", "MA130"]  # line remarks first, then the claim's
    assert denial.codes == "CO-50/N115/MA130"


def test_denied_claim_with_line_reasons(make_payment, make_line):
    pay = make_payment(
        status="4",
        charge="210",
        lines=(
            make_line("99214", "150", "0", ("CO-16", "150"), remarks=("N290",)),
            make_line("93000", "60", "0", ("CO-16", "60"), remarks=("N290",)),
        ),
    )
    found = detect_denials(pay, attempt=1)
    assert [(f.level, f.line_index, f.rarcs) for f in found] == [
        ("line", 0, ["N290"]),
        ("line", 1, ["N290"]),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"claim_codes": (("XX-16", "10"),)}, "unknown adjustment group 'XX'"),
        ({"claim_codes": (("CO-16A7", "10"),)}, "malformed reason code"),
        ({"remarks": ("ZZ9",)}, "malformed remark code 'ZZ9'"),
    ],
)
def test_bad_input_says_what_and_where(make_payment, spec, message):
    with pytest.raises(DenialInputError, match=message) as err:
        detect_denials(make_payment(**spec), attempt=1)
    assert "claim PCN1" in str(err.value)


def test_bad_line_input_names_the_line(make_payment, make_line):
    pay = make_payment(lines=(make_line("93000", "60", "0", ("CO-97", "60"), remarks=("bad",)),))
    with pytest.raises(DenialInputError, match=r"line 1 \(93000\)"):
        detect_denials(pay, attempt=1)


def test_attempt_must_be_positive(make_payment):
    with pytest.raises(DenialInputError, match="attempt"):
        detect_denials(make_payment(), attempt=0)


@pytest.mark.parametrize(
    ("group", "carc", "is_denial"),
    [
        ("CO", "45", False),
        ("PR", "1", False),
        ("OA", "23", False),
        ("CO", "253", False),
        ("OA", "96", True),
        ("CO", "16", True),
        ("CO", "999", True),
        ("CR", "18", False),
    ],
)
def test_judge_adjustment(group, carc, is_denial):
    verdict = judge_adjustment(group, carc)
    assert verdict.is_denial is is_denial
    assert f"{group}-{carc}" in verdict.reasoning
