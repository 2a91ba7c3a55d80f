"""case_members indexed by organisation, for the caseload

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 15:30:00

The caseload (GET /caseload and the home page) selects the claimants one organisation works
with: `case_members WHERE org_id = ?`. The unique constraint's index leads with subject_id, so
without this index every caseload read scanned the whole table (300,000 rows at the benchmark
size).
"""
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_case_members_org_id_subject_id', 'case_members', ['org_id', 'subject_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_members_org_id_subject_id', table_name='case_members')
