"""Settlement: spread a month's cost pools over the tenants that take them.

Every pool of ``settlement.pools`` (yearly DKK) carries its share of the month
(``Period.share_ore``) and is split over the tenants that take that service in
the month. A tenant takes a pool from its go-live date (``onboarding.target``)
when its scope shares the service (``operations`` is taken by every live
tenant; ``planned`` from its handover date; ``local`` never). In a tenant's
first month its weight is pro-rated by the days it takes the service. A pool
that no tenant takes in the month is not billed and is named in the notes.

Models, each split into components that are shown with their basis:

- ``per_capita``: each pool by population (``population``);
- ``consumption``: each pool by usage priced at the list rates (``usage``);
- ``hybrid`` (KOMBIT): a fixed price per citizen per year (reduced above a
  threshold), spread over the pools by their size, charged only for the pools
  a tenant takes (``fixed``); the rest of each pool by consumption (``usage``);
- ``equal_plus_population`` (eKommune): a percentage split equally
  (``equal``), the rest by population (``population``).

Amounts are whole øre. Each split uses the largest-remainder method, so every
component of a pool adds up to its target exactly and the tenants' totals to
the billed pools. Assets that the community does not deliver — hosts covered
by a contract in force, or named by an exception in force whose ``delivery``
is ``not_delivered`` — are not priced: their usage is listed, not charged. An
exception is "delivered" unless it says otherwise.

Quarters and years are sums of closed months (``statements``); this module
settles one month.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
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
COMPONENTS = ("fixed", "equal", "population", "usage", "correction")
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


def _pct(x: Fraction) -> str:
    return f"{float(x) * 100:.3f} %"


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Line:
    """One line of a tenant's explanation. ``amount_ore`` is set on the lines that add up."""

    pool: str
    text: str
    amount_ore: int | None = None
    component: str = ""


@dataclass(frozen=True)
class BookedCorrection:
    """A credit (−) or debit (+) for a closed month, booked in a later open month."""

    for_period: str
    amount_ore: int
    what: str


@dataclass(frozen=True)
class TenantAmount:
    slug: str
    name: str
    code: str
    population: int
    amount_ore: int
    by_pool: dict[str, int]
    lines: tuple[Line, ...]
    by_component: dict[str, int] = field(default_factory=dict)
    basis: str = ""
    corrections: tuple[BookedCorrection, ...] = ()
    sha256: str = ""  # of the closed statement this was read from

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_ore) / 100


@dataclass(frozen=True)
class Bill:
    period: Period
    model: str
    mode: Mode
    pools_ore: dict[str, int]  # what was billed of each pool
    tenants: tuple[TenantAmount, ...]
    notes: tuple[str, ...] = ()
    unbilled_ore: dict[str, int] = field(default_factory=dict)  # pools no tenant took
    closed: bool = False  # read from closed statements

    @property
    def corrections_ore(self) -> int:
        return sum(c.amount_ore for t in self.tenants for c in t.corrections)

    @property
    def total_ore(self) -> int:
        return sum(self.pools_ore.values()) + self.corrections_ore

    @property
    def components_ore(self) -> dict[str, int]:
        out = dict.fromkeys(COMPONENTS, 0)
        for t in self.tenants:
            for k, v in t.by_component.items():
                out[k] = out.get(k, 0) + v
        return out

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


# ------------------------------------------------------------------ what is taken


def go_live(tenant: Tenant) -> date:
    """The day the tenant is billed from: its onboarding target."""
    return tenant.onboarding.target


def shares_service(tenant: Tenant, pool: str, on: date) -> tuple[bool, str]:
    """Does the tenant take this pool's service on that day? (and why not)"""
    if go_live(tenant) > on:
        return False, f"goes live {go_live(tenant)} — not billed before then"
    if pool == "operations":
        return True, "every live tenant shares operations"
    entry = getattr(tenant.scope, pool)
    if entry.mode == "shared":
        return True, f"scope.{pool}: shared"
    if entry.mode == "planned" and entry.from_ is not None and entry.from_ <= on:
        return True, f"scope.{pool}: planned from {entry.from_}, handed over"
    if entry.mode == "planned":
        return False, f"scope.{pool}: planned from {entry.from_} — not charged before then"
    return False, f"scope.{pool}: kept locally"


