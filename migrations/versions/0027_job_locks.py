"""job locks: the per-job lock row the worker's job runner claims on SQLite (PostgreSQL uses an
advisory lock and leaves the table empty)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 09:00:00
"""
from alembic import op
import sqlalchemy as sa
import caseshare.db

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_locks',
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=True),
    sa.Column('taken_at', caseshare.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', caseshare.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_job_locks'))
    )


def downgrade() -> None:
    op.drop_table('job_locks')
