"""shipping keeps no email: a parcel needs the recipient's name and address only

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_column('recipient_email')


def downgrade() -> None:
    # The emails are gone for good; a downgraded schema gets empty ones.
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_email', sa.String(length=200), nullable=False, server_default=''))
