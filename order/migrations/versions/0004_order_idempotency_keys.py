"""order idempotency keys: the answers given to requests with an Idempotency-Key, so that
a retry gets the same answer

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import common.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_key',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('stored_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index('ix_idempotency_key_stored_at', 'idempotency_key', ['stored_at'])


def downgrade() -> None:
    op.drop_index('ix_idempotency_key_stored_at', table_name='idempotency_key')
    op.drop_table('idempotency_key')
