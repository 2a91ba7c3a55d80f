"""blind index of family name and date of birth, for finding a claimant by name

Revision ID: 0011
Revises: 0002
Create Date: 2026-11-23 06:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing claimants keep NULL: the search opens and compares those rows instead.
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_dob_index', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_subjects_name_dob_index'), ['name_dob_index'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subjects_name_dob_index'))
        batch_op.drop_column('name_dob_index')
