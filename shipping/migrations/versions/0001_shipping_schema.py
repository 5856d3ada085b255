"""shipping schema

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
    op.create_table('imported_entry',
    sa.Column('entry_id', sa.String(length=500), nullable=False),
    sa.Column('imported_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entry_id')
    )
    op.create_table('poll_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('etag', sa.String(length=200), nullable=True),
    sa.Column('last_modified', sa.String(length=64), nullable=True),
    sa.Column('polled_at', common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('shipment',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('ordered_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recipient_firstname', sa.String(length=100), nullable=False),
    sa.Column('recipient_name', sa.String(length=100), nullable=False),
    sa.Column('recipient_email', sa.String(length=200), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('zip', sa.String(length=20), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_shipment_ordered_at', 'shipment', ['ordered_at'])
    op.create_table('shipment_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('item_name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_shipment_line_shipment_id', 'shipment_line', ['shipment_id'])

def downgrade() -> None:
    op.drop_index('ix_shipment_line_shipment_id', table_name='shipment_line')
    op.drop_table('shipment_line')
    op.drop_index('ix_shipment_ordered_at', table_name='shipment')
    op.drop_table('shipment')
    op.drop_table('poll_state')
    op.drop_table('imported_entry')
