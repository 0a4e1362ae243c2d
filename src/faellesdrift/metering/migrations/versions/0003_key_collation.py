"""PostgreSQL: the idempotency key compares bytewise (COLLATE "C").

A key is an identifier, never sorted for people; bytewise comparison makes every
index step of a bulk COPY cheaper than the database's locale collation (measured in
benchmarks/metering.py). SQLite already compares keys bytewise.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE usage ALTER COLUMN key TYPE varchar(200) COLLATE "C"')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE usage ALTER COLUMN key TYPE varchar(200) COLLATE "default"')
