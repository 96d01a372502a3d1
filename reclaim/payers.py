"""The payers the practice bills and their business terms: timely filing, the corrected-claim and
appeal windows (per appeal level), the follow-up schedule, the appeals address, the scrub edits
the payer runs and its clearinghouse route.

Managers keep them at `/api/v1/payers`, `/admin/payers` and `reclaim payers import`; every change
is a new version (who, when, why) and the newest is in force. A payer with no version stored
gets the shipped default of `reclaim/scrub/payers.toml` (which also seeds the table). A claim
records the terms in force when it was submitted (`claim_terms`): its deadlines come from those,
whatever the payer's record says later. Which edits the scrubber runs stays data too: the
payer's `edits` (or payers.toml's selection when it names none).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlmodel import Session, col, func, select

from reclaim.claims.schemas import Address, ClaimType, Strict
from reclaim.denials.autofix import ModifierRule
from reclaim.errors import FieldError
from reclaim.models import Claim, PayerTermsVersion
from reclaim.providers import ImportReport, RowError, read_csv_rows, validation_errors
from reclaim.scrub.models import PayerRules
from reclaim.scrub.payer_rules import known_payers, load_payer_rules
from reclaim.scrub.registry import RULES

SHIPPED = "payers.toml"
CLAIM_TYPES: tuple[ClaimType, ...] = ("professional", "institutional")
CSV_COLUMNS = ("payer_id", "name", "claim_types", "timely_filing_days",
               "corrected_claim_window_days", "appeal_windows", "follow_up_days", "max_attempts",
               "appeals_name", "appeals_line1", "appeals_line2", "appeals_city", "appeals_state",
               "appeals_zip", "edits", "clearinghouse_route", "note")
_LIST_COLUMNS = ("claim_types", "appeal_windows", "follow_up_days", "edits")


class AppealsAddress(Address):
    name: str | None = Field(default=None, max_length=60)


class TermsFields(Strict):
    """What may change on a payer (a PATCH names only what changes)."""

    name: str | None = Field(default=None, min_length=1, max_length=60)
    claim_types: list[ClaimType] | None = Field(default=None, min_length=1)
    timely_filing_days: int | None = Field(default=None, gt=0, le=3650)
    corrected_claim_window_days: int | None = Field(default=None, gt=0, le=3650)
    # Days to file each appeal level, level 1 first (from the remittance or the last decision).
    appeal_windows: list[int] | None = Field(default=None, min_length=1, max_length=5)
    # Days after submission to ask the payer for the claim's status, in order.
    follow_up_days: list[int] | None = Field(default=None, max_length=10)
    max_attempts: int | None = Field(default=None, ge=1, le=10)
    appeals_address: AppealsAddress | None = None
    # The scrub edits the payer runs; empty: the selection of payers.toml.
    edits: list[str] | None = None
    clearinghouse_route: str | None = Field(default=None, max_length=80)

    @field_validator("appeal_windows")
    @classmethod
    def _windows(cls, value: list[int] | None) -> list[int] | None:
        for level, days in enumerate(value or [], start=1):
            if not 0 < days <= 3650:
                raise ValueError(f"level {level}: {days} days must be between 1 and 3650")
        return value

    @field_validator("follow_up_days")
    @classmethod
    def _follow_up(cls, value: list[int] | None) -> list[int] | None:
        if value and (any(d <= 0 for d in value) or value != sorted(set(value))):
            raise ValueError(f"{value}: days after submission, each above 0, in rising order")
        return value

    @field_validator("edits")
    @classmethod
    def _edits(cls, value: list[str] | None) -> list[str] | None:
        unknown = sorted(set(value or ()) - RULES.keys())
        if unknown:
            raise ValueError(f"unknown edits {unknown}; the edits are {sorted(RULES)}")
        return value or None


class NewPayer(TermsFields):
    payer_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    name: str = Field(min_length=1, max_length=60)
    timely_filing_days: int = Field(gt=0, le=3650)


class PayerTerms(BaseModel):
    """One version of a payer's terms (version 0: the shipped default, never stored)."""

    payer_id: str
    name: str
    version: int = 0
    claim_types: list[ClaimType] = Field(default_factory=lambda: list(CLAIM_TYPES))
    timely_filing_days: int
    corrected_claim_window_days: int = 90
    appeal_windows: list[int] = Field(default_factory=lambda: [120])
    follow_up_days: list[int] = Field(default_factory=list)
    max_attempts: int = 3
    appeals_address: AppealsAddress | None = None
    edits: list[str] | None = None
    clearinghouse_route: str | None = None

    @property
    def appeal_window_days(self) -> int:
        """The first-level appeal window (the one a denial opens)."""
        return self.appeal_windows[0]

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"version"})


