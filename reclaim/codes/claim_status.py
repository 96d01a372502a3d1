"""277CA claim status codes (STC01) in plain words: category, status and entity.

STC01 is `category:status[:entity]`, e.g. `A7:33:IL` (rejected for invalid information: the
subscriber and member id were not found; the entity is the insured). The code lists are the
X12 external code lists 507 (Health Care Claim Status Category Codes) and 508 (Health Care
Claim Status Codes), published by X12 at https://x12.org/codes (claim-status-category-codes and
claim-status-codes), with the entity identifier codes of the 005010X214 277CA guide (STC01-3,
element 98). The official texts are X12's; only the codes ship here, each with a label in our
own words, for the codes the sandbox payer and the public sample files use and the ones
clearinghouses send most often. An unknown but well-formed code is named, not refused.
"""

from __future__ import annotations

import re

# List 507, by category: A = acknowledgment, P = pending, F = finalized, R = request for more
# information, E = response not possible, D = data search unsuccessful.
CATEGORIES: dict[str, str] = {
    "A0": "forwarded to another entity",
    "A1": "received",
    "A2": "accepted into adjudication",
    "A3": "returned as unprocessable: correct it and send it again",
    "A4": "not found",
    "A5": "split into more than one claim",
    "A6": "rejected for missing information",
    "A7": "rejected for invalid information",
    "A8": "rejected: two fields disagree",
    "P0": "pending: adjudication details follow",
    "P1": "pending: in process",
    "P2": "pending: under payer review",
    "P3": "pending: waiting for information asked of the provider",
    "P4": "pending: waiting for information asked of the patient",
    "P5": "pending: held by the payer's administration or systems",
    "F0": "finalized: adjudication complete",
    "F1": "finalized: paid",
    "F2": "finalized: denied",
    "F3": "finalized: adjudication revised",
    "F3F": "finalized and forwarded to the next payer",
    "F3N": "finalized, not forwarded to another payer",
    "F4": "finalized: no payment will come",
    "R0": "more information requested: general",
    "R1": "more information requested about a person or provider",
    "R3": "more information requested about the claim or a line",
    "R4": "documentation requested (notes, certification, images)",
    "R5": "more detail requested than was sent",
    "R6": "information requested for a regulatory requirement",
    "R7": "asked to confirm the care fits the plan's coverage policy",
    "R8": "asked to confirm the care fits a coverage exception",
    "R9": "information requested to decide medical necessity",
    "R10": "information requested to support a grievance or appeal",
    "R11": "information requested for pre-payment review",
    "R12": "asked to justify the procedure code billed",
    "R13": "documents sent could not be read: send them again",
    "R14": "documents received were not the ones requested",
    "R15": "information requested to decide workers' compensation coverage",
    "R16": "information requested to decide eligibility",
    "E0": "no answer possible: error in the request",
    "E1": "no answer possible: the payer's system is unavailable",
    "E2": "no answer possible: the source of the information did not respond",
    "E3": "correction required: fields disagree",
    "E4": "trading-partner requirement not met",
    "D0": "the payer's search found nothing",
}

# List 508: the status codes clearinghouses and payers send most in a 277CA.
STATUSES: dict[str, str] = {
    "0": "no further status can be given electronically",
    "1": "details are in the remittance advice",
    "2": "details are in a letter",
    "3": "adjudicated, waiting for the payment cycle",
    "15": "one or more procedure codes were changed",
    "16": "forwarded to another entity",
    "19": "the entity acknowledges it received the claim",
    "20": "accepted for processing",
    "21": "information missing or invalid",
    "23": "returned to the entity",
    "24": "the entity is not approved to submit electronically",
    "25": "the entity is not approved",
    "26": "the entity was not found",
    "27": "the policy was cancelled",
    "28": "sent to the wrong payer",
    "29": "subscriber and policy number do not match",
    "30": "subscriber and member id do not match",
    "31": "subscriber and policyholder name do not match",
    "32": "subscriber and policy number not found",
    "33": "subscriber and member id not found",
    "34": "subscriber and policyholder name not found",
    "35": "claim not found",
    "54": "duplicate of a claim or line already processed",
    "65": "the claim or line was paid",
    "78": "duplicate of a claim waiting to be processed",
    "85": "the entity is not the primary payer",
    "88": "the entity is not eligible for benefits on those dates",
    "96": "no agreement with the entity",
    "97": "no eligibility found for the patient with the entity",
    "109": "the entity is not eligible",
    "116": "sent to the wrong payer",
    "122": "missing or invalid data stop the payer from processing it",
    "125": "the entity's name",
    "126": "the entity's address",
    "128": "the entity's tax id",
    "145": "the entity's specialty or taxonomy code",
    "153": "the entity's id number",
    "158": "the entity's date of birth",
    "157": "the entity's sex",
    "163": "the entity's policy number",
    "164": "the entity's contract or member number",
    "187": "the dates of service",
    "188": "the statement from-through dates",
    "189": "the facility admission date",
    "216": "the drug information",
    "218": "the NDC number",
    "228": "the type of bill",
    "247": "the line information",
    "249": "the place of service",
    "252": "the authorization or certification number",
    "254": "the principal diagnosis code",
    "255": "the diagnosis code",
    "317": "a paper copy of the claim was requested",
    "400": "the claim total does not equal the sum of its lines",
    "453": "the procedure code modifiers",
    "454": "the procedure code",
    "455": "the revenue code",
    "562": "the entity's National Provider Identifier (NPI)",
    "673": "the patient control number",
    "732": "the claim does not follow the billing guidelines",
}

