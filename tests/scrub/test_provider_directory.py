"""The `provider_directory` edit: the claim's billing and rendering NPIs are the practice's,
active on the date of service, and the rendering provider bills under the claim's billing NPI;
nothing while the practice has entered no provider. Through the database too, as the CSV import
left the directory."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from reclaim import providers
from reclaim.claims.schemas import ClaimDocument
from reclaim.scrub.models import DirectoryEntry
from reclaim.scrub.service import scrub_document
from tests.scrub.factories import claim, run
from tests.support import claim_doc

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "providers.csv"
BILLING = DirectoryEntry(npi="1234567893", name="Springfield Family Medicine", billing_npi=None,
                         active_from=None, active_to=None)
PATEL = DirectoryEntry(npi="1245319599", name="Raj Patel", billing_npi="1234567893",
                       active_from=date(2020, 1, 1), active_to=None)


def _findings(doc: dict[str, Any], *entries: DirectoryEntry) -> list[tuple[str, str, str]]:
    directory = {e.npi: e for e in entries}
    found = run(doc, directory=directory.get if directory else None)
    return [(f.field, f.severity, f.message) for f in found if f.rule == "provider_directory"]


def test_known_and_active_passes() -> None:
    assert _findings(claim(), BILLING, PATEL) == []


def test_an_empty_directory_checks_nothing() -> None:
    assert _findings(claim({"rendering_provider.npi": "1679576722"})) == []


@pytest.mark.parametrize(
    ("changes", "entries", "field", "severity", "words"),
    [
        pytest.param({}, (BILLING, PATEL._replace(active_to=date(2026, 6, 30))),
                     "rendering_provider.npi", "error", "not active on the date of service",
                     id="rendering ended"),
        pytest.param({}, (BILLING, PATEL._replace(active_from=date(2027, 1, 1))),
                     "rendering_provider.npi", "error", "from 2027-01-01", id="not yet"),
        pytest.param({}, (BILLING._replace(active_to=date(2025, 12, 31)), PATEL),
                     "billing_provider.npi", "error", "until 2025-12-31", id="billing ended"),
        pytest.param({}, (BILLING, PATEL._replace(billing_npi="1912301953")),
                     "rendering_provider.npi", "error", "bills under NPI 1912301953",
                     id="another group"),
        pytest.param({"rendering_provider.npi": "1679576722"}, (BILLING, PATEL),
                     "rendering_provider.npi", "warning", "not in the practice's provider",
                     id="unknown rendering"),
        pytest.param({}, (PATEL._replace(billing_npi=None),), "billing_provider.npi",
                     "warning", "NPI 1234567893 is not in", id="unknown billing"),
    ],
)
def test_what_the_directory_refuses(changes: dict[str, Any], entries: tuple[DirectoryEntry, ...],
                                    field: str, severity: str, words: str) -> None:
    [(found_field, found_severity, message)] = _findings(claim(changes), *entries)
    assert (found_field, found_severity) == (field, severity)
    assert words in message
    assert message.endswith(".")


def test_the_scrubber_reads_the_imported_directory(fresh_engine: Engine) -> None:
    def doc(rendering_npi: str, first: str, last: str, day: str) -> ClaimDocument:
        return ClaimDocument.model_validate(claim_doc(
            service_date=day, billing_provider__npi="1234567893",
            rendering_provider={"npi": rendering_npi, "first_name": first, "last_name": last}))

    with Session(fresh_engine) as s:
        def directory_findings(document: ClaimDocument) -> list[tuple[str, str]]:
            outcome = scrub_document(session=s, document=document, today=date(2026, 11, 27))
            return [(f.severity, f.field) for f in outcome.errors + outcome.warnings
                    if f.rule == "provider_directory"]

        before = doc("1765432103", "Dana", "Whitfield", "2026-11-02")
        assert directory_findings(before) == []  # nothing entered yet: nothing checked
        assert providers.import_csv(session=s, text=EXAMPLE.read_text()).errors == []
        assert directory_findings(doc("1122333341", "Jim", "Hendrix", "2026-11-02")) == []
        # Whitfield left the group at the end of 2003.
        assert directory_findings(before) == [("error", "rendering_provider.npi")]
        # Ortiz renders for Ben Kildare Service, not this billing NPI.
        assert directory_findings(doc("1582037465", "Maya", "Ortiz", "2026-11-02")) == [
            ("error", "rendering_provider.npi")]
