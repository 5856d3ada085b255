"""invoicing consumer status: when the oldest entry left behind was written, and the
imports counted by window of time, for GET /status

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import common.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('poll_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_since', common.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('window_started', common.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('imports_in_window', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('imports_in_window_before', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('poll_state', schema=None) as batch_op:
        batch_op.drop_column('imports_in_window_before')
        batch_op.drop_column('imports_in_window')
        batch_op.drop_column('window_started')
        batch_op.drop_column('pending_since')
