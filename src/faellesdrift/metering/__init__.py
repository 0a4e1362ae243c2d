"""Metering and settlement: usage rows → store → allocation models → exports.

One public entry per step: ``collect`` (estate, Pulumi outputs, audit log →
rows), ``open_store(url).ingest`` (transactional, idempotent), ``settle`` /
``compare`` (allocation models, exact to the øre), ``export`` (CSV/JSON).
"""

from faellesdrift.metering.collect import COLLECTORS, Collected, collect
from faellesdrift.metering.errors import MeteringError, SettlementError, StoreError, UsageRejected
from faellesdrift.metering.export import export
from faellesdrift.metering.meters import CATALOG, Meter
from faellesdrift.metering.periods import Period
from faellesdrift.metering.settle import MODELS, Bill, Comparison, compare, settle
from faellesdrift.metering.store import IngestResult, Store, open_store, resolve_url
from faellesdrift.metering.usage import UsageRow, check_rows, usage_row

__all__ = [
    "CATALOG", "COLLECTORS", "MODELS", "Bill", "Collected", "Comparison", "IngestResult",
    "Meter", "MeteringError", "Period", "SettlementError", "Store", "StoreError",
    "UsageRejected", "UsageRow", "check_rows", "collect", "compare", "export", "open_store",
    "resolve_url", "settle", "usage_row",
]
