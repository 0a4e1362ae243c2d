"""Coverage gaps: endpoints first; local with no security control; nobody covering it."""

from __future__ import annotations

from datetime import date

from faellesdrift.estate import load_estate
from faellesdrift.reports.coverage import ORDER, effective, gaps, matrix, tenant_gaps
from tests.conftest import TODAY


def _edit(root, slug, old, new):
    path = root / "tenants" / f"{slug}.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_sample_gaps_include_what_is_only_planned_with_its_date(sample_root):
    estate = load_estate(sample_root, TODAY)
    found = gaps(estate.tenants, TODAY)
    by_rule: dict[tuple[str, str], list] = {}
    for g in found:
        by_rule.setdefault((g.service, g.rule), []).append(g)
    # the three local identities with no security control
    assert [(g.tenant, g.severity) for g in by_rule[("identities",
                                                     "coverage.no-security-control")]] == [
        ("samsoe", "high"), ("silkeborg", "high"), ("skanderborg", "high")]
    sil = by_rule[("identities", "coverage.no-security-control")][1]
    assert "covered by Local AD" in sil.message and sil.exposure == "7,142 identities"
    assert "scope.identities.security_control" in sil.fix
    # endpoints planned for 2030 are a high gap in every municipality, with the date
    planned = by_rule[("endpoints", "coverage.planned")]
    assert len(planned) == len(estate.tenants)
    assert {(g.severity, g.since) for g in planned} == {("high", date(2030, 1, 1))}
    assert "1 January 2030" in planned[0].message and "1131 days from now" in planned[0].message
    monitoring = by_rule[("monitoring", "coverage.planned")]
    assert {(g.severity, g.since) for g in monitoring} == {("medium", date(2031, 1, 1))}
    # endpoints first
    assert found[0].service == "endpoints"
    assert found[0].to_dict()["from"] == "2030-01-01"


def test_shared_services_are_a_gap_until_go_live(community_copy):
    t = load_estate(community_copy, TODAY).tenant("odder")  # go-live 2027-05-01
    before = [g for g in tenant_gaps(t, TODAY) if g.rule == "coverage.before-go-live"]
    assert sorted(g.service for g in before) == ["backup", "network", "servers"]
    assert {g.since for g in before} == {date(2027, 5, 1)}
    assert effective(t, "servers", TODAY).mode == "planned"
    assert effective(t, "servers", TODAY).before_go_live
    after = date(2027, 5, 1)
    assert not [g for g in tenant_gaps(t, after) if g.rule == "coverage.before-go-live"]
    assert effective(t, "servers", after).mode == "shared"


def test_endpoints_come_first_and_nobody_covering_them_is_high(community_copy):
    _edit(community_copy, "odder",
          "endpoints: {mode: planned, from: 2030-01-01, "
          "security_control: Local EDR until handover}",
          "endpoints: local")
    _edit(community_copy, "odder",
          "endpoints: {count: 2666, covered_by: Local IT, security_control: Local EDR}",
          "endpoints: {count: 2666}")
    found = gaps(load_estate(community_copy, TODAY).tenants, TODAY)
    first = found[0]
    assert (first.tenant, first.service, first.rule, first.severity) == (
        "odder", "endpoints", "coverage.uncovered", "high")
    assert "nobody is named" in first.message and first.exposure == "2,666 endpoints"


def test_local_servers_without_control_are_a_medium_gap(community_copy):
    _edit(community_copy, "odder", "  servers: shared", "  servers: local")
    t = load_estate(community_copy, TODAY).tenant("odder")
    [g] = [g for g in tenant_gaps(t, TODAY) if g.service == "servers"
           and g.rule != "coverage.outside-baseline"]
    assert g.severity == "medium" and g.rule == "coverage.no-security-control"
    assert "kept by the municipality" in g.message


def test_servers_and_kit_outside_the_baseline_are_gaps_with_the_reason(community_copy):
    odder = community_copy / "tenants" / "odder.yaml"
    odder.write_text(odder.read_text(encoding="utf-8") + (
        "other_assets:\n  - {name: odd-fgt90, kind: network_device, platform: FortiGate 100F,"
        " reason: Run by the local vendor under contract}\n"), encoding="utf-8")
    t = load_estate(community_copy, TODAY).tenant("odder")
    outside = [g for g in tenant_gaps(t, TODAY) if g.rule == "coverage.outside-baseline"]
    windows = sorted(s.name for s in t.servers if s.os.startswith("windows"))
    assert windows and [(g.service, g.severity) for g in outside] == [("servers", "medium"),
                                                                       ("network", "medium")]
    assert all(name in outside[0].message for name in windows)
    assert "odd-fgt90" in outside[1].message and "local vendor" in outside[1].message


def test_a_passed_handover_date_is_overdue(community_copy):
    t = load_estate(community_copy, TODAY).tenant("aarhus")
    assert not [g for g in tenant_gaps(t, TODAY) if g.rule == "coverage.handover-overdue"]
    late = [g for g in tenant_gaps(t, date(2030, 6, 1)) if g.rule == "coverage.handover-overdue"]
    assert [g.service for g in late] == ["endpoints"]


def test_matrix_counts_who_runs_what(sample_root):
    estate = load_estate(sample_root, TODAY)
    rows = {r.service: r for r in matrix(estate.tenants, gaps(estate.tenants, TODAY), TODAY)}
    assert [r for r in rows] == list(ORDER)
    # only Aarhus is live (since 2026-11-01): every other shared service is still planned
    assert rows["servers"].shared == ("aarhus",) and len(rows["servers"].planned) == 8
    assert rows["endpoints"].nobody and len(rows["endpoints"].planned) == 9
    assert rows["identities"].gaps == 3
    later = date(2027, 6, 1)  # after every sample go-live
    rows = {r.service: r for r in matrix(estate.tenants, gaps(estate.tenants, later), later)}
    assert len(rows["servers"].shared) == 9 and not rows["servers"].nobody
