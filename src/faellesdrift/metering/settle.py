"""Settlement: spread a period's cost pools over the tenants under an allocation model.

Every pool of ``settlement.pools`` (yearly DKK) carries its share of the period
(``Period.share_ore``) and is split over the tenants that share that service
(``operations`` is shared by all; a service kept ``local`` — or ``planned`` for
later — is not charged). Models:

- ``per_capita``: each pool by population;
- ``consumption``: each pool by usage priced at the list rates;
- ``hybrid`` (KOMBIT): a fixed price per citizen per year (reduced above a
  threshold) for every tenant, the rest of each pool by consumption;
- ``equal_plus_population`` (eKommune): a percentage split equally, the rest by
  population.

Amounts are whole øre. Each split uses the largest-remainder method, so a pool's
tenant amounts add up to the pool exactly and the tenants' totals to the sum of
the pools. Locally kept assets — hosts named by an exception or covered by a
contract that is in force on the period's first day — are not charged as
shared: their usage is listed in the explanation, not priced.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from faellesdrift.estate import Estate
from faellesdrift.metering.errors import SettlementError
from faellesdrift.metering.meters import CATALOG
from faellesdrift.metering.periods import Period
from faellesdrift.metering.store import RollupRow
from faellesdrift.metering.usage import MICRO
from faellesdrift.model import MODEL_NAMES, Settlement, Tenant

BASELINE = "per_capita"
Mode = Literal["showback", "chargeback"]


# ------------------------------------------------------------------ arithmetic


def apportion(target: int, weights: Sequence[Fraction | int]) -> list[int]:
    """Largest remainder (Hamilton): whole units proportional to ``weights``, summing to
    ``target`` exactly. Ties go to the earlier entry (callers order tenants by slug)."""
    if target < 0:
        raise ValueError("target must be ≥ 0")
    total = sum(weights, Fraction(0))
    if target == 0:
        return [0] * len(weights)
    if total <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be ≥ 0 with a positive sum")
    exact = [Fraction(target) * w / total for w in weights]
    floors = [math.floor(x) for x in exact]
    left = target - sum(floors)
    for i in sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))[:left]:
        floors[i] += 1
    return floors


def ore(amount: Decimal | int | Fraction) -> int:
    """DKK → øre (half up)."""
    return math.floor(Fraction(amount) * 100 + Fraction(1, 2))


def dkk(ore_amount: int | Fraction) -> str:
    """øre → '1,234,567.89' (exact values are rounded half up for display)."""
    value = ore_amount if isinstance(ore_amount, int) else math.floor(ore_amount + Fraction(1, 2))
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _num(x: Fraction) -> str:
    if x.denominator == 1:
        return f"{x.numerator:,}"
    return f"{float(x):,.2f}"


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Line:
    """One line of a tenant's explanation. ``amount_ore`` is set on the lines that add up."""

    pool: str
    text: str
    amount_ore: int | None = None


@dataclass(frozen=True)
class TenantAmount:
    slug: str
    name: str
    code: str
    population: int
    amount_ore: int
    by_pool: dict[str, int]
    lines: tuple[Line, ...]

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_ore) / 100


@dataclass(frozen=True)
class Bill:
    period: Period
    model: str
    mode: Mode
    pools_ore: dict[str, int]
    tenants: tuple[TenantAmount, ...]
    notes: tuple[str, ...] = ()

    @property
    def total_ore(self) -> int:
        return sum(self.pools_ore.values())

    def tenant(self, slug: str) -> TenantAmount:
        for t in self.tenants:
            if t.slug == slug:
                return t
        raise SettlementError(f"no tenant {slug!r} in this settlement; known: "
                              f"{', '.join(t.slug for t in self.tenants)}")


@dataclass(frozen=True)
class Comparison:
    period: Period
    mode: Mode
    bills: dict[str, Bill]
    errors: dict[str, str] = field(default_factory=dict)

    def delta_ore(self, model: str, slug: str) -> int | None:
        """What the tenant pays under ``model`` minus under per_capita (+ pays more)."""
        if model not in self.bills or BASELINE not in self.bills:
            return None
        return self.bills[model].tenant(slug).amount_ore - \
            self.bills[BASELINE].tenant(slug).amount_ore


# ------------------------------------------------------------------ what is shared


