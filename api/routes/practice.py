"""The practice's providers and payers: read by anyone signed in, changed by managers (api.policy
`setup`). Every change is audited; a payer's change is a new version of its terms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from api.deps import Reader, SessionDep, Setup
from reclaim import audit, payers, providers
from reclaim.models import PayerTermsVersion

router = APIRouter(prefix="/api/v1", tags=["practice"])
MAX_CSV_BYTES = 1_000_000


def _unprocessable(field: str, message: str) -> HTTPException:
    # The same shape as a validation error (api/errors.py): the field is named.
    return HTTPException(422, detail=f"{field}: {message}")


@router.get("/providers")
def get_providers(session: SessionDep, _user: Reader) -> dict[str, Any]:
    rows = providers.list_providers(session=session)
    return {"providers": [providers.ProviderView.of(r).model_dump(mode="json") for r in rows]}


@router.get("/providers/{npi}", response_model=providers.ProviderView)
def get_provider(npi: str, session: SessionDep, _user: Reader) -> providers.ProviderView:
    row = providers.get_provider(session=session, npi=npi)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"NPI {npi} is not in the directory")
    return providers.ProviderView.of(row)


@router.post("/providers", status_code=status.HTTP_201_CREATED,
             response_model=providers.ProviderView)
def post_provider(body: providers.NewProvider, session: SessionDep,
                  user: Setup) -> providers.ProviderView:
    """Add a provider: `npi` (Luhn-checked with the 80840 prefix), `name` (an organisation) or
    `first_name` and `last_name`, and optionally `taxonomy`, `tax_id`, `address`, `billing_npi`
    (a rendering provider billing under that NPI), `active_from`, `active_to`. 409: the NPI is
    already on file."""
    try:
        row = providers.create_provider(session=session, provider=body)
    except providers.ProviderExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except providers.ProviderError as exc:
        raise _unprocessable(exc.field, exc.message) from exc
    audit.record(session=session, user=user.username, action="add_provider",
                 detail=f"NPI {row.npi}")
    return providers.ProviderView.of(row)


@router.patch("/providers/{npi}", response_model=providers.ProviderView)
def patch_provider(npi: str, body: providers.ProviderFields, session: SessionDep,
                   user: Setup) -> providers.ProviderView:
    """Change the fields given (null clears an optional one)."""
    try:
        row, _changed = providers.update_provider(session=session, npi=npi, change=body)
    except providers.ProviderNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except providers.ProviderError as exc:
        raise _unprocessable(exc.field, exc.message) from exc
    audit.record(session=session, user=user.username, action="change_provider",
                 detail=f"NPI {npi}: {', '.join(sorted(body.model_fields_set))}")
    return providers.ProviderView.of(row)


async def _csv_body(request: Request) -> str:
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                            detail=f"a CSV of at most {MAX_CSV_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _unprocessable("body", f"not UTF-8 text (byte {exc.start})") from exc


def _report(report: providers.ImportReport) -> dict[str, Any]:
    return {"created": report.created, "updated": report.updated,
            "unchanged": report.unchanged,
            "errors": [{**e.model_dump(), "message": str(e)} for e in report.errors]}


@router.post("/providers/import")
async def import_providers(request: Request, session: SessionDep, user: Setup) -> dict[str, Any]:
    """A providers CSV as the body (columns of docs/examples/providers.csv): the good rows are
    added or updated, each bad one is listed by row and column."""
    report = providers.import_csv(session=session, text=await _csv_body(request))
    audit.record(session=session, user=user.username, action="import_providers",
                 detail=f"{len(report.created)} added, {len(report.updated)} updated, "
                        f"{len(report.errors)} errors")
    return _report(report)


# ---------------------------------------------------------------- payers


class PayerChange(payers.TermsFields):
    note: str = Field(default="", max_length=500)


class NewPayerBody(payers.NewPayer):
    note: str = Field(default="", max_length=500)


class VersionView(BaseModel):
    version: int
    created_at: Any
    author: str
    note: str
    terms: dict[str, Any]

    @classmethod
    def of(cls, row: PayerTermsVersion) -> VersionView:
        return cls(version=row.version, created_at=row.created_at, author=row.author,
                   note=row.note, terms=row.terms)


@router.get("/payers")
def get_payers(session: SessionDep, _user: Reader) -> dict[str, Any]:
    return {"payers": [t.model_dump(mode="json")
                       for t in payers.list_payers(session=session)]}


@router.get("/payers/{payer_id}")
def get_payer(payer_id: str, session: SessionDep, _user: Reader) -> dict[str, Any]:
    """The terms in force and every version (newest first: who changed what, when); a payer of
    payers.toml never changed is version 0 with no history."""
    if not payers.is_known(session=session, payer_id=payer_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"payer {payer_id} is not on file")
    versions = payers.history(session=session, payer_id=payer_id)
    terms = payers.terms_for(payer_id, session=session)
    return {**terms.model_dump(mode="json"),
            "history": [VersionView.of(v).model_dump(mode="json") for v in versions]}


@router.post("/payers", status_code=status.HTTP_201_CREATED)
def post_payer(body: NewPayerBody, session: SessionDep, user: Setup) -> dict[str, Any]:
    """Add a payer: `payer_id`, `name`, `timely_filing_days`, and optionally `claim_types`,
    `corrected_claim_window_days`, `appeal_windows` (days per level), `follow_up_days`,
    `max_attempts`, `appeals_address`, `edits`, `clearinghouse_route` (the rest from payers.toml's
    default). 409: the payer is already on file."""
    payer = payers.NewPayer.model_validate(body.model_dump(exclude={"note"}))
    try:
        version = payers.create_payer(session=session, payer=payer, author=user.username,
                                      note=body.note)
    except payers.PayerExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    audit.record(session=session, user=user.username, action="add_payer",
                 detail=f"{payer.payer_id} version {version.version}")
    return payers.terms_for(payer.payer_id, session=session).model_dump(mode="json")


@router.patch("/payers/{payer_id}")
def patch_payer(payer_id: str, body: PayerChange, session: SessionDep,
                user: Setup) -> dict[str, Any]:
    """A new version of the payer's terms with the fields given changed. Claims already
    submitted keep the terms they were submitted under."""
    change = payers.TermsFields.model_validate(body.model_dump(exclude={"note"},
                                                               exclude_unset=True))
    try:
        version, changed = payers.update_payer(session=session, payer_id=payer_id,
                                               change=change, author=user.username,
                                               note=body.note)
    except payers.PayerNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except payers.PayerError as exc:
        raise _unprocessable(exc.field, exc.message) from exc
    if changed:
        audit.record(session=session, user=user.username, action="change_payer",
                     detail=f"{payer_id} version {version.version}: {version.note}")
    return payers.terms_for(payer_id, session=session).model_dump(mode="json")


@router.post("/payers/import")
async def import_payers(request: Request, session: SessionDep, user: Setup) -> dict[str, Any]:
    """A payers CSV as the body (columns of docs/examples/payers.csv)."""
    report = payers.import_csv(session=session, text=await _csv_body(request),
                               author=user.username)
    audit.record(session=session, user=user.username, action="import_payers",
                 detail=f"{len(report.created)} added, {len(report.updated)} changed, "
                        f"{len(report.errors)} errors")
    return _report(report)
