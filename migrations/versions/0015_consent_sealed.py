"""consent records: sealed proxy name, authority, evidence, explicit statement and withdrawal
reason; explicit confirmation flag and statement hash

Existing rows keep their plaintext columns until `flask caseshare consents seal-legacy` seals
them (a migration has no keyring). `explicit_confirmed` is set for existing explicit consents.

Revision ID: 0015
Revises: 0018
Create Date: 2026-12-07 09:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('given_by_name_sealed', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('authority_ref_sealed', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('explicit_statement_sealed', sa.LargeBinary(),
                                      nullable=True))
        batch_op.add_column(sa.Column('explicit_confirmed', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('explicit_statement_sha256', sa.String(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('evidence_ref_sealed', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('consent_withdrawals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_sealed', sa.LargeBinary(), nullable=True))
    op.execute("UPDATE consents SET explicit_confirmed = TRUE "
               "WHERE explicit_statement IS NOT NULL AND explicit_statement <> ''")


def downgrade() -> None:
    with op.batch_alter_table('consent_withdrawals', schema=None) as batch_op:
        batch_op.drop_column('reason_sealed')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_column('evidence_ref_sealed')
        batch_op.drop_column('explicit_statement_sha256')
        batch_op.drop_column('explicit_confirmed')
        batch_op.drop_column('explicit_statement_sealed')
        batch_op.drop_column('authority_ref_sealed')
        batch_op.drop_column('given_by_name_sealed')
