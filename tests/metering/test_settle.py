"""Allocation maths on golden numbers computed by hand (derivations in the comments)."""

from __future__ import annotations

import dataclasses
from datetime import date
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
from tests.metering.conftest import going_live, with_settlement

NOV = Period.parse("2026-11")


def community(estate: Estate, slugs: list[str], pools: dict, rates: dict) -> Estate:
    """The sample estate cut to some tenants (all live all year), with simple pools and rates."""
    return with_settlement(going_live(estate, slugs), pools, rates)


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
    fixed = next(ln for ln in bill.tenant("aarhus").lines if ln.component == "fixed")
    assert "150,000 citizens × DKK 25.00 + 222,000 × DKK 12.50 = DKK 6,525,000.00" in fixed.text
    assert fixed.amount_ore == 54_375_000


def test_sample_community_sums_exactly_under_every_model(estate: Estate) -> None:
    from pathlib import Path

    from faellesdrift.metering.collect import CollectionContext, collect_estate

    estate = going_live(estate, list(estate.slugs))
    ctx = CollectionContext(estate, NOV, Path("/nonexistent"), Path("/nonexistent/audit.jsonl"))
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
    # an exception to one setting (NTP) of a delivered device keeps it on the bill
    assert ("odder", "odd-core01") not in kept
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


# ------------------------------------------------------------- who takes what, and when


MIDMONTH = {"odder": date(2026, 11, 16), "samsoe": date(2026, 12, 1)}  # 15/30 days; not live


def midmonth(estate: Estate, pools: dict, rates: dict) -> Estate:
    e = going_live(estate, ["horsens", "odder", "samsoe"], MIDMONTH)
    return with_settlement(e, pools, rates)


def test_per_capita_with_a_tenant_going_live_mid_month(estate: Estate) -> None:
    e = midmonth(estate, {"operations": 1_200_000}, OPS)
    bill = settle(e, NOV, [], "per_capita")
    # 10,000,000 øre; weights horsens 98,000, odder 24,000 × 15/30 = 12,000 (samsoe: 0)
    # horsens 8,909,090.909…, odder 1,090,909.090… → the øre left goes to horsens (.909)
    assert [t.amount_ore for t in bill.tenants] == [8_909_091, 1_090_909, 0]
    assert bill.total_ore == 10_000_000
    odder = bill.tenant("odder")
    assert odder.basis == "live from 2026-11-16: 15/30 days"
    assert any("pro-rated: taken from 2026-11-16: 15/30 days" in ln.text for ln in odder.lines)
    assert any("goes live 2026-12-01 — not billed before then" in ln.text
               for ln in bill.tenant("samsoe").lines)


def test_equal_plus_population_with_a_tenant_going_live_mid_month(estate: Estate) -> None:
    e = midmonth(estate, {"operations": 1_200_000}, OPS)
    bill = settle(e, NOV, [], "equal_plus_population")
    # equal 3,000,000 by tenant-months 1 : 1/2 → 2,000,000 / 1,000,000
    # population 7,000,000 by 98,000 : 12,000 → 6,236,363.63… / 763,636.36… → øre to horsens
    h, o, s = bill.tenants
    assert (h.by_component, o.by_component) == (
        {"equal": 2_000_000, "population": 6_236_364},
        {"equal": 1_000_000, "population": 763_636})
    assert [h.amount_ore, o.amount_ore, s.amount_ore] == [8_236_364, 1_763_636, 0]
    assert bill.components_ore["equal"] == 3_000_000
    assert bill.components_ore["population"] == 7_000_000


def test_consumption_with_a_tenant_going_live_mid_month(estate: Estate) -> None:
    e = midmonth(estate, {"operations": 1_200_000}, OPS)
    rollup = servers("horsens", 3) + servers("odder", 2) + servers("samsoe", 1)
    bill = settle(e, NOV, rollup, "consumption")
    # list DKK 300 : 200 × 15/30 = 100; samsoe is not live → 7,500,000 / 2,500,000 / 0
    assert [t.amount_ore for t in bill.tenants] == [7_500_000, 2_500_000, 0]


