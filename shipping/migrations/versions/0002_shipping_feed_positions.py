"""shipping feed positions: the consumer remembers the last feed position it applied,
and copies the order's status and version.

A database from before starts at position 0 and walks the feed again from its
first page; the import ignores what it has already.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import common.db  # noqa: F401 - the column types of the history


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table('imported_entry')
    with op.batch_alter_table('poll_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='accepted'))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('status')
    with op.batch_alter_table('poll_state', schema=None) as batch_op:
        batch_op.drop_column('position')
    op.create_table('imported_entry',
    sa.Column('entry_id', sa.VARCHAR(length=500), nullable=False),
    sa.Column('imported_at', sa.DATETIME(), nullable=False),
    sa.PrimaryKeyConstraint('entry_id')
    )
