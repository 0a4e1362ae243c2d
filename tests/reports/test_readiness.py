"""Readiness per tenant and onboarding waves, from the sample and fixture results."""

from __future__ import annotations

from datetime import date

import pytest

from faellesdrift import results
from faellesdrift.reports.inputs import gather
from faellesdrift.reports.readiness import (
    CRITERIA,
    DEADLINE,
    baseline_servers,
    days_left,
    readiness,
    waves,
)
from tests.conftest import TODAY


def _by_slug(settings, **kw):
    kw.setdefault("today", TODAY)
    return {r.slug: r for r in readiness(gather(settings, **kw))}


def _check(r, cid):
    return next(c for c in r.checks if c.id == cid)


def _edit(root, slug, old, new):
    path = root / "tenants" / f"{slug}.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_weights_sum_to_100_and_ids_are_unique():
    assert sum(c.weight for c in CRITERIA) == 100
    assert len({c.id for c in CRITERIA}) == len(CRITERIA)


def test_sample_without_results_scores_definition_and_exceptions(settings):
    items = _by_slug(settings)
    assert len(items) == 9
    # valid file (20) + exceptions: all active (10), one expiring (5), one expired (0, and
    # the file is in error); contracts (10) only where every contract ends before the
    # go-live (Aarhus, Horsens): elsewhere a lease or a firewall contract runs past it
    want = {slug: 30 for slug in items} | {"aarhus": 40, "horsens": 40, "viborg": 25,
                                          "samsoe": 0}
    assert {slug: r.score for slug, r in items.items()} == want
    for r in items.values():
        assert not r.ready
        net = _check(r, "network")
        assert not net.outcome.known
        want = ("No network compliance run yet — run "
                f"`faellesdrift network compliance --tenant {r.slug}`")
        assert net.outcome.missing == (want,)
        assert _check(r, "contracts").outcome.fraction == (
            1.0 if r.slug in ("aarhus", "horsens") else 0.0)
    assert "2 of 2 local contract(s) end after the go-live" in _check(
        items["odder"], "contracts").outcome.detail


def test_fixture_results_give_compliance_percentages(with_results):
    items = _by_slug(with_results)
    odd = items["odder"]
    # one access switch drifts, one print server fails
    devices = len(odd.tenant.network_devices)
    assert odd.network is not None and len(odd.network.expected) == devices
    assert odd.network_pct == pytest.approx(100 * (devices - 1) / devices)
    linux = baseline_servers(odd.tenant)  # Windows servers are inventory, never verified
    assert len(linux) < len(odd.tenant.servers) and odd.servers.expected == tuple(linux)
    assert odd.server_pct == pytest.approx(100 * (len(linux) - 1) / len(linux))
    assert _check(odd, "verification").met  # every server reached and checked
    assert any("odd-acce03: not compliant with net.aaa.tacacs" in m for m in odd.missing)


def test_unreached_and_left_out_hosts_count_against_the_tenant(with_results):
    aar = _by_slug(with_results)["aarhus"]
    assert "aar-wan05" in aar.network.unreached
    assert any("aar-wan05: not reached — TCP connection" in m
               for m in _check(aar, "network").outcome.missing)
    ver = _check(aar, "verification")
    assert not ver.met
    assert any("aar-moni40: not in the latest verification" in m for m in ver.outcome.missing)


def test_a_clean_tenant_with_full_results_is_ready(settings):
    root = settings.root
    # no contracts, no exceptions, nothing local without control
    path = root / "tenants" / "samsoe.yaml"
    text = path.read_text()
    text = text[: text.index("exceptions:")] + "onboarding: {wave: 1, target: 2026-12-20}\n"
    path.write_text(text)
    from tests.reports.conftest import write_fixture_results
    payloads = write_fixture_results(settings)
    for kind, key in (("network.compliance", "network"), ("servers.verify", "servers")):
        entry = payloads[key]["samsoe"]
        for h in entry["hosts"]:
            h.update(status="ok", compliant=True)
            for c in h["controls"]:
                c["compliant"] = True
        results.save(settings, kind, {"tenants": {"samsoe": entry}})
    r = _by_slug(settings)["samsoe"]
    assert r.score == 100, r.to_dict()
    assert r.ready and r.status == "ready" and r.missing == []


def test_an_invalid_tenant_file_loses_the_definition_points_and_says_why(settings):
    _edit(settings.root, "odder", "expires: 2028-06-30", "expires: 2026-01-01")
    items = _by_slug(settings)
    d = _check(items["odder"], "definition")
    assert d.outcome.fraction == 0
    assert any("exception.expired" in m for m in d.outcome.missing)
    e = _check(items["odder"], "exceptions")
    assert e.outcome.fraction == 0 and "ODD-EX-001" in e.outcome.missing[0]
    assert _check(items["aarhus"], "definition").met  # other tenants unaffected


def test_waves_group_by_wave_and_flag_late_and_due_soon(settings):
    _edit(settings.root, "randers", "target: 2026-12-08", "target: 2026-11-20")
    items = _by_slug(settings)
    assert items["aarhus"].status == "late"  # live since 1 November, not ready
    assert items["horsens"].status == "late"  # 2027-02-15 is after the deadline
    assert items["randers"].status == "late" and "passed 7 days ago" in items[
        "randers"].status_reason
    assert items["silkeborg"].status == "late"  # 2027-02-01 is after the deadline
    assert "after the deadline 1 January 2027 (31 days late)" in items["silkeborg"].status_reason
    ws = waves(list(items.values()))
    assert [w.number for w in ws] == [1, 2, 3]
    assert [r.slug for r in ws[0].tenants] == ["aarhus", "randers"]  # by target date
    assert ws[0].first_target == date(2026, 11, 1) and len(ws[2].late) == 4


def test_an_on_track_tenant(settings):
    _edit(settings.root, "aarhus", "target: 2026-11-01", "target: 2026-12-31")
    r = _by_slug(settings, today=date(2026, 10, 1))["aarhus"]
    assert r.status == "on track" and r.days_to_target == 91


def test_days_left_to_the_deadline():
    assert DEADLINE == date(2027, 1, 1)
    assert days_left(TODAY) == 35
    assert days_left(date(2027, 1, 2)) == -1


def test_scoping_to_a_shard(settings):
    items = _by_slug(settings, tenants=["odder", "samsoe"])
    assert set(items) == {"odder", "samsoe"}
