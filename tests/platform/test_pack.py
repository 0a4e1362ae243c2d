"""The CrossGuard pack adapter: pulumi_policy objects around the policies-as-data."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from faellesdrift.errors import ConfigError
from faellesdrift.platform import pack
from faellesdrift.platform.policies import EXEMPTED, Context
from tests.platform.conftest import build_views


def _args(view, protect=None):
    return SimpleNamespace(resource_type=view.type, props=view.props, urn=view.urn,
                           name=view.name,
                           opts=SimpleNamespace(protect=view.protect if protect is None
                                                else protect))


@pytest.fixture
def setup(estate):
    views = build_views(estate, ("odder",))
    return pack.policies(lambda: Context.of(estate)), views


def _run(policy, args):
    reports = []
    policy.validate(args, lambda message, urn=None: reports.append((message, urn)))
    return reports


def test_one_pulumi_policy_per_policy_plus_the_exempted_report(setup):
    policies, _ = setup
    names = [p.name for p in policies]
    assert names[-1] == EXEMPTED and len(set(names)) == len(names)
    assert isinstance(policies[0], ResourceValidationPolicy)
    assert policies[0].enforcement_level is EnforcementLevel.MANDATORY
    assert isinstance(policies[-1], StackValidationPolicy)
    assert policies[-1].enforcement_level is EnforcementLevel.ADVISORY


def test_mandatory_policies_report_violations_only(setup):
    policies, views = setup
    kept = next(p for p in policies if p.name == "kept-resources-protected")
    core = next(v for v in views if v.name == "odder/device/odd-core01")
    assert _run(kept, _args(core)) == []  # exempted: not a violation
    (message, _), = _run(kept, _args(core, protect=False))
    assert "kept by ODD-EX-001 but not protected" in message


def test_the_exempted_policy_reports_what_exceptions_allow(setup):
    policies, views = setup
    reports = _run(policies[-1], SimpleNamespace(resources=[_args(v) for v in views]))
    assert [(m.split(":")[0], u.rpartition("::")[2]) for m, u in reports] == [
        ("exempted by ODD-EX-001", "odder/device/odd-core01"),
        ("exempted by ODD-EX-002", "odder/device/odd-fire04")]


def test_resources_outside_the_run_are_not_judged(setup):
    policies, views = setup
    tags = policies[0]
    untargeted = SimpleNamespace(resource_type=views[0].type, props={}, urn="u", name="n",
                                 opts=SimpleNamespace(protect=False))
    assert _run(tags, untargeted) == []


def test_an_estate_that_cannot_load_blocks_every_stack_policy():
    def broken():
        raise ConfigError("tenants/odder.yaml: servers[0].vcpu: not a number")

    policies = pack.policies(broken)
    quota = next(p for p in policies if p.name == "compute-quota")
    (message, _), = _run(quota, SimpleNamespace(resources=[]))
    assert message.startswith("the policy pack cannot load the estate: tenants/odder.yaml")