HYBRID_POOLS = {"operations": 12_000_000, "backup": 6_000_000}
HYBRID_RATES = {"server.count": {"pool": "operations", "dkk": 100},
                "backup.gb": {"pool": "backup", "dkk": 1}}


def test_hybrid_charges_the_fixed_part_only_for_pools_taken(estate: Estate) -> None:
    # aarhus keeps backup locally; odder goes live 2026-11-16 (15/30); randers all month
    e = with_settlement(going_live(estate, ["aarhus", "odder", "randers"],
                                   {"odder": date(2026, 11, 16)}), HYBRID_POOLS, HYBRID_RATES)
    gb = [RollupRow("2026-11", t, "backup.gb", f"{t}-vault", q * 30_000_000, 30)
          for t, q in (("aarhus", 9_000), ("odder", 1_000), ("randers", 1_500))]
    rollup = servers("aarhus", 5) + servers("odder", 2) + servers("randers", 3) + gb
    bill = settle(e, NOV, rollup, "hybrid")
    # month: operations 100,000,000 øre, backup 50,000,000; the fixed price is spread
    # 2/3 : 1/3 over the pools (12M : 6M a year)
    # fixed/yr: aarhus 6,525,000, odder 600,000, randers 2,475,000
    # operations fixed (øre): aarhus 6,525,000×100×2/3/12 = 36,250,000;
    #   odder 600,000×100×2/3/12×1/2 = 1,666,666.67; randers 13,750,000
    #   → 51,666,667 (odder gets the øre); variable 48,333,333 by 500 : 100 : 300
    #   → 26,851,851.67 / 5,370,370.33 / 16,111,111 → øre to aarhus
    # backup (aarhus not charged): odder 600,000×100×1/3/12×1/2 = 833,333.33;
    #   randers 6,875,000 → fixed 7,708,333; variable 42,291,667 by 500 : 1,500 GB-months
    #   → 10,572,916.75 / 31,718,750.25 → øre to odder
    aarhus, odder, randers = bill.tenants
    assert aarhus.by_pool == {"operations": 36_250_000 + 26_851_852, "backup": 0}
    assert odder.by_pool == {"operations": 1_666_667 + 5_370_370,
                             "backup": 833_333 + 10_572_917}
    assert randers.by_pool == {"operations": 13_750_000 + 16_111_111,
                               "backup": 6_875_000 + 31_718_750}
    assert [t.amount_ore for t in bill.tenants] == [63_101_852, 18_443_287, 68_454_861]
    assert aarhus.by_component == {"fixed": 36_250_000, "usage": 26_851_852}
    assert bill.components_ore["fixed"] == 51_666_667 + 7_708_333
    assert bill.components_ore["usage"] == 48_333_333 + 42_291_667
    assert bill.total_ore == 150_000_000 == sum(t.amount_ore for t in bill.tenants)
    for t in bill.tenants:  # every column adds up: pools and components alike
        assert sum(t.by_pool.values()) == sum(t.by_component.values()) == t.amount_ore
    assert any(ln.text.startswith("backup: not charged — scope.backup: kept locally")
               for ln in aarhus.lines)


def test_the_sample_bills_nobody_before_go_live(estate: Estate) -> None:
    # the first sample tenant goes live on 2026-11-01 (Aarhus); October bills nobody
    cmp = compare(estate, Period.parse("2026-10"), [])
    for bill in cmp.bills.values():
        assert bill.total_ore == 0 and all(t.amount_ore == 0 for t in bill.tenants)
        assert set(bill.unbilled_ore) == set(estate.standards.settlement.pools)
    assert "consumption" in cmp.bills  # nothing to split is not an error
    viborg = cmp.bills["per_capita"].tenant("viborg")  # go-live 2027-03-01
    assert viborg.basis == "not live (go-live 2027-03-01)"


