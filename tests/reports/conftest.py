"""Fixtures for the reports: a writable community, its settings, and fixture run results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faellesdrift import results
from faellesdrift.estate import load_estate
from faellesdrift.settings import Settings
from tests.conftest import TODAY


@pytest.fixture
def settings(community_copy: Path) -> Settings:
    return Settings(root=community_copy, state_dir=community_copy / ".state",
                    cache_dir=community_copy / ".cache")


def _controls(estate, host: str, layer: str, failing: set[str]) -> list[dict]:
    rows = []
    for c in estate.standards.controls:
        if c.layer != layer:
            continue
        eff = estate.effective(c.id, host)
        ok = c.id not in failing
        rows.append({"control": c.id, "compliant": ok, "source": eff.source,
                     "exception_status": eff.exception.status.value if eff.exception else None,
                     "missing": [] if ok else [f"baseline line for {c.id}"],
                     "extra": [], "note": ""})
    return rows


def write_fixture_results(settings: Settings) -> dict:
    """Results as the adapters save them, for every sample tenant.

    - network: every device compliant except ``*-acce03`` (net.aaa.tacacs drift) and
      ``aar-wan05`` unreachable;
    - servers: every server passes except ``*-prin05`` (srv.ssh.password_auth);
      Odder's servers were all verified; Aarhus' ``aar-moni40`` is left out of the run;
    - settlement under all four models; lab up; an apply and audit events.
    """
    estate = load_estate(settings.root, TODAY)
    net: dict[str, dict] = {}
    srv: dict[str, dict] = {}
    for t in estate.tenants:
        hosts = []
        for d in t.network_devices:
            if d.name == "aar-wan05":
                hosts.append({"host": d.name, "platform": d.platform, "status": "unreachable",
                              "reason": "TCP connection to 10.51.0.5:22 timed out",
                              "compliant": None, "controls": [], "exceptions": []})
                continue
            failing = {"net.aaa.tacacs"} if d.name.endswith("-acce03") else set()
            hosts.append({"host": d.name, "platform": d.platform, "status": "ok", "reason": "",
                          "compliant": not failing, "exceptions": [
                              k.record.id for k in estate.exceptions_for(d.name)],
                          "controls": _controls(estate, d.name, "network", failing)})
        net[t.slug] = {"ok": True, "hosts": hosts}
        rows = []
        for s in t.servers:
            if s.name == "aar-moni40":
                continue
            failing = {"srv.ssh.password_auth"} if s.name.endswith("-prin05") else set()
            rows.append({"host": s.name, "status": "failed" if failing else "ok",
                         "reason": "1 check failed" if failing else "",
                         "compliant": not failing,
                         "exceptions": [k.record.id for k in estate.exceptions_for(s.name)],
                         "controls": _controls(estate, s.name, "server", failing)})
        srv[t.slug] = {"ok": all(r["compliant"] for r in rows), "hosts": rows}
    results.save(settings, "network.compliance", {"tenants": net})
    results.save(settings, "servers.verify", {"tenants": srv})
    total_pop = sum(t.population for t in estate.tenants)
    pool = 48_000_000 / 12
    settlement = {
        "community": {"period": "2026-11", "currency": "DKK", "total_dkk": pool,
                      "model": "hybrid", "mode": "showback"},
        "tenants": {t.slug: {
            "period": "2026-11", "population": t.population,
            "usage": {"server.vcpu": sum(s.vcpu for s in t.servers)},
            "amounts": {
                "per_capita": round(pool * t.population / total_pop, 2),
                "consumption": f"{pool * len(t.servers) / 190:.2f}",  # decimal strings work too
                "hybrid": round(pool * (0.5 * t.population / total_pop
                                        + 0.5 * len(t.servers) / 190), 2),
                "equal_plus_population": round(pool * (0.3 / len(estate.tenants)
                                                       + 0.7 * t.population / total_pop), 2),
            }} for t in estate.tenants}}
    settlement["tenants"]["odder"]["by_pool"] = {"hybrid": {"servers": "1000.00",
                                                            "operations": 250.5}}
    results.save(settings, "settlement", settlement)
    results.save(settings, "lab.status", {"community": {"up": True}, "tenants": {
        t.slug: {"ok": True, "hosts": [{"host": s.name, "kind": "server", "status": "up",
                                        "address": str(s.address), "reason": ""}
                                       for s in t.servers]} for t in estate.tenants}})
    results.save(settings, "pulumi.outputs", {"community": {"stack": "midt-dev"}, "tenants": {
        "odder": {"ok": True, "stack": "midt-dev", "resources": 23,
                  "changes": {"create": 23, "update": 0, "delete": 0},
                  "outputs": {"vlan_ids": [100, 110, 200], "tenant_prefix": "10.27.0.0/16"}}}})
    log = settings.audit_log
    log.parent.mkdir(parents=True, exist_ok=True)
    events = [
        {"time": f"{TODAY.isoformat()}T09:15:00+00:00", "who": "ops-anna",
         "command": "servers apply", "tenant": "odder", "target": "odd-file01",
         "change": {"task": "sshd_config", "role": "ssh", "action": "template",
                    "path": "/etc/ssh/sshd_config", "controls": {"srv.ssh.password_auth":
                                                                  "standard"}},
         "result": "changed", "run": "r1"},
        {"time": f"{TODAY.isoformat()}T09:20:00+00:00", "who": "ops-anna",
         "command": "network remediate --apply", "tenant": "odder", "target": "odd-acce03",
         "change": {"pushed": ["tacacs server 10.250.0.49"], "diff": []}, "result": "changed",
         "reason": "", "approved_by": "Change board CAB-2026-311"},
        {"time": "2026-01-02T08:00:00+00:00", "who": "ops-old", "command": "servers apply",
         "tenant": "odder", "target": "odd-dc02", "change": None, "result": "changed"},
    ]
    with log.open("a", encoding="utf-8") as fh:
        for e in events:
            fh.write(json.dumps(e) + "\n")
    return {"network": net, "servers": srv, "settlement": settlement, "events": events}


@pytest.fixture
def with_results(settings: Settings) -> Settings:
    write_fixture_results(settings)
    return settings
