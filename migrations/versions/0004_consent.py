"""consent lifecycle: refusals, capacity and competence, expiry rule, notifications

Revision ID: 0004
Revises: 0007
Create Date: 2026-11-23 03:12:58
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import caseshare.db

revision = '0004'
down_revision = '0007'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision', sa.String(length=16), server_default='granted',
                                      nullable=False))
        batch_op.add_column(sa.Column('capacity', JSON, nullable=True))
        batch_op.add_column(sa.Column('competence', JSON, nullable=True))
        batch_op.add_column(sa.Column('expiry_rule', sa.String(length=32),
                                      server_default='fixed_date', nullable=False))
        batch_op.create_check_constraint(op.f('ck_consents_decision_known'),
                                         "decision IN ('granted', 'refused')")

    op.create_table(
        'notifications',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('org_id', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('subject_id', sa.Uuid(), nullable=False),
        sa.Column('consent_id', sa.Uuid(), nullable=True),
        sa.Column('created_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('details', JSON, nullable=False),
        sa.ForeignKeyConstraint(['consent_id'], ['consents.id'],
                                name=op.f('fk_notifications_consent_id_consents')),
        sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'],
                                name=op.f('fk_notifications_subject_id_subjects')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_org_id'), ['org_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_org_id'))
    op.drop_table('notifications')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_consents_decision_known'), type_='check')
        batch_op.drop_column('expiry_rule')
        batch_op.drop_column('competence')
        batch_op.drop_column('capacity')
        batch_op.drop_column('decision')
