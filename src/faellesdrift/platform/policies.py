"""The platform guardrails as data: the policies the CrossGuard pack (stacks/policy/) enforces.

Each policy is a stable kebab-case name, a description, an enforcement level,
a scope (one resource, or the whole stack) and a small check that yields
findings. A finding is a violation — unless an **active exception** allows it:
then it carries ``exempted_by`` and is reported by the advisory policy
``exempted-by-active-exception`` instead of blocking. Nothing an exception
allows passes silently, and an expired, unknown or misapplied exception is a
violation, never honoured.

The checks read only the resources' inputs and the Estate (loaded by the pack
itself from the same repository), so they judge what the program *asked for*
against the tenant files, not against the component's own bookkeeping.
They know nothing of pulumi_policy: ``pack.py`` adapts them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from faellesdrift.estate import Estate, KeptException
from faellesdrift.platform.args import (
    BACKUP,
    ISOLATION,
    MONITORING,
    SHARED_TENANT,
    cost_center,
    enrolment,
    tag_keys,
)
from faellesdrift.platform.providers.resources import TYPE_PREFIX

Enforcement = Literal["mandatory", "advisory"]
Scope = Literal["resource", "stack"]
EXTRA_TAGS = ("tenant_code",)  # faellesdrift adds it to the control's keys
_METER = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ResourceView:
    """What a check sees of one resource: its inputs and options."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False

    @property
    def kind(self) -> str | None:
        """NetworkSegment, ServerPlacement, … for faellesdrift resources, else None."""
        return self.type.removeprefix(TYPE_PREFIX) if self.type.startswith(TYPE_PREFIX) else None

    @property
    def tenant(self) -> str:
        return str(self.props.get("tenant") or "")

    @property
    def object(self) -> str:
        return str(self.props.get("name") or self.name)


@dataclass(frozen=True)
class PolicyViolation:
    policy: str
    urn: str | None
    message: str
    exempted_by: str | None = None  # an active exception allows it

    @property
    def violation(self) -> bool:
        return self.exempted_by is None


@dataclass(frozen=True)
class Context:
    """The estate as the checks need it."""

    estate: Estate
    tag_keys: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, estate: Estate) -> Context:
        return cls(estate, tuple(dict.fromkeys((*tag_keys(estate), *EXTRA_TAGS))))

    def exception(self, tenant: str, exception_id: str) -> KeptException | None:
        """The tenant's exception by id, whatever its status."""
        return next((k for k in self.estate.exceptions(tenant) if k.record.id == exception_id),
                    None)

    def expected_cost_center(self, tenant: str) -> str | None:
        community = self.estate.standards.community
        if tenant == SHARED_TENANT:
            return cost_center(community, "shared")
        if tenant in self.estate.slugs:
            return cost_center(community, self.estate.tenant(tenant).code)
        return None


Check = Callable[[Context, Any], Iterable[PolicyViolation]]


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    enforcement: Enforcement
    scope: Scope
    check: Check  # resource scope: (ctx, ResourceView); stack scope: (ctx, [ResourceView])

    def findings(self, ctx: Context, subject: ResourceView | Sequence[ResourceView]
                 ) -> list[PolicyViolation]:
        return list(self.check(ctx, subject))


# ------------------------------------------------------------------ checks


