"""Comparing two versions of a tenant model to model: what happened to each thing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from faellesdrift.delivery.changes import compare, compare_tenant, exception_actions
from faellesdrift.estate import load_estate
from tests.conftest import REPO, TODAY


@pytest.fixture(scope="module")
def estate():
    return load_estate(REPO, TODAY)


def _odder(estate):
    return estate.tenant("odder")


def _with_exception(tenant, eid: str, **changes):
    exceptions = [e.model_copy(update=changes) if e.id == eid else e for e in tenant.exceptions]
    return tenant.model_copy(update={"exceptions": exceptions})


@pytest.mark.parametrize("changes, actions", [
    ({"expires": date(2028, 6, 1)}, ("shortened",)),
    ({"hosts": ["odd-core01", "odd-acce03"]}, ("widened",)),
    ({"hosts": ["odd-acce03"]}, ("widened", "narrowed")),
    ({"category": "waiver"}, ("category changed",)),
    ({"justification": "Another reason"}, ("changed",)),
    ({"expires": date(2028, 6, 30) + timedelta(days=30), "value": ["10.27.0.1"]},
     ("renewed", "value changed")),
])
def test_exception_actions(estate, changes, actions) -> None:
    old = next(e for e in _odder(estate).exceptions if e.id == "ODD-EX-001")
    assert exception_actions(old, old.model_copy(update=changes)) == actions


def test_only_decisions_need_the_board(estate) -> None:
    before = _odder(estate)
    narrowed = _with_exception(before, "ODD-EX-002", justification="Vendor contract renewed")
    (change,) = compare_tenant(before, narrowed, estate.standards)
    assert change.actions == ("changed",) and change.approve == ()
    widened = _with_exception(before, "ODD-EX-001", hosts=["odd-core01", "odd-acce03"])
    (change,) = compare_tenant(before, widened, estate.standards)
    assert change.actions == ("widened",) and change.approve == ("tenant", "board")


def test_removed_exception_brings_the_standard_back(estate) -> None:
    before = _odder(estate)
    after = before.model_copy(update={"exceptions": before.exceptions[1:]})
    (change,) = compare_tenant(before, after, estate.standards)
    assert (change.kind, change.subject, change.actions) == ("exception", "ODD-EX-001",
                                                             ("removed",))
    assert "the standard value returns" in change.details[0]


def test_secret_values_are_masked_in_details(estate) -> None:
    before = _odder(estate)
    after = _with_exception(before, "ODD-EX-002", value=["another-secret"])
    (change,) = compare_tenant(before, after, estate.standards)
    assert "value changed" in change.actions
    assert "another-secret" not in " ".join(change.details)
    assert "fw-vendor-ro" not in " ".join(change.details)


def test_scope_and_contracts_are_binding(estate) -> None:
    before = _odder(estate)
    scope = before.scope.model_copy(update={"backup": before.scope.backup.model_copy(
        update={"mode": "local"})})
    contract = before.contracts[0].model_copy(update={"ends": date(2029, 6, 30)})
    after = before.model_copy(update={"scope": scope,
                                      "contracts": [contract, *before.contracts[1:]]})
    changes = {(c.kind, c.subject): c for c in compare_tenant(before, after, estate.standards)}
    assert changes[("field", "scope")].details == (("scope.backup: {mode=shared} → "
                                                   "{mode=local}"),)
    assert changes[("field", "scope")].approve == ("tenant", "operations")
    assert changes[("contract", "ODD-K-001")].details == ("ends: 2028-06-30 → 2029-06-30",)
    assert changes[("contract", "ODD-K-001")].approve == ("tenant", "operations")


def test_a_new_tenant_and_expiring_exceptions(estate) -> None:
    tenants = [t for t in estate.tenants if t.slug != "viborg"]
    result = compare(tenants, estate.standards, estate.tenants, estate.standards, None, estate)
    assert next((c.kind, c.subject, c.actions) for c in result.changes) == (
        "tenant", "viborg", ("added",))
    assert {c.subject for c in result.changes if c.kind == "exception"} == {
        e.id for e in estate.tenant("viborg").exceptions}
    # the sample keeps one of Viborg's exceptions close to its expiry
    assert [(e.id, e.status) for e in result.expiring] == [("VIB-EX-002", "expiring")]
    assert result.values == ()  # a new tenant's hosts get their whole baseline: the plan
