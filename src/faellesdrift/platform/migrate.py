"""From the single-stack layout to the per-tenant layout, without replacing anything.

    report = migrate.migrate(settings, MigrateOptions(environment="lab"))

The single-stack layout kept every tenant and the shared services in stack ``<env>``
(the project directory's own workspace). Each part moves with ``pulumi state move`` —
the component and its children, state and ids as they are — into its stack of the
per-tenant layout: ``SharedServices::shared`` into ``<env>.shared``, each
``TenantEnvironment::<slug>`` into ``<env>.<slug>``. Nothing is created, replaced or
deleted outside the state, so the lab's objects and their ids stay as they are.

Idempotent and resumable: each part is moved only while it is still in the old stack,
so a run that stopped half-way is finished by the next one; with nothing left to move
the old stack (then empty) is removed and a migrated environment reports "nothing to do".
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faellesdrift import platform_outputs
from faellesdrift.platform import engine
from faellesdrift.platform.args import SHARED_TENANT
from faellesdrift.platform.engine import RunOptions
from faellesdrift.platform.errors import PlatformError
from faellesdrift.platform.fleet import FleetOptions, shared_reference, stack_name
from faellesdrift.platform.shared_services import TYPE as SHARED_TYPE
from faellesdrift.platform.tenant_environment import TYPE as TENANT_TYPE
from faellesdrift.settings import Settings

Progress = Callable[[str], None]


@dataclass(frozen=True)
class MigrateOptions:
    environment: str = engine.LAB_STACK
    backend: str | None = None
    project_dir: Path | None = None
    dry_run: bool = False
    tenants: tuple[str, ...] = ()  # only these parts ("shared" or slugs); default: all


@dataclass
class Moved:
    scope: str
    stack: str
    resources: int  # the component and its children
    status: str  # "moved" | "would move" | "already moved"


@dataclass
class MigrateReport:
    environment: str
    source: str
    backend: str
    parts: list[Moved] = field(default_factory=list)
    source_removed: bool = False
    nothing_to_do: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "source": self.source,
                "backend": self.backend, "nothing_to_do": self.nothing_to_do,
                "source_removed": self.source_removed,
                "parts": [vars(p) for p in self.parts]}


def _resources(stack: Any) -> list[dict[str, Any]]:
    return list(stack.export_stack().deployment.get("resources") or [])


def _part(urn: str) -> str | None:
    """The scope a top-level component of the single-stack layout moves to, else None."""
    head, _, name = urn.rpartition("::")
    if head.endswith(f"::{TENANT_TYPE}"):
        return name
    if head.endswith(f"::{SHARED_TYPE}") and name == SHARED_TENANT:
        return SHARED_TENANT
    return None


def _children(resources: list[dict[str, Any]], urn: str) -> int:
    below = {urn}
    for r in resources:  # the export lists parents before children
        if r.get("parent") in below:
            below.add(r["urn"])
    return len(below)


def _old_stack(settings: Settings, opts: MigrateOptions) -> Any | None:
    """The single-layout stack, or None when the backend has no such stack."""
    from pulumi import automation as auto

    project = (opts.project_dir or settings.root).resolve()
    cli = engine.find_cli(settings)
    backend = engine.backend_url(settings, opts.backend)
    env = engine.environment(settings, cli, opts.environment, backend)
    try:
        return auto.select_stack(
            stack_name=opts.environment, work_dir=str(project),
            opts=auto.LocalWorkspaceOptions(pulumi_command=engine.pulumi_command(cli),
                                            env_vars=env, secrets_provider="passphrase"))
    except auto.errors.StackNotFoundError:
        return None
    except auto.errors.CommandError as exc:
        if "no stack named" in str(exc):
            return None
        raise PlatformError(f"stack {opts.environment} on {engine.redact(backend)}: "
                            f"{engine._first_error(str(exc))}") from None


def pending(settings: Settings, environment: str, backend: str | None = None,
            project_dir: Path | None = None) -> bool:
    """Whether stack ``<environment>`` of the single-stack layout still exists (then the
    per-tenant stacks must not be applied: two stacks would own the same objects)."""
    url = engine.backend_url(settings, backend)
    project = (project_dir or settings.root).resolve()
    if url.startswith("file://"):  # the file backend's layout: no CLI call needed
        import yaml
        name = (yaml.safe_load((project / "Pulumi.yaml").read_text(encoding="utf-8"))
                or {}).get("name") or "faellesdrift"
        stacks = Path(url.removeprefix("file://")) / ".pulumi" / "stacks" / name
        return (stacks / f"{environment}.json").is_file() or \
            (stacks / f"{environment}.json.gz").is_file()
    return _old_stack(settings, MigrateOptions(environment, backend, project_dir)) is not None


def migrate(settings: Settings, opts: MigrateOptions, progress: Progress | None = None
            ) -> MigrateReport:
    """Move every part of stack ``<env>`` into its own stack; see the module doc."""
    from pulumi import automation as auto

    if "." in opts.environment:
        raise PlatformError(f"--stack {opts.environment!r}: an environment name has no '.'")
    backend = engine.redact(engine.backend_url(settings, opts.backend))
    report = MigrateReport(opts.environment, opts.environment, backend)
    old = _old_stack(settings, opts)
    if old is None:
        report.nothing_to_do = True
        return report
    resources = _resources(old)
    parts = [(scope, r["urn"]) for r in resources if (scope := _part(r["urn"]))]
    if opts.tenants:
        parts = [p for p in parts if p[0] in opts.tenants]
    parts.sort(key=lambda p: (p[0] != SHARED_TENANT, p[0]))  # the shared services first
    fleet_opts = FleetOptions(environment=opts.environment, backend=opts.backend,
                              project_dir=opts.project_dir)
    env_file = (opts.project_dir or settings.root).resolve() / f"Pulumi.{opts.environment}.yaml"
    for scope, urn in parts:
        count = _children(resources, urn)
        dest = stack_name(opts.environment, scope)
        if opts.dry_run:
            report.parts.append(Moved(scope, dest, count, "would move"))
            continue
        if progress:
            progress(f"moving {count} resource(s) of {scope} into stack {dest}")
        run = RunOptions(stack=opts.environment, project_dir=opts.project_dir,
                         backend=opts.backend, scope=scope,
                         shared_stack=None if scope == SHARED_TENANT
                         else shared_reference(settings, fleet_opts))
        target, env, _ = engine._stack(settings, run)  # creates <env>.<scope> with its config
        work = Path(target.workspace.work_dir)
        if env_file.is_file():  # the old stack's own config (its encryption salt), for the move
            shutil.copy(env_file, work / env_file.name)
        try:
            target.workspace.pulumi_command.run(
                ["state", "move", "--source", opts.environment, "--dest", dest, "--yes",
                 "--non-interactive", "--color", "never", urn], str(work), env)
        except auto.errors.CommandError as exc:
            raise PlatformError(f"moving {scope} from stack {opts.environment} to {dest}: "
                                f"{engine._first_error(str(exc))}; run `faellesdrift pulumi "
                                "migrate` again to finish (moved parts stay moved)") from None
        report.parts.append(Moved(scope, dest, count, "moved"))
    if opts.dry_run or opts.tenants:
        return report
    left = [r for r in _resources(old) if r["type"] != "pulumi:pulumi:Stack"
            and not r["type"].startswith("pulumi:providers:")]
    if left:
        raise PlatformError(f"stack {opts.environment} still holds {len(left)} resource(s) "
                            f"that belong to no tenant (first: {left[0]['urn']}); move or "
                            "delete them with `pulumi state`, then run migrate again")
    old.workspace.remove_stack(opts.environment, force=True, preserve_config=True)
    report.source_removed = True
    report.nothing_to_do = not report.parts
    platform_outputs.write(settings.state_dir, opts.environment,
                           platform_outputs.StackOutputs(opts.environment, engine.ALL, {}))
    return report
