"""ICD-10-CM edits: each code valid and billable on the date of service, fitting the patient's
sex and age, and a first-listed diagnosis that may be listed first."""

from __future__ import annotations

from collections.abc import Iterator

from reclaim.claims.schemas import ClaimDocument
from reclaim.codes import icd10
from reclaim.codes.icd10 import IcdCode
from reclaim.scrub.models import Issue, ScrubContext, error, warning
from reclaim.scrub.registry import rule

_SEX_WORDS = {"F": "female", "M": "male"}


def _known(doc: ClaimDocument) -> Iterator[tuple[int, IcdCode]]:
    for i, code in enumerate(doc.diagnoses):
        found = icd10.lookup(code)
        if found is not None:
            yield i, found


@rule("icd10_valid")
def icd10_valid(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    for i, code in enumerate(doc.diagnoses):
        problem = _validity_problem(code, doc)
        if problem is not None:
            yield problem._replace(field=f"diagnoses[{i}]")


def _validity_problem(code: str, doc: ClaimDocument) -> Issue | None:
    release = icd10.release()
    if not icd10.is_well_formed(code):
        return error(
            "",
            f"{code!r} is not an ICD-10-CM code: codes are a letter, 2 characters, a dot and "
            "up to 4 more (E11.9, S52.521A).",
        )
    billable = icd10.is_billable(code, on=doc.service_date)
    found = icd10.lookup(code)
    if billable or (found is not None and found.billable):
        return None  # a leaf of the installed release; `is_billable` explains the None case
    if found is not None:
        suggestion = icd10.suggest_billable(code)
        choose = f"choose {suggestion} or a more specific code" if suggestion else "add characters"
        return error("", f"{found.code} is a {found.kind}, not a billable code: {choose}.")
    # A later release may add codes under a known category; new categories are rare.
    if billable is None and icd10.lookup(icd10.normalise(code)[:3]) is not None:
        return warning(
            "",
            f"{code} is not in the {release.name} code set (dates of service "
            f"{release.effective_from} to {release.effective_through}); if it is new for "
            f"{doc.service_date}, install the newer release, otherwise correct it.",
        )
    return error("", f"{code} is not an ICD-10-CM code in the {release.name} code set: check it.")


@rule("icd10_sex")
def icd10_sex(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    sex = doc.patient.sex
    if sex == "U":
        return
    for i, found in _known(doc):
        for limit in found.restrictions:
            if limit.sex is not None and limit.sex != sex:
                yield error(
                    f"diagnoses[{i}]",
                    f"{found.code} ({limit.label}) is for {_SEX_WORDS[limit.sex]} patients "
                    f"only, but the patient is recorded as {_SEX_WORDS[sex]}: check the "
                    "diagnosis or the patient's sex.",
                )


@rule("icd10_age")
def icd10_age(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    age = icd10.age_on(doc.patient.birth_date, doc.service_date)
    if age < 0:
        return  # the birth_date rule reports it
    for i, found in _known(doc):
        for limit in found.restrictions:
            low = limit.min_age if limit.min_age is not None else 0
            high = limit.max_age if limit.max_age is not None else 124
            if not low <= age <= high:
                ages = "newborns (age 0)" if high == 0 else f"patients aged {low} to {high}"
                yield error(
                    f"diagnoses[{i}]",
                    f"{found.code} ({limit.label}) is for {ages}, but the patient was "
                    f"{age} on the date of service: check the diagnosis or the birth date.",
                )


@rule("first_diagnosis")
def first_diagnosis(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    if not doc.diagnoses:
        return
    found = icd10.lookup(doc.diagnoses[0])
    if found is None:
        return
    if found.manifestation:
        yield error(
            "diagnoses[0]",
            f"{found.code} ({found.description}) describes a manifestation of another disease and "
            "cannot be listed first: list the underlying disease first, then this code.",
        )
    elif found.external_cause:
        yield error(
            "diagnoses[0]",
            f"{found.code} is an external-cause code (V00-Y99), which tells how an injury happened "
            "and cannot be listed first: list the injury or condition first, then this code.",
        )


@rule("duplicate_diagnosis")
def duplicate_diagnosis(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    seen: dict[str, int] = {}
    for i, code in enumerate(doc.diagnoses):
        key = icd10.normalise(code)
        if key in seen:
            yield warning(
                f"diagnoses[{i}]",
                f"{code} is listed twice (also diagnosis {seen[key] + 1}): remove the repeat and "
                "point the lines at the first one.",
            )
        else:
            seen[key] = i
