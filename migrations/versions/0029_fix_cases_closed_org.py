"""cases.closed_org: the organisation that closed the case, so the closure note (sealed under
`case_admin`, which no protocol flow governs) is shown only to it and to the lead organisation

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 22:35:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_org', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('closed_org')
