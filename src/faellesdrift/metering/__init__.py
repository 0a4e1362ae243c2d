"""Metering and settlement: usage rows → store → allocation models → exports.

One public entry per step: ``collect`` (estate, Pulumi outputs, audit log →
rows), ``open_store(url).ingest`` (transactional, idempotent), ``settle`` /
``compare`` (one month under the allocation models, exact to the øre),
``bill_for`` / ``close`` (closed months, quarters, corrections), ``forecast``
(a year per quarter, for budgets), ``export`` (CSV/JSON, Danish CSV).
"""

from faellesdrift.metering.collect import COLLECTORS, Collected, collect
from faellesdrift.metering.errors import MeteringError, SettlementError, StoreError, UsageRejected
from faellesdrift.metering.export import export
from faellesdrift.metering.forecast import Forecast, forecast
from faellesdrift.metering.meters import CATALOG, Meter
from faellesdrift.metering.periods import Period
from faellesdrift.metering.settle import MODELS, Bill, Comparison, compare, settle
from faellesdrift.metering.statements import bill_for, close
from faellesdrift.metering.store import IngestResult, Store, open_store, resolve_url
from faellesdrift.metering.usage import UsageRow, check_rows, usage_row

__all__ = [
    "CATALOG", "COLLECTORS", "MODELS", "Bill", "Collected", "Comparison", "Forecast",
    "IngestResult", "Meter", "MeteringError", "Period", "SettlementError", "Store",
    "StoreError", "UsageRejected", "UsageRow", "bill_for", "check_rows", "close", "collect",
    "compare", "export", "forecast", "open_store", "resolve_url", "settle", "usage_row",
]
