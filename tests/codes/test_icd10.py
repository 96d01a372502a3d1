"""ICD-10-CM lookups over the installed release, and the sex/age table."""

from __future__ import annotations

from datetime import date

import pytest

from reclaim.codes import icd10

IN_WINDOW = date(2026, 6, 1)
AFTER_WINDOW = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("code", "valid", "billable", "category", "manifestation", "external_cause"),
    [
        ("E11.9", True, True, "E11", False, False),
        ("E119", True, True, "E11", False, False),
        ("e11.9", True, True, "E11", False, False),
        ("E11", True, False, "E11", False, False),
        ("I10", True, True, "I10", False, False),
        ("S52.521", True, False, "S52", False, False),
        ("S52.521A", True, True, "S52", False, False),
        ("G63", True, True, "G63", True, False),
        ("M14.60", True, True, "M14", True, False),
        ("V00.01XA", True, True, "V00", False, True),
        ("Y92.009", True, True, "Y92", False, True),
        ("E11.99", False, False, None, False, False),
        ("E08-E13", False, False, None, False, False),
        ("11042", False, False, None, False, False),
        ("", False, False, None, False, False),
    ],
)
def test_lookup(
    code: str,
    valid: bool,
    billable: bool,
    category: str | None,
    manifestation: bool,
    external_cause: bool,
) -> None:
    found = icd10.lookup(code)
    assert icd10.is_valid(code) is valid
    assert icd10.category(code) == category
    assert (found is not None and found.billable) is billable
    assert (found is not None and found.manifestation) is manifestation
    assert (found is not None and found.external_cause) is external_cause


def test_description_for_the_ui() -> None:
    assert icd10.description("E11.9") == "Type 2 diabetes mellitus without complications"
    assert icd10.description("E11.99") is None


@pytest.mark.parametrize(
    ("code", "suggestion"),
    [("E11", "E11.9"), ("I25", "I25.9"), ("S52.521", "S52.521A"), ("E11.9", None), ("X", None)],
)
def test_suggest_billable(code: str, suggestion: str | None) -> None:
    assert icd10.suggest_billable(code) == suggestion


@pytest.mark.parametrize(
    ("code", "on", "expected"),
    [
        ("E11.9", IN_WINDOW, True),
        ("E11", IN_WINDOW, False),
        ("E11.99", IN_WINDOW, False),
        # Outside the release's window only a code with children has a certain answer.
        ("E11", AFTER_WINDOW, False),
        ("E11.9", AFTER_WINDOW, None),
        ("E11.99", AFTER_WINDOW, None),
        ("E11.9", date(2025, 1, 1), None),
    ],
)
def test_billable_on_the_date_of_service(code: str, on: date, expected: bool | None) -> None:
    assert icd10.is_billable(code, on=on) is expected


def test_release_window() -> None:
    release = icd10.release()
    assert release.name == "ICD-10-CM April 2026"
    assert release.covers(date(2026, 4, 1))
    assert release.covers(date(2026, 9, 30))
    assert not release.covers(date(2026, 10, 1))


@pytest.mark.parametrize(
    ("code", "sex", "ages"),
    [
        ("O09.00", "F", (12, 55)),
        ("O9A.111", "F", (12, 55)),
        ("Z3A.20", "F", (12, 55)),
        ("N40.0", "M", (None, None)),
        ("C61", "M", (None, None)),
        ("Z85.46", "M", (None, None)),
        ("N80.00", "F", (None, None)),
        ("P07.01", None, (0, 0)),
        ("Z00.121", None, (0, 17)),
        ("Z00.00", None, (15, 124)),
    ],
)
def test_sex_and_age_table(code: str, sex: str | None, ages: tuple[int | None, ...]) -> None:
    found = icd10.lookup(code)
    assert found is not None
    (limit,) = found.restrictions
    assert (limit.sex, limit.min_age, limit.max_age) == (sex, *ages)


@pytest.mark.parametrize("code", ["E11.9", "I10", "Z00.8", "N39.0", "Z84.82"])
def test_codes_without_limits(code: str) -> None:
    found = icd10.lookup(code)
    assert found is not None
    assert found.restrictions == ()


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(1960, 4, 2), date(2026, 4, 1), 65),
        (date(1960, 4, 2), date(2026, 4, 2), 66),
        (date(2026, 11, 1), date(2026, 11, 2), 0),
        (date(2026, 11, 3), date(2026, 11, 2), -1),
    ],
)
def test_age_on(born: date, on: date, age: int) -> None:
    assert icd10.age_on(born, on) == age
