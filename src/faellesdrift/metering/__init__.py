"""Metering and settlement: usage rows → store → allocation models → exports.

Public API (the CLI and reports use only these):
"""

from faellesdrift.metering.errors import MeteringError, SettlementError, StoreError, UsageRejected
from faellesdrift.metering.meters import CATALOG, Meter
from faellesdrift.metering.periods import Period
from faellesdrift.metering.store import IngestResult, Store, open_store, resolve_url
from faellesdrift.metering.usage import UsageRow, check_rows, usage_row

__all__ = [
    "CATALOG", "IngestResult", "Meter", "MeteringError", "Period", "SettlementError", "Store",
    "StoreError", "UsageRejected", "UsageRow", "check_rows", "open_store", "resolve_url",
    "usage_row",
]
