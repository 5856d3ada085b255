"""invoicing rebuilds: the state of the last rebuild from the feed (running, done or
failed, how far it got)

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
    op.create_table('rebuild',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('started_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reported_at', common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('newest', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('rebuild')
