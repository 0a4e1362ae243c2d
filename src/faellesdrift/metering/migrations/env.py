"""Alembic environment: always run programmatically by ``metering.store.open_store``.

The caller passes an open connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the CLI never runs alembic directly
    raise SystemExit("run migrations through faellesdrift.metering.store.open_store(url)")

context.configure(connection=connection, target_metadata=None,
                  version_table="metering_alembic_version")
with context.begin_transaction():
    context.run_migrations()
