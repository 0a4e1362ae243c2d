"""Coverage gaps: endpoints first; local with no security control; nobody covering it."""

from __future__ import annotations

from datetime import date

from faellesdrift.estate import load_estate
from faellesdrift.reports.coverage import ORDER, gaps, matrix, tenant_gaps
from tests.conftest import TODAY


def _edit(root, slug, old, new):
    path = root / "tenants" / f"{slug}.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_sample_gaps_are_the_three_local_identities_without_a_control(sample_root):
    estate = load_estate(sample_root, TODAY)
    found = gaps(estate.tenants, TODAY)
    assert [(g.tenant, g.service, g.rule, g.severity) for g in found] == [
        ("samsoe", "identities", "coverage.no-security-control", "high"),
        ("silkeborg", "identities", "coverage.no-security-control", "high"),
        ("skanderborg", "identities", "coverage.no-security-control", "high"),
    ]
    sil = found[1]
    assert "covered by Local AD" in sil.message and sil.exposure == "7,142 identities"
    assert "scope.identities.security_control" in sil.fix


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
    [g] = [g for g in tenant_gaps(t, TODAY) if g.service == "servers"]
    assert g.severity == "medium" and g.rule == "coverage.no-security-control"
    assert "kept by the municipality" in g.message


def test_a_passed_handover_date_is_overdue(community_copy):
    t = load_estate(community_copy, TODAY).tenant("aarhus")
    assert not [g for g in tenant_gaps(t, TODAY) if g.rule == "coverage.handover-overdue"]
    late = [g for g in tenant_gaps(t, date(2030, 6, 1)) if g.rule == "coverage.handover-overdue"]
    assert [g.service for g in late] == ["endpoints"]


def test_matrix_counts_who_runs_what(sample_root):
    estate = load_estate(sample_root, TODAY)
    rows = {r.service: r for r in matrix(estate.tenants, gaps(estate.tenants, TODAY))}
    assert [r for r in rows] == list(ORDER)
    assert len(rows["servers"].shared) == 9 and not rows["servers"].nobody
    assert rows["endpoints"].nobody and len(rows["endpoints"].planned) == 9
    assert rows["identities"].gaps == 3
