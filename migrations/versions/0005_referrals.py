"""referrals (warm handovers) and plan entry history

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 03:12:55.961898
"""
from alembic import op
import sqlalchemy as sa
import caseshare.db
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('referrals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('from_org', sa.String(length=64), nullable=False),
    sa.Column('to_org', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message', sa.LargeBinary(), nullable=False),
    sa.Column('contact_name', sa.LargeBinary(), nullable=False),
    sa.Column('appointment_at', caseshare.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('protocol', sa.String(length=80), nullable=False),
    sa.Column('flow_id', sa.String(length=64), nullable=False),
    sa.Column('consent_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('decided_at', caseshare.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decline_reason', sa.LargeBinary(), nullable=True),
    sa.Column('suspended_reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['from_org'], ['organisations.id'], name=op.f('fk_referrals_from_org_organisations')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_referrals_subject_id_subjects')),
    sa.ForeignKeyConstraint(['to_org'], ['organisations.id'], name=op.f('fk_referrals_to_org_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_to_org'), ['to_org'], unique=False)

    op.create_table('plan_entry_versions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('changed_fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('owner_org', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('title', sa.LargeBinary(), nullable=False),
    sa.Column('detail', sa.LargeBinary(), nullable=True),
    sa.Column('owner_name', sa.LargeBinary(), nullable=True),
    sa.Column('service', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.LargeBinary(), nullable=True),
    sa.Column('changed_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.Uuid(), nullable=False),
    sa.Column('changed_org', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['plan_entries.id'], name=op.f('fk_plan_entry_versions_entry_id_plan_entries')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_plan_entry_versions_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_entry_versions')),
    sa.UniqueConstraint('entry_id', 'version', name=op.f('uq_plan_entry_versions_entry_id'))
    )
    # The LSSF service line an entry delivers, and its outcome (sealed).
    with op.batch_alter_table('plan_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.LargeBinary(), nullable=True))

    with op.batch_alter_table('plan_entry_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_entry_versions_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_entry_versions_subject_id'), ['subject_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('plan_entries', schema=None) as batch_op:
        batch_op.drop_column('outcome')
        batch_op.drop_column('service')

    with op.batch_alter_table('plan_entry_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_entry_versions_subject_id'))
        batch_op.drop_index(batch_op.f('ix_plan_entry_versions_entry_id'))

    op.drop_table('plan_entry_versions')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_to_org'))
        batch_op.drop_index(batch_op.f('ix_referrals_subject_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_status'))

    op.drop_table('referrals')
