"""audit log: per-leaf MAC set by the sequencer, stored perfect subtrees for proofs and sealing,
and triggers that keep audit events and checkpoints append-only

Revision ID: 0003
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0005'
branch_labels = None
depends_on = None

# Everything an event's leaf hash covers, plus the hash itself: fixed at insert. Only the
# sequencer's two columns (seq, leaf_mac) may be set later, once, while seq is still null.
FIXED = ['id', 'event_uuid', 'occurred_at', 'type', 'actor', 'org', 'role', 'purpose',
         'subject_id', 'categories', 'decision', 'reasons', 'consent_id', 'protocol',
         'override_id', 'request_id', 'details', 'leaf_hash']
MESSAGE = 'audit history is append-only'


def _changed(dialect: str) -> str:
    if dialect == 'postgresql':
        return ' OR '.join(f'NEW.{c} IS DISTINCT FROM OLD.{c}' for c in FIXED)
    return ' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in FIXED)


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leaf_mac', sa.LargeBinary(length=32), nullable=True))
    op.create_index('ix_audit_events_pending', 'audit_events', ['id'], unique=False,
                    sqlite_where=sa.text('seq IS NULL'), postgresql_where=sa.text('seq IS NULL'))
    op.create_table('audit_tree_nodes',
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('level', 'idx', name=op.f('pk_audit_tree_nodes'))
    )
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' OR OLD.seq IS NOT NULL OR {_changed(dialect)} THEN
                RAISE EXCEPTION '{MESSAGE}';
              END IF;
              RETURN NEW;
            END $$""")
        op.execute("""
            CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""")
        op.execute(f"""
            CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""")
        op.execute("""
            CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE
            ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only()""")
    elif dialect == 'sqlite':
        op.execute(f"""
            CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
            WHEN OLD.seq IS NOT NULL OR {_changed(dialect)}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")
        for table in ('audit_events', 'audit_checkpoints'):
            op.execute(f"""
                CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")
        op.execute(f"""
            CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute('DROP TRIGGER audit_checkpoints_append_only ON audit_checkpoints')
        op.execute('DROP FUNCTION audit_checkpoints_append_only()')
        op.execute('DROP TRIGGER audit_events_append_only ON audit_events')
        op.execute('DROP FUNCTION audit_events_append_only()')
    elif dialect == 'sqlite':
        for trigger in ('audit_events_no_update', 'audit_events_no_delete',
                        'audit_checkpoints_no_delete', 'audit_checkpoints_no_update'):
            op.execute(f'DROP TRIGGER {trigger}')
    op.drop_table('audit_tree_nodes')
    op.drop_index('ix_audit_events_pending', table_name='audit_events')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('leaf_mac')