def test_the_sample_bills_aarhus_alone_in_november(estate: Estate) -> None:
    # Aarhus is live since 2026-11-01, every other sample tenant from December or later:
    # it takes every pool but backup (kept locally), and pays all of them
    bill = settle(estate, NOV, [], "per_capita")
    aarhus = bill.tenant("aarhus")
    assert aarhus.basis == "live since 2026-11-01"
    assert set(bill.unbilled_ore) == {"backup"}
    assert aarhus.amount_ore == bill.total_ore == sum(bill.pools_ore.values()) > 0
    assert all(t.amount_ore == 0 for t in bill.tenants if t.slug != "aarhus")
    assert any("goes live 2026-12-08 — not billed before then" in ln.text
               for ln in bill.tenant("randers").lines)


def test_a_pool_nobody_takes_is_named_not_billed(estate: Estate) -> None:
    e = with_settlement(going_live(estate, ["aarhus", "samsoe"]),
                        HYBRID_POOLS, HYBRID_RATES)  # both keep backup locally
    bill = settle(e, NOV, servers("aarhus", 1) + servers("samsoe", 1), "per_capita")
    assert bill.unbilled_ore == {"backup": 50_000_000}
    assert bill.total_ore == 100_000_000
    assert any("backup: DKK 500,000.00 not billed — no tenant takes it" in n
               for n in bill.notes)


def test_only_not_delivered_exceptions_take_an_asset_off_the_bill(estate: Estate) -> None:
    e = community(estate, ["horsens", "odder"], {"operations": 1_200_000}, OPS)
    rollup = servers("horsens", 1) + [
        RollupRow("2026-11", "odder", "server.count", "odd-core01", 30_000_000, 30)]
    assert [t.amount_ore for t in settle(e, NOV, rollup, "consumption").tenants] == \
        [5_000_000, 5_000_000]
    odder = e.tenant("odder")
    exceptions = [x.model_copy(update={"delivery": "not_delivered"})
                  if x.id == "ODD-EX-001" else x for x in odder.exceptions]
    e2 = dataclasses.replace(e, tenants=tuple(
        t.model_copy(update={"exceptions": exceptions}) if t.slug == "odder" else t
        for t in e.tenants))
    assert "not delivered" in kept_assets(e2, NOV.start)[("odder", "odd-core01")]
    bill = settle(e2, NOV, rollup + servers("odder", 1), "consumption")
    assert [t.amount_ore for t in bill.tenants] == [5_000_000, 5_000_000]  # 1 : 1, not 1 : 2


# ------------------------------------------------------------- bad numbers at the door


@pytest.mark.parametrize(("path", "value", "message"), [
    (("population",), 2_000_001, "less than or equal to 2000000"),
    (("network_devices", 0, "ports"), 100_001, "less than or equal to 100000"),
    (("endpoints", "count"), 10**12, "less than or equal to 10000000"),
    (("servers", 0, "vcpu"), 10**6, "less than or equal to 1024"),
])
def test_tenant_numbers_are_bounded(estate: Estate, path: tuple, value: int,
                                    message: str) -> None:
    from faellesdrift.model import Tenant

    data = estate.tenant("odder").model_dump(by_alias=True)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValidationError, match=message):
        Tenant.model_validate(data)


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1e20"])
def test_prices_are_finite_and_bounded(amount: str) -> None:
    with pytest.raises(ValidationError):
        Settlement.model_validate({"pools": {"servers": amount},
                                   "rates": {"server.vcpu": {"pool": "servers", "dkk": 1}}})
    with pytest.raises(ValidationError):
        Settlement.model_validate({"pools": {"servers": 1},
                                   "rates": {"server.vcpu": {"pool": "servers", "dkk": amount}}})


