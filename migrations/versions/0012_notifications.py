"""notifications for a role or one person (override granted to IG officers, ...), read receipts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 08:50:00
"""
from alembic import op
import sqlalchemy as sa

import caseshare.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('staff_id', sa.Uuid(), nullable=True))
        batch_op.alter_column('subject_id', existing_type=sa.Uuid(), nullable=True)
    op.create_table('notification_reads',
    sa.Column('notification_id', sa.Uuid(), nullable=False),
    sa.Column('staff_id', sa.Uuid(), nullable=False),
    sa.Column('read_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('notification_id', 'staff_id', name=op.f('pk_notification_reads'))
    )


def downgrade() -> None:
    op.drop_table('notification_reads')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('subject_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('staff_id')
        batch_op.drop_column('role')
