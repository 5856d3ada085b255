"""order feed positions: the log of order changes the feed publishes; status, version
and the time an order was placed, apart from its last change

Orders placed before this revision get a "placed" entry each, in the order of their ids.

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
    op.create_table('feed_entry',
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('order_version', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('recorded_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['purchase_order.id'], ),
    sa.PrimaryKeyConstraint('position')
    )
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='accepted'))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('placed_at', common.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index('ix_purchase_order_updated')
    op.execute("UPDATE purchase_order SET placed_at = updated")
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.alter_column('placed_at', nullable=False)
    op.execute("INSERT INTO feed_entry (position, order_id, order_version, event, recorded_at) "
               "SELECT ROW_NUMBER() OVER (ORDER BY id), id, 1, 'placed', updated FROM purchase_order")


def downgrade() -> None:
    with op.batch_alter_table('purchase_order', schema=None) as batch_op:
        batch_op.create_index('ix_purchase_order_updated', ['updated'])
        batch_op.drop_column('placed_at')
        batch_op.drop_column('version')
        batch_op.drop_column('status')
    op.drop_table('feed_entry')