def days_taken(tenant: Tenant, pool: str, month: Period) -> tuple[int, str]:
    """How many days of the month the tenant takes the pool, and the basis in words."""
    start = go_live(tenant)
    if pool != "operations":
        entry = getattr(tenant.scope, pool)
        if entry.mode == "local":
            return 0, f"scope.{pool}: kept locally"
        if entry.mode == "planned":
            if entry.from_ is None or entry.from_ > month.end:
                return 0, f"scope.{pool}: planned from {entry.from_} — not charged before then"
            start = max(start, entry.from_)
    if start > month.end:
        return 0, f"goes live {go_live(tenant)} — not billed before then"
    days = month.days
    taken = (month.end - max(start, month.start)).days + 1
    if taken == days:
        return days, f"taken all {days} days"
    return taken, f"taken from {start}: {taken}/{days} days"


def kept_assets(estate: Estate, on: date) -> dict[tuple[str, str], str]:
    """(tenant, host) → why the community does not deliver it on that day.

    A contract in force keeps the hosts it covers; an exception in force keeps its
    hosts only when its ``delivery`` is ``not_delivered`` (an exception to one setting
    of a delivered service changes nothing on the bill).
    """
    kept: dict[tuple[str, str], str] = {}
    for t in estate.tenants:
        for c in t.contracts:
            if c.ends >= on:
                for h in c.covers:
                    kept.setdefault((t.slug, h), f"contract {c.id} ({c.supplier}) until {c.ends}")
        for ex in t.exceptions:
            in_force = (ex.expires is not None and ex.expires >= on
                        and (ex.approved_on is None or ex.approved_on <= on))
            if in_force and ex.delivery == "not_delivered":
                for h in ex.hosts:
                    kept.setdefault((t.slug, h), f"exception {ex.id} ({ex.control}, not "
                                                 f"delivered) until {ex.expires}")
    return kept


