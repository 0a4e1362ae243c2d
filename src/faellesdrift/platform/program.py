"""The platform program: the shared services, one TenantEnvironment per tenant, or both.

    define(settings)   # inside a Pulumi program: stacks/__main__.py, or inline (engine.py)

Stack config faellesdrift:scope picks the part: ``shared``, a tenant slug (which reads the
shared stack's outputs through a StackReference), or unset for the whole community in one
stack.

Stack configuration (``faellesdrift:*`` in ``Pulumi.<stack>.yaml``):
  target                 record (default: the stack records the desired state) or lab (the
                         children are made real in the local lab)
  labServersPerTenant    stack lab: how many of each tenant's servers run as lab servers
                         (default 1; the rest are placements only); "all" for every server
  retainKept             resources kept by a local exception also survive deletion
                         (retain_on_delete; default true; the lab sets false so that
                         `destroy` cleans the lab)
  scope                  which part of the community this stack holds: ``shared`` (the shared
                         services), a tenant slug (that tenant's TenantEnvironment), or unset
                         (every tenant and the shared services in one stack: the single-stack
                         layout ``faellesdrift pulumi migrate`` moves from)
  sharedStack            tenant stacks: the shared stack they read through a StackReference
                         (``organization/<project>/<environment>.shared``); unset while it
                         has never been applied

``faellesdrift plan|apply`` set scope and sharedStack per stack (engine.stack_config).
"""

from __future__ import annotations

import itertools
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faellesdrift.errors import ConfigError, FaellesdriftError
from faellesdrift.estate import Estate, load_estate
from faellesdrift.model import NAME
from faellesdrift.platform.args import (
    SHARED_TENANT,
    LabRealisation,
    TenantEnvironmentArgs,
    tenant_args,
)
from faellesdrift.platform.providers import TARGETS, Providers, for_target
from faellesdrift.settings import Settings

DEFAULT_LAB_SERVERS = 1


@dataclass(frozen=True)
class StackConfig:
    target: str = "record"
    lab_servers_per_tenant: int | None = DEFAULT_LAB_SERVERS  # None: every server
    retain_kept: bool = True
    scope: str | None = None  # None: the whole community in one stack
    shared_stack: str | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, str | None]) -> StackConfig:
        """From raw config strings (``pulumi.Config('faellesdrift').get(...)``)."""
        target = values.get("target") or "record"
        if target not in TARGETS:
            raise ConfigError(f"Pulumi.<stack>.yaml faellesdrift:target: {target!r}; use one of "
                              f"{', '.join(TARGETS)}")
        raw = values.get("labServersPerTenant")
        servers: int | None = DEFAULT_LAB_SERVERS
        if raw is not None and str(raw).strip().lower() == "all":
            servers = None
        elif raw is not None:
            try:
                servers = int(raw)
            except ValueError:
                servers = -1
            if servers < 0:
                raise ConfigError(f"Pulumi.<stack>.yaml faellesdrift:labServersPerTenant: {raw!r};"
                                  " use a number >= 0 or \"all\"")
        retain = str(values.get("retainKept") or "true").strip().lower()
        if retain not in ("true", "false"):
            raise ConfigError(f"Pulumi.<stack>.yaml faellesdrift:retainKept: {retain!r}; use "
                              "true or false")
        scope = values.get("scope") or None
        if scope is not None and scope != SHARED_TENANT and not NAME.match(scope):
            raise ConfigError(f"Pulumi.<stack>.yaml faellesdrift:scope: {scope!r}; use "
                              f"{SHARED_TENANT!r} or a tenant slug")
        return cls(target, servers, retain == "true", scope, values.get("sharedStack") or None)


@dataclass(frozen=True)
class Program:
    settings: Settings
    config: StackConfig
    estate: Estate
    providers: Providers

    @classmethod
    def load(cls, config: StackConfig, settings: Settings | None = None,
             estate: Estate | None = None) -> Program:
        settings = settings or Settings.from_env()
        estate = estate or load_estate(settings.root)
        lab = None
        if config.target == "lab":
            from faellesdrift.platform.providers.lab import LabTarget
            lab = LabTarget.from_env(settings.state_dir, settings.cache_dir)
        return cls(settings, config, estate, for_target(config.target, lab))

    def tenants(self) -> tuple[str, ...]:
        """The tenants this stack holds: its scope's tenant, none (shared), or every one."""
        scope = self.config.scope
        if scope is None:
            return tuple(self.estate.slugs)
        if scope == SHARED_TENANT:
            return ()
        if scope not in self.estate.slugs:
            raise ConfigError(f"faellesdrift:scope {scope!r}: no tenants/{scope}.yaml (known: "
                              f"{', '.join(self.estate.slugs)})")
        return (scope,)

    @property
    def has_shared(self) -> bool:
        return self.config.scope in (None, SHARED_TENANT)

    def tenant_args(self, slug: str) -> TenantEnvironmentArgs:
        real = lab_realisation(self.estate, slug, self.config.lab_servers_per_tenant) \
            if self.config.target == "lab" else None
        return tenant_args(self.estate, slug, lab=real, retain_kept=self.config.retain_kept)


