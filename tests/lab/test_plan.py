"""From the sample estate to a lab plan (no root needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faellesdrift.estate import load_estate
from faellesdrift.lab import LabError
from faellesdrift.lab.plan import plan_from_estate


@pytest.fixture
def estate(sample_root: Path):
    return load_estate(sample_root)


def test_every_tenant_server_and_device_by_default(estate) -> None:
    plan = plan_from_estate(estate)
    assert len(plan.tenants) == len(estate.tenants)
    linux = [s.name for t in estate.tenants for s in t.servers if s.os.startswith("debian")]
    assert sorted(s.name for s in plan.servers) == sorted(linux)  # Windows: inventory only
    assert len(linux) < sum(len(t.servers) for t in estate.tenants)
    assert len(plan.devices) == sum(len(t.network_devices) for t in estate.tenants)


def test_servers_per_tenant_and_tenant_filter(estate) -> None:
    plan = plan_from_estate(estate, servers_per_tenant=2, tenants=["odder", "samsoe"])
    assert [t.slug for t in plan.tenants] == ["odder", "samsoe"]
    assert [s.name for s in plan.tenants[0].servers] == ["odd-file01", "odd-dc02"]
    assert str(plan.tenants[0].servers[0].address) == "10.27.10.11/24"


def test_shared_services_come_from_the_standards(estate) -> None:
    svc = plan_from_estate(estate, 0).services
    shared = estate.standards.shared_services
    assert svc.prefix == shared.prefix and svc.ntp == tuple(shared.ntp)
    assert svc.syslog == (shared.syslog.host, shared.syslog.port)
    assert (shared.monitoring.host, shared.monitoring.port) in svc.tcp


def test_devices_keep_exception_values_and_deviate_in_known_ways(estate) -> None:
    devices = {d.name: d for d in plan_from_estate(estate, 0, ["odder"]).devices}
    core = devices["odd-core01"]  # ODD-EX-001 keeps the local NTP server
    assert "ntp server 10.27.0.123" in core.config
    assert not any(d.startswith("net.ntp.servers") for d in core.deviations)
    assert core.deviations == ("net.snmp.communities: stray community public",)
    assert "snmp-server community public RO" in core.config
    fire = devices["odd-fire04"]  # ODD-EX-002 keeps the vendor's community
    assert "snmp community fw-vendor-ro authorization read-only" in fire.config
    assert fire.deviations == ("net.ntp.servers: missing ntp server 10.250.0.124",)
    assert "system ntp server 10.250.0.124" not in fire.config
    assert all(d.deviations for d in devices.values())


def test_unknown_tenant_is_one_clear_error(estate) -> None:
    with pytest.raises(Exception, match="no tenant 'nowhere'"):
        plan_from_estate(estate, tenants=["nowhere"])


def test_negative_server_count_is_refused(estate) -> None:
    with pytest.raises(LabError, match="use 0 or more"):
        plan_from_estate(estate, servers_per_tenant=-1)
