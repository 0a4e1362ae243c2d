"""`faellesdrift review --base REF`: what a change to the community does, for a pull request.

The base (where the change branched off REF) is read from git into a private
directory and loaded through the model layer like the working tree; the two are
compared model to model (``changes``). The community is validated; only what the
change touches is planned (``plans``); the cost for each affected municipality is
settled before and after (``costs``); who must approve is named (``approvals``).

Not ok (exit 1) when a file the change touches has an error, the community no longer
builds, a plan step failed, or the platform plan reports a mandatory policy
violation. Errors in files the change does not touch (another municipality's lapsed
exception) are listed but hold nobody's change up.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faellesdrift import clock
from faellesdrift.community import STANDARDS_FILE, TENANTS_DIR, Community, load_community
from faellesdrift.delivery import plans
from faellesdrift.delivery.approvals import Owners, tenant_owners
from faellesdrift.delivery.changes import ChangeSet, compare
from faellesdrift.delivery.costs import CostImpact, impact
from faellesdrift.delivery.gitrepo import Repo
from faellesdrift.estate import Estate, Validation, blocking, validate
from faellesdrift.findings import Finding
from faellesdrift.model import Tenant
from faellesdrift.settings import Settings

Say = Callable[[str], None]


@dataclass(frozen=True)
class Side:
    """One version of the community: parsed files and (when it builds) the estate."""

    community: Community | None
    validation: Validation

    @property
    def tenants(self) -> tuple[Tenant, ...]:
        return tuple(s.tenant for s in self.community.sources) if self.community else ()

    @property
    def estate(self) -> Estate | None:
        return self.validation.estate


def load_side(root: Path) -> Side:
    community, _ = load_community(root)
    return Side(community, validate(root, clock.today()))


@dataclass(frozen=True)
class Approval:
    what: str  # "ODD-EX-001 (exception, added)"
    tenant: str
    roles: tuple[str, ...]
    owners: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "tenant": self.tenant, "roles": list(self.roles),
                "owners": list(self.owners)}


@dataclass
class Review:
    base_ref: str
    base: str  # commit id of the base
    head: str  # commit id of HEAD (the working tree is what is reviewed)
    dirty: bool  # the working tree has uncommitted community changes
    changes: ChangeSet
    findings: tuple[Finding, ...]  # findings in the files the change touches
    elsewhere: tuple[Finding, ...]  # errors in files the change does not touch
    builds: bool  # the changed community builds an estate
    plans: list[plans.PlanStep] = field(default_factory=list)
    costs: list[CostImpact] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    code_owners: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def valid(self) -> bool:
        return self.builds and not self.errors

    @property
    def violations(self) -> list[dict]:
        return [v for p in self.plans for v in p.details.get("violations", ())]

    @property
    def ok(self) -> bool:
        return self.valid and not self.violations and all(p.ok for p in self.plans)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "valid": self.valid, "base_ref": self.base_ref,
                "base": self.base, "head": self.head, "uncommitted": self.dirty,
                **self.changes.to_dict(),
                "findings": [f.to_dict() for f in self.findings],
                "errors_elsewhere": [f.to_dict() for f in self.elsewhere],
                "plans": [p.to_dict() for p in self.plans],
                "cost_impact": [c.to_dict() for c in self.costs],
                "approvals": [a.to_dict() for a in self.approvals],
                "code_owners": {k: list(v) for k, v in self.code_owners.items()},
                "policy_violations": self.violations}


def _touched(changes: ChangeSet, finding: Finding) -> bool:
    if finding.file == STANDARDS_FILE:
        return bool(changes.standards_changed)
    return finding.file in changes.files or any(
        finding.file.startswith(f"{TENANTS_DIR}/{t}.") for t in changes.tenants)


def _approvals(changes: ChangeSet, side: Side) -> tuple[list[Approval], dict]:
    community = side.community
    owners = Owners.of(community.standards) if community else Owners((), ())
    tenants = {t.slug: t for t in side.tenants}
    out = []
    for c in changes.changes:
        if not c.approve:
            continue
        who: list[str] = []
        for role in c.approve:
            named = owners.role(role, tenants.get(c.tenant))  # type: ignore[arg-type]
            who += named or [f"({role}: set approvals.{role} in community.yaml)"]
        out.append(Approval(f"{c.subject} ({c.kind}, {c.action})", c.tenant, c.approve,
                            tuple(dict.fromkeys(who))))
    code: dict[str, tuple[str, ...]] = {}
    for path in changes.files:
        if path == STANDARDS_FILE:
            code[path] = owners.board
            continue
        source = next((s for s in (community.sources if community else ())
                       if s.file == path), None)
        if source is not None:
            code[path] = tuple(dict.fromkeys([*tenant_owners(source.tenant),
                                              *owners.operations]))
    return out, code


def review(settings: Settings, base_ref: str, *, skip: Iterable[str] = (),
           cli: list[str] | None = None, say: Say = lambda _: None) -> Review:
    """Compare the working tree with where it branched off ``base_ref``, plan what it
    touches, and return everything a reviewer needs."""
    repo = Repo.of(settings.root)
    base = repo.merge_base(repo.commit(base_ref))
    files = repo.changed(base)
    say(f"base {base[:12]} ({base_ref}); {len(files)} changed community file(s)")
    with tempfile.TemporaryDirectory(prefix="faellesdrift-base-") as tmp:
        before = load_side(repo.extract(base, Path(tmp)))
        after = load_side(settings.root)
        if after.community is None:
            changes = ChangeSet((), files=tuple(files))
        else:
            changes = compare(before.tenants,
                              before.community.standards if before.community else None,
                              after.tenants, after.community.standards, before.estate,
                              after.estate, files)
        findings = after.validation.findings
        touched = tuple(f for f in findings if _touched(changes, f))
        builds = after.estate is not None
        elsewhere = tuple(f for f in findings if f.severity == "error" and f not in touched)
        if not builds:  # what stops every command is this change's problem too
            touched += tuple(f for f in blocking(findings) if f not in touched)
            elsewhere = tuple(f for f in elsewhere if f not in touched)
        result = Review(base_ref, base, repo.head(), repo.dirty(), changes, touched,
                        elsewhere, builds)
        result.approvals, result.code_owners = _approvals(changes, after)
        if not builds or after.estate is None:
            return result
        tenants = list(changes.tenants)
        say(f"affected tenants: {', '.join(tenants) or 'none'}")
        result.costs = impact(before.estate, after.estate, tenants) if tenants else []
        result.plans = run_plans(settings, before.estate, after.estate, changes,
                                 skip=set(skip), cli=cli, say=say)
    return result


def run_plans(settings: Settings, before: Estate | None, after: Estate, changes: ChangeSet,
              *, skip: set[str], cli: list[str] | None, say: Say) -> list[plans.PlanStep]:
    tenants = [t for t in changes.tenants if t in after.slugs]
    devices = list(changes.hosts("network_device"))
    servers = [h for h in changes.hosts("server")
               if h in {x.name for x in after.hosts("server")}]
    existing = [h for h in servers
                if before is not None and h in {x.name for x in before.hosts("server")}]
    new = [h for h in servers if h not in existing]
    out = []
    for kind in plans.KINDS:
        if kind in skip:
            out.append(plans.PlanStep(kind, plans.TITLES[kind], "skipped", "skipped (--skip)"))
            continue
        say(f"plan {kind}")
        if kind == "network":
            out.append(plans.plan_network(before, after, devices))
            continue
        prefix = cli or _cli()
        if kind == "platform":
            out.append(plans.plan_platform(settings, prefix, tenants))
        else:
            out.append(plans.plan_servers(settings, prefix, existing, new))
    return out


def _cli() -> list[str]:
    from faellesdrift.onboarding.flow import find_cli

    return find_cli()
