"""CPT and HCPCS formats, modifiers, places of service."""

from __future__ import annotations

from pathlib import Path

import pytest

from reclaim.codes import cpt, hcpcs, modifiers, pos


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("99214", "I"),
        ("0001A", "I"),
        ("1234F", "II"),
        ("0042T", "III"),
        ("0001U", "PLA"),
        ("0002M", "MAAA"),
        ("9921", None),
        ("992145", None),
        ("J1100", None),
        ("0042X", None),
        ("ABCDE", None),
    ],
)
def test_cpt_format(code: str, category: str | None) -> None:
    assert cpt.category(code) == category
    assert cpt.is_cpt(code) is (category is not None)


@pytest.mark.parametrize(
    ("code", "visit", "procedure", "lab"),
    [
        ("99214", True, False, False),
        ("99499", True, False, False),
        ("11042", False, True, False),
        ("97597", False, True, False),
        ("96372", False, True, False),
        ("97110", False, False, False),
        ("80053", False, False, True),
        ("0001U", False, False, True),
        ("J1100", False, False, False),
    ],
)
def test_cpt_kinds(code: str, visit: bool, procedure: bool, lab: bool) -> None:
    assert cpt.is_evaluation_and_management(code) is visit
    assert cpt.is_procedure(code) is procedure
    assert cpt.is_lab(code) is lab


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("J1100", True),
        ("E0110", True),
        ("G0439", True),
        ("V2020", True),
        ("W1234", False),
        ("J110", False),
        ("j1100", False),
        ("99214", False),
    ],
)
def test_hcpcs_format(code: str, valid: bool) -> None:
    assert hcpcs.is_hcpcs(code) is valid


def test_common_hcpcs_list_is_partial() -> None:
    common = hcpcs.common_codes()
    assert common.knows("J1100") is True
    assert common.label("G0439") == "annual wellness visit (subsequent)"
    assert common.knows("J9999") is None


def test_a_full_hcpcs_file_in_cms_fixed_width_layout(tmp_path: Path) -> None:
    record = (
        "J1100" + "00100" + "3" + "Injection dexamethasone long".ljust(80) + "Dexamethasone inj"
    )
    path = tmp_path / "HCPC2026.txt"
    path.write_text(f"HCPCS 2026 ALPHA NUMERIC FILE\n{record}\n")
    full = hcpcs.load_file(path)
    assert full.label("J1100") == "Dexamethasone inj"
    assert full.knows("J9999") is False


def test_a_full_hcpcs_file_as_csv(tmp_path: Path) -> None:
    path = tmp_path / "hcpcs.csv"
    path.write_text('code,short\nE0110,"Crutch forearm, pair"\n')
    assert hcpcs.load_file(path).label("E0110") == "Crutch forearm, pair"


def test_a_file_without_codes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("nothing here\n")
    with pytest.raises(ValueError, match="no HCPCS code"):
        hcpcs.load_file(path)


ISSUE_MODIFIERS = [
    "25",
    "59",
    "XE",
    "XS",
    "XP",
    "XU",
    "26",
    "TC",
    "LT",
    "RT",
    "50",
    "76",
    "77",
    "91",
    "GT",
    "95",
    "GA",
    "GY",
    "GZ",
    "KX",
    "QW",
]


@pytest.mark.parametrize("code", ISSUE_MODIFIERS)
def test_the_issues_modifiers_have_labels(code: str) -> None:
    assert modifiers.label(code)


@pytest.mark.parametrize(
    ("code", "ncci", "anatomic"),
    [
        ("59", True, False),
        ("XS", True, False),
        ("25", True, False),
        ("91", True, False),
        ("RT", False, True),
        ("F5", False, True),
        ("26", False, False),
        ("ZZ", False, False),
    ],
)
def test_modifier_kinds(code: str, ncci: bool, anatomic: bool) -> None:
    assert modifiers.separates_ncci_pair(code) is ncci
    assert modifiers.is_anatomic(code) is anatomic


@pytest.mark.parametrize(("code", "ok"), [("25", True), ("XS", True), ("2", False), ("X-", False)])
def test_modifier_shape(code: str, ok: bool) -> None:
    assert modifiers.is_well_formed(code) is ok


@pytest.mark.parametrize(
    ("code", "facility"),
    [
        ("11", False),
        ("02", True),
        ("10", False),
        ("21", True),
        ("22", True),
        ("23", True),
        ("24", True),
        ("31", True),
        ("32", False),
        ("12", False),
        ("81", False),
    ],
)
def test_place_of_service_facility(code: str, facility: bool) -> None:
    assert pos.is_valid(code)
    assert pos.is_facility(code) is facility


def test_unknown_place_of_service() -> None:
    assert pos.lookup("00") is None
    with pytest.raises(ValueError, match="unknown place of service '00'"):
        pos.is_facility("00")


@pytest.mark.parametrize(
    ("procedure", "place", "allowed"),
    [
        ("99214", "11", True),
        ("99214", "21", False),
        ("99223", "21", True),
        ("99284", "23", True),
        ("99284", "11", False),
        ("A0427", "41", True),
        ("11042", "21", None),
    ],
)
def test_procedure_places(procedure: str, place: str, allowed: bool | None) -> None:
    rule = pos.rule_for(procedure)
    assert (None if rule is None else place in rule.allowed) == allowed