def check_tags(ctx: Context, r: ResourceView) -> Iterator[PolicyViolation]:
    if r.kind is None:
        return
    name = "metering-tags"
    tags = r.props.get("tags")
    if not isinstance(tags, Mapping):
        yield PolicyViolation(name, r.urn, f"{r.object}: no tags; every resource carries "
                                   f"{', '.join(ctx.tag_keys)} (platform.metering.tags)")
        return
    missing = [k for k in ctx.tag_keys if not isinstance(tags.get(k), str) or not tags.get(k)]
    if missing:
        yield PolicyViolation(name, r.urn, f"{r.object}: missing tag(s) {', '.join(missing)} "
                                   "(platform.metering.tags is mandatory)")
    tenant = tags.get("tenant")
    if tenant and tenant != r.tenant:
        yield PolicyViolation(name, r.urn, f"{r.object}: tag tenant={tenant!r} but the resource "
                                   f"belongs to {r.tenant!r}")
    expected = ctx.expected_cost_center(r.tenant)
    if expected is None:
        yield PolicyViolation(name, r.urn, f"{r.object}: tenant {r.tenant!r} is not a tenant of the "
                                   "community (tenants/*.yaml)")
    elif tags.get("cost_center") and tags["cost_center"] != expected:
        yield PolicyViolation(name, r.urn, f"{r.object}: cost_center={tags['cost_center']!r}, the "
                                   f"tenant's cost center is {expected!r}")
    if r.tenant in ctx.estate.slugs and tags.get("tenant_code") and \
            tags["tenant_code"] != ctx.estate.tenant(r.tenant).code:
        yield PolicyViolation(name, r.urn, f"{r.object}: tenant_code={tags['tenant_code']!r}, "
                                   f"{r.tenant}'s code is {ctx.estate.tenant(r.tenant).code}")
    meters = [m for m in str(tags.get("meter") or "").split(",") if m]
    bad = [m for m in meters if not _METER.match(m)]
    if bad:
        yield PolicyViolation(name, r.urn, f"{r.object}: meter tag {', '.join(bad)} is not a meter "
                                   "name such as server.vcpu")


def check_isolation(ctx: Context, r: ResourceView) -> Iterator[PolicyViolation]:
    if r.kind != "AccessPolicy":
        return
    name = "tenant-isolation"
    if r.props.get("default") != "deny":
        yield PolicyViolation(name, r.urn, f"{r.tenant}: access default is {r.props.get('default')!r}; "
                                   "it must be 'deny' (tenants never reach each other)")
    for rule in r.props.get("peers") or ():
        host, peer, ex_id = rule.get("host"), rule.get("peer"), rule.get("exception")
        what = f"{r.tenant}: {host} -> tenant {peer}"
        if peer == r.tenant or peer not in ctx.estate.slugs:
            yield PolicyViolation(name, r.urn, f"{what}: {peer!r} is not another tenant")
            continue
        k = ctx.exception(r.tenant, str(ex_id)) if ex_id else None
        if k is None:
            yield PolicyViolation(name, r.urn, f"{what}: no active exception allows it (named: "
                                       f"{ex_id!r}); add one to tenants/{r.tenant}.yaml")
        elif k.record.control != ISOLATION:
            yield PolicyViolation(name, r.urn, f"{what}: {ex_id} excepts {k.record.control}, not "
                                       f"{ISOLATION}")
        elif not k.applies:
            yield PolicyViolation(name, r.urn, f"{what}: {ex_id} expired on {k.record.expires} and no "
                                       "longer applies; renew it or remove the access")
        elif host not in k.record.hosts:
            yield PolicyViolation(name, r.urn, f"{what}: {ex_id} covers {', '.join(k.record.hosts)}, "
                                       f"not {host}")
        elif peer not in _as_list(k.record.value):
            yield PolicyViolation(name, r.urn, f"{what}: {ex_id} allows {_as_list(k.record.value)}, "
                                       f"not {peer}")
        else:
            yield PolicyViolation(name, r.urn, f"{what} allowed ({k.status.value}, expires "
                                       f"{k.record.expires})", exempted_by=k.record.id)


def check_declared(ctx: Context, r: ResourceView) -> Iterator[PolicyViolation]:
    if r.kind not in ("ServerPlacement", "DeviceRegistration"):
        return
    kind = "server" if r.kind == "ServerPlacement" else "network_device"
    hosts = {h.name for h in ctx.estate.hosts(kind, r.tenant)} \
        if r.tenant in ctx.estate.slugs else set()
    if r.object not in hosts:
        yield PolicyViolation("declared-hosts", r.urn,
                      f"{r.object}: not a {kind.replace('_', ' ')} of tenant {r.tenant!r} in "
                      f"tenants/{r.tenant}.yaml; declare it there first")