@dataclass(frozen=True)
class MonthUsage:
    """A month's usage per tenant and meter (unit-months for levels, events for counters)."""

    charged: dict[str, dict[str, Fraction]]  # tenant → meter → quantity
    kept: dict[str, dict[str, dict[str, Fraction]]]  # tenant → subject → meter → quantity
    kept_why: dict[tuple[str, str], str]

    @classmethod
    def from_rollup(cls, rows: Iterable[RollupRow], estate: Estate, period: Period) -> MonthUsage:
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
    """Collects each tenant's lines, per-pool and per-component øre while a model runs."""

    def __init__(self, estate: Estate, period: Period, s: Settlement, usage: MonthUsage) -> None:
        self.estate, self.period, self.s, self.usage = estate, period, s, usage
        self.tenants = estate.tenants  # sorted by slug: the tie-break order
        self.pools = {p: period.share_ore(ore(v)) for p, v in s.pools.items()}
        self.billed: dict[str, int] = {}
        self.unbilled: dict[str, int] = {}
        self.taken: dict[str, dict[str, tuple[Fraction, str]]] = {}
        for t in self.tenants:
            self.taken[t.slug] = {}
            for p in self.pools:
                days, why = days_taken(t, p, period)
                self.taken[t.slug][p] = (Fraction(days, period.days), why)
        self.lines: dict[str, list[Line]] = {t.slug: [] for t in self.tenants}
        self.by_pool: dict[str, dict[str, int]] = {t.slug: {} for t in self.tenants}
        self.by_comp: dict[str, dict[str, int]] = {t.slug: {} for t in self.tenants}
        self.notes: list[str] = []

    def frac(self, t: Tenant, pool: str) -> Fraction:
        return self.taken[t.slug][pool][0]

    def sharing(self, pool: str) -> list[Tenant]:
        """The tenants that take the pool this month; none: the pool is not billed."""
        taking = [t for t in self.tenants if self.frac(t, pool) > 0]
        for t in self.tenants:
            f, why = self.taken[t.slug][pool]
            if f == 0:
                self.lines[t.slug].append(Line(pool, f"{pool}: not charged — {why}", 0, ""))
                self.by_pool[t.slug].setdefault(pool, 0)
        if taking:
            self.billed[pool] = self.pools[pool]
        else:
            self.unbilled[pool] = self.pools[pool]
            self.notes.append(f"{pool}: DKK {dkk(self.pools[pool])} not billed — no tenant "
                              f"takes it in {self.period}")
        return taking

    def add(self, slug: str, pool: str, component: str, amount: int, text: str,
            details: Iterable[str] = ()) -> None:
        self.by_pool[slug][pool] = self.by_pool[slug].get(pool, 0) + amount
        self.by_comp[slug][component] = self.by_comp[slug].get(component, 0) + amount
        self.lines[slug].append(Line(pool, text, amount, component))
        self.lines[slug].extend(Line(pool, f"  {d}") for d in details)

    def days_note(self, t: Tenant, pool: str) -> list[str]:
        f, why = self.taken[t.slug][pool]
        return [] if f == 1 else [f"pro-rated: {why}"]

    def consumption_weights(self, pool: str, sharing: list[Tenant]
                            ) -> tuple[dict[str, Fraction], dict[str, list[str]]]:
        meters = {m: r for m, r in self.s.rates.items() if r.pool == pool}
        weights, details = {}, {}
        for t in sharing:
            used = self.usage.charged.get(t.slug, {})
            f = self.frac(t, pool)
            w, d = Fraction(0), []
            for name, rate in sorted(meters.items()):
                q = used.get(name, Fraction(0))
                if q:
                    price = q * Fraction(rate.dkk)
                    w += price
                    d.append(f"{name}: {_num(q)} {CATALOG[name].usage_unit} × DKK "
                             f"{dkk(ore(rate.dkk))} = DKK {dkk(price * 100)}")
            if f != 1 and w:
                d.append(f"pro-rated: {self.taken[t.slug][pool][1]} → list DKK "
                         f"{dkk(w * 100)} × {_num(f)}")
                w *= f
            for subject, qs in sorted(self.usage.kept.get(t.slug, {}).items()):
                priced = {m: q for m, q in qs.items() if m in meters}
                if priced:
                    what = ", ".join(f"{m} {_num(q)}" for m, q in sorted(priced.items()))
                    d.append(f"not charged: {subject} kept locally — "
                             f"{self.usage.kept_why[(t.slug, subject)]} ({what})")
            weights[t.slug], details[t.slug] = w, d
        return weights, details

    def split_consumption(self, pool: str, sharing: list[Tenant], target: int, label: str
                          ) -> None:
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
            self.add(t.slug, pool, "usage", a,
                     f"{pool}: {label} — list DKK {dkk(weights[t.slug] * 100)} of "
                     f"DKK {dkk(total * 100)} ({_pct(share)}) × DKK {dkk(target)} = "
                     f"DKK {dkk(a)}", details[t.slug])

    def split_population(self, pool: str, sharing: list[Tenant], target: int) -> None:
        weights = [t.population * self.frac(t, pool) for t in sharing]
        total = sum(weights, Fraction(0))
        for t, w, a in zip(sharing, weights, apportion(target, weights), strict=True):
            self.add(t.slug, pool, "population", a,
                     f"{pool}: population — {t.population:,} citizens"
                     f"{'' if self.frac(t, pool) == 1 else f' × {_num(self.frac(t, pool))}'}"
                     f" of {_num(total)} ({_pct(w / total)}) × DKK {dkk(target)} = "
                     f"DKK {dkk(a)}", self.days_note(t, pool))

    def split_equal(self, pool: str, sharing: list[Tenant], target: int) -> None:
        weights = [self.frac(t, pool) for t in sharing]
        total = sum(weights, Fraction(0))
        for t, w, a in zip(sharing, weights, apportion(target, weights), strict=True):
            self.add(t.slug, pool, "equal", a,
                     f"{pool}: equal share — {_num(w)} of {_num(total)} tenant-months "
                     f"× DKK {dkk(target)} = DKK {dkk(a)}", self.days_note(t, pool))

    def bill(self, model: str, mode: Mode) -> Bill:
        amounts = tuple(
            TenantAmount(t.slug, t.name, t.code, t.population,
                         sum(self.by_pool[t.slug].values()), dict(self.by_pool[t.slug]),
                         tuple(self.lines[t.slug]), dict(self.by_comp[t.slug]),
                         self._basis(t))
            for t in self.tenants)
        return Bill(self.period, model, mode, dict(self.billed), amounts, tuple(self.notes),
                    dict(self.unbilled))

    def _basis(self, t: Tenant) -> str:
        live = go_live(t)
        if live > self.period.end:
            return f"not live (go-live {live})"
        if live > self.period.start:
            days = (self.period.end - live).days + 1
            return f"live from {live}: {days}/{self.period.days} days"
        return f"live since {live}"