@pytest.mark.parametrize("quantity", [float("nan"), float("inf"), 1e300, 10**30,
                                      Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity")])
def test_bad_quantities_never_reach_the_store(quantity: object) -> None:
    from faellesdrift.metering.usage import usage_row

    with pytest.raises(UsageRejected):
        usage_row("test", "2026-11-02", "odder", "server.vcpu", "odd-x", quantity)


def test_the_sample_in_february_2027_by_hand(estate: Estate) -> None:
    # the sample community's own pools and go-live dates: in February 2027 (28 days)
    # aarhus, randers and silkeborg are live all month, horsens from 2027-02-15 (14/28),
    # the others later; aarhus keeps backup locally
    e = dataclasses.replace(estate, today=date(2027, 3, 1))
    feb = Period.parse("2027-02")
    bill = settle(e, feb, [], "per_capita")
    live = {t.slug: t.by_pool for t in bill.tenants if t.amount_ore}
    assert sorted(live) == ["aarhus", "horsens", "randers", "silkeborg"]
    # weights 372,000 : 49,000 : 99,000 : 100,000 (620,000); backup without aarhus (248,000)
    # operations 60,000,000 øre → 36,000,000 / 4,741,935.48 / 9,580,645.16 / 9,677,419.35
    #   → the øre left to horsens (.48)
    # servers 200,000,000 → 120,000,000 / 15,806,451.61 / 31,935,483.87 / 32,258,064.51
    #   → 2 øre left: randers (.87), horsens (.61)
    # network 100,000,000 → 60,000,000 / 7,903,225.80 / 15,967,741.93 / 16,129,032.25
    #   → randers (.93), horsens (.80)
    # backup 40,000,000 → — / 7,903,225.80 / 15,967,741.93 / 16,129,032.25 → the same
    assert live["aarhus"] == {"servers": 120_000_000, "network": 60_000_000, "backup": 0,
                              "operations": 36_000_000}
    assert live["horsens"] == {"servers": 15_806_452, "network": 7_903_226,
                               "backup": 7_903_226, "operations": 4_741_936}
    assert live["randers"] == {"servers": 31_935_484, "network": 15_967_742,
                               "backup": 15_967_742, "operations": 9_580_645}
    assert live["silkeborg"] == {"servers": 32_258_064, "network": 16_129_032,
                                 "backup": 16_129_032, "operations": 9_677_419}
    assert bill.total_ore == 400_000_000 and not bill.unbilled_ore
    assert bill.tenant("viborg").basis == "not live (go-live 2027-03-01)"

    eq = settle(e, feb, [], "equal_plus_population")
    # operations: 30 % = 18,000,000 by tenant-months 1 : ½ : 1 : 1 → 5,142,857.14… /
    #   2,571,428.57… (gets the øre) / 5,142,857.14… / 5,142,857.14…; 70 % = 42,000,000 by
    #   population → 25,200,000 / 3,319,354.83… / 6,706,451.61… / 6,774,193.54…
    #   → 2 øre left: horsens (.83), randers (.61)
    ops = {t.slug: t.by_pool["operations"] for t in eq.tenants if t.amount_ore}
    assert ops == {"aarhus": 5_142_857 + 25_200_000, "horsens": 2_571_429 + 3_319_355,
                   "randers": 5_142_857 + 6_706_452, "silkeborg": 5_142_857 + 6_774_193}


def test_kit_outside_the_baseline_is_counted_not_charged(community_copy) -> None:
    from pathlib import Path

    from faellesdrift.estate import load_estate
    from faellesdrift.metering.collect import CollectionContext, collect_estate

    odder = community_copy / "tenants" / "odder.yaml"
    odder.write_text(odder.read_text(encoding="utf-8") + (
        "other_assets:\n  - {name: odd-fgt90, kind: appliance, platform: FortiGate 100F,"
        " reason: Run by the local vendor under contract}\n"), encoding="utf-8")
    estate = load_estate(community_copy)
    ctx = CollectionContext(estate, NOV, Path("/nonexistent"), Path("/nonexistent/audit.jsonl"))
    rows = [r for r in collect_estate(ctx)[0].rows if r.meter == "inventory.asset"]
    assert [(r.tenant, r.subject) for r in rows] == [("odder", "odd-fgt90")]
    assert "inventory.asset" not in estate.standards.settlement.rates  # counted, not priced
