"""staff credentials: an epoch that ends every token and session, single-use TOTP steps, and
external identities bound by (issuer, subject)

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-07 08:40:00
"""
from alembic import op
import sqlalchemy as sa
import caseshare.db


revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tokens and sessions issued before this migration carry no epoch and count as epoch 0,
    # so they keep working until the first disable or change of organisation or roles.
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credentials_epoch', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    op.create_table('staff_external_identities',
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('staff_id', sa.Uuid(), nullable=False),
    sa.Column('linked_at', caseshare.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_staff_external_identities_staff_id_staff_members')),
    sa.PrimaryKeyConstraint('issuer', 'subject', name=op.f('pk_staff_external_identities'))
    )
    with op.batch_alter_table('staff_external_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_external_identities_staff_id'), ['staff_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_external_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_external_identities_staff_id'))
    op.drop_table('staff_external_identities')
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('credentials_epoch')
