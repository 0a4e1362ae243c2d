"""Usage rows, ingest batches and the monthly rollup.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_batch",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("periods", sa.String(200), nullable=False),
        sa.Column("who", sa.String(80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_offered", sa.BigInteger, nullable=False),
        sa.Column("rows_inserted", sa.BigInteger, nullable=False),
    )
    # The idempotency key is the primary key. On SQLite the table is clustered by it
    # (WITHOUT ROWID): one B-tree per row instead of two, which is what makes bulk
    # ingest fast; keys start with the source and the day, so inserts mostly append.
    op.create_table(
        "usage",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("meter", sa.String(63), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("quantity_micro", sa.BigInteger, nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("batch_id", sa.Integer, nullable=False),
        sa.CheckConstraint("quantity_micro >= 0", name="usage_quantity_not_negative"),
        sqlite_with_rowid=False,
    )
    # Maintained in the same transaction as the rows it sums: settlement reads this.
    op.create_table(
        "usage_rollup",
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("tenant", sa.String(63), primary_key=True),
        sa.Column("meter", sa.String(63), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("total_micro", sa.BigInteger, nullable=False),
        sa.Column("samples", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("usage_rollup")
    op.drop_table("usage")
    op.drop_table("usage_batch")