def check_kept(ctx: Context, r: ResourceView) -> Iterator[PolicyViolation]:
    if r.kind not in ("ServerPlacement", "DeviceRegistration", "AccessPolicy"):
        return
    name = "kept-resources-protected"
    carried = {str(x) for x in r.props.get("exceptions") or ()}
    if r.kind == "AccessPolicy":
        expected = {}
        for rule in r.props.get("peers") or ():
            k = ctx.exception(r.tenant, str(rule.get("exception")))
            if k is not None and k.applies and k.record.control == ISOLATION:
                expected[k.record.id] = k
    else:
        expected = {k.record.id: k for k in ctx.estate.exceptions_for(r.object)
                    if k.tenant == r.tenant}
    for ex_id in sorted(carried - set(expected)):
        k = ctx.exception(r.tenant, ex_id)
        why = ("unknown in tenants/" + r.tenant + ".yaml" if k is None else
               f"expired on {k.record.expires}" if not k.applies else
               f"it covers {', '.join(k.record.hosts)}")
        yield PolicyViolation(name, r.urn, f"{r.object}: carries exception {ex_id}, which does not "
                                   f"apply here ({why}); an exception is never silently honoured")
    for ex_id in sorted(set(expected) - carried):
        yield PolicyViolation(name, r.urn, f"{r.object}: kept by {ex_id} but does not carry its id")
    if expected and not r.protect:
        yield PolicyViolation(name, r.urn, f"{r.object}: kept by {', '.join(sorted(expected))} but not "
                                   "protected; a kept resource is protected from replacement "
                                   "and deletion")
    if expected and r.protect and set(expected) <= carried:
        for ex_id, k in sorted(expected.items()):
            yield PolicyViolation(name, r.urn, f"{r.object} keeps {k.record.control} "
                                       f"({k.status.value}, expires {k.record.expires}); "
                                       "protected", exempted_by=ex_id)


def stack_scope(urn: str) -> tuple[str, str | None]:
    """(stack, scope) from a URN: ``lab.odder`` -> ("lab.odder", "odder"); a stack of the
    single-stack layout (no '.') has no scope."""
    stack = urn.removeprefix("urn:pulumi:").split("::", 1)[0]
    _, dot, scope = stack.partition(".")
    return stack, (scope if dot else None)


def check_stack_scope(ctx: Context, r: ResourceView) -> Iterator[PolicyViolation]:
    if r.kind is None:
        return
    stack, scope = stack_scope(r.urn)
    if scope is None:
        return
    owner = "the shared services" if scope == SHARED_TENANT else f"tenant {scope!r}"
    if r.tenant != scope or not r.name.startswith(f"{scope}/"):
        yield PolicyViolation("stack-scope", r.urn,
                      f"{r.object}: {r.name} of tenant {r.tenant!r} in stack {stack}, which "
                      f"holds only {owner}'s resources; move it to stack "
                      f"{stack.partition('.')[0]}.{r.tenant or '<tenant>'}")


def check_quota(ctx: Context, resources: Sequence[ResourceView]) -> Iterator[PolicyViolation]:
    """The guardrails' quota rule, on what the stack would place (not on the tenant file)."""
    placed: dict[str, list[ResourceView]] = defaultdict(list)
    for r in resources:
        if r.kind == "ServerPlacement":
            placed[r.tenant].append(r)
    for tenant, placements in sorted(placed.items()):
        quota = ctx.estate.standards.quota_for(tenant)
        for f, amount, allowed in quota.over(r.props for r in placements):
            yield PolicyViolation("compute-quota", placements[0].urn,
                                  f"{tenant}: server placements use {amount:g} {f}, the quota "
                                  f"is {allowed} (community.yaml quotas)")


