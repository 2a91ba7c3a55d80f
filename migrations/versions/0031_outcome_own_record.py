"""outcomes.own_record: an outcome recorded where no flow shares its category onward for the
recording purpose is its organisation's alone, as a support record is (review of issue 24,
finding 3)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08 02:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('own_record', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.drop_column('own_record')
