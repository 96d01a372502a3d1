"""The managers' pages for the practice's providers and payers: the list, a form to add one, and
each one's form to change it (a payer's with its versions). They write through the same services
as `/api/v1/providers`, `/api/v1/payers` and the CSV imports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from api.deps import SessionDep
from api.pages.render import PageSetup, checked_form, render
from reclaim import audit, payers, providers
from reclaim.scrub.registry import RULES

router = APIRouter(include_in_schema=False)


def _values(form: FormData, columns: tuple[str, ...]) -> dict[str, str]:
    return {c: str(form.get(c) or "").strip() for c in columns}


def _problems(exc: ValidationError, address_columns: dict[str, str]) -> list[str]:
    return [f"{e.column}: {e.message}"
            for e in providers.validation_errors(0, exc, address_columns=address_columns)]


# ---------------------------------------------------------------- providers


_PROVIDER_ADDRESS = {"line1": "address_line1", "line2": "address_line2", "city": "city",
                     "state": "state", "zip": "zip"}


def _provider_values(row: Any) -> dict[str, str]:
    address = row.address or {}
    values = {c: "" if getattr(row, c, None) is None else str(getattr(row, c))
              for c in providers.CSV_COLUMNS if hasattr(row, c)}
    values.update({column: str(address.get(field) or "")
                   for field, column in _PROVIDER_ADDRESS.items()})
    return values


def providers_context(session: Session, **extra: Any) -> dict[str, Any]:
    rows = providers.list_providers(session=session)
    return {"providers": [providers.ProviderView.of(r) for r in rows],
            "billing": [r for r in rows if r.billing_npi is None],
            "values": {}, "problems": [], "saved": None, **extra}


@router.get("/admin/providers", response_class=HTMLResponse)
def providers_page(request: Request, session: SessionDep, _user: PageSetup) -> HTMLResponse:
    return render(request, "pages/providers.html",
                  providers_context(session, saved=request.query_params.get("saved")))


@router.post("/admin/providers", response_class=HTMLResponse)
async def providers_add(request: Request, session: SessionDep, user: PageSetup) -> Response:
    form = await checked_form(request)
    values = _values(form, providers.CSV_COLUMNS)
    try:
        row = providers.create_provider(
            session=session,
            provider=providers.NewProvider.model_validate(providers.provider_of_row(values)))
    except ValidationError as exc:
        return render(request, "pages/providers.html", providers_context(
            session, values=values, problems=_problems(exc, _PROVIDER_ADDRESS)), status_code=422)
    except providers.ProviderError as exc:
        code = 409 if isinstance(exc, providers.ProviderExists) else 422
        return render(request, "pages/providers.html", providers_context(
            session, values=values, problems=[str(exc)]), status_code=code)
    audit.record(session=session, user=user.username, action="add_provider",
                 detail=f"NPI {row.npi}")
    return RedirectResponse(f"/admin/providers?saved={row.npi}",
                            status_code=status.HTTP_303_SEE_OTHER)


@router.get("/admin/providers/{npi}", response_class=HTMLResponse)
def provider_page(npi: str, request: Request, session: SessionDep,
                  _user: PageSetup) -> HTMLResponse:
    row = providers.get_provider(session=session, npi=npi)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"NPI {npi} is not in the directory")
    return render(request, "pages/provider.html", providers_context(
        session, provider=row, values=_provider_values(row)))


@router.post("/admin/providers/{npi}", response_class=HTMLResponse)
async def provider_save(npi: str, request: Request, session: SessionDep,
                        user: PageSetup) -> Response:
    form = await checked_form(request)
    values = _values(form, providers.CSV_COLUMNS)
    row = providers.get_provider(session=session, npi=npi)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"NPI {npi} is not in the directory")
    data = providers.provider_of_row(values)
    data.pop("npi", None)
    try:
        change = providers.ProviderFields.model_validate(data)
        with session.begin_nested():
            providers.update_provider(session=session, npi=npi, change=change,
                                      fields=set(providers.ProviderFields.model_fields))
    except ValidationError as exc:
        problems = _problems(exc, _PROVIDER_ADDRESS)
    except providers.ProviderError as exc:
        problems = [str(exc)]
    else:
        audit.record(session=session, user=user.username, action="change_provider",
                     detail=f"NPI {npi} on the providers page")
        return RedirectResponse(f"/admin/providers?saved={npi}",
                                status_code=status.HTTP_303_SEE_OTHER)
    session.refresh(row)
    return render(request, "pages/provider.html", providers_context(
        session, provider=row, values={**values, "npi": npi}, problems=problems),
        status_code=422)


# ---------------------------------------------------------------- payers


_PAYER_ADDRESS = {"name": "appeals_name", "line1": "appeals_line1", "line2": "appeals_line2",
                  "city": "appeals_city", "state": "appeals_state", "zip": "appeals_zip"}


def _payer_values(terms: payers.PayerTerms) -> dict[str, str]:
    data = terms.model_dump(mode="json")
    values = {}
    for column in payers.CSV_COLUMNS:
        value = data.get(column)
        values[column] = "; ".join(str(v) for v in value) if isinstance(value, list) \
            else "" if value is None else str(value)
    address = data.get("appeals_address") or {}
    values.update({column: str(address.get(field) or "")
                   for field, column in _PAYER_ADDRESS.items()})
    values["note"] = ""
    return values


def payers_context(session: Session, **extra: Any) -> dict[str, Any]:
    return {"payers": payers.list_payers(session=session), "claim_types": payers.CLAIM_TYPES,
            "edit_names": sorted(RULES), "values": {"claim_types": "professional; institutional"},
            "problems": [], "saved": None, **extra}


@router.get("/admin/payers", response_class=HTMLResponse)
def payers_page(request: Request, session: SessionDep, _user: PageSetup) -> HTMLResponse:
    return render(request, "pages/payers.html",
                  payers_context(session, saved=request.query_params.get("saved")))


def _payer_form(form: FormData) -> dict[str, str]:
    values = _values(form, payers.CSV_COLUMNS)
    # The claim types are checkboxes: the CSV's `;` list.
    values["claim_types"] = "; ".join(str(v) for v in form.getlist("claim_types"))
    return values


@router.post("/admin/payers", response_class=HTMLResponse)
async def payers_add(request: Request, session: SessionDep, user: PageSetup) -> Response:
    form = await checked_form(request)
    values = _payer_form(form)
    try:
        payer = payers.NewPayer.model_validate(payers.payer_of_row(values))
        version = payers.create_payer(session=session, payer=payer, author=user.username,
                                      note=values["note"])
    except ValidationError as exc:
        return render(request, "pages/payers.html", payers_context(
            session, values=values, problems=_problems(exc, _PAYER_ADDRESS)), status_code=422)
    except payers.PayerExists as exc:
        return render(request, "pages/payers.html", payers_context(
            session, values=values, problems=[str(exc)]), status_code=409)
    audit.record(session=session, user=user.username, action="add_payer",
                 detail=f"{payer.payer_id} version {version.version}")
    return RedirectResponse(f"/admin/payers?saved={payer.payer_id}",
                            status_code=status.HTTP_303_SEE_OTHER)


def _payer_page(request: Request, session: Session, payer_id: str, *,
                values: dict[str, str] | None = None, problems: list[str] | None = None,
                status_code: int = 200) -> HTMLResponse:
    if not payers.is_known(session=session, payer_id=payer_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"payer {payer_id} is not on file")
    versions = payers.history(session=session, payer_id=payer_id)
    terms = payers.terms_for(payer_id, session=session)
    return render(request, "pages/payer.html", payers_context(
        session, terms=terms, versions=versions, values=values or _payer_values(terms),
        problems=problems or [], saved=request.query_params.get("saved")),
        status_code=status_code)


@router.get("/admin/payers/{payer_id}", response_class=HTMLResponse)
def payer_page(payer_id: str, request: Request, session: SessionDep,
               _user: PageSetup) -> HTMLResponse:
    return _payer_page(request, session, payer_id)


@router.post("/admin/payers/{payer_id}", response_class=HTMLResponse)
async def payer_save(payer_id: str, request: Request, session: SessionDep,
                     user: PageSetup) -> Response:
    form = await checked_form(request)
    values = _payer_form(form)
    data = payers.payer_of_row(values)
    data.pop("payer_id", None)
    try:
        change = payers.TermsFields.model_validate(data)
        version, changed = payers.update_payer(
            session=session, payer_id=payer_id, change=change, author=user.username,
            note=values["note"], fields=set(payers.TermsFields.model_fields))
    except ValidationError as exc:
        return _payer_page(request, session, payer_id, values=values,
                           problems=_problems(exc, _PAYER_ADDRESS), status_code=422)
    except payers.PayerNotFound:
        return _payer_page(request, session, payer_id)
    except payers.PayerError as exc:
        return _payer_page(request, session, payer_id, values=values, problems=[str(exc)],
                           status_code=422)
    if changed:
        audit.record(session=session, user=user.username, action="change_payer",
                     detail=f"{payer_id} version {version.version}: {version.note}")
    return RedirectResponse(f"/admin/payers/{payer_id}?saved={version.version}",
                            status_code=status.HTTP_303_SEE_OTHER)
