"""one active legal hold per subject: a partial unique index on legal_holds (subject_id) where the
hold is not lifted, so two IG officers placing a hold at once cannot both succeed

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 21:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.create_index('uq_legal_holds_active_subject', ['subject_id'], unique=True,
                              sqlite_where=sa.text('lifted_at IS NULL'),
                              postgresql_where=sa.text('lifted_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.drop_index('uq_legal_holds_active_subject')
