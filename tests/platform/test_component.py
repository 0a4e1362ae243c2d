"""TenantEnvironment under Pulumi mocks: children, names, tags, protection, quota."""

from __future__ import annotations

import pulumi
import pytest

from faellesdrift.platform.args import tenant_args
from faellesdrift.platform.providers import for_target
from faellesdrift.platform.providers.resources import TYPES
from faellesdrift.platform.tenant_environment import TYPE, TenantEnvironment
from tests.platform.conftest import Recorder


@pytest.fixture
def mocks() -> Recorder:
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="faellesdrift", stack="test", preview=False)
    return recorder


def _done(env: TenantEnvironment) -> pulumi.Output:
    """The component's outputs once every child is registered."""
    return pulumi.Output.all(env.outputs, *[c.urn for c in env.children]).apply(lambda a: a[0])


@pulumi.runtime.test
def test_children_names_types_and_tags(mocks, estate):
    args = tenant_args(estate, "odder")
    env = TenantEnvironment("odder", args, for_target("record"))
    t = estate.tenant("odder")
    expected = (len(t.networks) + len(t.servers) + len(t.network_devices) + 1 + 2)
    assert env.resource_count == expected == len(env.children)

    def check(out):
        names = {n for n in mocks.resources if n.startswith("odder/")}
        assert names == {f"odder/segment/{n.name}" for n in t.networks} \
            | {f"odder/server/{s.name}" for s in t.servers} \
            | {f"odder/device/{d.name}" for d in t.network_devices} \
            | {"odder/access", "odder/backup", "odder/monitoring"}
        assert mocks.resources["odder"].typ == TYPE
        assert mocks.resources["odder/server/odd-file01"].typ == TYPES["ServerPlacement"]
        for name in names:
            tags = mocks.resources[name].inputs["tags"]
            assert tags["tenant"] == "odder" and tags["cost_center"] == "midt-0727"
            assert tags["tenant_code"] == "0727" and tags["meter"]
        access = mocks.resources["odder/access"].inputs
        assert access["default"] == "deny" and access["peers"] == []
        assert {e["service"] for e in access["shared_services"]} >= {"ntp", "dns", "syslog"}
        backup = mocks.resources["odder/backup"].inputs
        assert len(backup["hosts"]) == len(t.servers)
        assert out["servers"]["odd-file01"]["port"] == 42000  # status merged into outputs
        assert out["resources"] == expected
        assert out["exceptions"] == ["ODD-EX-001", "ODD-EX-002"]

    return _done(env).apply(check)


@pulumi.runtime.test
def test_kept_resources_carry_the_exception_and_are_protected(mocks, estate):
    env = TenantEnvironment("odder", tenant_args(estate, "odder"), for_target("record"))
    by_name = {r._name: r for r in env.children}
    core, fire = by_name["odder/device/odd-core01"], by_name["odder/device/odd-fire04"]
    plain = by_name["odder/device/odd-dist02"]
    assert core._protect and fire._protect and not plain._protect

    def check(_):
        assert mocks.resources["odder/device/odd-core01"].inputs["exceptions"] == ["ODD-EX-001"]
        assert mocks.resources["odder/device/odd-core01"].inputs["tags"]["exceptions"] == \
            "ODD-EX-001"
        assert mocks.resources["odder/device/odd-dist02"].inputs["exceptions"] == []

    return _done(env).apply(check)


@pulumi.runtime.test
def test_an_exception_opens_a_peer_and_waives_monitoring(mocks, excepted):
    env = TenantEnvironment("odder", tenant_args(excepted, "odder"), for_target("record"))
    by_name = {r._name: r for r in env.children}
    assert by_name["odder/access"]._protect

    def check(out):
        access = mocks.resources["odder/access"].inputs
        assert access["peers"] == [{"host": "odd-file01", "peer": "samsoe",
                                    "exception": "ODD-EX-003", "status": "active",
                                    "expires": "2027-06-30"}]
        assert access["exceptions"] == ["ODD-EX-003"]
        watched = {h["host"] for h in mocks.resources["odder/monitoring"].inputs["hosts"]}
        assert "odd-prin05" not in watched and "odd-dc02" in watched
        assert out["opted_out"] == [{"host": "odd-prin05",
                                     "control": "platform.monitoring.enrolment",
                                     "exception": "ODD-EX-004"}]

    return _done(env).apply(check)


@pulumi.runtime.test
def test_usage_against_the_quota_is_published(mocks, estate):
    args = tenant_args(estate, "odder")
    env = TenantEnvironment("odder", args, for_target("record"))

    def check(out):
        quota = out["quota"]
        assert quota["vcpu"] == {"used": sum(s.vcpu for s in args.servers), "allowed": 200}
        assert set(quota) == {"vcpu", "memory_gb", "disk_gb"}

    return _done(env).apply(check)