class PayerError(FieldError):
    """A payer's terms refused; `field` names what is wrong."""


class PayerExists(PayerError):
    pass


class PayerNotFound(LookupError):
    pass


# ---------------------------------------------------------------- reading terms


def default_terms(payer_id: str) -> PayerTerms:
    """The shipped default: payers.toml's section for the payer (or its [default])."""
    rules = load_payer_rules(payer_id)
    return PayerTerms(
        payer_id=payer_id,
        name=rules.name,
        timely_filing_days=rules.timely_filing_days,
        max_attempts=rules.max_attempts,
        appeal_windows=[rules.appeal_window_days],
        corrected_claim_window_days=rules.corrected_claim_window_days,
    )


def latest_version(*, session: Session, payer_id: str) -> PayerTermsVersion | None:
    return session.exec(
        select(PayerTermsVersion).where(PayerTermsVersion.payer_id == payer_id)
        .order_by(col(PayerTermsVersion.version).desc()).limit(1)
    ).first()


def _terms_of(version: PayerTermsVersion) -> PayerTerms:
    return PayerTerms.model_validate({**version.terms, "version": version.version})


def terms_for(payer_id: str, *, session: Session | None = None) -> PayerTerms:
    """The terms in force now: the payer's newest version, or the shipped default."""
    version = latest_version(session=session, payer_id=payer_id) if session else None
    return _terms_of(version) if version else default_terms(payer_id)


def claim_terms(*, session: Session, claim: Claim) -> PayerTerms:
    """The terms the claim was submitted under, recorded on it the first time they are asked for
    (when its workflow starts): a later change of the payer's terms does not move its deadlines."""
    if claim.payer_terms is not None:
        return PayerTerms.model_validate({**claim.payer_terms,
                                          "version": claim.payer_terms_version or 0})
    terms = terms_for(claim.payer_id, session=session)
    claim.payer_terms = terms.stored()
    claim.payer_terms_version = terms.version
    session.add(claim)
    return terms


def scrub_rules(*, session: Session, payer_id: str) -> PayerRules:
    """The scrubber's rules for the payer: payers.toml's, with the payer record's filing limit,
    name and edit selection (when it names one)."""
    rules = load_payer_rules(payer_id)
    version = latest_version(session=session, payer_id=payer_id)
    if version is None:
        return rules
    terms = _terms_of(version)
    change: dict[str, Any] = {"name": terms.name, "timely_filing_days": terms.timely_filing_days}
    if terms.edits:
        change["edits"] = tuple(terms.edits)
    return rules.model_copy(update=change)


def modifier_rules(payer_id: str) -> list[ModifierRule]:
    rules = load_payer_rules(payer_id)
    return [
        ModifierRule(payer_id=payer_id, procedure=r["procedure"], modifier=r["modifier"],
                     replaces=list(r.get("replaces", [])))
        for r in rules.modifier_rules
    ]


def is_known(*, session: Session, payer_id: str) -> bool:
    """On file, or shipped in payers.toml (version 0 until it is first changed)."""
    return payer_id in known_payers() or latest_version(session=session,
                                                        payer_id=payer_id) is not None


def list_payers(*, session: Session) -> list[PayerTerms]:
    """Every payer on file (its newest version), and payers.toml's not stored yet."""
    stored = _stored_payers(session)
    shipped = [default_terms(p) for p in known_payers() if p not in {t.payer_id for t in stored}]
    return sorted(stored + shipped, key=lambda t: t.payer_id)


def _stored_payers(session: Session) -> list[PayerTerms]:
    newest = (select(PayerTermsVersion.payer_id, func.max(PayerTermsVersion.version).label("v"))
              .group_by(col(PayerTermsVersion.payer_id)).subquery())
    rows = session.exec(
        select(PayerTermsVersion).join(
            newest, (col(PayerTermsVersion.payer_id) == newest.c.payer_id)
            & (col(PayerTermsVersion.version) == newest.c.v))
        .order_by(col(PayerTermsVersion.payer_id))
    ).all()
    return [_terms_of(r) for r in rows]


def history(*, session: Session, payer_id: str) -> list[PayerTermsVersion]:
    return list(session.exec(
        select(PayerTermsVersion).where(PayerTermsVersion.payer_id == payer_id)
        .order_by(col(PayerTermsVersion.version).desc())
    ).all())


# ---------------------------------------------------------------- changing terms


def _save(session: Session, terms: PayerTerms, *, version: int, author: str,
          note: str) -> PayerTermsVersion:
    row = PayerTermsVersion(payer_id=terms.payer_id, version=version, author=author[:80],
                            note=note[:500], terms=terms.stored())
    session.add(row)
    session.flush()
    return row


