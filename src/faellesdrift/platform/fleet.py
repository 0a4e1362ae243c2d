"""The per-tenant layout: a ``shared`` stack and one stack per tenant, run side by side.

    run = fleet.run_fleet("up", settings, tenants, FleetOptions(environment="lab", parallel=4))
    one = fleet.plan_tenant(settings, "odder")          # preview one tenant's stack only

Stacks of environment ``E`` are ``E.shared`` (the shared services) and ``E.<tenant>``
(that tenant's TenantEnvironment, reading the shared stack's outputs through a
StackReference), all from the one program with the configuration of Pulumi.E.yaml.
Each stack runs in a workspace of its own (engine.prepare_workspace), so parallel runs
never share a workspace file, and locks only its own state.

Order: ``up`` applies the shared stack first (a failed shared ``up`` skips the tenants:
they depend on it), then the tenants, ``parallel`` at a time; ``preview`` and ``drift``
put the shared stack first in the same queue (a preview reads only the shared stack's
applied outputs); ``destroy`` runs the tenants first and the shared stack last. The
stacks of one preview or up share one policy pack process (pack_server.py). One
tenant's failure never stops another's run: every stack gets a ``StackRun`` with its
outcome.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from faellesdrift.errors import FaellesdriftError
from faellesdrift.estate import Estate, load_estate
from faellesdrift.platform import engine, pack_server
from faellesdrift.platform.args import SHARED_TENANT
from faellesdrift.platform.engine import EngineRun, Op, RunOptions
from faellesdrift.settings import Settings

Outcome = Literal["ok", "failed", "skipped"]
StackProgress = Callable[[str, str], None]  # (scope, message)
DEFAULT_PARALLEL = 4
ORGANIZATION = "organization"  # the only organisation of Pulumi's file/S3/PostgreSQL backends


@dataclass(frozen=True)
class FleetOptions:
    environment: str = engine.LAB_STACK
    parallel: int = DEFAULT_PARALLEL
    backend: str | None = None
    project_dir: Path | None = None
    shared: bool = True  # run the shared stack too (before the tenants; last for destroy)
    policy: bool = True
    lock_wait: float = 0.0  # seconds a stack run waits while another run holds its lock
    refresh: bool = False  # preview/up read every object first (`pulumi up --refresh`)


@dataclass
class StackRun:
    """One stack's run: its scope (``shared`` or a tenant), outcome and engine result."""

    scope: str
    stack: str
    outcome: Outcome = "skipped"
    seconds: float = 0.0
    result: EngineRun | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def summary(self) -> engine.TenantSummary:
        """The run's counts of the stack's own tenant (shared: every resource it saw)."""
        total = engine.TenantSummary()
        if self.result is None:
            return total
        for t in self.result.tenants.values():
            for k in ("create", "update", "replace", "delete", "same"):
                setattr(total, k, getattr(total, k) + getattr(t, k))
            total.failed += t.failed
            total.violations += t.violations
            total.exempted += t.exempted
        return total

    @property
    def drift(self) -> list[dict[str, Any]]:
        return list(self.result.drift) if self.result else []

    def to_dict(self) -> dict[str, Any]:
        s = self.summary()
        return {"scope": self.scope, "stack": self.stack, "outcome": self.outcome,
                "seconds": round(self.seconds, 1), "changes": s.changes,
                "create": s.create, "update": s.update, "replace": s.replace,
                "delete": s.delete, "same": s.same, "violations": s.violations,
                "exempted": s.exempted, "failed": s.failed, "error": self.error,
                "drift": self.drift,
                "outputs_file": self.result.outputs_file if self.result else None}


@dataclass
class StacksResult:
    op: str
    environment: str
    backend: str
    parallel: int
    runs: list[StackRun] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs)

    @property
    def failed(self) -> list[StackRun]:
        return [r for r in self.runs if not r.ok]

    @property
    def changes(self) -> int:
        return sum(r.summary().changes for r in self.runs)

    @property
    def drift(self) -> list[dict[str, Any]]:
        return [d for r in self.runs for d in r.drift]

    def run(self, scope: str) -> StackRun | None:
        return next((r for r in self.runs if r.scope == scope), None)

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "environment": self.environment, "backend": self.backend,
                "parallel": self.parallel, "ok": self.ok, "seconds": round(self.seconds, 1),
                "changes": self.changes, "drift": len(self.drift),
                "stacks": {r.scope: r.to_dict() for r in self.runs}}


