"""What a change costs a municipality: a year settled before and after, under the
community's chosen model (``settlement.default_model``).

Both sides use the metering adapter's own settlement on the usage the tenant
files declare (its forecast's ``declared_rollup``), month by month. The year is
the first whole budget year with the tenant live: the year after today, or after
the go-live year when it goes live later. Pools are shared, so a change moves money
between municipalities: the other tenants' total difference is given too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from faellesdrift.errors import FaellesdriftError
from faellesdrift.estate import Estate
from faellesdrift.metering.forecast import declared_rollup
from faellesdrift.metering.periods import Period
from faellesdrift.metering.settle import dkk, settle, settlement_of


@dataclass(frozen=True)
class CostImpact:
    tenant: str
    model: str
    year: int
    before_ore: int | None  # None: the tenant is new
    after_ore: int | None  # None: the tenant is gone
    others_delta_ore: int  # what every other tenant pays more (+) or less (-) in all
    error: str = ""

    @property
    def delta_ore(self) -> int:
        return (self.after_ore or 0) - (self.before_ore or 0)

    def to_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "model": self.model, "year": self.year,
                "before_dkk": _amount(self.before_ore), "after_dkk": _amount(self.after_ore),
                "delta_dkk": _amount(self.delta_ore) if not self.error else None,
                "others_delta_dkk": _amount(self.others_delta_ore) if not self.error else None,
                "error": self.error}


def _amount(ore: int | None) -> str | None:
    return None if ore is None else dkk(ore).replace(",", "")


def budget_year(estate: Estate, slug: str) -> int:
    year = estate.today.year + 1
    try:
        live = estate.tenant(slug).onboarding.target
    except FaellesdriftError:
        return year
    return max(year, live.year + (0 if (live.month, live.day) == (1, 1) else 1))


def year_amounts(estate: Estate, year: int, model: str) -> dict[str, int]:
    """Each tenant's amount for the year (øre) under ``model``, settled month by month."""
    what_if = dataclasses.replace(estate, today=date(year, 12, 31))
    totals = {t.slug: 0 for t in estate.tenants}
    for month in Period.parse(str(year)).month_periods:
        bill = settle(what_if, month, declared_rollup(what_if, month), model)
        for t in bill.tenants:
            totals[t.slug] += t.amount_ore
    return totals


def impact(before: Estate | None, after: Estate, tenants: list[str]) -> list[CostImpact]:
    """The cost impact for each named tenant (one settlement per side and year)."""
    out = []
    try:
        model = settlement_of(after).default_model
    except FaellesdriftError as exc:
        return [CostImpact(t, "-", 0, None, None, 0, str(exc)) for t in tenants]
    cache: dict[tuple[str, int], dict[str, int]] = {}

    def amounts(side: str, estate: Estate, year: int) -> dict[str, int]:
        if (side, year) not in cache:
            cache[(side, year)] = year_amounts(estate, year, model)
        return cache[(side, year)]

    for slug in tenants:
        year = budget_year(after, slug)
        try:
            new = amounts("after", after, year)
            old = amounts("before", before, year) if before is not None else {}
        except FaellesdriftError as exc:
            out.append(CostImpact(slug, model, year, None, None, 0, str(exc)))
            continue
        others = sum(v for k, v in new.items() if k != slug) - \
            sum(v for k, v in old.items() if k != slug)
        out.append(CostImpact(slug, model, year, old.get(slug), new.get(slug),
                              others if before is not None else 0))
    return out
