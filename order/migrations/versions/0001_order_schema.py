"""order schema, and the catalog a new database starts with

Revision ID: 0001
Revises:
"""
from decimal import Decimal

from alembic import op
import sqlalchemy as sa
import common.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    customers = op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firstname', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    items = op.create_table('item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('price', common.db.Money(precision=12, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('purchase_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('updated', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('shipping_street', sa.String(length=200), nullable=False),
    sa.Column('shipping_zip', sa.String(length=20), nullable=False),
    sa.Column('shipping_city', sa.String(length=100), nullable=False),
    sa.Column('billing_street', sa.String(length=200), nullable=False),
    sa.Column('billing_zip', sa.String(length=20), nullable=False),
    sa.Column('billing_city', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_purchase_order_updated', 'purchase_order', ['updated'])
    op.create_table('order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('price', common.db.Money(precision=12, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['purchase_order.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_order_line_order_id', 'order_line', ['order_id'])
    op.bulk_insert(customers, [
        {"id": 1, "firstname": "Eberhard", "name": "Wolff", "email": "eberhard.wolff@example.com"},
        {"id": 2, "firstname": "Rod", "name": "Johnson", "email": "rod.johnson@example.com"},
    ])
    op.bulk_insert(items, [
        {"id": 1, "name": "iPod", "price": Decimal("42.00")},
        {"id": 2, "name": "iPod touch", "price": Decimal("21.00")},
        {"id": 3, "name": "iPod nano", "price": Decimal("1.00")},
        {"id": 4, "name": "Apple TV", "price": Decimal("100.00")},
    ])
    if op.get_bind().dialect.name == "postgresql":
        # The rows above chose their ids; the sequences must go on after them.
        op.execute("SELECT setval('customer_id_seq', 2), setval('item_id_seq', 4)")

def downgrade() -> None:
    op.drop_index('ix_order_line_order_id', table_name='order_line')
    op.drop_table('order_line')
    op.drop_index('ix_purchase_order_updated', table_name='purchase_order')
    op.drop_table('purchase_order')
    op.drop_table('item')
    op.drop_table('customer')
