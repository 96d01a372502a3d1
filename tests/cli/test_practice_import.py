"""`reclaim providers import` and `reclaim payers import`: a summary, each refused row by row
and column (exit 1), and a second import of the same file adding nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli import app
from reclaim.db import get_engine
from reclaim.models import AuditEntry, DirectoryProvider, PayerTermsVersion
from tests.conftest import fresh_database_url

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = fresh_database_url(tmp_path)
    monkeypatch.setenv("RECLAIM_DATABASE_URL", url)
    monkeypatch.setenv("RECLAIM_PAYLOAD_KEY", "cli test payload passphrase, 32 characters+")
    monkeypatch.setenv("RECLAIM_DATA_DIR", str(tmp_path))
    return url


def test_providers_import_twice_adds_once(database: str) -> None:
    path = str(EXAMPLES / "providers.csv")
    first = CliRunner().invoke(app, ["providers", "import", path])
    assert first.exit_code == 0, first.output
    assert "5 added, 0 updated, 0 unchanged, 0 rows refused" in first.output
    again = CliRunner().invoke(app, ["providers", "import", path])
    assert again.exit_code == 0, again.output
    assert "0 added, 0 updated, 5 unchanged, 0 rows refused" in again.output
    with Session(get_engine(database)) as s:
        assert len(s.exec(select(DirectoryProvider)).all()) == 5
        assert [a.action for a in s.exec(select(AuditEntry)).all()] == ["import_providers"] * 2


@pytest.mark.usefixtures("database")
def test_providers_import_names_the_row_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("npi,name,first_name,last_name\n1234567893,Good Clinic,,\n"
                   "1234567890,Typo,,\n")
    result = CliRunner().invoke(app, ["providers", "import", str(bad)])
    assert result.exit_code == 1, result.output
    assert "1 added, 0 updated, 0 unchanged, 1 rows refused" in result.output
    assert "row 3, column npi: NPI 1234567890 fails its check digit" in result.output


def test_payers_import_twice_versions_once(database: str, tmp_path: Path) -> None:
    path = str(EXAMPLES / "payers.csv")
    first = CliRunner().invoke(app, ["payers", "import", path])
    assert first.exit_code == 0, first.output
    assert "2 added, 1 updated" in first.output  # ACMEHEALTH: payers.toml's, then the file's
    again = CliRunner().invoke(app, ["payers", "import", path])
    assert "0 added, 0 updated, 3 unchanged, 0 rows refused" in again.output
    bad = tmp_path / "payers.csv"
    bad.write_text("payer_id,name,timely_filing_days\nACMEHEALTH,Acme Health,0\n")
    refused = CliRunner().invoke(app, ["payers", "import", str(bad)])
    assert refused.exit_code == 1
    assert "row 2, column timely_filing_days:" in refused.output
    with Session(get_engine(database)) as s:
        assert len(s.exec(select(PayerTermsVersion)).all()) == 2 + 2


@pytest.mark.usefixtures("database")
def test_a_missing_file_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["providers", "import", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "nope.csv" in result.output