def check_enrolment(ctx: Context, resources: Sequence[ResourceView]) -> Iterator[PolicyViolation]:
    name = "shared-service-enrolment"
    placed = [(r.tenant, r.object, "server", r.urn) for r in resources
              if r.kind == "ServerPlacement"]
    placed += [(r.tenant, r.object, "network_device", r.urn) for r in resources
               if r.kind == "DeviceRegistration"]
    backed = _enrolled(resources, "BackupEnrolment")
    watched = _enrolled(resources, "MonitoringEnrolment")
    known = {h.name for h in ctx.estate.hosts()}
    for tenant, host, kind, urn in sorted(placed):
        if host not in known:
            continue  # declared-hosts reports it
        wanted = [(MONITORING, watched, "monitoring")]
        if kind == "server":
            wanted.insert(0, (BACKUP, backed, "backup"))
        for control, have, service in wanted:
            e = enrolment(ctx.estate, control, host)
            if e.enrolled and (tenant, host) not in have:
                yield PolicyViolation(name, urn, f"{tenant}: {host} is not enrolled in the shared "
                                         f"{service} ({control})")
            elif not e.enrolled:
                k = ctx.exception(tenant, e.source)
                until = f", expires {k.record.expires}" if k else ""
                yield PolicyViolation(name, urn, f"{tenant}: {host} not enrolled in the shared "
                                         f"{service} ({control}{until})",
                              exempted_by=e.source)


def _enrolled(resources: Sequence[ResourceView], kind: str) -> set[tuple[str, Any]]:
    return {(r.tenant, h.get("host")) for r in resources if r.kind == kind
            for h in r.props.get("hosts") or () if isinstance(h, Mapping)}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


# ------------------------------------------------------------------ the policies

POLICIES: tuple[Policy, ...] = (
    Policy("metering-tags",
           "Every faellesdrift resource carries the tenant, tenant code, cost center and meter "
           "tags (platform.metering.tags, mandatory)", "mandatory", "resource", check_tags),
    Policy("tenant-isolation",
           "No tenant-to-tenant access: the access default is deny, and a host may reach a peer "
           "tenant only while an active exception on platform.tenant.isolation allows it",
           "mandatory", "resource", check_isolation),
    Policy("declared-hosts",
           "Servers and network devices are placed only when a tenant file declares them",
           "mandatory", "resource", check_declared),
    Policy("kept-resources-protected",
           "A resource kept by a local exception carries the exception id and is protected; "
           "an expired or unknown exception id is never honoured", "mandatory", "resource",
           check_kept),
    Policy("stack-scope",
           "A stack of the per-tenant layout (<environment>.<tenant>) names only its own "
           "tenant's resources; <environment>.shared only the shared services",
           "mandatory", "resource", check_stack_scope),
    Policy("compute-quota",
           "Each tenant's server placements stay within its compute quota (community.yaml)",
           "mandatory", "stack", check_quota),
    Policy("shared-service-enrolment",
           "Every server is enrolled in the shared backup and every host in the shared "
           "monitoring, unless an active exception says otherwise", "mandatory", "stack",
           check_enrolment),
)
EXEMPTED = "exempted-by-active-exception"
EXEMPTED_DESCRIPTION = ("Reports (without blocking) every resource that a policy would have "
                        "flagged but an active local exception allows")


def evaluate(ctx: Context, resources: Sequence[ResourceView],
             policies: Sequence[Policy] = POLICIES) -> list[PolicyViolation]:
    """Every finding of every policy over a whole stack (what the pack would report)."""
    out: list[PolicyViolation] = []
    for p in policies:
        if p.scope == "resource":
            for r in resources:
                out += p.findings(ctx, r)
        else:
            out += p.findings(ctx, resources)
    return out


def load_context(root: Any = None) -> Context:
    """The estate of the repository the pack runs in ($FAELLESDRIFT_ROOT or the cwd's)."""
    from faellesdrift.estate import load_estate
    from faellesdrift.settings import Settings
    settings = Settings.from_env(root)
    return Context.of(load_estate(settings.root))


__all__ = [
    "EXEMPTED",
    "POLICIES",
    "Context",
    "Policy",
    "PolicyViolation",
    "ResourceView",
    "evaluate",
    "load_context",
]
