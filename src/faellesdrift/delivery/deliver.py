"""`faellesdrift deliver --base REF`: apply a merged change for the tenants it touches only.

The change is found as ``review`` finds it (base → the committed HEAD). Then, in
order, each step runs the adapter's own command limited to what changed:
platform apply for the affected tenants, network remediation and server baseline
for the changed devices and servers, verification (testinfra, network compliance,
each with a JUnit report), the transparency report, and one audit event per
tenant with the commit id. A failed step stops the apply steps; verification
still runs so the outcome is known. Without ``apply`` it only says what it would do.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from faellesdrift import audit, clock
from faellesdrift.delivery.changes import ChangeSet, compare
from faellesdrift.delivery.errors import DeliveryError
from faellesdrift.delivery.gitrepo import Repo
from faellesdrift.delivery.plans import CommandRun, run_json
from faellesdrift.delivery.review import load_side
from faellesdrift.estate import blocking
from faellesdrift.settings import Settings

Say = Callable[[str], None]
Phase = Literal["apply", "verify", "report"]
STEPS = ("platform", "network", "servers", "verify", "compliance", "report")


@dataclass
class StepOutcome:
    id: str
    phase: Phase
    title: str
    command: str
    status: Literal["done", "failed", "skipped", "planned"]
    message: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "phase": self.phase, "title": self.title,
                "command": self.command, "status": self.status, "message": self.message,
                "seconds": round(self.seconds, 1)}


@dataclass
class Delivery:
    base: str
    commit: str
    changes: ChangeSet
    applied: bool
    steps: list[StepOutcome] = field(default_factory=list)
    junit: list[str] = field(default_factory=list)
    report: str | None = None
    audit_log: str | None = None

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "applied": self.applied, "base": self.base,
                "commit": self.commit, "tenants": list(self.changes.tenants),
                "changes": [c.to_dict() for c in self.changes.changes],
                "steps": [s.to_dict() for s in self.steps], "junit": self.junit,
                "report": self.report, "audit_log": self.audit_log}


def _repeat(option: str, values: Iterable[str]) -> list[str]:
    return [x for v in values for x in (option, v)]


def platform_apply(settings: Settings, cli: list[str], tenants: list[str]) -> CommandRun:
    """The platform adapter's apply for these tenants only (switchable like the plan)."""
    return run_json(settings, cli, ["apply", *_repeat("--tenant", tenants), "--yes"])


@dataclass(frozen=True)
class Plan:
    """What a delivery does, step by step (argv None: built in or nothing to do)."""

    id: str
    phase: Phase
    title: str
    argv: tuple[str, ...] | None
    why_not: str = ""


def plan_steps(changes: ChangeSet, tenants_now: set[str], servers_now: set[str],
               devices_now: set[str], junit_dir: Path | None) -> list[Plan]:
    tenants = [t for t in changes.tenants if t in tenants_now]  # a removed tenant: destroy
    devices = [d for d in changes.hosts("network_device") if d in devices_now]
    servers = [s for s in changes.hosts("server") if s in servers_now]
    jn = (lambda name: ["--junit", str(junit_dir / name)]) if junit_dir else (lambda _: [])
    nothing = "nothing of this kind changed"
    return [
        Plan("platform", "apply", "Platform (Pulumi) for the affected tenants",
             ("apply", *_repeat("--tenant", tenants), "--yes") if tenants else None,
             "no tenant is affected"),
        Plan("network", "apply", "Network remediation of the changed devices",
             ("network", "remediate", *_repeat("--host", devices), "--apply")
             if devices else None, nothing),
        Plan("servers", "apply", "Server baseline on the changed servers",
             ("servers", "apply", *_repeat("--host", servers), "--yes", "--skip-plan")
             if servers else None, nothing),
        Plan("verify", "verify", "Verify the changed servers (testinfra)",
             ("verify", *_repeat("--host", servers), *jn("verify.xml"))
             if servers else None, nothing),
        Plan("compliance", "verify", "Network compliance of the changed devices",
             ("network", "compliance", *_repeat("--host", devices), *jn("network.xml"))
             if devices else None, nothing),
        Plan("report", "report", "Refresh the transparency report", None),
    ]


def _shown(p: Plan) -> str:
    if p.id == "report":
        return "(built in: the transparency report)"
    return "faellesdrift " + " ".join(p.argv) if p.argv else "-"


