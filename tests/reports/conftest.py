"""Fixtures for the reports: a writable community, its settings, and fixture run results."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
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
    - settlement under all four models; lab up; an apply and audit events;
    - patch state (``servers facts``) of Odder and Aarhus, two runs a week apart.
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
    write_fixture_facts(settings, estate)
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


def _facts_row(name: str, security: bool = False, reboot: bool = False) -> dict:
    """A ``servers facts`` host row of the shape a lab run saves (Debian 12 in the lab)."""
    pending = [{"package": "sudo", "current": "1.9.13p3-1+deb12u4",
                "candidate": "1.9.13p3-1+deb12u4+fdlab1", "security": True,
                "origins": ["Debian-Security:12/bookworm-security"]}] if security else []
    return {"host": name, "status": "ok", "reason": "", "compliant": not (security or reboot),
            "exceptions": [], "controls": [], "os": "Debian 12.15 (bookworm)",
            "declared_os": "debian12", "os_key": "debian12", "distribution": "Debian",
            "version": "12.15", "codename": "bookworm", "security_ends": "2028-06-30",
            "eol_status": "security only", "eol_days_left": 581,
            "kernel": "6.1.0-27-amd64",
            "kernel_version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)",
            "kernel_date": "2024-11-01", "kernel_age_days": 756, "uptime_days": 12.5,
            "lists_updated": "2026-11-27T06:25:00+00:00", "reboot_required": reboot,
            "reboot_packages": ["libc6"] if reboot else [], "updates": len(pending),
            "security_updates": len(pending), "pending": pending}


def write_fixture_facts(settings: Settings, estate) -> None:
    """Two ``servers facts`` runs of Odder's and Aarhus' Linux servers, a week apart (for the
    trend): the later one finds a security update pending on ``odd-file01`` and
    ``aar-file01`` and a restart due on ``odd-dc02``; the earlier one found two restarts."""
    def run(day: str, odder: dict[str, tuple[bool, bool]]) -> dict:
        tenants = {}
        for t in estate.tenants:
            if t.slug not in ("odder", "aarhus"):
                continue
            rows = [_facts_row(s.name, *odder.get(s.name, (False, False)))
                    for s in t.servers if s.os.startswith("debian")][:4]
            tenants[t.slug] = {"ok": True, "run_id": f"{day}-facts", "hosts": rows}
        return tenants

    earlier = (TODAY - timedelta(days=7)).isoformat()
    with _today(earlier):
        results.save(settings, "servers.facts", {"tenants": run(
            earlier, {"odd-dc02": (False, True), "odd-file01": (False, True)})})
    results.save(settings, "servers.facts", {"tenants": run(TODAY.isoformat(), {
        "odd-file01": (True, False), "odd-dc02": (False, True), "aar-file01": (True, False)})})


@contextmanager
def _today(day: str) -> Iterator[None]:
    """Save as of another day (the results store stamps with the one clock)."""
    old = os.environ.get("FAELLESDRIFT_TODAY")
    os.environ["FAELLESDRIFT_TODAY"] = day
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("FAELLESDRIFT_TODAY", None)
        else:
            os.environ["FAELLESDRIFT_TODAY"] = old


@pytest.fixture
def with_results(settings: Settings) -> Settings:
    write_fixture_results(settings)
    return settings
