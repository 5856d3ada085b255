"""sign-in attempts counted per key and window, in place of one row per failure

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import common.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_count',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('since', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index('ix_sign_in_count_since', 'sign_in_count', ['since'])
    op.drop_index('ix_sign_in_failure_name', table_name='sign_in_failure')
    op.drop_index('ix_sign_in_failure_address', table_name='sign_in_failure')
    op.drop_table('sign_in_failure')


def downgrade() -> None:
    op.create_table('sign_in_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failed_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sign_in_failure_address', 'sign_in_failure', ['address', 'failed_at'])
    op.create_index('ix_sign_in_failure_name', 'sign_in_failure', ['name', 'address', 'failed_at'])
    op.drop_index('ix_sign_in_count_since', table_name='sign_in_count')
    op.drop_table('sign_in_count')
