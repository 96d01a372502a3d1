"""837 intake: the files imported and the claims they created (unique per submitter + PCN)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('claimimport',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('file_type', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('submitter', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('error', sa.JSON(), nullable=True),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('claimimport', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claimimport_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_claimimport_received_at'), ['received_at'],
                              unique=False)
    op.create_table('importedclaim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submitter', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('patient_control_number', sqlmodel.sql.sqltypes.AutoString(length=38),
              nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], ),
    sa.ForeignKeyConstraint(['import_id'], ['claimimport.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submitter', 'patient_control_number',
                        name='uq_importedclaim_submitter_pcn')
    )
    with op.batch_alter_table('importedclaim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_importedclaim_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_importedclaim_import_id'), ['import_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('importedclaim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_importedclaim_import_id'))
        batch_op.drop_index(batch_op.f('ix_importedclaim_claim_id'))
    op.drop_table('importedclaim')
    with op.batch_alter_table('claimimport', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claimimport_received_at'))
        batch_op.drop_index(batch_op.f('ix_claimimport_sha256'))
    op.drop_table('claimimport')
