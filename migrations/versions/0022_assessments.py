"""completed assessments, sealed item by item, and accepted proposals

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 18:00:00

A completed assessment is a plain record (form, language, who, when, purpose) and its items:
each answer, domain score, set of flags and the summary sealed under the subject's data key and
labelled with the categories it discloses (caseshare/assessments/models.py).
"""
from alembic import op
import sqlalchemy as sa
import caseshare.db
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assessments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('form_id', sa.String(length=80), nullable=False),
    sa.Column('form_version', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('completed_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_by', sa.Uuid(), nullable=False),
    sa.Column('completed_org', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['completed_org'], ['organisations.id'], name=op.f('fk_assessments_completed_org_organisations')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_assessments_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments'))
    )
    op.create_index(op.f('ix_assessments_subject_id'), 'assessments', ['subject_id'], unique=False)
    op.create_table('assessment_items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('assessment_id', sa.Uuid(), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('categories', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('own_record', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_items_assessment_id_assessments')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_assessment_items_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_items')),
    sa.UniqueConstraint('assessment_id', 'kind', 'key', name=op.f('uq_assessment_items_assessment_id')),
    )
    op.create_index(op.f('ix_assessment_items_assessment_id'), 'assessment_items', ['assessment_id'], unique=False)
    op.create_index(op.f('ix_assessment_items_subject_id'), 'assessment_items', ['subject_id'], unique=False)
    op.create_table('assessment_acceptances',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('assessment_id', sa.Uuid(), nullable=False),
    sa.Column('proposal_id', sa.String(length=80), nullable=False),
    sa.Column('created_kind', sa.String(length=16), nullable=False),
    sa.Column('created_id', sa.Uuid(), nullable=False),
    sa.Column('accepted_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_by', sa.Uuid(), nullable=False),
    sa.Column('accepted_org', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_acceptances_assessment_id_assessments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_acceptances')),
    sa.UniqueConstraint('assessment_id', 'proposal_id', name=op.f('uq_assessment_acceptances_assessment_id')),
    )
    op.create_index(op.f('ix_assessment_acceptances_assessment_id'), 'assessment_acceptances', ['assessment_id'], unique=False)


def downgrade() -> None:
    op.drop_table('assessment_acceptances')
    op.drop_table('assessment_items')
    op.drop_table('assessments')