def _per_capita(b: _Builder) -> None:
    for pool, target in b.pools.items():
        sharing = b.sharing(pool)
        if sharing:
            b.split_population(pool, sharing, target)


def _equal_plus_population(b: _Builder) -> None:
    pct = Fraction(b.s.models.equal_plus_population.equal_pct)
    for pool, target in b.pools.items():
        sharing = b.sharing(pool)
        if sharing:
            equal = math.floor(target * pct / 100 + Fraction(1, 2))
            b.split_equal(pool, sharing, equal)
            b.split_population(pool, sharing, target - equal)


def _consumption(b: _Builder) -> None:
    for pool, target in b.pools.items():
        sharing = b.sharing(pool)
        if sharing:
            b.split_consumption(pool, sharing, target, "by consumption")


def hybrid_fixed_yearly(population: int, base: Fraction, threshold: int, factor: Fraction
                        ) -> Fraction:
    """KOMBIT's fixed part for one year: base per citizen up to the threshold, base × factor above."""
    return base * min(population, threshold) + base * factor * max(0, population - threshold)


def _hybrid(b: _Builder) -> None:
    p = b.s.models.hybrid
    base, factor = Fraction(p.base_dkk_per_citizen), Fraction(p.above_threshold_factor)
    th = p.threshold_citizens
    yearly_pools = {pool: Fraction(v) for pool, v in b.s.pools.items()}
    all_pools = sum(yearly_pools.values(), Fraction(0))
    month = Fraction(1, 12)
    fixed_total = variable_total = 0
    for pool, target in b.pools.items():
        sharing = b.sharing(pool)
        if not sharing:
            continue
        weight = yearly_pools[pool] / all_pools  # this pool's part of the fixed price
        exact = {t.slug: hybrid_fixed_yearly(t.population, base, th, factor) * weight * month
                 * b.frac(t, pool) * 100 for t in sharing}  # øre, exact
        fixed_exact = sum(exact.values(), Fraction(0))
        if fixed_exact > target:
            raise SettlementError(
                f"hybrid: the fixed part of the {pool} pool (DKK {dkk(fixed_exact)}) is more "
                f"than the pool (DKK {dkk(target)}) in {b.period}; lower settlement.models."
                "hybrid.base_dkk_per_citizen or raise settlement.pools")
        fixed = min(target, math.floor(fixed_exact + Fraction(1, 2)))
        for t, a in zip(sharing, apportion(fixed, list(exact.values())), strict=True):
            low, high = min(t.population, th), max(0, t.population - th)
            formula = f"{low:,} citizens × DKK {dkk(ore(base))}"
            if high:
                formula += f" + {high:,} × DKK {dkk(ore(base * factor))}"
            yearly = hybrid_fixed_yearly(t.population, base, th, factor)
            f = b.frac(t, pool)
            b.add(t.slug, pool, "fixed", a,
                  f"{pool}: fixed — {formula} = DKK {dkk(yearly * 100)} a year × "
                  f"{_pct(weight)} (the {pool} pool's part of all pools) × 1/12"
                  f"{'' if f == 1 else f' × {_num(f)}'} = DKK {dkk(a)}", b.days_note(t, pool))
        b.split_consumption(pool, sharing, target - fixed, "variable, by consumption")
        fixed_total += fixed
        variable_total += target - fixed
    b.notes.append(f"hybrid: fixed part DKK {dkk(fixed_total)}, variable part "
                   f"DKK {dkk(variable_total)} by consumption")


