"""order history index: an order's feed entries found without reading the whole log,
for the history its page shows

Revision ID: 0005
Revises: 0004
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_feed_entry_order_id', 'feed_entry', ['order_id'])


def downgrade() -> None:
    op.drop_index('ix_feed_entry_order_id', table_name='feed_entry')
