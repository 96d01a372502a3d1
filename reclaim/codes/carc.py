"""Claim adjustment reason codes (CARC), remittance remark codes (RARC) and group codes.

The official code texts are X12/CMS publications under copyright, so only the codes ship here,
each with a short label in our own words and a category that denial detection and routing use.
The list covers the codes payers send most often, not the whole publication; an unknown but
well-formed code is described as such rather than refused, because payers add codes every quarter.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

GroupCode = Literal["CO", "PR", "OA", "PI", "CR"]

CarcCategory = Literal[
    "patient_share",
    "contractual",
    "coding",
    "bundling",
    "units",
    "data_missing",
    "eligibility",
    "coordination",
    "authorization",
    "medical_necessity",
    "non_covered",
    "duplicate",
    "timely_filing",
    "documentation",
    "provider",
    "denied",
]

# Categories that settle a claim rather than deny it: the payer paid what it owes.
SETTLING_CATEGORIES: frozenset[str] = frozenset({"patient_share", "contractual"})

GROUP_LABELS: dict[str, str] = {
    "CO": "contractual: the provider absorbs it",
    "PR": "patient responsibility",
    "OA": "other adjustment",
    "PI": "payer-initiated reduction",
    "CR": "correction or reversal of an earlier claim",
}

CARC_PATTERN = re.compile(r"^(\d{1,3}|[A-Z]\d{1,2})$")
RARC_PATTERN = re.compile(r"^(MA\d{2,3}|M\d{1,3}|N\d{1,4})$")


class CarcCode(BaseModel):
    code: str
    label: str
    category: CarcCategory


class RarcCode(BaseModel):
    code: str
    label: str
    # The claim-document field the remark says is missing or wrong, when it names one.
    field: str | None = None


def _carcs(category: CarcCategory, rows: dict[str, str]) -> dict[str, CarcCode]:
    return {
        code: CarcCode(code=code, label=label, category=category) for code, label in rows.items()
    }


CARCS: dict[str, CarcCode] = {
    **_carcs(
        "patient_share",
        {
            "1": "deductible the patient owes",
            "2": "coinsurance the patient owes",
            "3": "copay the patient owes",
            "66": "blood deductible the patient owes",
            "241": "low-income subsidy copay",
            "247": "deductible on a professional service billed by a facility",
            "248": "coinsurance on a professional service billed by a facility",
        },
    ),
    **_carcs(
        "contractual",
        {
            "23": "already accounted for by what an earlier payer paid or adjusted",
            "24": "covered by a capitation or managed-care agreement",
            "45": "billed above the contracted or allowed amount",
            "59": "reduced under the multiple or concurrent procedure rules",
            "94": "paid beyond the billed amount",
            "104": "managed-care withhold",
            "105": "tax withheld",
            "131": "discount negotiated for this claim",
            "144": "incentive adjustment",
            "223": "adjustment required by law or regulation",
            "237": "penalty set by law or regulation",
            "253": "sequestration cut to federal payments",
        },
    ),
    **_carcs(
        "coding",
        {
            "4": "modifier missing or does not fit the procedure",
            "5": "procedure or bill type does not fit the place of service",
            "6": "procedure does not fit the patient's age",
            "7": "procedure does not fit the patient's sex",
            "8": "procedure does not fit the provider's type or specialty",
            "9": "diagnosis does not fit the patient's age",
            "10": "diagnosis does not fit the patient's sex",
            "11": "diagnosis does not support the procedure",
            "12": "diagnosis does not fit the provider's type",
            "146": "diagnosis code not valid on the date of service",
            "181": "procedure code not valid on the date of service",
            "182": "modifier not valid on the date of service",
            "189": "unlisted code billed where a specific code exists",
            "199": "revenue code and procedure code do not go together",
            "282": "procedure or revenue code does not fit the bill type",
        },
    ),
    **_carcs(
        "bundling",
        {
            "97": "paid as part of another service already adjudicated",
            "231": "procedures that exclude each other on the same day",
            "234": "not paid separately from the main procedure",
            "236": "procedure or modifier pair not allowed together (NCCI)",
            "B15": "needs a qualifying procedure billed with it",
        },
    ),
    **_carcs(
        "units",
        {
            "151": "more services or units than the payer accepts for this period",
            "119": "benefit maximum for the period reached",
            "35": "lifetime benefit maximum reached",
            "222": "contracted maximum hours, days or units exceeded",
        },
    ),
    **_carcs(
        "data_missing",
        {
            "16": "claim lacks information or has a billing error",
            "125": "submission or billing error",
            "140": "member id and patient name do not match",
            "206": "NPI missing",
            "207": "NPI in an invalid format",
            "208": "NPI does not match the payer's records",
            "A1": "claim or service denied (no further reason given)",
        },
    ),
    **_carcs(
        "eligibility",
        {
            "26": "service before coverage began",
            "27": "service after coverage ended",
            "31": "payer cannot identify the patient as its member",
            "32": "patient is not an eligible dependent",
            "33": "subscriber has no dependent coverage",
            "177": "patient did not meet eligibility requirements",
            "200": "service during a lapse in coverage",
            "204": "service not covered by the patient's current plan",
        },
    ),
    **_carcs(
        "coordination",
        {
            "19": "work injury: bill workers' compensation",
            "20": "injury covered by a liability carrier",
            "21": "injury covered by a no-fault carrier",
            "22": "another payer may be primary (coordination of benefits)",
            "109": "not this payer's claim: send to the right payer",
            "136": "prior payer's coverage rules were not followed",
            "B11": "claim forwarded to the right payer",
        },
    ),
    **_carcs(
        "authorization",
        {
            "15": "authorization number missing, invalid or for other services",
            "39": "authorization was denied when requested",
            "197": "prior authorization or notification missing",
            "198": "authorized amount or visits exceeded",
            "242": "service not from a network or primary-care provider",
            "243": "service not authorized by the network or primary-care provider",
            "284": "authorization number does not apply to the billed services",
            "288": "referral missing",
        },
    ),
    **_carcs(
        "medical_necessity",
        {
            "50": "payer does not consider it medically necessary",
            "55": "payer considers the procedure experimental",
            "56": "payer considers the procedure unproven",
            "150": "documentation does not support this level of service",
            "152": "documentation does not support this length of service",
            "167": "diagnosis not covered",
            "B22": "payment decided by the diagnosis",
        },
    ),
    **_carcs(
        "non_covered",
        {
            "49": "routine or preventive service not covered",
            "58": "service given in a place of service the payer will not pay",
            "96": "charge not covered",
            "B1": "visits not covered",
            "170": "not payable when billed by this provider type",
        },
    ),
    **_carcs(
        "duplicate",
        {
            "18": "exact duplicate of a claim or service already processed",
            "B13": "paid earlier on another claim",
        },
    ),
    **_carcs(
        "timely_filing",
        {
            "29": "filing deadline passed",
            "B4": "late-filing penalty",
        },
    ),
    **_carcs(
        "documentation",
        {
            "112": "service not documented or not given directly to the patient",
            "163": "attachment referenced on the claim not received",
            "164": "attachment not received in time",
            "226": "information the payer asked the provider for is missing or late",
            "227": "information the payer asked the patient for is missing",
            "250": "wrong attachment received",
            "251": "attachment received but incomplete",
            "252": "an attachment is needed to process the claim",
            "B12": "service not in the medical record",
        },
    ),
    **_carcs(
        "provider",
        {
            "185": "rendering provider not eligible to perform the service",
            "183": "referring provider not eligible to refer the service",
            "184": "ordering provider not eligible to order the service",
            "B7": "provider not certified for this service on this date",
        },
    ),
}


def _rarcs(rows: dict[str, str], *, field: str | None = None) -> dict[str, RarcCode]:
    return {code: RarcCode(code=code, label=label, field=field) for code, label in rows.items()}


RARCS: dict[str, RarcCode] = {
    **_rarcs({"N290": "rendering provider NPI missing or invalid"}, field="rendering_provider"),
    **_rarcs({"M77": "place of service missing, invalid or wrong"}, field="place_of_service"),
    **_rarcs(
        {
            "N285": "referring provider name missing or invalid",
            "N286": "referring provider NPI missing or invalid",
        },
        field="referring_provider",
    ),
    **_rarcs(
        {
            "N264": "ordering provider name missing or invalid",
            "N265": "ordering provider NPI missing or invalid",
        },
        field="ordering_provider",
    ),
    **_rarcs({"MA120": "CLIA certificate number missing or invalid"}, field="clia_number"),
    **_rarcs({"M76": "diagnosis missing, invalid or incomplete"}, field="diagnoses"),
    **_rarcs({"MA63": "principal diagnosis missing or invalid"}, field="diagnoses"),
    **_rarcs(
        {
            "M51": "procedure code missing or invalid",
            "M20": "HCPCS code missing or invalid",
            "N56": "procedure code wrong for the service or date",
        },
        field="lines.procedure",
    ),
    **_rarcs({"M53": "days or units missing or invalid"}, field="lines.units"),
    **_rarcs({"M79": "line charge missing or invalid"}, field="lines.charge"),
    **_rarcs({"M62": "authorization number missing or invalid"}, field="prior_authorization"),
    **_rarcs(
        {
            "N382": "patient identifier missing or invalid",
            "MA27": "member name or id on the claim does not match",
            "MA61": "patient's SSN or Medicare number missing or invalid",
        },
        field="patient.member_id",
    ),
    **_rarcs({"N329": "patient birth date missing or invalid"}, field="patient.birth_date"),
    **_rarcs({"N257": "billing provider identifier missing or invalid"}, field="billing_provider"),
    **_rarcs(
        {
            "MA130": "claim cannot be processed: send a new claim with the data fixed",
            "N517": "send a new claim with the requested information",
            "M15": "separately billed services were bundled",
            "M80": "not paid on the same day as a service already processed",
            "M86": "same or similar service already paid in the period",
            "M81": "code to the highest level of specificity",
            "M25": "records do not support this level of service",
            "M127": "medical record for this service missing",
            "M119": "drug code (NDC) missing or invalid",
            "N19": "procedure is incidental to the main procedure",
            "N20": "not paid with the other service on the same date",
            "N525": "inside the global period of another service",
            "N362": "days or units above the payer's maximum",
            "N640": "more than allowed in the period",
            "N435": "more than allowed in the period without supporting documents",
            "N115": "decided under a Local Coverage Determination (LCD)",
            "N386": "decided under a National Coverage Determination (NCD)",
            "N425": "service excluded by statute",
            "N130": "see the plan's benefit rules for limits on this service",
            "N30": "patient not eligible for this service",
            "N216": "patient not enrolled for this kind of service",
            "MA04": "secondary claim needs the primary payer's details or payment",
            "N479": "primary payer's explanation of benefits missing",
            "N4": "prior payer's explanation of benefits missing or invalid",
            "MA92": "other insurance plan details missing",
            "MA83": "claim does not say whether this payer is primary or secondary",
            "N418": "sent to the wrong payer: see its submission instructions",
            "N104": "outside this payer's claims jurisdiction",
            "N54": "claim does not match the services authorized",
            "N102": "denied without review: requested records not received in time",
            "N179": "information requested from the member",
            "N706": "documentation missing",
            "N705": "documentation incomplete or invalid",
            "N350": "description missing for an unlisted or unclassified code",
            "N95": "provider type or specialty may not bill this service",
            "N122": "add-on code billed without its main procedure",
            "N117": "paid only once in a lifetime",
            "N519": "modifier combination not valid",
            "N657": "bill with the code meant for this service",
            "N522": "duplicate of a crossover claim",
            "N10": "adjusted after a review or consultant decision",
            "N381": "see the contract for billing and payment limits",
            "N1": "alert: this decision may be appealed within the time limit",
            "N211": "alert: this decision cannot be appealed",
            "MA01": "alert: appeal rights if you disagree with the amount",
            "MA13": "alert: bill the patient only for amounts marked PR",
            "MA18": "alert: claim forwarded to the supplemental insurer",
            "MA07": "alert: claim forwarded to Medicaid",
            "MA28": "alert: notice for information only (assignment not accepted)",
            "MA67": "correction to an earlier claim",
        }
    ),
}


def _check(code: str, pattern: re.Pattern[str], kind: str) -> str:
    cleaned = code.strip().upper()
    if not pattern.match(cleaned):
        raise ValueError(f"{code!r} is not a well-formed {kind} code")
    return cleaned


def carc_info(code: str) -> CarcCode | None:
    return CARCS.get(_check(code, CARC_PATTERN, "CARC"))


def rarc_info(code: str) -> RarcCode | None:
    return RARCS.get(_check(code, RARC_PATTERN, "RARC"))


def carc_category(code: str) -> CarcCategory:
    """Category of a CARC; an unknown code counts as a plain denial so a person looks at it."""
    info = carc_info(code)
    return info.category if info else "denied"


def describe_group(group: str) -> str:
    cleaned = group.strip().upper()
    if cleaned not in GROUP_LABELS:
        raise ValueError(f"{group!r} is not a claim adjustment group code (CO, PR, OA, PI, CR)")
    return GROUP_LABELS[cleaned]


def describe_carc(code: str) -> str:
    info = carc_info(code)
    return info.label if info else f"reason {code.strip().upper()} (no label on file)"


def describe_rarc(code: str) -> str:
    info = rarc_info(code)
    return info.label if info else f"remark {code.strip().upper()} (no label on file)"


def plain_denial(group: str, carc: str, rarcs: list[str] | tuple[str, ...] = ()) -> str:
    """One sentence a coder understands, e.g. for a work item or an email: the group is told
    by what it means for this reason (reclaim.codes.plain.group_meaning)."""
    from reclaim.codes.plain import group_meaning

    group_code = group.strip().upper()
    describe_group(group_code)
    sentence = f"{group_code}-{carc.strip().upper()} {describe_carc(carc)}"
    sentence += f" ({group_meaning(group_code, carc_category(carc))})"
    remarks = [f"{r.strip().upper()} {describe_rarc(r)}" for r in rarcs]
    if remarks:
        sentence += ". Remarks: " + "; ".join(remarks)
    return sentence + "."