MODELS = {
    "per_capita": _per_capita,
    "consumption": _consumption,
    "hybrid": _hybrid,
    "equal_plus_population": _equal_plus_population,
}
assert tuple(MODELS) == MODEL_NAMES


def with_corrections(bill: Bill, corrections: Mapping[str, Sequence[BookedCorrection]]) -> Bill:
    """The bill with credit/debit lines for closed months added to each tenant's amount."""
    if not any(corrections.values()):
        return bill
    tenants = []
    for t in bill.tenants:
        cs = tuple(corrections.get(t.slug, ()))
        extra = sum(c.amount_ore for c in cs)
        comp = dict(t.by_component)
        lines = list(t.lines)
        if cs:
            comp["correction"] = comp.get("correction", 0) + extra
            lines += [Line("correction", f"correction for {c.for_period}: {c.what} = "
                                         f"DKK {dkk(c.amount_ore)}", c.amount_ore, "correction")
                      for c in cs]
        tenants.append(TenantAmount(t.slug, t.name, t.code, t.population,
                                    t.amount_ore + extra, t.by_pool, tuple(lines), comp,
                                    t.basis, t.corrections + cs))
    return Bill(bill.period, bill.model, bill.mode, bill.pools_ore, tuple(tenants), bill.notes,
                bill.unbilled_ore, bill.closed)


def settle(estate: Estate, period: Period, rollup: Iterable[RollupRow], model: str,
           *, showback: bool = False, usage: MonthUsage | None = None,
           corrections: Mapping[str, Sequence[BookedCorrection]] | None = None) -> Bill:
    """Settle one month under one model (quarters and years: ``statements.bill_for``)."""
    if model not in MODELS:
        raise SettlementError(f"--model {model!r} is not a model; use one of: "
                              f"{', '.join(MODELS)}")
    s = settlement_of(estate)
    period.check_not_future(estate.today)
    if not period.is_month:
        raise SettlementError(f"{period.id}: a quarter or a year is the sum of its closed "
                              "months; settle one month at a time")
    usage = usage or MonthUsage.from_rollup(rollup, estate, period)
    b = _Builder(estate, period, s, usage)
    MODELS[model](b)
    bill = with_corrections(b.bill(model, mode_of(s, period, showback)), corrections or {})
    if sum(t.amount_ore for t in bill.tenants) != bill.total_ore:  # pragma: no cover
        raise SettlementError(f"{period.id} {model}: the tenants' amounts do not add up to "
                              "the billed pools (a bug: report it)")
    return bill


def compare(estate: Estate, period: Period, rollup: Iterable[RollupRow], *,
            showback: bool = False,
            corrections: Mapping[str, Sequence[BookedCorrection]] | None = None) -> Comparison:
    """Every model on the same usage; a model that cannot settle is reported, not raised."""
    s = settlement_of(estate)
    period.check_not_future(estate.today)
    if not period.is_month:
        raise SettlementError(f"{period.id}: --compare works on one month; a quarter or a "
                              "year is the sum of its closed statements")
    usage = MonthUsage.from_rollup(list(rollup), estate, period)
    bills, errors = {}, {}
    for name in MODELS:
        try:
            bills[name] = settle(estate, period, (), name, showback=showback, usage=usage,
                                 corrections=corrections)
        except SettlementError as exc:
            errors[name] = str(exc)
    return Comparison(period, mode_of(s, period, showback), bills, errors)
