"""The CO-16/N290 auto-fix reads the practice's directory as the CSV import (or the page, or
the API) left it: only rendering providers active on the date of service, under the claim's
billing NPI."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from reclaim import providers
from reclaim.claims.schemas import Provider
from reclaim.denials.autofix import apply_auto_fix, facts_on_file
from reclaim.denials.posting import provider_directory
from reclaim.denials.routing import route_denial

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "providers.csv"
HENDRIX = Provider(npi="1122333341", first_name="Jim", last_name="Hendrix")


def _imported(engine: Engine) -> Session:
    session = Session(engine)
    report = providers.import_csv(session=session, text=EXAMPLE.read_text())
    assert report.errors == []
    session.commit()
    return session


def test_the_auto_fix_takes_the_one_active_rendering_provider_from_the_directory(
        fresh_engine: Engine, table: Any, make_doc: Any, make_finding: Any) -> None:
    with _imported(fresh_engine) as s:
        # Whitfield bills under 1234567893 too, but left in 2003: on 2026-11-02 only Hendrix.
        directory = provider_directory(s, on=date(2026, 11, 2))
    doc = make_doc()
    denial = make_finding("CO-16", "N290")
    context = facts_on_file(doc, denial, directory=directory)
    decision = route_denial(denial, table=table, context=context)
    assert decision.route == "auto_fix", decision.reason
    result = apply_auto_fix(doc, denial, decision, directory=directory)
    assert result.document.rendering_provider == HENDRIX
    assert result.changes == [
        "rendering provider none -> NPI 1122333341 (Hendrix, Jim) from directory"]


def test_two_active_rendering_providers_leave_it_to_a_person(fresh_engine: Engine) -> None:
    with _imported(fresh_engine) as s:
        directory = provider_directory(s, on=date(2003, 6, 1))  # Whitfield still there
        everyone = provider_directory(s)
    assert directory.rendering_for(billing_npi="1234567893", current=None) is None
    assert sorted(directory.rendering_by_billing_npi["1234567893"]) == ["1122333341",
                                                                        "1765432103"]
    # Organisations render nothing: only the people are candidates.
    assert "1234567893" not in everyone.providers
    assert set(everyone.providers) == {"1122333341", "1765432103", "1582037465"}


def test_a_provider_ended_in_the_directory_is_not_offered(fresh_engine: Engine) -> None:
    with _imported(fresh_engine) as s:
        providers.update_provider(session=s, npi="1122333341",
                                  change=providers.ProviderFields(active_to=date(2026, 6, 30)))
        s.commit()
        directory = provider_directory(s, on=date(2026, 11, 2))
    assert directory.rendering_for(billing_npi="1234567893", current=None) is None
    assert directory.rendering_by_billing_npi.get("1234567893", []) == []
