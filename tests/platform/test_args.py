"""tenant_args: what the estate resolves for one TenantEnvironment."""

from __future__ import annotations

import pytest

from faellesdrift.errors import ConfigError
from faellesdrift.platform.args import (
    LabRealisation,
    cost_center,
    shared_services_args,
    tenant_args,
)
from faellesdrift.platform.program import StackConfig, lab_realisation


def test_tags_cost_center_and_quota(estate):
    a = tenant_args(estate, "aarhus")
    assert a.code == "0751" and a.cost_center == "midt-0751" == cost_center("Midt", "0751")
    assert a.tag_keys == ("tenant", "cost_center", "meter")
    assert a.quota.vcpu == 400  # quotas.per_tenant.aarhus
    tags = a.tags("server").as_dict()
    assert tags == {"tenant": "aarhus", "tenant_code": "0751", "cost_center": "midt-0751",
                    "community": "Midt",
                    "meter": "server.count,server.vcpu,server.memory_gb,server.disk_gb"}
    assert [s.name for s in a.segments] == ["mgmt", "servers", "clients"]
    assert a.servers[0].address == "10.51.10.11/24" and a.servers[0].network == "servers"


def test_kept_exceptions_follow_the_estate(estate):
    a = tenant_args(estate, "aarhus")
    core = next(d for d in a.devices if d.name == "aar-core01")
    citrix = next(s for s in a.servers if s.name == "aar-citr08")
    assert [(k.id, k.status) for k in core.kept] == [("AAR-EX-001", "active")]
    assert [(k.id, k.status) for k in citrix.kept] == [("AAR-EX-002", "active")]
    assert a.tags("device", core.kept).as_dict()["exceptions"] == "AAR-EX-001"
    assert all(not s.kept for s in a.servers if s.name != "aar-citr08")


def test_standard_enrols_everything_and_denies_peers(estate):
    a = tenant_args(estate, "odder")
    assert all(s.backup.enrolled and s.monitoring.enrolled for s in a.servers)
    assert all(d.monitoring.source == "standard" for d in a.devices)
    assert a.peers == ()


def test_platform_exceptions_open_a_peer_and_waive_monitoring(excepted):
    a = tenant_args(excepted, "odder")
    assert [(p.host, p.peer, p.exception) for p in a.peers] == [
        ("odd-file01", "samsoe", "ODD-EX-003")]
    prin = next(s for s in a.servers if s.name == "odd-prin05")
    assert not prin.monitoring.enrolled and prin.monitoring.source == "ODD-EX-004"
    assert prin.backup.enrolled


def test_an_exception_naming_a_non_tenant_peer_is_refused(community_copy):
    from faellesdrift.estate import load_estate
    from tests.conftest import TODAY
    from tests.platform.conftest import PLATFORM_EXCEPTIONS, add_exceptions
    add_exceptions(community_copy, text=PLATFORM_EXCEPTIONS.replace("value: [samsoe]",
                                                                    "value: [gotham]"))
    estate = load_estate(community_copy, TODAY)
    with pytest.raises(ConfigError, match="gotham.*not another tenant"):
        tenant_args(estate, "odder")


def test_lab_realisation_takes_the_labs_plan(estate):
    real = lab_realisation(estate, "odder", 1)
    assert real.servers == frozenset({"odd-file01"})
    assert set(real.seeds) == {d.name for d in estate.tenant("odder").network_devices}
    config, _ = real.seeds["odd-core01"]
    assert any("10.27.0.123" in line for line in config)  # ODD-EX-001's kept NTP server
    a = tenant_args(estate, "odder", lab=real)
    assert [s.name for s in a.servers if s.lab] == ["odd-file01"]
    assert all(d.lab and d.seed for d in a.devices)
    assert not tenant_args(estate, "odder", lab=LabRealisation()).devices[0].lab


def test_shared_services(estate):
    s = shared_services_args(estate)
    assert s.prefix == "10.250.0.0/24" and s.syslog.port == 514
    assert [e.service for e in s.tcp] == ["monitoring", "backup"]
    assert s.tags().as_dict()["tenant"] == "shared"


@pytest.mark.parametrize("values, message", [
    ({"target": "cloud"}, "faellesdrift:target: 'cloud'"),
    ({"labServersPerTenant": "-1"}, "labServersPerTenant: '-1'"),
    ({"labServersPerTenant": "many"}, "labServersPerTenant: 'many'"),
    ({"retainKept": "maybe"}, "retainKept: 'maybe'"),
])
def test_stack_config_errors_name_the_key(values, message):
    with pytest.raises(ConfigError, match=message):
        StackConfig.from_values(values)


def test_stack_config_values():
    assert StackConfig.from_values({}) == StackConfig("record", 1, True)
    c = StackConfig.from_values({"target": "lab", "labServersPerTenant": "all",
                                 "retainKept": "false"})
    assert c == StackConfig("lab", None, False)
