"""Edits on the people and organisations on the claim: provider NPIs, tax id, member id."""

from __future__ import annotations

from collections.abc import Iterator

from reclaim.claims.schemas import ClaimDocument
from reclaim.scrub.models import Issue, ScrubContext, error, warning
from reclaim.scrub.registry import rule


def npi_is_valid(npi: str) -> bool:
    """10 digits, the first 1 or 2, the last a Luhn check digit computed over 80840 followed by
    the first nine (the NPI's ISO card-issuer prefix)."""
    if len(npi) != 10 or not npi.isdigit() or npi[0] not in "12":
        return False
    return _luhn_check_digit("80840" + npi[:9]) == int(npi[9])


def _luhn_check_digit(payload: str) -> int:
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:  # doubled: the check digit will take the rightmost place
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return (10 - total % 10) % 10


def _npi_problem(npi: str) -> str | None:
    if len(npi) != 10 or not npi.isdigit():
        return f"NPI {npi!r} must be exactly 10 digits."
    if npi[0] not in "12":
        return f"NPI {npi} must start with 1 or 2."
    if not npi_is_valid(npi):
        return f"NPI {npi} fails its check digit: a digit is mistyped. Check it in NPPES."
    return None


@rule("npi")
def npi(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    providers = {
        "billing_provider": doc.billing_provider,
        "rendering_provider": doc.rendering_provider,
        "referring_provider": doc.referring_provider,
    }
    for path, provider in providers.items():
        if provider is not None and (problem := _npi_problem(provider.npi)) is not None:
            yield error(f"{path}.npi", problem)


@rule("provider_directory")
def provider_directory(doc: ClaimDocument, ctx: ScrubContext) -> Iterator[Issue]:
    """The billing and rendering NPIs are the practice's, active on the date of service, and the
    rendering provider bills under the claim's billing NPI (the directory at /admin/providers)."""
    if ctx.directory is None:
        return
    day = doc.service_date
    billing_npi = doc.billing_provider.npi
    parties = [("billing_provider", billing_npi)]
    if doc.rendering_provider is not None:
        parties.append(("rendering_provider", doc.rendering_provider.npi))
    for path, npi in parties:
        entry = ctx.directory(npi)
        if entry is None:
            yield warning(f"{path}.npi", f"NPI {npi} is not in the practice's provider directory: "
                                         "check the NPI, or add the provider at /admin/providers.")
            continue
        if (entry.active_from and day < entry.active_from) or (
                entry.active_to and day > entry.active_to):
            since = f"from {entry.active_from}" if entry.active_from else ""
            until = f"until {entry.active_to}" if entry.active_to else ""
            yield error(f"{path}.npi",
                        f"{entry.name} (NPI {npi}) is not active on the date of service {day} "
                        f"(active {' '.join(p for p in (since, until) if p)}): bill the provider "
                        "who saw the patient, or correct the directory's dates.")
        if path == "rendering_provider" and entry.billing_npi and entry.billing_npi != billing_npi:
            yield error(f"{path}.npi",
                        f"{entry.name} (NPI {npi}) bills under NPI {entry.billing_npi}, not the "
                        f"claim's billing NPI {billing_npi}.")


@rule("tax_id")
def tax_id(doc: ClaimDocument, _ctx: ScrubContext) -> Iterator[Issue]:
    value = doc.billing_provider.tax_id
    if not (len(value) == 9 and value.isdigit()):
        yield error(
            "billing_provider.tax_id",
            f"Tax id {value!r} must be the 9 digits of the EIN (or SSN), without dashes or spaces.",
        )


@rule("member_id")
def member_id(doc: ClaimDocument, ctx: ScrubContext) -> Iterator[Issue]:
    value = doc.patient.member_id
    if not ctx.payer.member_id_regex.fullmatch(value):
        yield error(
            "patient.member_id",
            f"Member id {value!r} does not look like a {ctx.payer.name} member id "
            f"({ctx.payer.member_id_hint}): copy it from the patient's insurance card.",
        )
