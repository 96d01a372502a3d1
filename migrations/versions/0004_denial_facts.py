"""denial facts on the claim and each denial's month, for the denial KPIs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 15:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same derivation as reclaim.denials.facts.refresh_denial_facts, frozen here as SQL.
FIRST_REMITTANCE = "(SELECT min(d.remittance_id) FROM denial d WHERE d.claim_id = claim.id)"
LATER = f"r.claim_id = claim.id AND r.id > {FIRST_REMITTANCE}"
BACKFILL_CLAIMS = f"""
UPDATE claim SET
  denied_at = (SELECT min(d.created_at) FROM denial d WHERE d.claim_id = claim.id),
  recovered_amount = (SELECT coalesce(sum(r.paid), 0) FROM remittance r WHERE {LATER}),
  overturned = EXISTS (SELECT 1 FROM remittance r WHERE {LATER} AND r.paid > 0)
WHERE EXISTS (SELECT 1 FROM denial d WHERE d.claim_id = claim.id)
"""


def upgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('denied_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('recovered_amount', sa.Numeric(precision=12, scale=2),
                                      nullable=True))
        batch_op.add_column(sa.Column('overturned', sa.Boolean(), nullable=True))
    with op.batch_alter_table('denial', schema=None) as batch_op:
        batch_op.add_column(sa.Column('denied_month', sqlmodel.sql.sqltypes.AutoString(length=7),
                                      nullable=False, server_default=''))

    if op.get_bind().dialect.name == "postgresql":
        month = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')"
    else:
        month = "substr(created_at, 1, 7)"  # stored as UTC text, 'YYYY-MM-DD HH:MM:SS'
    op.execute(f"UPDATE denial SET denied_month = {month}")
    op.execute(BACKFILL_CLAIMS)

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index('ix_claim_denial_kpi', ['denied_at', 'status', 'closed_at',
                              'overturned', 'recovered_amount', 'total_charge', 'paid_amount',
                              'patient_responsibility', 'payer_id', 'service_date'],
                              unique=False)
    with op.batch_alter_table('denial', schema=None) as batch_op:
        batch_op.create_index('ix_denial_reasons', ['payer_id', 'denied_month', 'group', 'carc',
                              'claim_id', 'amount'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('denial', schema=None) as batch_op:
        batch_op.drop_index('ix_denial_reasons')
        batch_op.drop_column('denied_month')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_denial_kpi')
        batch_op.drop_column('overturned')
        batch_op.drop_column('recovered_amount')
        batch_op.drop_column('denied_at')
