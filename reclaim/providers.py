"""The practice's provider directory: add, change, list and import providers.

One service behind the API (`/api/v1/providers`), the managers' page (`/admin/providers`), the
CSV import (`reclaim providers import`) and the demo data. The auto-fix (rendering provider for
CO-16/N290) and the scrubber (`provider_directory` edit) read what it writes.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlmodel import Session, col, select

from reclaim.claims.schemas import Address, Strict
from reclaim.errors import FieldError
from reclaim.models import DirectoryProvider, utcnow
from reclaim.scrub.rules.parties import npi_is_valid

# NUCC Health Care Provider Taxonomy: 10 characters, 3 digits then 7 digits or capital letters
# (207Q00000X, 261QP2300X; a few older codes end in another letter, such as 203BF0100Y).
TAXONOMY = re.compile(r"[0-9]{3}[0-9A-Z]{7}")
CSV_COLUMNS = ("npi", "name", "first_name", "last_name", "taxonomy", "tax_id", "address_line1",
               "address_line2", "city", "state", "zip", "billing_npi", "active_from", "active_to")


class ProviderError(FieldError):
    """A provider the directory refuses; `field` names what is wrong."""


class ProviderExists(ProviderError):
    pass


class ProviderNotFound(LookupError):
    pass


def _npi(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) != 10 or not value.isdigit():
        raise ValueError(f"NPI {value!r} must be exactly 10 digits")
    if value[0] not in "12":
        raise ValueError(f"NPI {value} must start with 1 or 2")
    if not npi_is_valid(value):
        raise ValueError(f"NPI {value} fails its check digit (Luhn over 80840 and the first "
                         "nine digits): a digit is mistyped")
    return value


class ProviderFields(Strict):
    """What may change on a provider (every field optional: a PATCH names only what changes)."""

    name: str | None = Field(default=None, min_length=1, max_length=60)
    first_name: str | None = Field(default=None, min_length=1, max_length=35)
    last_name: str | None = Field(default=None, min_length=1, max_length=60)
    taxonomy: str | None = None
    tax_id: str | None = None
    address: Address | None = None
    billing_npi: str | None = None
    active_from: date | None = None
    active_to: date | None = None

    @field_validator("taxonomy")
    @classmethod
    def _taxonomy(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.upper()
        if not TAXONOMY.fullmatch(value):
            raise ValueError(f"taxonomy {value!r} is not a NUCC taxonomy code: 10 characters, "
                             "3 digits then 7 digits or capital letters (such as 207Q00000X)")
        return value

    @field_validator("tax_id")
    @classmethod
    def _tax_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = value.replace("-", "")
        if len(digits) != 9 or not digits.isdigit():
            raise ValueError(f"tax id {value!r} must be the 9 digits of the EIN (or SSN)")
        return digits

    @field_validator("billing_npi")
    @classmethod
    def _billing_npi(cls, value: str | None) -> str | None:
        return _npi(value)


class NewProvider(ProviderFields):
    npi: str

    @field_validator("npi")
    @classmethod
    def _check_npi(cls, value: str) -> str:
        checked = _npi(value)
        assert checked is not None
        return checked

    @model_validator(mode="after")
    def _named(self) -> NewProvider:
        if not self.name and not (self.first_name and self.last_name):
            raise ValueError("name: give the organisation's name, or first_name and last_name")
        return self


class ProviderView(BaseModel):
    npi: str
    name: str | None
    first_name: str
    last_name: str
    taxonomy: str | None
    tax_id: str | None
    address: dict[str, Any] | None
    billing_npi: str | None
    role: str
    active_from: date | None
    active_to: date | None

    @classmethod
    def of(cls, row: DirectoryProvider) -> ProviderView:
        return cls.model_validate(row, from_attributes=True)

    @property
    def display_name(self) -> str:
        return self.name or f"{self.last_name}, {self.first_name}"


def get_provider(*, session: Session, npi: str) -> DirectoryProvider | None:
    return session.get(DirectoryProvider, npi)


def list_providers(*, session: Session) -> list[DirectoryProvider]:
    return list(session.exec(select(DirectoryProvider).order_by(
        col(DirectoryProvider.billing_npi).is_not(None), col(DirectoryProvider.npi))).all())


_COMPARED = ("name", "first_name", "last_name", "taxonomy", "tax_id", "address", "billing_npi",
             "active_from", "active_to")


def _apply(session: Session, row: DirectoryProvider, fields: ProviderFields,
           names: set[str]) -> bool:
    """Set the named fields on the row and check it; whether anything changed."""
    before = tuple(getattr(row, n) for n in _COMPARED)
    for name in names:
        value = getattr(fields, name)
        if name == "address":
            value = value.model_dump(mode="json") if value is not None else None
        setattr(row, name, value)
    if row.first_name is None:
        row.first_name = ""
    if row.last_name is None:
        row.last_name = ""
    if not row.name and not (row.first_name and row.last_name):
        raise ProviderError("name", "give the organisation's name, or first_name and last_name")
    if row.active_from and row.active_to and row.active_to < row.active_from:
        raise ProviderError("active_to", f"{row.active_to} is before active_from "
                                         f"{row.active_from}")
    if row.billing_npi is not None:
        if row.billing_npi == row.npi:
            raise ProviderError("billing_npi", "a provider cannot bill under its own NPI as a "
                                               "rendering provider: leave billing_npi empty")
        billing = session.get(DirectoryProvider, row.billing_npi)
        if billing is None:
            raise ProviderError("billing_npi", f"NPI {row.billing_npi} is not in the directory: "
                                               "add the billing provider first")
        if billing.billing_npi is not None:
            raise ProviderError("billing_npi", f"NPI {row.billing_npi} is itself a rendering "
                                               "provider, not a billing provider")
    row.role = "rendering" if row.billing_npi else "billing"
    changed = before != tuple(getattr(row, n) for n in _COMPARED)
    if changed:
        row.updated_at = utcnow()
    return changed


def create_provider(*, session: Session, provider: NewProvider) -> DirectoryProvider:
    if session.get(DirectoryProvider, provider.npi) is not None:
        raise ProviderExists("npi", f"NPI {provider.npi} is already in the directory")
    row = DirectoryProvider(npi=provider.npi)
    _apply(session, row, provider, set(ProviderFields.model_fields))
    session.add(row)
    session.flush()
    return row


def update_provider(*, session: Session, npi: str, change: ProviderFields,
                    fields: set[str] | None = None) -> tuple[DirectoryProvider, bool]:
    """Change the named fields (by default those the change set; an explicit null clears).
    The row, and whether anything changed."""
    row = session.get(DirectoryProvider, npi)
    if row is None:
        raise ProviderNotFound(f"NPI {npi} is not in the directory")
    names = fields if fields is not None else set(change.model_fields_set)
    changed = _apply(session, row, change, names & set(ProviderFields.model_fields))
    session.add(row)
    session.flush()
    return row, changed


def upsert_provider(*, session: Session, provider: NewProvider) -> str:
    """Add the provider, or make the one on file say exactly this: created, updated or
    unchanged."""
    if session.get(DirectoryProvider, provider.npi) is None:
        create_provider(session=session, provider=provider)
        return "created"
    _, changed = update_provider(session=session, npi=provider.npi, change=provider,
                                 fields=set(ProviderFields.model_fields))
    return "updated" if changed else "unchanged"


def active_on(row: DirectoryProvider, day: date) -> bool:
    return (row.active_from is None or row.active_from <= day) and (
        row.active_to is None or day <= row.active_to)


# ---------------------------------------------------------------- CSV import


class RowError(BaseModel):
    row: int  # the file's line number (the header is row 1)
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class ImportReport(BaseModel):
    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    errors: list[RowError] = Field(default_factory=list)


def validation_errors(row: int, exc: ValidationError, *,
                      address_columns: dict[str, str]) -> list[RowError]:
    """Pydantic's errors as row errors naming the CSV column (an address field by its own)."""
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        message = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        column = loc[0] if loc else message.split(":", 1)[0]
        if not loc and ":" in message:
            message = message.split(":", 1)[1].strip()
        if column.endswith("address") and len(loc) > 1:
            column = address_columns.get(loc[1], loc[1])
        out.append(RowError(row=row, column=column, message=message))
    return out


