"""account schema: accounts, revocations, failed sign-ins

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa
import common.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.String(length=200), nullable=False),
    sa.Column('created_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('removed_account',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('removed_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('revoked_token',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('expires_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_revoked_token_expires_at', 'revoked_token', ['expires_at'])
    op.create_table('sign_in_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failed_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sign_in_failure_address', 'sign_in_failure', ['address', 'failed_at'])
    op.create_index('ix_sign_in_failure_name', 'sign_in_failure', ['name', 'address', 'failed_at'])


def downgrade() -> None:
    op.drop_index('ix_sign_in_failure_name', table_name='sign_in_failure')
    op.drop_index('ix_sign_in_failure_address', table_name='sign_in_failure')
    op.drop_table('sign_in_failure')
    op.drop_index('ix_revoked_token_expires_at', table_name='revoked_token')
    op.drop_table('revoked_token')
    op.drop_table('removed_account')
    op.drop_table('account')