def stack_name(environment: str, scope: str) -> str:
    return f"{environment}.{scope}"


def shared_reference(settings: Settings, opts: FleetOptions) -> str:
    """The shared stack's fully qualified name, as a StackReference names it."""
    import yaml

    project = (opts.project_dir or settings.root).resolve() / "Pulumi.yaml"
    try:
        name = (yaml.safe_load(project.read_text(encoding="utf-8")) or {}).get("name")
    except (OSError, yaml.YAMLError) as exc:
        raise engine.PlatformError(f"{project}: cannot be read ({exc}); restore it from git"
                                   ) from None
    return f"{ORGANIZATION}/{name or 'faellesdrift'}/{stack_name(opts.environment, SHARED_TENANT)}"


def _options(settings: Settings, opts: FleetOptions, scope: str,
             policy_port: str | None = None) -> RunOptions:
    return RunOptions(stack=opts.environment, project_dir=opts.project_dir,
                      backend=opts.backend, policy=opts.policy, scope=scope,
                      lock_wait=opts.lock_wait, policy_port=policy_port,
                      refresh=opts.refresh,
                      shared_stack=None if scope == SHARED_TENANT
                      else shared_reference(settings, opts))


@contextlib.contextmanager
def _policy_pack(op: Op, settings: Settings, opts: FleetOptions,
                 stacks: int) -> Iterator[str | None]:
    """One policy pack process for every stack of the run (pack_server), when more than
    one stack is previewed or applied with the pack; else each run starts its own."""
    if op not in ("preview", "up") or not opts.policy or stacks < 2:
        yield None
        return
    launcher = engine.pack_launcher((opts.project_dir or settings.root).resolve())
    backend = engine.backend_url(settings, opts.backend)
    env = engine.environment(settings, engine.find_cli(settings), opts.environment, backend)
    with pack_server.shared(launcher, env,
                            settings.state_dir / "pulumi" / "policy-pack.log") as port:
        yield port


def run_stack(op: Op, settings: Settings, opts: FleetOptions, scope: str, *,
              known: set[str], progress: StackProgress | None = None,
              save: bool = True, policy_port: str | None = None,
              estate: Estate | None = None) -> StackRun:
    """One stack of the layout (``shared`` or a tenant); failures are in the StackRun."""
    run = StackRun(scope, stack_name(opts.environment, scope))
    started = time.monotonic()

    def step(message: str, _steps: int) -> None:
        if progress:
            progress(scope, message)

    try:
        run.result = engine.run(op, settings, _options(settings, opts, scope, policy_port),
                                known_tenants=known, progress=step, estate=estate)
        run.outcome = "ok" if run.result.ok else "failed"
        run.error = run.result.error
        if save:
            engine.save(settings, run.result, [] if scope == SHARED_TENANT else [scope])
    except FaellesdriftError as exc:
        run.outcome, run.error = "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - one stack's crash is that stack's failure
        run.outcome, run.error = "failed", f"{exc.__class__.__name__}: {exc}"
    run.seconds = time.monotonic() - started
    if progress:
        progress(scope, f"{run.outcome} in {run.seconds:.1f} s")
    return run


def ensure_shared(settings: Settings, opts: FleetOptions) -> None:
    """Make sure the shared stack exists (empty until applied), so that tenant stacks'
    StackReference resolves when only tenants are planned."""
    engine.create_stack(settings, _options(settings, opts, SHARED_TENANT))


def run_fleet(op: Op, settings: Settings, tenants: Sequence[str], opts: FleetOptions, *,
              known: set[str] | None = None,
              progress: StackProgress | None = None) -> StacksResult:
    """The shared stack and the tenants' stacks, in order, ``opts.parallel`` tenants at once.

    Raises PlatformError/PulumiMissing only when nothing can start (no CLI, no project).
    """
    if opts.parallel < 1:
        raise engine.PlatformError(f"--parallel {opts.parallel}: use 1 or more")
    engine.find_cli(settings)  # a missing CLI is one error, not one per tenant
    known = set(known if known is not None else tenants)
    result = StacksResult(op, opts.environment,
                         engine.redact(engine.backend_url(settings, opts.backend)), opts.parallel)
    started = time.monotonic()
    with _policy_pack(op, settings, opts, len(tenants) + opts.shared) as port:
        _run_fleet(op, settings, tenants, opts, known, progress, port, result,
                   _estate(settings) if op in ("preview", "up") else None)
    result.seconds = time.monotonic() - started
    return result


