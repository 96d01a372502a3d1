"""Alembic: an older schema upgrades without losing data, and the models match the migrations."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import reclaim.codes.ncci  # noqa: F401
import reclaim.models  # noqa: F401
import reclaim.routing_store  # noqa: F401
from reclaim.db import alembic_config, make_engine
from tests.conftest import PG_PREFIX, _fresh_pg


def _empty_url(tmp_path: Path) -> str:
    base = os.environ.get("RECLAIM_DATABASE_URL", "")
    if base.startswith(PG_PREFIX):
        return _fresh_pg(base, f"m_{uuid.uuid4().hex[:12]}")
    return f"sqlite:///{tmp_path / 'old.db'}"


def test_upgrading_an_older_schema_keeps_the_data(tmp_path: Path) -> None:
    url = _empty_url(tmp_path)
    command.upgrade(alembic_config(url), "0001")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO claim (status, claim_type, payer_id, patient_last_name, "
            "patient_first_name, member_id, billing_npi, service_date, total_charge, "
            "paid_amount, patient_responsibility, attempts, document, findings, created_at, "
            "updated_at) VALUES ('paid', 'professional', 'SANDBOX', 'Lee', 'Ann', 'W1', "
            "'1234567893', '2026-11-02', 150.00, 120.00, 0, 1, '{}', '[]', "
            "'2026-11-03 10:00:00', '2026-11-04 10:00:00')"
        ))
        conn.execute(text(
            "INSERT INTO \"user\" (username, role, active, created_at) "
            "VALUES ('maria', 'manager', true, '2026-11-01 09:00:00')"
        ))
    engine.dispose()

    command.upgrade(alembic_config(url), "head")

    engine = make_engine(url)
    with engine.connect() as conn:
        claim = conn.execute(text("SELECT payer_id, total_charge, paid_amount FROM claim")).one()
        assert claim.payer_id == "SANDBOX"
        assert float(claim.total_charge) == 150.0 and float(claim.paid_amount) == 120.0
        assert conn.execute(text("SELECT username FROM \"user\"")).scalar_one() == "maria"
        # The newer revision's table is there and usable.
        assert conn.execute(text("SELECT count(*) FROM routingversion")).scalar_one() == 0
    engine.dispose()


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_models_and_the_migrations_agree(tmp_path: Path) -> None:
    url = _empty_url(tmp_path)
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == [], f"the models changed without a migration: {diff}"