def shares_service(tenant: Tenant, pool: str, on: date) -> tuple[bool, str]:
    """Does the tenant share this pool's service on that day? (and why not)"""
    if pool == "operations":
        return True, "every tenant shares operations"
    entry = getattr(tenant.scope, pool)
    if entry.mode == "shared":
        return True, f"scope.{pool}: shared"
    if entry.mode == "planned" and entry.from_ is not None and entry.from_ <= on:
        return True, f"scope.{pool}: planned from {entry.from_}, handed over"
    if entry.mode == "planned":
        return False, f"scope.{pool}: planned from {entry.from_} — not charged before then"
    return False, f"scope.{pool}: kept locally"


def kept_assets(estate: Estate, on: date) -> dict[tuple[str, str], str]:
    """(tenant, host) → why it is kept locally on that day (active exception or contract)."""
    kept: dict[tuple[str, str], str] = {}
    for t in estate.tenants:
        for c in t.contracts:
            if c.ends >= on:
                for h in c.covers:
                    kept.setdefault((t.slug, h), f"contract {c.id} ({c.supplier}) until {c.ends}")
        for ex in t.exceptions:
            in_force = (ex.expires is not None and ex.expires >= on
                        and (ex.approved_on is None or ex.approved_on <= on))
            if in_force:
                for h in ex.hosts:
                    kept.setdefault((t.slug, h),
                                    f"exception {ex.id} ({ex.control}) until {ex.expires}")
    return kept


@dataclass(frozen=True)
class Usage:
    """A period's usage per tenant and meter (unit-months for levels, events for counters)."""

    charged: dict[str, dict[str, Fraction]]  # tenant → meter → quantity
    kept: dict[str, dict[str, dict[str, Fraction]]]  # tenant → subject → meter → quantity
    kept_why: dict[tuple[str, str], str]

    @classmethod
    def from_rollup(cls, rows: Iterable[RollupRow], estate: Estate, period: Period) -> Usage:
        kept_why = kept_assets(estate, period.start)
        charged: dict[str, dict[str, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
        kept: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(Fraction)))
        months = set(period.months)
        for r in rows:
            if r.period not in months or r.samples <= 0:
                continue
            m = CATALOG.get(r.meter)
            if m is None:
                continue
            q = Fraction(r.total_micro, MICRO)
            if m.kind == "gauge":
                q /= r.samples
            if (r.tenant, r.subject) in kept_why:
                kept[r.tenant][r.subject][r.meter] += q
            else:
                charged[r.tenant][r.meter] += q
        return cls({t: dict(v) for t, v in charged.items()},
                   {t: {s: dict(m) for s, m in v.items()} for t, v in kept.items()}, kept_why)


# ------------------------------------------------------------------ models


def settlement_of(estate: Estate) -> Settlement:
    s = estate.standards.settlement
    if s is None:
        raise SettlementError("community.yaml has no `settlement` section: add pools, rates "
                              "and models (see the sample community.yaml)")
    for name in s.rates:
        if name not in CATALOG:
            raise SettlementError(f"community.yaml [settlement.rates.{name}]: unknown meter; "
                                  f"use one of: {', '.join(sorted(CATALOG))}")
    return s


def mode_of(settlement: Settlement, period: Period, showback: bool = False) -> Mode:
    if showback:
        return "showback"
    modes = {settlement.periods.mode(m) for m in period.months}
    return "chargeback" if modes == {"chargeback"} else "showback"