def _estate(settings: Settings) -> Estate | None:
    """The community, loaded once for every stack's program (only previews and ups run it);
    None when it cannot be loaded (each stack's program then reports why)."""
    try:
        return load_estate(settings.root)
    except FaellesdriftError:
        return None


def _run_fleet(op: Op, settings: Settings, tenants: Sequence[str], opts: FleetOptions,
               known: set[str], progress: StackProgress | None, port: str | None,
               result: StacksResult, estate: Estate | None) -> None:
    def one(scope: str) -> StackRun:
        return run_stack(op, settings, opts, scope, known=known, progress=progress,
                         policy_port=port, estate=estate)

    shared_run: StackRun | None = None
    side_by_side = list(tenants)
    with ThreadPoolExecutor(max_workers=opts.parallel, thread_name_prefix="stack") as pool:
        created = _create_stacks(op, settings, opts, tenants, pool)
        if opts.shared and op == "up":  # the tenants' stacks read what the shared stack made
            shared_run = one(SHARED_TENANT)
            result.runs.append(shared_run)
        if opts.shared and op in ("preview", "drift"):
            side_by_side.insert(0, SHARED_TENANT)  # nothing depends on it: first in the queue
        wait(created)

        if shared_run is not None and not shared_run.ok:  # an up: the tenants depend on it
            for slug in tenants:
                result.runs.append(StackRun(slug, stack_name(opts.environment, slug),
                                            "skipped", error=f"not applied: the shared stack "
                                                             f"failed ({shared_run.error})"))
        else:
            futures = [pool.submit(one, scope) for scope in side_by_side]
            result.runs += [f.result() for f in futures]

    if opts.shared and op == "destroy":
        if any(not r.ok for r in result.runs):
            result.runs.append(StackRun(SHARED_TENANT, stack_name(opts.environment,
                                                                  SHARED_TENANT), "skipped",
                                        error="not destroyed: a tenant stack still holds "
                                              "resources that depend on it"))
        else:
            result.runs.append(one(SHARED_TENANT))


def _create_stacks(op: Op, settings: Settings, opts: FleetOptions, tenants: Sequence[str],
                   pool: ThreadPoolExecutor) -> list[Future[None]]:
    """Create the stacks a preview or up needs and the backend lacks: the shared stack now
    (the tenants' stacks read it and take its encryption salt), the tenants' in the pool,
    alongside the shared stack's run. Without this each new stack's first command fails and
    is run again once the stack exists (command.run); a failure here is left to the runs,
    which report it stack by stack."""
    if op not in ("preview", "up"):
        return []
    try:
        held = engine.stacks_in_backend(settings, _options(settings, opts, SHARED_TENANT))
    except FaellesdriftError:
        held = set()  # each creation finds out
    if stack_name(opts.environment, SHARED_TENANT) not in held:
        _create_quietly(settings, _options(settings, opts, SHARED_TENANT))
    return [pool.submit(_create_quietly, settings, _options(settings, opts, scope))
            for scope in tenants if stack_name(opts.environment, scope) not in held]


def _create_quietly(settings: Settings, opts: RunOptions) -> None:
    with contextlib.suppress(FaellesdriftError):
        engine.create_stack(settings, opts)


def plan_tenant(settings: Settings, tenant: str, *, environment: str = engine.LAB_STACK,
                backend: str | None = None, project_dir: Path | None = None,
                known: set[str] | None = None) -> StackRun:
    """Preview only tenant ``tenant``'s stack with the policy pack (for review flows).

    Changes nothing but the stack's existence; the result is in the StackRun (outcome,
    counts, violations, error) and in the results store (``pulumi.preview``).
    """
    opts = FleetOptions(environment=environment, backend=backend, project_dir=project_dir,
                        shared=False)
    ensure_shared(settings, opts)
    return run_stack("preview", settings, opts, tenant, known=known or {tenant})
