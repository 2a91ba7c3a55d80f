"""the referral lifecycle: a row per step, the response standard and the outcome

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 18:00:00

Each step of a referral (sent, accepted, declined, booked, attended, did not attend, completed,
withdrawn, suspended) is a `referral_events` row; its note and the appointment's time and place
are sealed. A referral gains `respond_by` (its response standard), `overdue_notified_at` (the
overdue notice goes once) and `outcome` (the code it was completed with). Referrals made before
have no events (their timeline is read from the referral row) and no response standard.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import caseshare.db

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('referral_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_org', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('note', sa.LargeBinary(), nullable=True),
    sa.Column('appointment_at', sa.LargeBinary(), nullable=True),
    sa.Column('location', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_events_referral_id_referrals')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_referral_events_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_events')),
    sa.UniqueConstraint('referral_id', 'seq', name=op.f('uq_referral_events_referral_id'))
    )
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_events_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_events_subject_id'), ['subject_id'], unique=False)
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('respond_by', caseshare.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('overdue_notified_at', caseshare.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_referrals_respond_by'), ['respond_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_respond_by'))
        batch_op.drop_column('outcome')
        batch_op.drop_column('overdue_notified_at')
        batch_op.drop_column('respond_by')
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_events_subject_id'))
        batch_op.drop_index(batch_op.f('ix_referral_events_referral_id'))
    op.drop_table('referral_events')