class _Builder:
    """Collects each tenant's lines and per-pool øre while a model runs."""

    def __init__(self, estate: Estate, period: Period, s: Settlement, usage: Usage) -> None:
        self.estate, self.period, self.s, self.usage = estate, period, s, usage
        self.tenants = estate.tenants  # sorted by slug: the tie-break order
        self.pools = {p: period.share_ore(ore(v)) for p, v in s.pools.items()}
        self.lines: dict[str, list[Line]] = {t.slug: [] for t in self.tenants}
        self.by_pool: dict[str, dict[str, int]] = {t.slug: {} for t in self.tenants}
        self.notes: list[str] = []

    def eligible(self, pool: str) -> list[Tenant]:
        sharing = [t for t in self.tenants if shares_service(t, pool, self.period.start)[0]]
        if not sharing:
            raise SettlementError(f"no tenant shares the {pool} pool in {self.period}: "
                                  f"remove it from settlement.pools or set scope.{pool}: shared")
        return sharing

    def add(self, slug: str, pool: str, amount: int, text: str, details: Iterable[str]) -> None:
        self.by_pool[slug][pool] = self.by_pool[slug].get(pool, 0) + amount
        self.lines[slug].append(Line(pool, text, amount))
        self.lines[slug].extend(Line(pool, f"  {d}") for d in details)

    def not_sharing(self, pool: str) -> None:
        for t in self.tenants:
            ok, why = shares_service(t, pool, self.period.start)
            if not ok:
                self.lines[t.slug].append(Line(pool, f"{pool}: not charged — {why}", 0))
                self.by_pool[t.slug].setdefault(pool, 0)

    def consumption_weights(self, pool: str, sharing: list[Tenant]
                            ) -> tuple[dict[str, Fraction], dict[str, list[str]]]:
        meters = {m: r for m, r in self.s.rates.items() if r.pool == pool}
        weights, details = {}, {}
        for t in sharing:
            used = self.usage.charged.get(t.slug, {})
            w, d = Fraction(0), []
            for name, rate in sorted(meters.items()):
                q = used.get(name, Fraction(0))
                if q:
                    price = q * Fraction(rate.dkk)
                    w += price
                    d.append(f"{name}: {_num(q)} {CATALOG[name].usage_unit} × DKK "
                             f"{dkk(ore(rate.dkk))} = DKK {dkk(price * 100)}")
            for subject, qs in sorted(self.usage.kept.get(t.slug, {}).items()):
                priced = {m: q for m, q in qs.items() if m in meters}
                if priced:
                    what = ", ".join(f"{m} {_num(q)}" for m, q in sorted(priced.items()))
                    d.append(f"not charged: {subject} kept locally — "
                             f"{self.usage.kept_why[(t.slug, subject)]} ({what})")
            weights[t.slug], details[t.slug] = w, d
        return weights, details

    def split_consumption(self, pool: str, target: int, label: str) -> None:
        sharing = self.eligible(pool)
        weights, details = self.consumption_weights(pool, sharing)
        total = sum(weights.values(), Fraction(0))
        if target and total == 0:
            raise SettlementError(
                f"no priced usage for the {pool} pool in {self.period} (months "
                f"{', '.join(self.period.months)}): run `faellesdrift meter collect --period "
                f"{self.period.months[0]}` first, or check settlement.rates")
        amounts = apportion(target, [weights[t.slug] for t in sharing])
        for t, a in zip(sharing, amounts, strict=True):
            share = weights[t.slug] / total if total else Fraction(0)
            self.add(t.slug, pool, a,
                     f"{pool}: {label} — list DKK {dkk(weights[t.slug] * 100)} of "
                     f"DKK {dkk(total * 100)} ({float(share) * 100:.3f} %) × "
                     f"DKK {dkk(target)} = DKK {dkk(a)}", details[t.slug])
        self.not_sharing(pool)

    def split_population(self, pool: str, target: int, equal_pct: Fraction = Fraction(0)
                         ) -> None:
        sharing = self.eligible(pool)
        pop_total = sum(t.population for t in sharing)
        n = len(sharing)
        equal = Fraction(target) * equal_pct / 100
        by_pop = Fraction(target) - equal
        exact = [equal / n + by_pop * t.population / pop_total for t in sharing]
        amounts = apportion(target, exact)
        for t, x, a in zip(sharing, exact, amounts, strict=True):
            share = Fraction(t.population, pop_total)
            if equal_pct:
                details = [(f"equal part: {_num(equal_pct)} % of DKK {dkk(target)} / {n} tenants "
                           f"= DKK {dkk(equal / n)}"),
                           (f"population part: {_num(100 - equal_pct)} % × {t.population:,} of "
                           f"{pop_total:,} citizens = DKK {dkk(by_pop * share)}")]
                text = f"{pool}: equal + population = DKK {dkk(a)}"
            else:
                details = []
                text = (f"{pool}: {t.population:,} of {pop_total:,} citizens "
                        f"({float(share) * 100:.3f} %) × DKK {dkk(target)} = DKK {dkk(a)}")
            if a != math.floor(x + Fraction(1, 2)):
                details.append("(largest-remainder rounding moved one øre)")
            self.add(t.slug, pool, a, text, details)
        self.not_sharing(pool)

    def bill(self, model: str, mode: Mode) -> Bill:
        amounts = tuple(
            TenantAmount(t.slug, t.name, t.code, t.population,
                         sum(self.by_pool[t.slug].values()), dict(self.by_pool[t.slug]),
                         tuple(self.lines[t.slug]))
            for t in self.tenants)
        return Bill(self.period, model, mode, dict(self.pools), amounts, tuple(self.notes))


