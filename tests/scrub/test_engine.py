"""The scrubber as a whole: the DESIGN.md claim and its three broken variants, payer rule sets."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reclaim.claims.schemas import ClaimDocument
from reclaim.codes.ncci import InMemoryCodeEdits
from reclaim.scrub import (
    RULES,
    ScrubContext,
    has_errors,
    known_payers,
    load_payer_rules,
    scrub,
)
from tests.scrub.factories import TODAY, claim, run


def test_design_claim_scrubs_clean() -> None:
    assert run(claim()) == []


def test_design_claim_scrubs_clean_on_its_service_date() -> None:
    assert run(claim(), today=date(2026, 11, 2)) == []


def _errors(changes: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f.field, f.message) for f in run(claim(changes)) if f.severity == "error"]


def test_category_code_instead_of_leaf() -> None:
    assert _errors({"diagnoses[0]": "E11"}) == [
        (
            "diagnoses[0]",
            "E11 is a category, not a billable code: choose E11.9 or a more specific code.",
        )
    ]


def test_bad_npi() -> None:
    ((field, message),) = _errors({"billing_provider.npi": "1234567894"})
    assert field == "billing_provider.npi"
    assert "check digit" in message


def test_visit_and_procedure_without_modifier_25() -> None:
    changes = {
        "lines[0].modifiers": [],
        "lines[1]": {"procedure": "11042", "charge": "220.00", "diagnosis_pointers": [1]},
    }
    errors = _errors(changes)
    assert {field for field, _ in errors} == {"lines[0].modifiers"}
    assert any("add modifier 25 to 99214" in message for _, message in errors)
    fixed = {**changes, "lines[0].modifiers": ["25"]}
    assert _errors(fixed) == []


def test_findings_follow_the_payers_edit_order() -> None:
    doc = claim({"diagnoses[0]": "E11", "billing_provider.npi": "1234567890"})
    order = list(load_payer_rules("SANDBOX").edits)
    rules = [f.rule for f in run(doc)]
    assert rules == sorted(rules, key=order.index) == ["npi", "icd10_valid"]


def test_has_errors_ignores_warnings() -> None:
    warnings = run(claim({"diagnoses": ["E11.9", "E11.9"]}))
    assert warnings
    assert not has_errors(warnings)
    assert has_errors(run(claim({"diagnoses[0]": "E11"})))


def test_unknown_payer_gets_the_default_rules() -> None:
    rules = load_payer_rules("SOMEONE-ELSE")
    assert rules.payer_id == "SOMEONE-ELSE"
    assert rules.timely_filing_days == 90
    assert set(rules.edits) == set(RULES)


def test_sandbox_rules_match_the_design() -> None:
    sandbox = load_payer_rules("SANDBOX")
    assert (sandbox.timely_filing_days, sandbox.max_attempts) == (365, 3)
    assert {"SANDBOX", "ACMEHEALTH", "MCAREDEMO"} <= set(known_payers())


def test_warn_only_demotes_a_payers_errors() -> None:
    doc = claim(
        {
            "payer_id": "ACMEHEALTH",
            "lines[1]": {"procedure": "11042", "units": 3, "charge": "1", "modifiers": ["25"]},
        }
    )
    mue = [f for f in run(doc) if f.rule == "mue"]
    assert [f.severity for f in mue] == ["warning"]


def test_a_managers_file_can_skip_edits(tmp_path: Path) -> None:
    path = tmp_path / "payers.toml"
    path.write_text(
        "[default]\nname = 'x'\ntimely_filing_days = 30\nmax_attempts = 1\n"
        "member_id_pattern = '.+'\nmember_id_hint = 'any'\nedits = ['npi', 'icd10_valid']\n"
        "[payers.P]\nname = 'P'\nskip_edits = ['npi']\n"
    )
    rules = load_payer_rules("P", path=path)
    assert rules.edits == ("icd10_valid",)
    document = ClaimDocument.model_validate(claim({"billing_provider.npi": "1", "payer_id": "P"}))
    ctx = ScrubContext(payer=rules, today=TODAY, edits=InMemoryCodeEdits())
    assert scrub(document, ctx=ctx) == []


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[payers.P]\nname = 'P'\n", "[default] section is required"),
        ("[default]\nedits = ['npi', 'no_such_edit']\n", "unknown edits ['no_such_edit']"),
    ],
)
def test_a_bad_payer_file_says_what_is_wrong(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "payers.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        load_payer_rules("P", path=path)


def test_a_bad_member_id_pattern_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "payers.toml"
    path.write_text(
        "[default]\nname = 'x'\ntimely_filing_days = 30\nmax_attempts = 1\n"
        "member_id_pattern = '[A-'\nmember_id_hint = 'any'\nedits = ['npi']\n"
    )
    with pytest.raises(ValueError, match="member_id_pattern"):
        load_payer_rules("P", path=path)
