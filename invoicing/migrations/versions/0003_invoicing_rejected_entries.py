"""invoicing rejected entries: feed entries whose documents could not be used,
kept with the reason to retry

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import common.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rejected_entry',
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('entry_id', sa.String(length=500), nullable=False),
    sa.Column('content_src', sa.String(length=2000), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('rejected_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('position')
    )


def downgrade() -> None:
    op.drop_table('rejected_entry')
