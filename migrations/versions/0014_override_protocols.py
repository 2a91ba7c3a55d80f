"""overrides remember every protocol they were granted under (break-glass binding, issue 18)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-07 09:00:00

An override opens data only on flows of the protocols whose override rules permitted it; the
decision reads this list. Existing rows get the one protocol they already name.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None

JSON_LIST = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('overrides', schema=None) as batch_op:
        batch_op.add_column(sa.Column('protocols', JSON_LIST, nullable=True))
    overrides = sa.table('overrides', sa.column('id', sa.Uuid()),
                         sa.column('protocol', sa.String()), sa.column('protocols', JSON_LIST))
    conn = op.get_bind()
    for row in conn.execute(sa.select(overrides.c.id, overrides.c.protocol)).all():
        conn.execute(overrides.update().where(overrides.c.id == row.id)
                     .values(protocols=[row.protocol]))
    with op.batch_alter_table('overrides', schema=None) as batch_op:
        batch_op.alter_column('protocols', existing_type=JSON_LIST, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('overrides', schema=None) as batch_op:
        batch_op.drop_column('protocols')
