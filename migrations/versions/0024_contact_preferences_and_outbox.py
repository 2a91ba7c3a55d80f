"""contact preferences and the reminder outbox (issue 22, reminders to the claimant)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 18:00:00

A claimant's agreement to be contacted about appointments (channel, sealed address, language),
and one outbox row per appointment reminder (unique per referral and appointment time).
"""
from alembic import op
import sqlalchemy as sa
import caseshare.db

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_preferences',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('address', sa.LargeBinary(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('agreed_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=False),
    sa.Column('recorded_org', sa.String(length=64), nullable=False),
    sa.Column('ended_at', caseshare.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=16), nullable=True),
    sa.Column('ended_by', sa.Uuid(), nullable=True),
    sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f('ck_contact_preferences_known_channel')),
    sa.CheckConstraint("language IN ('en', 'cy')", name=op.f('ck_contact_preferences_known_language')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_contact_preferences_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_preferences'))
    )
    with op.batch_alter_table('contact_preferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_preferences_subject_id'), ['subject_id'], unique=False)

    op.create_table('reminders',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('appointment_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('location', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=8), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=True),
    sa.Column('recipient', sa.String(length=64), nullable=True),
    sa.Column('outbound', sa.String(length=16), nullable=True),
    sa.Column('created_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', caseshare.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'superseded', 'cancelled')", name=op.f('ck_reminders_known_status')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_reminders_referral_id_referrals')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_reminders_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
    sa.UniqueConstraint('key', name=op.f('uq_reminders_key'))
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index('ix_reminders_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminders_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminders_referral_id'), ['referral_id'], unique=False)


def downgrade() -> None:
    op.drop_table('reminders')
    op.drop_table('contact_preferences')
