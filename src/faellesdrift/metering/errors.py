"""Metering's errors: bad usage input, an unusable store, a settlement that cannot be made."""

from __future__ import annotations

from faellesdrift.errors import ConfigError, FaellesdriftError


class MeteringError(FaellesdriftError):
    """Base of metering and settlement errors (one clear line each)."""


class UsageRejected(MeteringError, ConfigError):
    """A usage row or a collector's input is wrong; nothing was written."""


class StoreError(MeteringError):
    """The database cannot be opened or migrated."""


class SettlementError(MeteringError):
    """The period cannot be settled under this model (e.g. no usage for a pool)."""
