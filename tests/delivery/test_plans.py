"""Reading the platform plan's JSON: one stack per tenant, or one stack with per-tenant counts."""

from __future__ import annotations

from faellesdrift.delivery.plans import _per_tenant


def test_one_stack_per_tenant() -> None:
    data = {"stacks": {
        "odder": {"stack": "lab.odder", "create": 2, "violations": ["metering tags missing"],
                  "exempted": ["exempted by ODD-EX-001: odd-core01 keeps net.ntp.servers"]},
        "shared": {"stack": "lab.shared", "create": 1},
        "aarhus": {"stack": "lab.aarhus", "create": 9}}}
    per, violations, exempted = _per_tenant(data, ["odder"])
    assert list(per) == ["odder"]
    assert violations == [{"tenant": "odder", "message": "metering tags missing"}]
    assert exempted == ["exempted by ODD-EX-001: odd-core01 keeps net.ntp.servers"]


def test_one_stack_with_per_tenant_counts() -> None:
    data = {"tenants": {"odder": {"create": 2}, "aarhus": {"create": 3}},
            "violations": [{"tenant": "aarhus", "policy": "p", "message": "m"}],
            "exempted": [{"tenant": "odder", "resource": "r", "message": "kept"}]}
    per, violations, exempted = _per_tenant(data, ["odder"])
    assert per == {"odder": {"create": 2}} and violations == [] and exempted == ["kept"]
