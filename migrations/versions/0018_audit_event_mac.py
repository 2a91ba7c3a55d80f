"""audit events tamper-evident from the moment they are written: writer stream, number, MAC

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 08:35:00

Each event now carries the writer stream that wrote it, its number in that stream, and an HMAC
over (stream, number, leaf hash) made at write time (caseshare/audit/service.py), so an edit or a
deletion of an event not yet integrated into the Merkle log is caught by `audit verify`. The
append-only triggers now also fix these three columns at insert.
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_BASE = ['id', 'event_uuid', 'occurred_at', 'type', 'actor', 'org', 'role', 'purpose',
         'subject_id', 'categories', 'decision', 'reasons', 'consent_id', 'protocol',
         'override_id', 'request_id', 'details', 'leaf_hash']
FIXED = [*_BASE, 'writer', 'writer_no', 'event_mac']
MESSAGE = 'audit history is append-only'


def _changed(dialect: str, columns: list[str]) -> str:
    if dialect == 'postgresql':
        return ' OR '.join(f'NEW.{c} IS DISTINCT FROM OLD.{c}' for c in columns)
    return ' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in columns)


def _triggers(columns: list[str]) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(f"""
            CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' OR OLD.seq IS NOT NULL OR {_changed(dialect, columns)} THEN
                RAISE EXCEPTION '{MESSAGE}';
              END IF;
              RETURN NEW;
            END $$""")
    elif dialect == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS audit_events_no_update')
        op.execute(f"""
            CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
            WHEN OLD.seq IS NOT NULL OR {_changed(dialect, columns)}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN (no batch copy), so SQLite keeps the table and its triggers.
    op.add_column('audit_events', sa.Column('writer', sa.String(length=32), nullable=True))
    op.add_column('audit_events', sa.Column('writer_no', sa.BigInteger(), nullable=True))
    op.add_column('audit_events', sa.Column('event_mac', sa.LargeBinary(length=32),
                                            nullable=True))
    op.create_index('ix_audit_events_writer', 'audit_events', ['writer', 'writer_no'],
                    unique=False)
    _triggers(FIXED)


def downgrade() -> None:
    _triggers(_BASE)
    op.drop_index('ix_audit_events_writer', table_name='audit_events')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('event_mac')
        batch_op.drop_column('writer_no')
        batch_op.drop_column('writer')
