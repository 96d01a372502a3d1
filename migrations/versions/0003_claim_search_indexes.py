"""claim search indexes: lower() of the searched columns, for prefix ranges

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = ("patient_last_name", "member_id", "payer_claim_control_number")


def upgrade() -> None:
    for name in SEARCHED:
        op.create_index(f"ix_claim_lower_{name}", "claim", [sa.text(f"lower({name})")])


def downgrade() -> None:
    for name in SEARCHED:
        op.drop_index(f"ix_claim_lower_{name}", table_name="claim")
