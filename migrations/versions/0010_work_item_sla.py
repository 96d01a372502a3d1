"""work items: the internal SLA due date (RECLAIM_WORK_ITEM_DUE_AFTER per queue) and the code
the queue files them under

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('workitem', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_due_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('reason_code',
                                      sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_index('ix_workitem_status_sla', ['status', 'sla_due_at'], unique=False)
    # Items opened before the setting keep the order they had: their SLA is their due date.
    op.execute("UPDATE workitem SET sla_due_at = due_at WHERE sla_due_at IS NULL")
    _backfill_reason_codes()


def _backfill_reason_codes() -> None:
    from reclaim.work.queue import reason_code_of

    bind = op.get_bind()
    items = sa.table('workitem', sa.column('id', sa.Integer), sa.column('data', sa.JSON),
                     sa.column('detail', sa.Text), sa.column('reason_code', sa.String))
    rows = bind.execute(sa.select(items.c.id, items.c.data, items.c.detail)).all()
    for item_id, data, detail in rows:
        code = reason_code_of(data if isinstance(data, dict) else None, detail or "")
        if code:
            bind.execute(items.update().where(items.c.id == item_id).values(reason_code=code))


def downgrade() -> None:
    with op.batch_alter_table('workitem', schema=None) as batch_op:
        batch_op.drop_index('ix_workitem_status_sla')
        batch_op.drop_column('reason_code')
        batch_op.drop_column('sla_due_at')
