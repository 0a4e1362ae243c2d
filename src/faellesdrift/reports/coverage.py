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
- ``coverage.handover-overdue`` (medium): planned for a date that has passed;
- ``coverage.planned`` (high for endpoints and identities, else medium): only
  planned — the community does not cover it until the handover date, and the
  municipality carries the risk until then;
- ``coverage.outside-baseline`` (medium): servers on an OS the shared (Linux) baseline
  does not cover, and kit known only as inventory (``other_assets``);
- ``coverage.before-go-live`` (medium): shared, but the municipality's go-live
  (its onboarding target) has not come yet, so the municipality still runs it.

A service is shared only from the go-live date (``effective``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from faellesdrift.model import BASELINE_OS, AssetCount, ScopeEntry, Tenant
from faellesdrift.reports.i18n import N_, Formats

#: Attack-surface order: where attacks start first.
ORDER = ("endpoints", "identities", "network", "servers", "backup", "monitoring")

WHY = {
    "endpoints": N_("PCs, laptops and phones are where most attacks start"),
    "identities": N_("a stolen account opens every other door"),
    "network": N_("an unwatched network lets an intruder move between systems"),
    "servers": N_("unpatched servers hold the municipality's data"),
    "backup": N_("without tested backups ransomware wins"),
    "monitoring": N_("without monitoring an attack goes unnoticed"),
}

HIGH_CLASSES = ("endpoints", "identities")

#: The rules, worst first: within a service and severity, gaps are listed in this order.
RULES = ("coverage.uncovered", "coverage.no-security-control", "coverage.handover-overdue",
         "coverage.planned", "coverage.outside-baseline", "coverage.before-go-live")


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
    since: date | None = None  # the date the community takes it over, when one is set

    @property
    def why(self) -> str:
        return WHY[self.service]

    def to_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "tenant": self.tenant,
                "service": self.service, "mode": self.mode, "covered_by": self.covered_by,
                "message": self.message, "fix": self.fix, "exposure": self.exposure,
                "from": self.since.isoformat() if self.since else None}


@dataclass(frozen=True)
class ScopeToday:
    """Who runs a service class today: ``shared`` only once the municipality has gone live."""

    mode: Literal["shared", "local", "planned"]
    from_: date | None  # the handover date (planned) or go-live date (shared before go-live)
    declared: str  # the mode in the tenant file
    security_control: str | None

    @property
    def before_go_live(self) -> bool:
        return self.declared == "shared" and self.mode == "planned"


def effective(t: Tenant, service: str, today: date) -> ScopeToday:
    entry: ScopeEntry = getattr(t.scope, service)
    if entry.mode == "shared" and today < t.onboarding.target:
        return ScopeToday("planned", t.onboarding.target, "shared", entry.security_control)
    return ScopeToday(entry.mode, entry.from_, entry.mode, entry.security_control)


def _inventory(t: Tenant, service: str) -> AssetCount | None:
    return getattr(t, service) if service in ("endpoints", "identities") else None


def _exposure(t: Tenant, service: str, _: Callable[[str], str], fmt: Formats) -> str:
    inv = _inventory(t, service)
    if inv is not None:
        return f"{fmt.number(inv.count)} {_(service)}"
    if service == "servers":
        return _("{n} servers").format(n=len(t.servers))
    if service == "network":
        return _("{n} network devices").format(n=len(t.network_devices))
    if service == "backup":
        return _("{n} servers with backup").format(n=sum(s.backup != "none" for s in t.servers))
    return _("{n} hosts").format(n=len(t.servers) + len(t.network_devices))


def _untranslated(message: str) -> str:
    return message


