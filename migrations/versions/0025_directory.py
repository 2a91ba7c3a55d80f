"""the service directory (Open Referral UK): organisations, services, locations, taxonomy
terms, served postcode districts; referrals record the service they were made to

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 18:05:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'directory_organisations',
        sa.Column('id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('name_cy', sa.String(length=200), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('url', sa.String(length=500), nullable=True),
        sa.Column('email', sa.String(length=200), nullable=True),
        sa.Column('party_id', sa.String(length=64), nullable=True),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_organisations')),
    )
    op.create_index(op.f('ix_directory_organisations_party_id'), 'directory_organisations',
                    ['party_id'])
    op.create_table(
        'directory_services',
        sa.Column('id', sa.String(length=100), nullable=False),
        sa.Column('organization_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('name_cy', sa.String(length=200), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('url', sa.String(length=500), nullable=True),
        sa.Column('email', sa.String(length=200), nullable=True),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('sort_key', sa.String(length=200), nullable=False),
        sa.Column('search_text', sa.Text(), nullable=False),
        sa.Column('card', JSON, nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['directory_organisations.id'],
                                name=op.f('fk_directory_services_organization_id_directory_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_services')),
    )
    op.create_index(op.f('ix_directory_services_organization_id'), 'directory_services',
                    ['organization_id'])
    op.create_index('ix_directory_services_status_sort', 'directory_services',
                    ['status', 'sort_key', 'id'])
    op.create_table(
        'directory_locations',
        sa.Column('service_id', sa.String(length=100), nullable=False),
        sa.Column('id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=True),
        sa.Column('address', sa.String(length=500), nullable=True),
        sa.Column('postcode', sa.String(length=10), nullable=True),
        sa.Column('postcode_district', sa.String(length=4), nullable=True),
        sa.ForeignKeyConstraint(['service_id'], ['directory_services.id'],
                                name=op.f('fk_directory_locations_service_id_directory_services')),
        sa.PrimaryKeyConstraint('service_id', 'id', name=op.f('pk_directory_locations')),
    )
    op.create_table(
        'directory_service_taxonomys',
        sa.Column('service_id', sa.String(length=100), nullable=False),
        sa.Column('vocabulary', sa.String(length=64), nullable=False),
        sa.Column('term_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['service_id'], ['directory_services.id'],
                                name=op.f('fk_directory_service_taxonomys_service_id_directory_services')),
        sa.PrimaryKeyConstraint('service_id', 'vocabulary', 'term_id',
                                name=op.f('pk_directory_service_taxonomys')),
    )
    op.create_index('ix_directory_service_taxonomys_term', 'directory_service_taxonomys',
                    ['vocabulary', 'term_id', 'service_id'])
    op.create_table(
        'directory_service_districts',
        sa.Column('service_id', sa.String(length=100), nullable=False),
        sa.Column('district', sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(['service_id'], ['directory_services.id'],
                                name=op.f('fk_directory_service_districts_service_id_directory_services')),
        sa.PrimaryKeyConstraint('service_id', 'district',
                                name=op.f('pk_directory_service_districts')),
    )
    op.create_index('ix_directory_service_districts_district', 'directory_service_districts',
                    ['district', 'service_id'])
    # The directory service a referral was made to (no foreign key: the directory is replaced
    # by each import, and a referral keeps the id it was made for).
    op.add_column('referrals', sa.Column('service_id', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('referrals') as batch:
        batch.drop_column('service_id')
    op.drop_table('directory_service_districts')
    op.drop_table('directory_service_taxonomys')
    op.drop_table('directory_locations')
    op.drop_table('directory_services')
    op.drop_table('directory_organisations')
