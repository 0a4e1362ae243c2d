"""The onboarding report: before the company takes a municipality over, what is ready, what is
missing, and what needs a decision — an exception or a contract entry.

It reads what earlier commands left, never runs them: the tenant file and the guardrails
(validate), the latest ``tenant import`` and ``discover`` results, the network compliance
result, and the onboarding record (which steps of ``faellesdrift onboard`` are done). Each
item says what was found and what to do; an item whose source does not exist yet says which
command makes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Literal

from faellesdrift import clock, results
from faellesdrift.community import TENANTS_DIR
from faellesdrift.estate import ExceptionStatus, exception_status, validate
from faellesdrift.guardrails import EXPIRY_WARNING_DAYS
from faellesdrift.model import BASELINE_OS, Tenant
from faellesdrift.onboarding_record import load_record
from faellesdrift.settings import Settings

Section = Literal["ready", "missing", "decide"]
SECTIONS: dict[Section, str] = {
    "ready": "Ready",
    "missing": "Missing before takeover",
    "decide": "Needs an exception or a contract entry",
}
IMPORT_KIND, DISCOVER_KIND, COMPLIANCE_KIND = "tenant.import", "tenant.discover", \
    "network.compliance"
LISTED = 8  # names listed per item; the rest are counted


@dataclass(frozen=True)
class Item:
    section: Section
    topic: str  # servers, network, discovery, import, exceptions, contracts, scope, steps …
    what: str  # what was found
    fix: str = ""  # what to do (empty for ready items)


@dataclass
class TakeoverReport:
    tenant: str
    today: date
    target: date | None = None  # the onboarding target date of the tenant file
    items: list[Item] = field(default_factory=list)

    def section(self, name: Section) -> list[Item]:
        return [i for i in self.items if i.section == name]

    @property
    def ready(self) -> bool:
        """Nothing missing and nothing left to decide."""
        return not self.section("missing") and not self.section("decide")

    def to_dict(self) -> dict:
        return {"tenant": self.tenant, "today": self.today.isoformat(),
                "target": self.target.isoformat() if self.target else None,
                "ready_for_takeover": self.ready,
                **{s: [asdict(i) for i in self.section(s)] for s in SECTIONS}}


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return shown + (f" and {len(names) - LISTED} more" if len(names) > LISTED else "")


def build(settings: Settings, tenant: str, today: date | None = None) -> TakeoverReport:
    today = today or clock.today()
    report = TakeoverReport(tenant, today)
    add = report.items.append
    check = validate(settings.root, today)
    file = f"{TENANTS_DIR}/{tenant}."
    mine = [f for f in check.findings if f.file.startswith(file)]
    errors = [f for f in mine if f.severity == "error" and f.rule != "exception.expired"]
    t = next((x for x in check.estate.tenants if x.slug == tenant), None) \
        if check.estate else None
    if errors or t is None:
        for f in errors[:LISTED] or [*check.findings][:1]:
            add(Item("missing", "tenant file", f.one_line(), "fix it; `faellesdrift validate` "
                     "lists every finding"))
        if t is None:
            return report
    else:
        add(Item("ready", "tenant file", f"{file}yaml validates against the schema and the "
                 "guardrails"))
    report.target = t.onboarding.target
    _assets(report, t)
    _exceptions_and_contracts(report, t, today)
    _scope(report, t)
    _import(report, settings, tenant)
    _discovery(report, settings, tenant)
    _compliance(report, settings, tenant)
    _steps(report, settings, tenant)
    return report


def _covered(t: Tenant) -> dict[str, str]:
    """Host → the contract or exception that says who runs it outside the baseline."""
    out = {h: f"contract {c.id}" for c in t.contracts for h in c.covers}
    for x in t.exceptions:
        if x.delivery == "not_delivered":
            out.update({h: f"exception {x.id}" for h in x.hosts})
    return out


def _assets(report: TakeoverReport, t: Tenant) -> None:
    add = report.items.append
    under = [s.name for s in t.servers if s.os in BASELINE_OS]
    if under:
        add(Item("ready", "servers", f"{len(under)} server(s) under the shared Linux baseline "
                 f"({', '.join(BASELINE_OS)})"))
    if t.network_devices:
        add(Item("ready", "network", f"{len(t.network_devices)} network device(s) on platforms "
                 "the network baseline covers"))
    covered = _covered(t)
    outside = [(s.name, f"{s.os}: not covered by the Linux baseline") for s in t.servers
               if s.os not in BASELINE_OS]
    outside += [(a.name, a.reason) for a in t.other_assets]
    settled = [f"{n} ({covered[n]})" for n, _ in outside if n in covered]
    if settled:
        add(Item("ready", "inventory", f"{len(settled)} asset(s) outside the baseline with "
                 f"who runs them recorded: {_names(settled)}"))
    for name, reason in outside:
        if name not in covered:
            add(Item("decide", "inventory", f"{name}: {reason}; nobody is recorded as running "
                     "it", f"add a contract that covers {name} (supplier, ends, yearly_dkk) or "
                     "an exception with delivery: not_delivered"))


def _exceptions_and_contracts(report: TakeoverReport, t: Tenant, today: date) -> None:
    add = report.items.append
    active = []
    for x in t.exceptions:
        status = exception_status(x, today)
        target_after = report.target is not None and x.expires is not None \
            and x.expires < report.target
        if status is ExceptionStatus.EXPIRED:
            add(Item("missing", "exceptions", f"{x.id} ({x.control} on {', '.join(x.hosts)}) "
                     f"expired {x.expires}: the standard value applies again",
                     "renew it (new approval and expiry) or remove it"))
        elif status is ExceptionStatus.EXPIRING or target_after:
            when = f"before the takeover on {report.target}" if target_after else \
                f"within {EXPIRY_WARNING_DAYS} days"
            add(Item("decide", "exceptions", f"{x.id} ({x.control}) expires {x.expires}, "
                     f"{when}", "renew it or plan for the standard value"))
        else:
            active.append(f"{x.id} until {x.expires}")
    if active:
        add(Item("ready", "exceptions", f"{len(active)} exception(s) approved and in force: "
                 f"{_names(active)}"))
    for c in t.contracts:
        if report.target is not None and c.ends > report.target:
            add(Item("decide", "contracts", f"{c.id} ({c.supplier}) covers "
                     f"{', '.join(c.covers)} until {c.ends}, after the takeover on "
                     f"{report.target}",
                     "keep it to its end (an exception for what the supplier sets) or pay "
                     f"the early exit of {_dkk(c.early_exit_dkk)}"))
        else:
            add(Item("ready", "contracts", f"{c.id} ({c.supplier}) ends {c.ends}, before the "
                     "takeover"))


def _dkk(amount: int) -> str:
    return f"{amount:,} DKK".replace(",", ".")  # Danish thousands separator


def _scope(report: TakeoverReport, t: Tenant) -> None:
    for name, entry in t.scope.items():
        if entry.mode != "shared" and not entry.security_control:
            report.items.append(Item(
                "missing", "scope", f"{name} stay {entry.mode} with no security control "
                "recorded", f"add scope.{name}.security_control (who covers it until the "
                "company does)"))


def _load(settings: Settings, kind: str, tenant: str) -> tuple[dict | None, str]:
    try:
        return results.tenant_entry(results.load(settings, kind), tenant), ""
    except results.ResultsError as exc:
        return None, str(exc)


def _import(report: TakeoverReport, settings: Settings, tenant: str) -> None:
    entry, _ = _load(settings, IMPORT_KIND, tenant)
    if entry is None:
        return  # a file written by hand has no import to report on
    gaps = entry.get("gaps") or []
    skipped = [g["ref"] for g in gaps if g.get("action") == "skipped"]
    defaulted = [g["message"].split(":")[0] for g in gaps if g.get("action") == "defaulted"]
    source = entry.get("source", "the asset list")
    if skipped:
        report.items.append(Item("missing", "import", f"{len(skipped)} row(s) of {source} "
                                 f"were not imported: {_names(skipped)}", "fix them in the "
                                 "source and import again (the gap list says why each was "
                                 "skipped: faellesdrift tenant import … --dry-run)"))
    hosts = sorted(set(defaulted))
    if hosts:
        report.items.append(Item("missing", "import", f"{len(hosts)} host(s) have values the "
                                 f"import defaulted (sizes, role or site): {_names(hosts)}",
                                 "correct them in the tenant file"))
    if not skipped and not hosts:
        report.items.append(Item("ready", "import", f"every row of {source} imported "
                                 f"({entry.get('generated_at', '')[:10]})"))


def _discovery(report: TakeoverReport, settings: Settings, tenant: str) -> None:
    add = report.items.append
    entry, error = _load(settings, DISCOVER_KIND, tenant)
    if entry is None:
        add(Item("missing", "discovery", error or "the live gear has not been compared with "
                 "the tenant file", f"run `faellesdrift discover {tenant}`"))
        return
    hosts = entry.get("hosts") or []
    down = [f"{h['host']} ({h.get('reason', '')})" for h in hosts
            if h.get("status") in ("unreachable", "failed")]
    skipped = [h["host"] for h in hosts if h.get("status") == "skipped"]
    if down:
        add(Item("missing", "discovery", f"{len(down)} host(s) did not answer discovery: "
                 f"{_names(down)}", "check their address and credentials, then run "
                 f"`faellesdrift discover {tenant}` again"))
    for d in entry.get("differences") or []:
        add(Item("missing", "discovery", f"{d['host']}: {d['field']} is {d['in_file']!r} in "
                 f"the tenant file but {d['found']!r} on the host", "correct the file (or the "
                 "host) and discover again"))
    found = [h for h in hosts if h.get("status") == "found"]
    if found and not down:
        when = str(entry.get("generated_at", ""))[:10]
        add(Item("ready", "discovery", f"{len(found)} host(s) answered discovery on {when}"
                 + (f"; {len(skipped)} outside the Linux baseline not logged into"
                    if skipped else "")))


def _compliance(report: TakeoverReport, settings: Settings, tenant: str) -> None:
    entry, _ = _load(settings, COMPLIANCE_KIND, tenant)
    if entry is None:
        return  # the onboarding steps below say whether the check ran
    off = [h["host"] for h in entry.get("hosts") or [] if h.get("compliant") is False]
    if off:
        report.items.append(Item(
            "decide", "network", f"{len(off)} device(s) differ from the network baseline: "
            f"{_names(off)}", "`faellesdrift onboard --apply` remediates them; a local value "
            "the municipality must keep needs an exception first"))


def _steps(report: TakeoverReport, settings: Settings, tenant: str) -> None:
    record = load_record(settings, tenant) or {}
    add = report.items.append
    if record.get("error"):
        add(Item("missing", "onboarding", record["error"], f"run `faellesdrift onboard "
                 f"{tenant} --restart`"))
        return
    steps = record.get("steps") or {}
    if not steps:
        add(Item("missing", "onboarding", "no onboarding step has run", f"run `faellesdrift "
                 f"onboard {tenant}` (plan) and then with --apply"))
        return
    done = [s for s, r in steps.items() if r.get("status") == "done"]
    failed = [(s, r) for s, r in steps.items() if r.get("status") != "done"]
    planned = [p["id"] for p in record.get("plan") or [] if isinstance(p, dict)]
    not_run = [s for s in planned if s not in steps]
    if record.get("completed_at"):
        add(Item("ready", "onboarding", f"every onboarding step done "
                 f"({str(record['completed_at'])[:10]})"))
    elif done:
        add(Item("ready", "onboarding", f"{len(done)} onboarding step(s) done: "
                 f"{_names(done)}"))
    for step, r in failed:
        add(Item("missing", "onboarding", f"step {step} failed: {r.get('message', '')}",
                 f"fix it and run `faellesdrift onboard {tenant} --apply` (done steps are "
                 "skipped)"))
    if not_run and not record.get("completed_at"):
        add(Item("missing", "onboarding", f"{len(not_run)} step(s) not run yet: "
                 f"{_names(not_run)}", f"run `faellesdrift onboard {tenant} --apply`"))
