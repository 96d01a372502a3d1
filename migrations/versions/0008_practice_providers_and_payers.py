"""the practice's providers (names, taxonomy, tax id, address, active dates) and payers' terms
(versioned), and the terms recorded on each claim at submission

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('directoryprovider', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60),
                                      nullable=True))
        batch_op.add_column(sa.Column('taxonomy', sqlmodel.sql.sqltypes.AutoString(length=10),
                                      nullable=True))
        batch_op.add_column(sa.Column('tax_id', sqlmodel.sql.sqltypes.AutoString(length=9),
                                      nullable=True))
        batch_op.add_column(sa.Column('address', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('active_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('active_to', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=False,
                                      server_default=sa.text('CURRENT_TIMESTAMP')))

    op.create_table('payertermsversion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payer_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('payer_id', 'version')
    )
    with op.batch_alter_table('payertermsversion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payertermsversion_payer_id'), ['payer_id'],
                              unique=False)

    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer_terms_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('payer_terms', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_column('payer_terms')
        batch_op.drop_column('payer_terms_version')
    with op.batch_alter_table('payertermsversion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payertermsversion_payer_id'))
    op.drop_table('payertermsversion')
    with op.batch_alter_table('directoryprovider', schema=None) as batch_op:
        for name in ('updated_at', 'active_to', 'active_from', 'address', 'tax_id', 'taxonomy',
                     'name'):
            batch_op.drop_column(name)
