"""case plan entries recorded as an organisation's own record

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:20:00

An organisation may always record its own work in a category its grant writes, even where no
flow shares that category onward for the purpose; such an entry is marked `own_record` and only
the organisation that wrote it sees it. Entries written before were all shared under a flow
(false).
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('plan_entries', sa.Column('own_record', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('plan_entries') as batch:
        batch.drop_column('own_record')
