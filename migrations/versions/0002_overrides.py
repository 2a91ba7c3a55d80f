"""break-glass overrides (also the IG review items)

Revision ID: 0002
Revises: 0003
Create Date: 2026-11-23 03:47:43.859101
"""
from alembic import op
import sqlalchemy as sa
import caseshare.db
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('overrides',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('route', sa.String(length=64), nullable=False),
    sa.Column('categories', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('protocol', sa.String(length=80), nullable=False),
    sa.Column('justification_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('notify', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('starts_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('review_due_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_at', caseshare.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_note_sealed', sa.LargeBinary(), nullable=True),
    sa.CheckConstraint("status IN ('pending_review', 'justified', 'not_justified')", name=op.f('ck_overrides_known_status')),
    sa.CheckConstraint('expires_at > starts_at', name=op.f('ck_overrides_expires_after_start')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_overrides_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_overrides'))
    )
    with op.batch_alter_table('overrides', schema=None) as batch_op:
        batch_op.create_index('ix_overrides_status_review_due_at', ['status', 'review_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_overrides_subject_id'), ['subject_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_overrides_subject_id'))
        batch_op.drop_index('ix_overrides_status_review_due_at')

    op.drop_table('overrides')