def lab_realisation(estate: Estate, slug: str, servers: int | None) -> LabRealisation:
    """The lab's own plan for one tenant: which servers it starts and each device's seed config."""
    from faellesdrift.lab import LabError
    from faellesdrift.lab.plan import plan_from_estate
    try:
        (spec,) = plan_from_estate(estate, servers, [slug]).tenants
    except LabError as exc:
        raise ConfigError(f"stack lab cannot emulate tenant {slug}: {exc}") from None
    return LabRealisation(servers=frozenset(s.name for s in spec.servers),
                          seeds={d.name: (tuple(d.config), tuple(d.deviations))
                                 for d in spec.devices})


def metering(counts: Mapping[str, int]) -> list[dict[str, Any]]:
    """The ``metering`` output the metering collector reads: platform resources per tenant."""
    return [{"tenant": slug, "meter": "platform.resource", "subject": f"{slug}-platform",
             "quantity": n} for slug, n in sorted(counts.items())]


CONFIG_KEYS = ("target", "labServersPerTenant", "retainKept", "scope", "sharedStack")


def define(settings: Settings | None = None, estate: Estate | None = None) -> None:
    """Declare the stack's resources and exports (runs inside a Pulumi program).

    ``settings`` default to the environment's (the CLI's language host sets them);
    ``estate``, when given, is the community already loaded (runs side by side share it).
    """
    import pulumi

    from faellesdrift.platform.args import shared_services_args
    from faellesdrift.platform.shared_services import SharedServicesComponent
    from faellesdrift.platform.tenant_environment import TenantEnvironment

    _trim_stack_traces()
    config = pulumi.Config("faellesdrift")
    try:
        program = Program.load(StackConfig.from_values({k: config.get(k) for k in CONFIG_KEYS}),
                               settings, estate)
        after: list[pulumi.Resource] = []
        shared = None
        if program.has_shared:
            shared = SharedServicesComponent("shared", shared_services_args(program.estate),
                                             program.providers)
            after.append(shared.segment)
        elif program.config.shared_stack:
            reference = pulumi.StackReference(program.config.shared_stack)
            after.append(reference)
            pulumi.export("shared", reference.get_output("community").apply(
                lambda c: (c or {}).get("shared")))
        tenants = {slug: TenantEnvironment(slug, program.tenant_args(slug), program.providers,
                                           after=after)
                   for slug in program.tenants()}
    except FaellesdriftError as exc:
        raise pulumi.RunError(str(exc)) from None

    if shared is not None:
        pulumi.export("community", {"name": program.estate.standards.community,
                                    "target": program.config.target, "shared": shared.outputs})
    pulumi.export("tenants", {slug: env.outputs for slug, env in tenants.items()})
    pulumi.export("metering", metering({slug: env.resource_count
                                        for slug, env in tenants.items()}))


def _trim_stack_traces() -> None:
    """Record only the program's own frames in each resource's stack trace.

    The SDK keeps every frame below a resource's constructor in the state; run inline that
    is also the SDK's, asyncio's, gRPC's and threading's frames — about half of each
    resource's state, which the engine writes again at every checkpoint.
    """
    from pulumi.runtime import resource

    if getattr(resource._get_stack_trace, "trimmed", False):
        return
    original = resource._get_stack_trace
    foreign = tuple(Path(p).resolve().as_uri() for p in (
        Path(resource.__file__).parents[1], sysconfig.get_paths()["stdlib"]))

    def own_frames() -> Any:
        trace = original()
        own = sum(1 for _ in itertools.takewhile(
            lambda frame: not frame.pc.uri.startswith(foreign), trace.frames))
        del trace.frames[own:]
        return trace

    own_frames.trimmed = True  # type: ignore[attr-defined]
    resource._get_stack_trace = own_frames