def provider_of_row(values: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in values.items()
                            if k in NewProvider.model_fields and v}
    address = {"line1": values.get("address_line1", ""), "line2": values.get("address_line2"),
               "city": values.get("city", ""), "state": values.get("state", ""),
               "zip": values.get("zip", "")}
    if any(v for v in address.values()):
        data["address"] = {k: v for k, v in address.items() if v}
    return data


_ADDRESS_COLUMNS = {"line1": "address_line1", "line2": "address_line2", "city": "city",
                    "state": "state", "zip": "zip"}


def read_csv_rows(text: str, known: tuple[str, ...]) -> tuple[list[tuple[int, dict[str, str]]],
                                                              list[RowError]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in known]
    if not header:
        return [], [RowError(row=1, column="(header)", message="the file is empty")]
    if unknown:
        return [], [RowError(row=1, column=unknown[0],
                             message=f"unknown column; the columns are {', '.join(known)}")]
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[RowError] = []
    try:
        for raw in reader:
            if None in raw:  # more cells than the header has columns
                problems.append(RowError(row=reader.line_num, column="(row)",
                                         message=f"more cells than the {len(header)} columns"))
                continue
            values = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k}
            if any(values.values()):
                rows.append((reader.line_num, values))
    except csv.Error as exc:  # an unclosed quote over a field too big, say: the rest is unread
        problems.append(RowError(row=reader.line_num, column="(row)", message=f"not CSV: {exc}"))
    return rows, problems


def import_csv(*, session: Session, text: str) -> ImportReport:
    """Import a providers CSV (docs/examples/providers.csv): each good row added or updated
    (by NPI: a re-import changes nothing twice), each bad row reported by row and column.
    Billing providers are written before the rendering providers that bill under them."""
    report = ImportReport()
    rows, problems = read_csv_rows(text, CSV_COLUMNS)
    report.errors += problems
    parsed: list[tuple[int, NewProvider]] = []
    for line, values in rows:
        for name in ("npi",):
            if not values.get(name):
                report.errors.append(RowError(row=line, column=name, message="missing"))
                break
        else:
            try:
                parsed.append((line, NewProvider.model_validate(provider_of_row(values))))
            except ValidationError as exc:
                report.errors += validation_errors(line, exc, address_columns=_ADDRESS_COLUMNS)
    parsed.sort(key=lambda item: item[1].billing_npi is not None)
    for line, provider in parsed:
        try:
            with session.begin_nested():
                outcome = upsert_provider(session=session, provider=provider)
        except ProviderError as exc:
            report.errors.append(RowError(row=line, column=exc.field, message=exc.message))
            continue
        getattr(report, outcome).append(provider.npi)
    report.errors.sort(key=lambda e: e.row)
    return report
