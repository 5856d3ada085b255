"""invoicing poll status: the tracking record (the position and the validators that
go with it) and what people read about the polls, each in a table of its own, so
that recording how a poll went never waits for an import to commit

The position moves over as it was: no entry is imported twice after the upgrade.
The entries left become the feed's newest position as last seen (the position plus
the entries left then).

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import common.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

STATUS = 'polled_at, outcome, message, imported'
WINDOWS = 'pending_since, window_started, imports_in_window, imports_in_window_before'


def upgrade() -> None:
    op.create_table('tracking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('etag', sa.String(length=200), nullable=True),
    sa.Column('last_modified', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('poll_status',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('polled_at', common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('newest', sa.Integer(), nullable=False),
    sa.Column('pending_since', common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('window_started', common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('imports_in_window', sa.Integer(), nullable=False),
    sa.Column('imports_in_window_before', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute('INSERT INTO tracking (id, position, etag, last_modified) '
               'SELECT id, position, etag, last_modified FROM poll_state')
    op.execute(f'INSERT INTO poll_status (id, {STATUS}, newest, {WINDOWS}) '
               f'SELECT id, {STATUS}, position + pending, {WINDOWS} FROM poll_state')
    op.drop_table('poll_state')


def downgrade() -> None:
    op.create_table('poll_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('etag', sa.String(length=200), nullable=True),
    sa.Column('last_modified', sa.String(length=64), nullable=True),
    sa.Column('polled_at', common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('pending_since', common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('window_started', common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('imports_in_window', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('imports_in_window_before', sa.Integer(), nullable=False, server_default='0'),
    sa.PrimaryKeyConstraint('id')
    )
    # Either row may be there without the other: a rebuild before any poll makes the
    # tracking row alone, a first poll that failed the status row alone.
    op.execute(f'INSERT INTO poll_state (id, etag, last_modified, position, {STATUS}, pending, {WINDOWS}) '
               'SELECT t.id, t.etag, t.last_modified, t.position, s.polled_at, s.outcome, s.message, '
               'COALESCE(s.imported, 0), CASE WHEN s.newest > t.position THEN s.newest - t.position ELSE 0 END, '
               's.pending_since, s.window_started, COALESCE(s.imports_in_window, 0), '
               'COALESCE(s.imports_in_window_before, 0) '
               'FROM tracking t LEFT JOIN poll_status s ON s.id = t.id')
    op.execute(f'INSERT INTO poll_state (id, position, {STATUS}, pending, {WINDOWS}) '
               f'SELECT id, 0, {STATUS}, newest, {WINDOWS} FROM poll_status s '
               'WHERE NOT EXISTS (SELECT 1 FROM tracking t WHERE t.id = s.id)')
    op.drop_table('poll_status')
    op.drop_table('tracking')