def tenant_gaps(t: Tenant, today: date, gettext: Callable[[str], str] = _untranslated,
                fmt: Formats | None = None) -> list[Gap]:
    """The tenant's gaps; messages in the language of ``gettext`` and ``fmt`` (English)."""
    _ = gettext
    fmt = fmt or Formats("en")
    gaps: list[Gap] = []
    for service in ORDER:
        entry: ScopeEntry = getattr(t.scope, service)
        what = _(service)
        if entry.mode == "shared":
            live = t.onboarding.target
            if today < live:
                gaps.append(Gap("coverage.before-go-live", "medium", tenant=t.slug, name=t.name,
                                service=service, mode="planned", covered_by=None,
                                exposure=_exposure(t, service, _, fmt), since=live,
                                message=_("{service}: shared from the go-live on {date}; until "
                                          "then the municipality runs them").format(
                                    service=what, date=fmt.day(live)),
                                fix=_("keep the local operation and its security controls "
                                      "until the go-live")))
            continue
        inv = _inventory(t, service)
        control = entry.security_control or (inv.security_control if inv else None)
        who = inv.covered_by if inv is not None else None
        severity = "high" if service in HIGH_CLASSES else "medium"
        where = (_("kept local") if entry.mode == "local"
                 else _("planned for {date}, local until then").format(date=fmt.day(entry.from_)))
        common = {"tenant": t.slug, "name": t.name, "service": service, "mode": entry.mode,
                  "covered_by": who, "exposure": _exposure(t, service, _, fmt),
                  "since": entry.from_}
        by = (_("covered by {who}").format(who=who) if who
              else _("kept by the municipality"))
        if not control and not who and inv is not None:
            gaps.append(Gap("coverage.uncovered", "high", message=_(
                "{service}: {where}, nobody is named as covering them and no security control "
                "is recorded").format(service=what, where=where),
                fix=_("name who covers them (`{service}.covered_by`) and the security control "
                      "(`scope.{service}.security_control`)").format(service=service),
                **common))
        elif not control:
            gaps.append(Gap("coverage.no-security-control", severity, message=_(
                "{service}: {where} ({by}) with no security control recorded").format(
                    service=what, where=where, by=by),
                fix=_("record the local security control in `scope.{service}.security_control` "
                      "(e.g. MFA, EDR, tested restore)").format(service=service), **common))
        if entry.mode == "planned" and entry.from_ is not None and entry.from_ >= today:
            cover = by + (f", {control}" if control else "")
            gaps.append(Gap("coverage.planned", severity, message=_(
                "{service}: only planned to move to the community on {date} ({n} days from "
                "now); until then {cover}").format(service=what, date=fmt.day(entry.from_),
                                                   n=(entry.from_ - today).days, cover=cover),
                fix=_("keep the local cover until {date}, or bring the date forward").format(
                    date=fmt.day(entry.from_)), **common))
        if entry.mode == "planned" and entry.from_ is not None and entry.from_ < today:
            gaps.append(Gap("coverage.handover-overdue", "medium", message=_(
                "{service}: planned to move to the community on {date}, which has passed"
                ).format(service=what, date=fmt.day(entry.from_)),
                fix=_("hand over and set `scope.{service}: shared`, or set a new date").format(
                    service=service), **common))
    return gaps + _outside_baseline(t, _)


def _outside_baseline(t: Tenant, _: Callable[[str], str]) -> list[Gap]:
    """Servers on an OS the shared (Linux) baseline does not cover, and kit known only as
    inventory (``other_assets``): run or kept, but not hardened or verified by the community."""
    out = []
    windows = [s.name for s in t.servers if s.os not in BASELINE_OS]
    if windows:
        out.append(Gap("coverage.outside-baseline", "medium", tenant=t.slug, name=t.name,
                       service="servers", mode=t.scope.servers.mode, covered_by=None,
                       exposure=_("{n} servers").format(n=len(windows)),
                       message=_("servers on an OS the shared baseline does not cover: {hosts}"
                                 ).format(hosts=", ".join(windows)),
                       fix=_("record who patches and hardens them, or plan their move to a "
                             "covered OS")))
    for a in t.other_assets:
        service = "network" if a.kind == "network_device" else "servers"
        out.append(Gap("coverage.outside-baseline", "medium", tenant=t.slug, name=t.name,
                       service=service, mode=getattr(t.scope, service).mode, covered_by=None,
                       exposure=a.platform,
                       message=_("{asset} is known but not under the shared baseline: {reason}"
                                 ).format(asset=a.name, reason=a.reason),
                       fix=_("keep its contract and security controls on record, or bring it "
                             "under the baseline")))
    return out


def gaps(tenants: tuple[Tenant, ...] | list[Tenant], today: date,
         gettext: Callable[[str], str] = _untranslated, fmt: Formats | None = None) -> list[Gap]:
    """Every gap, endpoints first, then by severity, rule and municipality."""
    out = [g for t in tenants for g in tenant_gaps(t, today, gettext, fmt)]
    rank = {s: i for i, s in enumerate(ORDER)}
    return sorted(out, key=lambda g: (rank[g.service], g.severity != "high",
                                      RULES.index(g.rule), g.name))


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


def matrix(tenants: tuple[Tenant, ...] | list[Tenant], found: list[Gap],
           today: date) -> list[ServiceRow]:
    """Who runs each service class today (shared only from a municipality's go-live)."""
    rows = []
    for service in ORDER:
        by_mode: dict[str, list[str]] = {"shared": [], "local": [], "planned": []}
        for t in tenants:
            by_mode[effective(t, service, today).mode].append(t.slug)
        rows.append(ServiceRow(service, tuple(by_mode["shared"]), tuple(by_mode["local"]),
                               tuple(by_mode["planned"]),
                               sum(g.service == service for g in found)))
    return rows