def deliver(settings: Settings, base_ref: str, *, apply: bool = False,
            junit_dir: Path | None = None, cli: list[str] | None = None,
            say: Say = lambda _: None) -> Delivery:
    repo = Repo.of(settings.root)
    if apply and repo.dirty():
        raise DeliveryError("the community files have uncommitted changes; deliver applies "
                            "a commit — commit them (or check out the merged commit) first")
    base = repo.merge_base(repo.commit(base_ref))
    commit = repo.head()
    files = repo.changed(base, commit)
    with tempfile.TemporaryDirectory(prefix="faellesdrift-base-") as tmp:
        before = load_side(repo.extract(base, Path(tmp)))
        after = load_side(settings.root)
    if after.community is None or after.estate is None:
        first = blocking(after.validation.findings)[:1]
        raise DeliveryError("the community at HEAD does not validate, nothing delivered"
                            + (f": {first[0].one_line()}" if first else ""))
    changes = compare(before.tenants, before.community.standards if before.community else None,
                      after.tenants, after.community.standards, before.estate, after.estate,
                      files)
    estate = after.estate
    out = Delivery(base, commit, changes, apply)
    steps = plan_steps(changes, set(estate.slugs), {h.name for h in estate.hosts("server")},
                       {h.name for h in estate.hosts("network_device")}, junit_dir)
    if not changes.tenants:
        say("nothing to deliver: no tenant is affected by this change")
        return out
    say(f"deliver {commit[:12]} (since {base[:12]}) for {', '.join(changes.tenants)}")
    for slug in sorted(set(changes.tenants) - set(estate.slugs)):
        say(f"{slug} was removed: its platform stack stays until `faellesdrift pulumi destroy "
            f"--tenant {slug} --yes` is run on purpose")
    if not apply:
        out.steps = [StepOutcome(p.id, p.phase, p.title, _shown(p),
                                 "planned" if p.argv or p.id == "report" else "skipped",
                                 "" if p.argv or p.id == "report" else p.why_not)
                     for p in steps]
        return out
    prefix = cli or _cli()
    broken = False
    for p in steps:
        started = clock.now()
        if p.id == "report":
            outcome = _report(settings, out)
        elif p.argv is None:
            outcome = StepOutcome(p.id, p.phase, p.title, "-", "skipped", p.why_not)
        elif broken and p.phase == "apply":
            outcome = StepOutcome(p.id, p.phase, p.title, _shown(p), "skipped",
                                  "an earlier apply step failed")
        else:
            say(f"- {p.id}: {_shown(p)}")
            run = (platform_apply(settings, prefix, [t for t in changes.tenants
                                                     if t in estate.slugs])
                   if p.id == "platform" else run_json(settings, prefix, p.argv))
            failed = run.code != 0
            outcome = StepOutcome(p.id, p.phase, p.title, _shown(p),
                                  "failed" if failed else "done",
                                  (f"exit {run.code}: {run.error}" if failed else
                                   _summary(run.data)))
            if p.id in ("verify", "compliance") and junit_dir is not None:
                out.junit.append(str(junit_dir / ("verify.xml" if p.id == "verify"
                                                  else "network.xml")))
            broken = broken or (failed and p.phase == "apply")
        outcome.seconds = (clock.now() - started).total_seconds()
        say(f"  [{outcome.status}] {p.id}" + (f" — {outcome.message}" if outcome.message
                                                else ""))
        out.steps.append(outcome)
    out.audit_log = str(settings.audit_log)
    for slug in changes.tenants:
        audit.record(settings.audit_log, command="deliver", tenant=slug,
                     target=f"commit {commit}",
                     change=[f"{c.kind} {c.subject}: {c.action}" for c in changes.of(slug)],
                     result="ok" if out.ok else "failed", commit=commit, base=base,
                     steps={s.id: s.status for s in out.steps})
    return out


def _summary(data: Any) -> str:
    """One line from a command's JSON: its summary, counts, or the platform's changes."""
    if not isinstance(data, dict):
        return ""
    summary = data.get("summary")
    if isinstance(summary, str):
        return summary
    if isinstance(summary, dict):
        return ", ".join(f"{v} {k}" for k, v in summary.items() if v)
    applied = data.get("apply")
    if isinstance(applied, dict):
        stacks = applied.get("stacks") or applied.get("tenants") or {}
        return "; ".join(f"{name}: {s.get('changes', 0)} change(s)"
                         for name, s in sorted(stacks.items()) if isinstance(s, dict))
    return ""


def _report(settings: Settings, out: Delivery) -> StepOutcome:
    from faellesdrift.errors import FaellesdriftError
    from faellesdrift.reports.site import build_site

    try:
        site = build_site(settings)
    except FaellesdriftError as exc:
        return StepOutcome("report", "report", "Refresh the transparency report",
                           "(built in)", "failed", str(exc))
    out.report = str(site.index)
    return StepOutcome("report", "report", "Refresh the transparency report", "(built in)",
                       "done", f"written: {site.index}")


def _cli() -> list[str]:
    from faellesdrift.onboarding.flow import find_cli

    return find_cli()
