"""Forecast: what each municipality pays per quarter of a year under each model.

A what-if for council budgets, built only from the tenant files and the community
standards: each month of the year is settled as if it had passed, with the
tenants going live on their onboarding dates (pro-rated in the first month),
scope handovers on their dates, contracts ending when they end, and usage at
the levels the tenant files declare (servers, devices, ports, backup). Applied
changes (a counter) cannot be foreseen and count as none. Nothing is written.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from faellesdrift.estate import Estate
from faellesdrift.metering.collect import CollectionContext, collect_estate
from faellesdrift.metering.errors import SettlementError
from faellesdrift.metering.periods import Period
from faellesdrift.metering.settle import MODELS, MonthUsage, go_live, settle
from faellesdrift.metering.store import RollupRow


@dataclass(frozen=True)
class Forecast:
    year: int
    quarters: tuple[Period, ...]
    # model → tenant → øre per quarter (in the order of ``quarters``)
    amounts: dict[str, dict[str, tuple[int, ...]]]
    go_live: dict[str, date]
    errors: dict[str, str] = field(default_factory=dict)

    def year_ore(self, model: str, slug: str) -> int:
        return sum(self.amounts[model][slug])

    def total_ore(self, model: str) -> int:
        return sum(sum(q) for q in self.amounts[model].values())


def declared_rollup(estate: Estate, month: Period) -> list[RollupRow]:
    """The month's usage as the tenant files declare it: one sample per subject."""
    ctx = CollectionContext(estate, month, Path("/nonexistent"), Path("/nonexistent/audit.jsonl"))
    return [RollupRow(r.period, r.tenant, r.meter, r.subject, r.quantity_micro, 1)
            for c in collect_estate(ctx) for r in c.rows]


def forecast(estate: Estate, year: int) -> Forecast:
    """Settle every month of ``year`` under every model; sum the months per quarter."""
    if not 2000 <= year <= 2100:
        raise SettlementError(f"forecast {year}: give a year such as 2027")
    what_if = dataclasses.replace(estate, today=date(year, 12, 31))
    quarters = tuple(Period.parse(f"{year}-Q{q}") for q in range(1, 5))
    sums: dict[str, dict[str, list[int]]] = {
        m: {t.slug: [0, 0, 0, 0] for t in estate.tenants} for m in MODELS}
    errors: dict[str, str] = {}
    for month in Period.parse(str(year)).month_periods:
        rollup = declared_rollup(what_if, month)
        usage = MonthUsage.from_rollup(rollup, what_if, month)
        q = (month.first_month - 1) // 3
        for model in MODELS:
            if model in errors:
                continue
            try:
                bill = settle(what_if, month, (), model, usage=usage)
            except SettlementError as exc:
                errors[model] = f"{month.id}: {exc}"
                continue
            for t in bill.tenants:
                sums[model][t.slug][q] += t.amount_ore
    amounts = {m: {slug: tuple(v) for slug, v in per.items()}
               for m, per in sums.items() if m not in errors}
    return Forecast(year, quarters, amounts, {t.slug: go_live(t) for t in estate.tenants},
                    errors)


__all__ = ["Forecast", "declared_rollup", "forecast"]