def create_payer(*, session: Session, payer: NewPayer, author: str,
                 note: str = "") -> PayerTermsVersion:
    if is_known(session=session, payer_id=payer.payer_id):
        raise PayerExists("payer_id", f"payer {payer.payer_id} is already on file (or shipped "
                                      "in payers.toml): PATCH it")
    base = default_terms(payer.payer_id).model_dump()
    given = payer.model_dump(exclude_none=True)
    terms = PayerTerms.model_validate({**base, **given})
    return _save(session, terms, version=1, author=author, note=note or "added")


def update_payer(*, session: Session, payer_id: str, change: TermsFields, author: str,
                 note: str = "", fields: set[str] | None = None
                 ) -> tuple[PayerTermsVersion, bool]:
    """A new version with the named fields changed (an explicit null clears an optional one).
    Whether anything changed: the same terms again store no new version."""
    current = latest_version(session=session, payer_id=payer_id)
    if current is None and payer_id in known_payers():
        # payers.toml's payer, changed for the first time: its shipped terms become version 1.
        current = _save(session, default_terms(payer_id), version=1, author=SHIPPED,
                        note="the shipped default of reclaim/scrub/payers.toml")
    if current is None:
        raise PayerNotFound(f"payer {payer_id} is not on file")
    names = (fields if fields is not None else set(change.model_fields_set)) & set(
        TermsFields.model_fields)
    data = {**current.terms, **change.model_dump(mode="json", include=names)}
    for required in ("name", "timely_filing_days", "claim_types", "corrected_claim_window_days",
                     "appeal_windows", "max_attempts"):
        if data.get(required) is None:
            raise PayerError(required, "cannot be cleared")
    if data.get("follow_up_days") is None:
        data["follow_up_days"] = []
    terms = PayerTerms.model_validate({**data, "payer_id": payer_id})
    if terms.stored() == PayerTerms.model_validate(current.terms).stored():
        return current, False
    return _save(session, terms, version=current.version + 1, author=author,
                 note=note or "changed " + ", ".join(sorted(names))), True


def seed_shipped(*, session: Session) -> list[str]:
    """Store the payers of payers.toml not on file yet (version 1, by payers.toml)."""
    added = []
    for payer_id in known_payers():
        if latest_version(session=session, payer_id=payer_id) is None:
            _save(session, default_terms(payer_id), version=1, author=SHIPPED,
                  note="the shipped default of reclaim/scrub/payers.toml")
            added.append(payer_id)
    return added


# ---------------------------------------------------------------- CSV import


_ADDRESS_COLUMNS = {"name": "appeals_name", "line1": "appeals_line1", "line2": "appeals_line2",
                    "city": "appeals_city", "state": "appeals_state", "zip": "appeals_zip"}


def payer_of_row(values: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in NewPayer.model_fields:
        value = values.get(name, "")
        if not value:
            continue
        data[name] = [v.strip() for v in value.replace(";", " ").split()] \
            if name in _LIST_COLUMNS else value
    address = {field: values.get(column, "") for field, column in _ADDRESS_COLUMNS.items()}
    if any(address.values()):
        data["appeals_address"] = {k: v for k, v in address.items() if v}
    return data


def import_csv(*, session: Session, text: str, author: str) -> ImportReport:
    """Import a payers CSV (docs/examples/payers.csv): a new payer is added, a known one gets a
    new version when its terms differ (the same file again changes nothing); lists (claim types,
    appeal windows, follow-up days, edits) are separated by `;`. Bad rows are reported by row
    and column and the good ones go in."""
    report = ImportReport()
    rows, problems = read_csv_rows(text, CSV_COLUMNS)
    report.errors += problems
    for line, values in rows:
        if not values.get("payer_id"):
            report.errors.append(RowError(row=line, column="payer_id", message="missing"))
            continue
        note = values.get("note") or "imported from CSV"
        try:
            payer_data = payer_of_row(values)
            if not is_known(session=session, payer_id=values["payer_id"]):
                create_payer(session=session, payer=NewPayer.model_validate(payer_data),
                             author=author, note=note)
                report.created.append(values["payer_id"])
                continue
            payer_data.pop("payer_id")
            change = TermsFields.model_validate(payer_data)
            _, changed = update_payer(session=session, payer_id=values["payer_id"],
                                      change=change, author=author, note=note,
                                      fields=set(payer_data))
            (report.updated if changed else report.unchanged).append(values["payer_id"])
        except ValidationError as exc:
            report.errors += validation_errors(line, exc, address_columns=_ADDRESS_COLUMNS)
        except PayerError as exc:
            report.errors.append(RowError(row=line, column=exc.field, message=exc.message))
    return report

