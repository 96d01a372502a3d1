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
import reclaim.denials.store  # noqa: F401
import reclaim.models  # noqa: F401
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
        assert float(claim.total_charge) == 150.0
        assert float(claim.paid_amount) == 120.0
        assert conn.execute(text("SELECT username FROM \"user\"")).scalar_one() == "maria"
        # The newer revision's table is there and usable.
        assert conn.execute(text("SELECT count(*) FROM routingversion")).scalar_one() == 0
    engine.dispose()


def test_the_denial_facts_are_derived_for_claims_denied_before_the_upgrade(
        tmp_path: Path) -> None:
    url = _empty_url(tmp_path)
    command.upgrade(alembic_config(url), "0003")
    engine = make_engine(url)
    claim = (
        "INSERT INTO claim (id, status, claim_type, payer_id, patient_last_name, "
        "patient_first_name, member_id, billing_npi, service_date, total_charge, paid_amount, "
        "patient_responsibility, attempts, document, findings, created_at, updated_at) VALUES "
        "({id}, 'paid', 'professional', 'SANDBOX', 'Lee', 'Ann', 'W1', '1234567893', "
        "'2026-11-02', 150.00, 120.00, 0, 2, '{{}}', '[]', '2026-11-03 10:00:00', "
        "'2026-11-04 10:00:00')"
    )
    remittance = (
        "INSERT INTO remittance (id, edi_file_id, position, claim_id, attempt, "
        "patient_control_number, status_code, charge, paid, patient_responsibility, data, "
        "received_at) VALUES ({id}, 1, {id}, {claim}, {attempt}, 'RC{claim}-{attempt}', '1', "
        "150.00, {paid}, 0, '{{}}', '2026-11-10 10:00:00')"
    )
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO edifile (id, sha256, source, size, raw, status, matched, unmatched, "
            "signalled, received_at) VALUES (1, 'ab', 'api', 3, 'ISA', 'processed', 3, 0, "
            "true, '2026-11-10 10:00:00')"))
        for claim_id in (1, 2):
            conn.execute(text(claim.format(id=claim_id)))
        for row in ({"id": 1, "claim": 1, "attempt": 1, "paid": 0},
                    {"id": 2, "claim": 1, "attempt": 2, "paid": 120},
                    {"id": 3, "claim": 2, "attempt": 1, "paid": 120}):
            conn.execute(text(remittance.format(**row)))
        conn.execute(text(
            "INSERT INTO denial (claim_id, remittance_id, attempt, level, line_index, \"group\", "
            "carc, rarcs, amount, payer_id, created_at) VALUES (1, 1, 1, 'claim', -1, 'CO', "
            "'16', '[]', 150.00, 'SANDBOX', '2026-10-31 23:30:00')"))
    engine.dispose()

    command.upgrade(alembic_config(url), "head")

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, denied_at, recovered_amount, overturned FROM claim "
                                 "ORDER BY id")).all()
        month = conn.execute(text("SELECT denied_month FROM denial")).scalar_one()
    engine.dispose()
    denied, never = rows
    assert denied.denied_at is not None
    assert float(denied.recovered_amount) == 120.0
    assert bool(denied.overturned) is True
    assert (never.denied_at, never.recovered_amount, never.overturned) == (None, None, None)
    assert month == "2026-10"


@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_models_and_the_migrations_agree(tmp_path: Path) -> None:
    url = _empty_url(tmp_path)
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == [], f"the models changed without a migration: {diff}"
