"""audit checkpoints also as C2SP tlog-checkpoint signed notes

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-07 11:45:00

Each checkpoint sealed from now on carries `note`, its size and root hash as a C2SP signed note
(https://c2sp.org/tlog-checkpoint) signed by the audit key, which any standard witness or
verifier reads. Checkpoints sealed before keep no note (NULL); their JSON signature is unchanged.
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('audit_checkpoints', sa.Column('note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_checkpoints') as batch:
        batch.drop_column('note')
