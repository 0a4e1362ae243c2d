"""Coverage gaps (risk 5): service classes nobody covers, or kept local with no security
control recorded. Endpoints first — attacks usually start there.

For each tenant and service class that the community does not run (``local``,
or ``planned`` and not handed over yet), who covers it and with which security
control comes from the scope entry and, for endpoints and identities, from the
inventory counts (``covered_by``, ``security_control``). Rules, as data:

- ``coverage.uncovered`` (high): nobody is named as covering it and no
  security control is recorded;
- ``coverage.no-security-control`` (high for endpoints and identities, else
  medium): someone covers it, but no security control is recorded;
- ``coverage.handover-overdue`` (medium): planned for a date that has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from faellesdrift.model import Inventory, ScopeEntry, Tenant

#: Attack-surface order: where attacks start first.
ORDER = ("endpoints", "identities", "network", "servers", "backup", "monitoring")

WHY = {
    "endpoints": "PCs, laptops and phones are where most attacks start",
    "identities": "a stolen account opens every other door",
    "network": "an unwatched network lets an intruder move between systems",
    "servers": "unpatched servers hold the municipality's data",
    "backup": "without tested backups ransomware wins",
    "monitoring": "without monitoring an attack goes unnoticed",
}

HIGH_CLASSES = ("endpoints", "identities")


@dataclass(frozen=True)
class Gap:
    rule: str
    severity: str  # "high" | "medium"
    tenant: str
    name: str  # the municipality's name
    service: str
    mode: str
    covered_by: str | None
    message: str
    fix: str
    exposure: str  # "7,142 identities", "18 servers"

    @property
    def why(self) -> str:
        return WHY[self.service]

    def to_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "tenant": self.tenant,
                "service": self.service, "mode": self.mode, "covered_by": self.covered_by,
                "message": self.message, "fix": self.fix, "exposure": self.exposure}


def _inventory(t: Tenant, service: str) -> Inventory | None:
    return getattr(t, service) if service in ("endpoints", "identities") else None


def _exposure(t: Tenant, service: str) -> str:
    inv = _inventory(t, service)
    if inv is not None:
        return f"{inv.count:,} {service}"
    if service == "servers":
        return f"{len(t.servers)} servers"
    if service == "network":
        return f"{len(t.network_devices)} network devices"
    if service == "backup":
        return f"{sum(s.backup != 'none' for s in t.servers)} servers with backup"
    return f"{len(t.servers) + len(t.network_devices)} hosts"


def tenant_gaps(t: Tenant, today: date) -> list[Gap]:
    gaps: list[Gap] = []
    for service in ORDER:
        entry: ScopeEntry = getattr(t.scope, service)
        if entry.mode == "shared":
            continue
        inv = _inventory(t, service)
        control = entry.security_control or (inv.security_control if inv else None)
        who = inv.covered_by if inv is not None else None
        severity = "high" if service in HIGH_CLASSES else "medium"
        where = ("kept local" if entry.mode == "local"
                 else f"planned for {entry.from_}, local until then")
        common = {"tenant": t.slug, "name": t.name, "service": service, "mode": entry.mode,
                  "covered_by": who, "exposure": _exposure(t, service)}
        if not control and not who and inv is not None:
            gaps.append(Gap("coverage.uncovered", "high", message=(
                f"{service} are {where}, nobody is named as covering them and no security "
                "control is recorded"),
                fix=f"name who covers them (`{service}.covered_by`) and the security control "
                    f"(`scope.{service}.security_control`)", **common))
        elif not control:
            by = f"covered by {who}" if who else "kept by the municipality"
            gaps.append(Gap("coverage.no-security-control", severity, message=(
                f"{service} are {where} ({by}) with no security control recorded"),
                fix=f"record the local security control in `scope.{service}.security_control` "
                    "(e.g. MFA, EDR, tested restore)", **common))
        if entry.mode == "planned" and entry.from_ is not None and entry.from_ < today:
            gaps.append(Gap("coverage.handover-overdue", "medium", message=(
                f"{service} were planned to move to the community on {entry.from_}, "
                "which has passed"),
                fix=f"hand over and set `scope.{service}: shared`, or set a new date",
                **common))
    return gaps


def gaps(tenants: tuple[Tenant, ...] | list[Tenant], today: date) -> list[Gap]:
    """Every gap, endpoints first, then by severity and municipality."""
    out = [g for t in tenants for g in tenant_gaps(t, today)]
    rank = {s: i for i, s in enumerate(ORDER)}
    return sorted(out, key=lambda g: (rank[g.service], g.severity != "high", g.name))


@dataclass(frozen=True)
class ServiceRow:
    """One service class across the community: who runs it where."""

    service: str
    shared: tuple[str, ...]
    local: tuple[str, ...]
    planned: tuple[str, ...]
    gaps: int

    @property
    def nobody(self) -> bool:
        """No tenant has handed it to the community."""
        return not self.shared


def matrix(tenants: tuple[Tenant, ...] | list[Tenant], found: list[Gap]) -> list[ServiceRow]:
    rows = []
    for service in ORDER:
        by_mode: dict[str, list[str]] = {"shared": [], "local": [], "planned": []}
        for t in tenants:
            by_mode[getattr(t.scope, service).mode].append(t.slug)
        rows.append(ServiceRow(service, tuple(by_mode["shared"]), tuple(by_mode["local"]),
                               tuple(by_mode["planned"]),
                               sum(g.service == service for g in found)))
    return rows
