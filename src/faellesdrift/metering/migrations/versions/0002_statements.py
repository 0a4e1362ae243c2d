"""Closed months and their per-tenant statements (immutable once written).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = ("settlement_close", "settlement_statement")


def upgrade() -> None:
    op.create_table(
        "settlement_close",
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("model", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("closed_at", sa.String(40), nullable=False),
        sa.Column("who", sa.String(80), nullable=False),
        sa.Column("total_ore", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),  # canonical JSON: pools, notes
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "settlement_statement",
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("model", sa.String(40), nullable=False),
        sa.Column("amount_ore", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),  # canonical JSON: inputs, amounts, lines
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    # Closed means closed: the database refuses to change or delete a statement.
    dialect = op.get_bind().dialect.name
    for table in _TABLES:
        if dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is immutable: closed "
                           "statements never change'); END")
        else:
            op.execute(f"CREATE FUNCTION {table}_immutable() RETURNS trigger AS $$ BEGIN "
                       f"RAISE EXCEPTION '{table} is immutable: closed statements never "
                       "change'; END $$ LANGUAGE plpgsql")
            op.execute(f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {table}_immutable()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in _TABLES:
        if dialect != "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_immutable()")
        op.drop_table(table)
