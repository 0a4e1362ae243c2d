"""Allocation maths on golden numbers computed by hand (derivations in the comments)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction

import pytest
from pydantic import ValidationError

from faellesdrift.estate import Estate
from faellesdrift.metering.errors import SettlementError, UsageRejected
from faellesdrift.metering.periods import Period
from faellesdrift.metering.settle import (
    apportion,
    compare,
    hybrid_fixed_yearly,
    kept_assets,
    settle,
)
from faellesdrift.metering.store import RollupRow
from faellesdrift.model import EqualPlusPopulationParams, Settlement

NOV = Period.parse("2026-11")


def community(estate: Estate, slugs: list[str], pools: dict, rates: dict) -> Estate:
    """The sample estate cut to some tenants, with simple pools and rates."""
    s = Settlement.model_validate({"pools": pools, "rates": rates})
    std = estate.standards.model_copy(update={"settlement": s})
    return dataclasses.replace(estate.subset(slugs), standards=std)


def servers(tenant: str, n: int, samples: int = 30) -> list[RollupRow]:
    """n synthetic servers (no exception or contract names them), sampled every day."""
    return [RollupRow("2026-11", tenant, "server.count", f"{tenant}-x{i}", samples * 1_000_000,
                      samples) for i in range(n)]


OPS = {"server.count": {"pool": "operations", "dkk": 100}}


# ------------------------------------------------------------- largest remainder


def test_apportion_largest_remainder() -> None:
    assert apportion(100, [1, 1, 1]) == [34, 33, 33]  # ties go to the first
    assert apportion(10, [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]) == [5, 3, 2]
    # 7 over 2:3:5 → 1.4, 2.1, 3.5 → floors 1,2,3 (6) → the 1 left goes to .5
    assert apportion(7, [2, 3, 5]) == [1, 2, 4]
    assert apportion(0, [1, 2]) == [0, 0]
    assert sum(apportion(1_000_001, [Fraction(1, 7)] * 7)) == 1_000_001


def test_period_shares_add_up_to_the_year() -> None:
    yearly = 100_000_001  # øre: not divisible by 12
    months = [Period.parse(f"2027-{m:02d}").share_ore(yearly) for m in range(1, 13)]
    assert sum(months) == yearly
    assert Period.parse("2027-Q2").share_ore(yearly) == sum(months[3:6])
    assert Period.parse("2027").share_ore(yearly) == yearly


# ------------------------------------------------------------- the four models


def test_per_capita_golden(estate: Estate) -> None:
    e = community(estate, ["horsens", "odder", "samsoe"], {"operations": 1_200_000}, OPS)
    bill = settle(e, NOV, [], "per_capita")
    # month = 1,200,000 / 12 = 100,000.00 DKK = 10,000,000 øre; 125,700 citizens
    # horsens 98,000 → 7,796,340.493…  odder 24,000 → 1,909,307.876…  samsoe 3,700 → 294,351.631…
    # floors sum to 9,999,998: the 2 øre left go to .876 (odder) and .631 (samsoe)
    assert [t.amount_ore for t in bill.tenants] == [7_796_340, 1_909_308, 294_352]
    assert bill.total_ore == 10_000_000 == sum(t.amount_ore for t in bill.tenants)


def test_equal_plus_population_golden(estate: Estate) -> None:
    e = community(estate, ["horsens", "odder", "samsoe"], {"operations": 1_200_000}, OPS)
    bill = settle(e, NOV, [], "equal_plus_population")
    # 30 % equal: 3,000,000 / 3 = 1,000,000 each; 70 % = 7,000,000 by population:
    # horsens 5,457,438.345…  odder 1,336,515.513…  samsoe 206,046.141…
    # floors 6,457,438 + 2,336,515 + 1,206,046 = 9,999,999: the last øre to odder (.513)
    assert [t.amount_ore for t in bill.tenants] == [6_457_438, 2_336_516, 1_206_046]


def test_consumption_golden(estate: Estate) -> None:
    e = community(estate, ["horsens", "odder", "samsoe"], {"operations": 1_200_000}, OPS)
    # server-months: horsens 3, odder 2, samsoe 1 (15 daily samples of 1: the mean is 1)
    rollup = servers("horsens", 3) + servers("odder", 2) + servers("samsoe", 1, samples=15)
    bill = settle(e, NOV, rollup, "consumption")
    # list DKK 300 : 200 : 100 → 5,000,000 / 3,333,333.33… / 1,666,666.67… → the øre to samsoe
    assert [t.amount_ore for t in bill.tenants] == [5_000_000, 3_333_333, 1_666_667]
    odder = bill.tenant("odder")
    assert any("server.count: 2 server-months × DKK 100.00 = DKK 200.00" in ln.text
               for ln in odder.lines)


def test_hybrid_fixed_part_matches_kombit_worked_example() -> None:
    # a municipality of 370,000 pays 150,000 × 25 + 220,000 × 12.50 a year for the fixed part
    assert hybrid_fixed_yearly(370_000, Fraction(25), 150_000, Fraction(1, 2)) == \
        150_000 * 25 + 220_000 * Fraction(25, 2) == 6_500_000
    assert hybrid_fixed_yearly(24_000, Fraction(25), 150_000, Fraction(1, 2)) == 600_000


def test_hybrid_golden(estate: Estate) -> None:
    e = community(estate, ["aarhus", "odder", "samsoe"], {"operations": 12_000_000}, OPS)
    rollup = servers("aarhus", 5) + servers("odder", 2) + servers("samsoe", 1)
    bill = settle(e, NOV, rollup, "hybrid")
    # pool: 1,000,000.00 DKK = 100,000,000 øre for the month
    # fixed/yr: aarhus 150,000×25 + 222,000×12.50 = 6,525,000; odder 600,000; samsoe 92,500
    # fixed/month in øre: 54,375,000 + 5,000,000 + 770,833.33… = 60,145,833.33…
    # groups: fixed 60,145,833 (.333) / variable 39,854,167 (.667 gets the øre)
    # fixed split: 54,375,000 / 5,000,000 / 770,833
    # variable 39,854,167 by 500:200:100 → 24,908,854.375 / 9,963,541.75 / 4,981,770.875
    #   floors leave 2 øre → samsoe (.875) and odder (.75)
    assert [t.amount_ore for t in bill.tenants] == [54_375_000 + 24_908_854,
                                                    5_000_000 + 9_963_542,
                                                    770_833 + 4_981_771]
    assert bill.total_ore == 100_000_000 == sum(t.amount_ore for t in bill.tenants)
    fixed = next(ln for ln in bill.tenant("aarhus").lines if ln.pool == "fixed")
    assert "150,000 citizens × DKK 25.00 + 222,000 × DKK 12.50 = DKK 6,525,000.00" in fixed.text
    assert fixed.amount_ore == 54_375_000


def test_sample_community_sums_exactly_under_every_model(estate: Estate) -> None:
    from pathlib import Path

    from faellesdrift.metering.collect import Context, collect_estate

    ctx = Context(estate, NOV, Path("/nonexistent"), Path("/nonexistent/audit.jsonl"))
    rows = collect_estate(ctx)[0].rows
    totals: dict = {}
    for r in rows:
        k = (r.period, r.tenant, r.meter, r.subject)
        t = totals.setdefault(k, [0, 0])
        t[0] += r.quantity_micro
        t[1] += 1
    rollup = [RollupRow(*k, *v) for k, v in totals.items()]
    cmp = compare(estate, NOV, rollup)
    assert not cmp.errors
    pools = sum(Period.parse("2026-11").share_ore(int(v * 100))
                for v in estate.standards.settlement.pools.values())
    for bill in cmp.bills.values():
        assert bill.total_ore == pools == sum(t.amount_ore for t in bill.tenants)
        for t in bill.tenants:  # the explanation's amounts add up to the tenant's amount
            assert sum(ln.amount_ore or 0 for ln in t.lines) == t.amount_ore
    assert cmp.delta_ore("per_capita", "aarhus") == 0
    # a tenant that keeps backup locally pays nothing for the backup pool under any model
    for bill in cmp.bills.values():
        assert bill.tenant("aarhus").by_pool["backup"] == 0


def test_locally_kept_assets_are_not_charged(estate: Estate) -> None:
    e = community(estate, ["horsens", "odder"], {"operations": 1_200_000}, OPS)
    kept = kept_assets(e, NOV.start)
    assert "contract ODD-K-002" in kept[("odder", "odd-file01")]
    assert "exception ODD-EX-001" in kept[("odder", "odd-core01")]
    rollup = servers("horsens", 1) + servers("odder", 1) + [
        RollupRow("2026-11", "odder", "server.count", "odd-file01", 30_000_000, 30)]
    bill = settle(e, NOV, rollup, "consumption")
    assert [t.amount_ore for t in bill.tenants] == [5_000_000, 5_000_000]  # 1 : 1, not 1 : 2
    assert any("not charged: odd-file01 kept locally — contract ODD-K-002" in ln.text
               for ln in bill.tenant("odder").lines)
    # the lease ends 2027-09-30: from October 2027 the server is charged as shared
    assert ("odder", "odd-file01") not in kept_assets(e, Period.parse("2027-10").start)


# ------------------------------------------------------------- bad input


def test_model_parameters_must_sum_to_100() -> None:
    with pytest.raises(ValidationError, match="must sum to 100"):
        EqualPlusPopulationParams(equal_pct=Decimal(30), population_pct=Decimal(65))


def test_rates_must_name_a_pool() -> None:
    with pytest.raises(ValidationError, match="settlement.pools does not list"):
        Settlement.model_validate({"pools": {"servers": 1}, "rates": {
            "server.vcpu": {"pool": "servers", "dkk": 1},
            "network.port": {"pool": "network", "dkk": 1}}})


def test_no_usage_is_a_clear_error_and_compare_reports_it(estate: Estate) -> None:
    e = community(estate, ["horsens", "odder"], {"operations": 1_200_000}, OPS)
    with pytest.raises(SettlementError, match="no priced usage for the operations pool.*"
                                              "meter collect --period 2026-11"):
        settle(e, NOV, [], "consumption")
    cmp = compare(e, NOV, [])
    assert set(cmp.bills) == {"per_capita", "equal_plus_population"}
    assert set(cmp.errors) == {"consumption", "hybrid"}


def test_future_period_and_unknown_model(estate: Estate) -> None:
    with pytest.raises(UsageRejected, match="in the future"):
        settle(estate, Period.parse("2027-01"), [], "per_capita")
    with pytest.raises(SettlementError, match="not a model"):
        settle(estate, NOV, [], "flat")


def test_showback_policy(estate: Estate) -> None:
    e = community(estate, ["odder"], {"operations": 1_200}, OPS)
    assert settle(e, NOV, [], "per_capita").mode == "showback"
    s = e.standards.settlement.model_copy(update={"periods": e.standards.settlement.periods
                                                  .model_copy(update={"chargeback_from":
                                                                      "2026-10"})})
    e2 = dataclasses.replace(e, standards=e.standards.model_copy(update={"settlement": s}))
    assert settle(e2, NOV, [], "per_capita").mode == "chargeback"
    assert settle(e2, NOV, [], "per_capita", showback=True).mode == "showback"