# STC01-3: whom the status is about (entity identifier codes, element 98).
ENTITIES: dict[str, str] = {
    "03": "the dependent",
    "1P": "the provider",
    "40": "the receiver",
    "41": "the submitter",
    "71": "the attending provider",
    "72": "the operating provider",
    "77": "the service location",
    "82": "the rendering provider",
    "85": "the billing provider",
    "87": "the pay-to provider",
    "DK": "the ordering provider",
    "DN": "the referring provider",
    "DQ": "the supervising provider",
    "FA": "the facility",
    "IL": "the subscriber",
    "PR": "the payer",
    "QC": "the patient",
}

_CODE = re.compile(r"^[A-Z0-9]{1,5}$")


def _clean(code: str | None, what: str) -> str | None:
    if code is None or not code.strip():
        return None
    cleaned = code.strip().upper()
    if not _CODE.match(cleaned):
        raise ValueError(f"{code!r} is not a well-formed 277CA {what} code")
    return cleaned


def describe_category(code: str) -> str:
    cleaned = _clean(code, "status category")
    if cleaned is None:
        raise ValueError("a 277CA status category (STC01-1) is required")
    return CATEGORIES.get(cleaned, f"status category {cleaned} (no label on file)")


def describe_status(code: str) -> str:
    cleaned = _clean(code, "status")
    if cleaned is None:
        raise ValueError("a 277CA status code (STC01-2) is required")
    return STATUSES.get(cleaned, f"status {cleaned} (no label on file)")


def describe_entity(code: str) -> str:
    cleaned = _clean(code, "entity")
    assert cleaned is not None
    return ENTITIES.get(cleaned, f"entity {cleaned}")


def split_code(code: str) -> tuple[str, str | None, str | None]:
    """"A7:33:IL" -> ("A7", "33", "IL"); "A7" -> ("A7", None, None)."""
    parts = [p.strip() for p in code.split(":")]
    category = parts[0]
    status = parts[1] if len(parts) > 1 and parts[1] else None
    entity = parts[2] if len(parts) > 2 and parts[2] else None
    return category, status, entity


def short_code(category: str, status: str | None) -> str:
    """The code as a person reads it once: "A7:33", and "A7" when the status repeats the
    category or is missing (never "A7:A7")."""
    category = category.strip().upper()
    if not status or status.strip().upper() == category:
        return category
    return f"{category}:{status.strip().upper()}"


def status_words(category: str, status: str | None = None, entity: str | None = None) -> str:
    """The codes' meaning without the codes: "rejected for invalid information: subscriber and
    member id not found (the subscriber)"."""
    text = describe_category(category)
    if status and status.strip().upper() != category.strip().upper():
        text += ("; " if ":" in text else ": ") + describe_status(status)
    if entity:
        text += f" ({describe_entity(entity)})"
    return text


def plain_status(category: str, status: str | None = None, entity: str | None = None) -> str:
    """One sentence: "A7:33 rejected for invalid information: subscriber and member id not
    found."."""
    return f"{short_code(category, status)} {status_words(category, status, entity)}."


def plain_status_code(code: str) -> str:
    """plain_status of a stored "category:status[:entity]" code."""
    return plain_status(*split_code(code))
