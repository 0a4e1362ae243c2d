"""Readiness per tenant (risk 7: does the 1 January 2027 deadline hold?) and onboarding waves.

The score is the sum of weighted criteria, each a fraction from 0 to 1 —
rules as data (``CRITERIA``), every one with a plain label, what was found and
what is missing:

=============  ======  ===========================================================
criterion      weight  met when
=============  ======  ===========================================================
definition     20      the tenant file has no validation errors
verification   20      the latest verification reached every server and checked it
network        20      share of network devices compliant in the latest run
servers        20      share of servers passing the latest verification
contracts      10      no local contract ends after the wave target
exceptions     10      no exception expired (0) or expiring within 30 days (half)
=============  ======  ===========================================================

A tenant is **ready** at 100. A result that does not exist yet scores 0 and
says which command produces it. Waves group tenants by onboarding wave; a
tenant is **late** when its target is after the deadline, or the target has
passed and it is not ready; **due soon** when the target is within 30 days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from faellesdrift.estate import ExceptionStatus, KeptException
from faellesdrift.findings import Finding
from faellesdrift.model import BASELINE_OS, Tenant
from faellesdrift.reports.compliance import LayerSummary, summarize
from faellesdrift.reports.contracts import Exposure, exposures
from faellesdrift.reports.i18n import N_, Formats
from faellesdrift.reports.inputs import Inputs

DEADLINE = date(2027, 1, 1)
DUE_SOON_DAYS = 30
MAX_LISTED = 5  # items listed per criterion; the rest are counted


def _untranslated(message: str) -> str:
    return message


@dataclass(frozen=True)
class Facts:
    """What the criteria look at for one tenant."""

    tenant: Tenant
    errors: tuple[Finding, ...]
    network: LayerSummary | None
    network_missing: str  # what to say (and run) when there is no network result
    servers: LayerSummary | None
    servers_missing: str
    exceptions: tuple[KeptException, ...]
    contracts: tuple[Exposure, ...]
    gettext: Callable[[str], str] = field(default=_untranslated)  # the report's language
    fmt: Formats = field(default_factory=lambda: Formats("en"))

    def _(self, message: str, **values: object) -> str:
        return self.gettext(message).format(**values)


@dataclass(frozen=True)
class CheckOutcome:
    fraction: float
    detail: str
    missing: tuple[str, ...] = ()
    known: bool = True  # False: the data does not exist yet


@dataclass(frozen=True)
class Criterion:
    id: str
    label: str
    weight: int
    check: Callable[[Facts], CheckOutcome]


@dataclass(frozen=True)
class Check:
    id: str
    label: str
    weight: int
    outcome: CheckOutcome

    @property
    def points(self) -> float:
        return self.weight * self.outcome.fraction

    @property
    def met(self) -> bool:
        return self.outcome.fraction >= 1.0


def _listed(f: Facts, items: list[str]) -> tuple[str, ...]:
    if len(items) <= MAX_LISTED:
        return tuple(items)
    return (*items[:MAX_LISTED], f._("… and {n} more", n=len(items) - MAX_LISTED))


def _definition(f: Facts) -> CheckOutcome:
    if not f.errors:
        return CheckOutcome(1.0, f._("the tenant file passes every schema check and guardrail"))
    return CheckOutcome(0.0, f._("{n} validation error(s) in the tenant file", n=len(f.errors)),
                   _listed(f, [e.one_line() for e in f.errors]))


def baseline_servers(t: Tenant) -> list[str]:
    """The servers the shared (Linux) baseline covers: only those can be verified."""
    return [s.name for s in t.servers if s.os in BASELINE_OS]


def _verification(f: Facts) -> CheckOutcome:
    s = f.servers
    if not baseline_servers(f.tenant):
        return CheckOutcome(1.0, f._("no servers under the shared baseline"))
    if s is None:
        return CheckOutcome(0.0, f._("not verified yet"), (f.servers_missing,), known=False)
    if s.complete:
        return CheckOutcome(1.0, f._("all {n} servers reached and checked", n=len(s.expected)))
    missing = [f._("{host}: not reached — {reason}", host=h,
                   reason=s.rows[h].get("reason") or s.rows[h].get("status"))
               for h in s.unreached]
    missing += [f._("{host}: not in the latest verification", host=h) for h in s.not_checked]
    return CheckOutcome(0.0, s.describe("server", f.gettext), _listed(f, missing))


def _layer(f: Facts, summary: LayerSummary | None, hosts: int, noun: str,
           missing_text: str) -> CheckOutcome:
    nouns = f._("devices") if noun == "device" else f._("servers")
    if not hosts:
        return CheckOutcome(1.0, f._("no {nouns} in the tenant file", nouns=nouns))
    if summary is None:
        return CheckOutcome(0.0, f._("no results yet"), (missing_text,), known=False)
    missing = []
    for h in summary.noncompliant:
        bad = [c.get("control") for c in summary.rows[h].get("controls") or []
               if isinstance(c, dict) and c.get("compliant") is False]
        missing.append(f._("{host}: not compliant with {controls}", host=h,
                           controls=", ".join(map(str, bad)) or f._("the baseline")))
    missing += [f._("{host}: not reached — {reason}", host=h,
                    reason=summary.rows[h].get("reason") or f._("no reason given"))
                for h in summary.unreached]
    if summary.not_checked:
        missing.append(f._("{n} {nouns} not checked: {hosts}", n=len(summary.not_checked),
                           nouns=nouns, hosts=", ".join(summary.not_checked[:8])
                           + (" …" if len(summary.not_checked) > 8 else "")))
    return CheckOutcome(summary.pct / 100.0, summary.describe(noun, f.gettext), _listed(f, missing))


def _network(f: Facts) -> CheckOutcome:
    return _layer(f, f.network, len(f.tenant.network_devices), "device", f.network_missing)


def _servers(f: Facts) -> CheckOutcome:
    return _layer(f, f.servers, len(baseline_servers(f.tenant)), "server", f.servers_missing)


def _advice(f: Facts, e: Exposure) -> str:
    c = e.contract
    return f._("{id} ({supplier}) runs to {ends}, after the go-live {target}: ending it early "
               "costs {exit} exit fee + {shared} shared charge = {early}; keeping {covers} "
               "local until then costs {term}", id=c.id, supplier=c.supplier,
               ends=f.fmt.day(c.ends), target=f.fmt.day(e.target),
               exit=f.fmt.money(e.early_exit_dkk), shared=f.fmt.money(e.shared_after_exit_dkk),
               early=f.fmt.money(e.ended_early_dkk), covers=", ".join(c.covers),
               term=f.fmt.money(e.kept_to_term_dkk))


def _contracts(f: Facts) -> CheckOutcome:
    blocking = [e for e in f.contracts if e.blocks_migration and not e.ended]
    if not blocking:
        n = len(f.contracts)
        return CheckOutcome(1.0, f._("{n} local contract(s), none ends after the go-live", n=n)
                       if n else f._("no local contracts"))
    return CheckOutcome(0.0, f._("{n} of {total} local contract(s) end after the go-live {target}",
                            n=len(blocking), total=len(f.contracts),
                            target=f.fmt.day(f.tenant.onboarding.target)),
                   _listed(f, [_advice(f, e) for e in blocking]))


def _exceptions(f: Facts) -> CheckOutcome:
    expired = [k for k in f.exceptions if k.status is ExceptionStatus.EXPIRED]
    expiring = [k for k in f.exceptions if k.status is ExceptionStatus.EXPIRING]
    active = len(f.exceptions) - len(expired) - len(expiring)
    missing = [f._("{id} ({control}) expired on {date}: renew it with a new approval, or remove "
                   "it and let the baseline apply", id=k.record.id, control=k.record.control,
                   date=f.fmt.day(k.record.expires)) for k in expired]
    missing += [f._("{id} ({control}) expires on {date}: renew it or plan the return to the "
                    "baseline", id=k.record.id, control=k.record.control,
                    date=f.fmt.day(k.record.expires)) for k in expiring]
    detail = (f._("{n} exception(s): {active} active, {expiring} expiring, {expired} expired",
                  n=len(f.exceptions), active=active, expiring=len(expiring),
                  expired=len(expired)) if f.exceptions else f._("no exceptions"))
    fraction = 0.0 if expired else 0.5 if expiring else 1.0
    return CheckOutcome(fraction, detail, _listed(f, missing))


CRITERIA: tuple[Criterion, ...] = (
    Criterion("definition", N_("Tenant file is valid"), 20, _definition),
    Criterion("verification", N_("Every server reached and verified"), 20, _verification),
    Criterion("network", N_("Network devices comply with the baseline"), 20, _network),
    Criterion("servers", N_("Servers pass verification"), 20, _servers),
    Criterion("contracts", N_("No local contract blocks the migration"), 10, _contracts),
    Criterion("exceptions", N_("No exception expired or expiring"), 10, _exceptions),
)


@dataclass(frozen=True)
class Readiness:
    tenant: Tenant
    checks: tuple[Check, ...]
    today: date
    network: LayerSummary | None
    servers: LayerSummary | None
    gettext: Callable[[str], str] = field(default=_untranslated)
    fmt: Formats = field(default_factory=lambda: Formats("en"))

    @property
    def slug(self) -> str:
        return self.tenant.slug

    @property
    def score(self) -> int:
        return int(sum(c.points for c in self.checks) + 0.5)

    @property
    def ready(self) -> bool:
        return all(c.met for c in self.checks)

    @property
    def missing(self) -> list[str]:
        return [m for c in self.checks if not c.met for m in c.outcome.missing]

    @property
    def wave(self) -> int:
        return self.tenant.onboarding.wave

    @property
    def target(self) -> date:
        return self.tenant.onboarding.target

    @property
    def days_to_target(self) -> int:
        return (self.target - self.today).days

    @property
    def status(self) -> str:
        """ready | late | due soon | on track."""
        if self.ready:
            return "ready"
        if self.target > DEADLINE or self.days_to_target < 0:
            return "late"
        if self.days_to_target <= DUE_SOON_DAYS:
            return "due soon"
        return "on track"

    @property
    def status_reason(self) -> str:
        _, day = self.gettext, self.fmt.day
        if self.ready:
            return _("every readiness criterion is met")
        if self.target > DEADLINE:
            return _("the go-live {target} is after the deadline {deadline} ({n} days late)"
                     ).format(target=day(self.target), deadline=day(DEADLINE),
                              n=(self.target - DEADLINE).days)
        if self.days_to_target < 0:
            return _("the go-live {target} passed {n} days ago").format(
                target=day(self.target), n=-self.days_to_target)
        if self.days_to_target <= DUE_SOON_DAYS:
            return _("the go-live is in {n} days and it is not ready").format(
                n=self.days_to_target)
        return _("the go-live is in {n} days").format(n=self.days_to_target)

    @property
    def network_pct(self) -> float | None:
        return self.network.pct if self.network else None

    @property
    def server_pct(self) -> float | None:
        return self.servers.pct if self.servers else None

    def to_dict(self) -> dict:
        return {"tenant": self.slug, "score": self.score, "ready": self.ready,
                "status": self.status, "wave": self.wave, "target": self.target.isoformat(),
                "days_to_target": self.days_to_target,
                "network_pct": self.network_pct, "server_pct": self.server_pct,
                "checks": [{"id": c.id, "label": c.label, "weight": c.weight,
                            "points": round(c.points, 1), "met": c.met,
                            "known": c.outcome.known, "detail": c.outcome.detail,
                            "missing": list(c.outcome.missing)} for c in self.checks]}


def facts(inputs: Inputs, tenant: Tenant, gettext: Callable[[str], str] = _untranslated,
          fmt: Formats | None = None) -> Facts:
    net_src, srv_src = inputs.source("network.compliance"), inputs.source("servers.verify")
    settlement = inputs.estate.standards.settlement
    return Facts(
        tenant=tenant,
        errors=tuple(inputs.errors(tenant.slug)),
        network=summarize(net_src.entry(tenant.slug), [d.name for d in tenant.network_devices]),
        network_missing=net_src.missing(tenant.slug, gettext),
        servers=summarize(srv_src.entry(tenant.slug), baseline_servers(tenant)),
        servers_missing=srv_src.missing(tenant.slug, gettext),
        exceptions=inputs.estate.exceptions(tenant.slug),
        contracts=tuple(exposures(tenant, inputs.today,
                                  settlement.rates if settlement else None)),
        gettext=gettext, fmt=fmt or Formats("en"),
    )


def assess(f: Facts, today: date) -> Readiness:
    checks = tuple(Check(c.id, c.label, c.weight, c.check(f)) for c in CRITERIA)
    return Readiness(f.tenant, checks, today, f.network, f.servers, f.gettext, f.fmt)


def readiness(inputs: Inputs, gettext: Callable[[str], str] = _untranslated,
              fmt: Formats | None = None) -> list[Readiness]:
    """Readiness of every tenant; every reason in the language of ``gettext`` and ``fmt``
    (English by default)."""
    return [assess(facts(inputs, t, gettext, fmt), inputs.today) for t in inputs.estate.tenants]


@dataclass(frozen=True)
class Wave:
    number: int
    tenants: tuple[Readiness, ...]  # by target date

    @property
    def first_target(self) -> date:
        return min(r.target for r in self.tenants)

    @property
    def last_target(self) -> date:
        return max(r.target for r in self.tenants)

    @property
    def late(self) -> tuple[Readiness, ...]:
        return tuple(r for r in self.tenants if r.status == "late")

    @property
    def ready(self) -> int:
        return sum(r.ready for r in self.tenants)


def waves(items: list[Readiness]) -> list[Wave]:
    by: dict[int, list[Readiness]] = {}
    for r in items:
        by.setdefault(r.wave, []).append(r)
    return [Wave(n, tuple(sorted(rs, key=lambda r: (r.target, r.tenant.name))))
            for n, rs in sorted(by.items())]


def days_left(today: date) -> int:
    """Days from today to the 1 January 2027 deadline (negative once it has passed)."""
    return (DEADLINE - today).days
