"""Write-off exposure: ended early (early_exit_dkk) vs kept to term (pro rata to `ends`)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from faellesdrift.estate import load_estate
from faellesdrift.model import Contract
from faellesdrift.reports.contracts import Exposure, exposures, totals
from tests.conftest import TODAY


def _exp(yearly, early, ends, as_of=date(2027, 1, 1), target=date(2027, 6, 1)):
    c = Contract(id="X-K-001", supplier="S", covers=["x-fw01"], ends=ends, yearly_dkk=yearly,
                 early_exit_dkk=early)
    return Exposure("x", c, as_of, target)


def test_kept_to_term_is_yearly_pro_rata_by_day():
    e = _exp(365_000, 50_000, date(2027, 1, 1) + timedelta(days=100))
    assert e.remaining_days == 100
    assert e.kept_to_term_dkk == Decimal("100000.00")
    assert e.early_exit_dkk == Decimal(50_000)
    assert e.saving_if_ended_early_dkk == Decimal("50000.00")
    assert e.cheaper == "end early"


def test_rounding_is_to_whole_ore():
    e = _exp(100_000, 0, date(2027, 1, 2))  # one day
    assert e.kept_to_term_dkk == Decimal("273.97")  # 100000/365 = 273.9726…


def test_keep_to_term_when_the_exit_fee_is_higher():
    e = _exp(36_500, 80_000, date(2027, 1, 1) + timedelta(days=365))
    assert e.kept_to_term_dkk == Decimal("36500.00") and e.cheaper == "keep to term"
    assert e.saving_if_ended_early_dkk == Decimal("-43500.00")


def test_an_ended_contract_costs_nothing_either_way_and_blocks_nothing():
    e = _exp(100_000, 50_000, date(2026, 12, 31))
    assert e.ended and e.kept_to_term_dkk == 0 and e.early_exit_dkk == 0
    assert e.cheaper == "already ended" and not e.blocks_migration


@pytest.mark.parametrize("ends, blocks", [(date(2027, 6, 1), False), (date(2027, 6, 2), True)])
def test_a_contract_blocks_when_it_ends_after_the_wave_target(ends, blocks):
    assert _exp(1, 1, ends).blocks_migration is blocks


def test_sample_odder(sample_root):
    t = load_estate(sample_root, TODAY).tenant("odder")
    fw, lease = exposures(t, TODAY)
    # 2026-11-27 → 2028-06-30 is 581 days; 400,000 × 581 / 365
    assert fw.remaining_days == 581
    assert fw.kept_to_term_dkk == Decimal("636712.33")
    assert fw.early_exit_dkk == 250_000 and fw.blocks_migration
    assert "ODD-K-001 (Local firewall vendor) runs to 2028-06-30" in fw.advice()
    tot = totals([fw, lease])
    assert tot.contracts == 2 and tot.blocking == 2
    assert tot.early_exit_dkk == Decimal(270_000)
    assert tot.kept_to_term_dkk == fw.kept_to_term_dkk + lease.kept_to_term_dkk
    assert fw.to_dict()["kept_to_term_dkk"] == 636712.33


def test_ending_early_counts_the_shared_charge_the_assets_carry_afterwards(sample_root):
    estate = load_estate(sample_root, TODAY)
    t = estate.tenant("odder")
    rates = estate.standards.settlement.rates
    fw, lease = exposures(t, TODAY, rates)
    # odd-fire04 is an 8-port device: community.yaml lists DKK 400 per device and DKK 12 per
    # port a month; 581 days at 365/12 days a month
    device = next(d for d in t.network_devices if d.name == "odd-fire04")
    monthly = Decimal(400) + Decimal(12) * device.ports
    assert fw.monthly_shared_dkk == monthly
    assert fw.shared_after_exit_dkk == (monthly * 581 * 12 / 365).quantize(Decimal("0.01"))
    assert fw.ended_early_dkk == fw.early_exit_dkk + fw.shared_after_exit_dkk
    assert fw.saving_if_ended_early_dkk == fw.kept_to_term_dkk - fw.ended_early_dkk
    # the lease covers two servers: vCPU, memory, disk and one server each, a month
    servers = [s for s in t.servers if s.name in ("odd-file01", "odd-dc02")]
    monthly = sum((Decimal(120) * s.vcpu + Decimal(15) * s.memory_gb
                   + Decimal("0.5") * s.disk_gb + Decimal(300) for s in servers), Decimal(0))
    assert lease.monthly_shared_dkk == monthly
    assert lease.shared_after_exit_dkk > 0
    # without the list prices there is no shared charge (the old, too favourable comparison)
    assert exposures(t, TODAY)[0].shared_after_exit_dkk == 0
    assert fw.to_dict()["shared_after_exit_dkk"] == float(fw.shared_after_exit_dkk)


def test_the_shared_charge_can_make_ending_early_the_dearer_choice():
    c = Contract(id="X-K-001", supplier="S", covers=["x-fw01"],
                 ends=date(2027, 1, 1) + timedelta(days=365), yearly_dkk=36_500,
                 early_exit_dkk=10_000)
    cheap = Exposure("x", c, date(2027, 1, 1), date(2027, 6, 1))
    assert cheap.saving_if_ended_early_dkk == Decimal("26500.00") and cheap.cheaper == "end early"
    dear = Exposure("x", c, date(2027, 1, 1), date(2027, 6, 1), Decimal(3000))
    assert dear.shared_after_exit_dkk == Decimal("36000.00")
    assert dear.saving_if_ended_early_dkk == Decimal("-9500.00")
    assert dear.cheaper == "keep to term"
