"""IG incidents (opened when a break-glass override is found not justified)

Revision ID: 0008
Revises: 0002
Create Date: 2026-11-23 06:05:00
"""
from alembic import op
import sqlalchemy as sa
import caseshare.db

revision = '0008'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('override_id', sa.Uuid(), nullable=True),
    sa.Column('opened_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('opened_org', sa.String(length=64), nullable=False),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_incidents_known_status')),
    sa.ForeignKeyConstraint(['override_id'], ['overrides.id'], name=op.f('fk_incidents_override_id_overrides')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_incidents_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('override_id', name=op.f('uq_incidents_override_id'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_subject_id'), ['subject_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_subject_id'))
    op.drop_table('incidents')