def _per_capita(b: _Builder) -> None:
    for pool, target in b.pools.items():
        b.split_population(pool, target)


def _equal_plus_population(b: _Builder) -> None:
    pct = Fraction(b.s.models.equal_plus_population.equal_pct)
    for pool, target in b.pools.items():
        b.split_population(pool, target, equal_pct=pct)


def _consumption(b: _Builder) -> None:
    for pool, target in b.pools.items():
        b.split_consumption(pool, target, "by consumption")


def hybrid_fixed_yearly(population: int, base: Fraction, threshold: int, factor: Fraction
                        ) -> Fraction:
    """KOMBIT's fixed part for one year: base per citizen up to the threshold, base × factor above."""
    return base * min(population, threshold) + base * factor * max(0, population - threshold)


def _hybrid(b: _Builder) -> None:
    p = b.s.models.hybrid
    base, factor = Fraction(p.base_dkk_per_citizen), Fraction(p.above_threshold_factor)
    months = Fraction(b.period.months_count, 12)
    fixed = {t.slug: hybrid_fixed_yearly(t.population, base, p.threshold_citizens, factor)
             * months * 100 for t in b.tenants}  # øre, exact
    total = sum(b.pools.values())
    fixed_total = sum(fixed.values(), Fraction(0))
    if fixed_total > total:
        raise SettlementError(
            f"hybrid: the fixed part (DKK {dkk(fixed_total)}) is more than the pools "
            f"(DKK {dkk(total)}) for {b.period}; lower settlement.models.hybrid."
            "base_dkk_per_citizen or raise settlement.pools")
    rest = Fraction(total) - fixed_total
    groups = apportion(total, [fixed_total] + [Fraction(v) * rest / total
                                               for v in b.pools.values()])
    fixed_target, pool_targets = groups[0], dict(zip(b.pools, groups[1:], strict=True))
    amounts = apportion(fixed_target, [fixed[t.slug] for t in b.tenants])
    th = p.threshold_citizens
    for t, a in zip(b.tenants, amounts, strict=True):
        low, high = min(t.population, th), max(0, t.population - th)
        formula = f"{low:,} citizens × DKK {dkk(ore(base))}"
        if high:
            formula += f" + {high:,} × DKK {dkk(ore(base * factor))}"
        yearly = hybrid_fixed_yearly(t.population, base, th, factor)
        b.add(t.slug, "fixed", a, f"fixed: {formula} = DKK {dkk(yearly * 100)} a year; "
                                  f"{b.period.months_count}/12 = DKK {dkk(a)}", [])
    b.notes.append(f"hybrid: fixed part DKK {dkk(fixed_target)}, variable part "
                   f"DKK {dkk(total - fixed_target)} by consumption")
    for pool, target in pool_targets.items():
        b.split_consumption(pool, target, "variable, by consumption")


MODELS = {
    "per_capita": _per_capita,
    "consumption": _consumption,
    "hybrid": _hybrid,
    "equal_plus_population": _equal_plus_population,
}
assert tuple(MODELS) == MODEL_NAMES


def settle(estate: Estate, period: Period, rollup: Iterable[RollupRow], model: str,
           *, showback: bool = False, usage: Usage | None = None) -> Bill:
    if model not in MODELS:
        raise SettlementError(f"--model {model!r} is not a model; use one of: "
                              f"{', '.join(MODELS)}")
    s = settlement_of(estate)
    period.check_not_future(estate.today)
    usage = usage or Usage.from_rollup(rollup, estate, period)
    b = _Builder(estate, period, s, usage)
    MODELS[model](b)
    bill = b.bill(model, mode_of(s, period, showback))
    assert sum(t.amount_ore for t in bill.tenants) == bill.total_ore, "settlement is not exact"
    return bill


def compare(estate: Estate, period: Period, rollup: Iterable[RollupRow], *,
            showback: bool = False) -> Comparison:
    """Every model on the same usage; a model that cannot settle is reported, not raised."""
    s = settlement_of(estate)
    period.check_not_future(estate.today)
    usage = Usage.from_rollup(list(rollup), estate, period)
    bills, errors = {}, {}
    for name in MODELS:
        try:
            bills[name] = settle(estate, period, (), name, showback=showback, usage=usage)
        except SettlementError as exc:
            errors[name] = str(exc)
    return Comparison(period, mode_of(s, period, showback), bills, errors)
