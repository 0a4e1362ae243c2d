"""`faellesdrift plan | apply | destroy` for the platform stacks — thin: parse, run, print.

Mounted lazily by the main CLI (``faellesdrift.commands``): ``platform_app`` as
``pulumi`` (plan, apply, destroy, migrate, drift) and ``plan_cmd`` / ``apply_cmd`` as the
top-level ``plan`` / ``apply``.

The platform is a ``shared`` stack and one stack per tenant (fleet.py): ``--tenant``
picks tenants, ``--parallel`` how many run at once. Exit codes: 0 every stack did what
was asked; 1 a stack ran and failed (a mandatory policy violation, a resource error, a
declined apply) while the others went on; 2 nothing could start (bad option, no Pulumi
CLI); invalid tenant files exit 1 as in every command.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from faellesdrift.commandline import RootOpt, open_estate
from faellesdrift.errors import FaellesdriftError
from faellesdrift.platform import engine, fleet
from faellesdrift.platform.args import SHARED_TENANT
from faellesdrift.platform.fleet import FleetOptions, StacksResult
from faellesdrift.settings import Settings
from faellesdrift.ui import Output, OutputOpt, console, err_console, fail, print_json, styled, table

platform_app = typer.Typer(
    help="The platform (Pulumi): a shared stack and one stack per tenant from one program, "
         "guarded by the CrossGuard policy pack.", no_args_is_help=True)

StackOpt = Annotated[str, typer.Option(
    "--stack", "-s", envvar="FAELLESDRIFT_STACK",
    help="Environment: Pulumi.<name>.yaml holds its configuration; its stacks are "
         "<name>.shared and <name>.<tenant>. Default: lab.")]
TenantOpt = Annotated[list[str] | None, typer.Option(
    "--tenant", "-t", help="Only this tenant's stack (slug; 'shared' for the shared stack); "
                           "repeat for more. Default: the shared stack and every tenant.")]
ParallelOpt = Annotated[int, typer.Option(
    "--parallel", "-p", min=1, max=64,
    help="Tenant stacks run at once (after the shared stack).")]
BackendOpt = Annotated[str | None, typer.Option(
    "--backend", help="State backend URL (file://, s3://, postgres://). Default: "
                      "$PULUMI_BACKEND_URL, else file://<state>/pulumi.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]
RefreshOpt = Annotated[bool, typer.Option(
    "--refresh/--no-refresh",
    help="Read every object first (`pulumi up --refresh`), so that one changed or removed "
         "by hand (a lab server stopped, a device gone) is planned back into place.")]
LockWaitOpt = Annotated[float, typer.Option(
    "--lock-wait", min=0, metavar="SECONDS",
    help="While another run (a colleague's, on a shared backend) holds a stack's lock, "
         "try again for up to this long. Default 0: fail at once, naming who holds it.")]


def _prepare(root: Path | None, tenant: list[str] | None
             ) -> tuple[Settings, list[str], bool, set[str]]:
    """(settings, tenants chosen, whether the shared stack was named, every tenant)."""
    settings, estate = open_estate(root)
    wanted = set(tenant or ())
    unknown = sorted(wanted - set(estate.slugs) - {SHARED_TENANT})
    if unknown:
        raise fail(f"--tenant {', '.join(unknown)}: no such tenant; known: "
                   f"{', '.join(estate.slugs)} (and {SHARED_TENANT!r}, the shared stack)")
    if not wanted:
        return settings, list(estate.slugs), True, set(estate.slugs)
    return (settings, sorted(wanted - {SHARED_TENANT}), SHARED_TENANT in wanted,
            set(estate.slugs))


def _run(op: engine.Op, settings: Settings, tenants: list[str], opts: FleetOptions,
         known: set[str], quiet: bool) -> StacksResult:
    started = time.monotonic()
    label = {"preview": "plan", "up": "apply", "destroy": "destroy", "drift": "drift"}[op]
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=err_console, transient=True, disable=quiet) as bar:
            tasks: dict[str, Any] = {}

            def progress(scope: str, message: str) -> None:
                name = fleet.stack_name(opts.environment, scope)
                if scope not in tasks:
                    tasks[scope] = bar.add_task(name, total=None)
                bar.update(tasks[scope], description=Text(f"{label} {name}: {message}"))

            return fleet.run_fleet(op, settings, tenants, opts, known=known, progress=progress)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail(f"interrupted after {time.monotonic() - started:.0f} s: a stack may be "
                   f"locked mid-{op}; run `pulumi cancel -s {opts.environment}.<tenant>` in "
                   f"<state>/pulumi/workspaces/{opts.environment}.<tenant> if the next run "
                   "says so", 130) from None


def _changes(s: engine.TenantSummary) -> str:
    parts = [f"{sign}{n}" for sign, n in (("+", s.create), ("~", s.update),
                                            ("±", s.replace), ("-", s.delete)) if n]
    return " ".join(parts) or "none"


def print_fleet(result: StacksResult, title: str) -> None:
    """The per-stack table, exemptions, violations and errors, and one verdict line."""
    rows = []
    for r in result.runs:
        s = r.summary()
        outcome = styled(r.outcome, {"ok": "green", "failed": "red"}.get(r.outcome, "yellow"))
        rows.append([r.scope, r.stack, _changes(s), s.same, f"{r.seconds:.1f} s",
                     len(s.exempted), styled(len(s.violations), "red") if s.violations else 0,
                     outcome])
    console.print(table(f"{title} — environment {result.environment} ({result.backend}), "
                        f"{result.parallel} at a time",
                        ["tenant", "stack", "changes", "same", "duration", "exempted",
                         "violations", "outcome"], rows, no_wrap=("stack",)))
    exempted = [(r.scope, e) for r in result.runs if r.result for e in r.result.exempted]
    if exempted:
        console.print(table("Exempted by active exceptions (reported, not blocking)",
                            ["tenant", "resource", "why"],
                            [[e["tenant"], e["resource"] or "-", e["message"]]
                             for _, e in sorted(exempted, key=lambda x: (
                                 x[1]["tenant"], x[1]["resource"] or ""))]))
    violations = [v for r in result.runs if r.result for v in r.result.violations]
    if violations:
        console.print(table("Mandatory policy violations",
                            ["tenant", "policy", "resource", "message"],
                            [[v["tenant"], v["policy"], v["resource"] or "-", v["message"]]
                             for v in violations], no_wrap=("policy",)))
    for r in result.runs:
        for line in r.summary().failed:
            err_console.print(Text.assemble(("failed ", "red"), f"{r.scope}: {line}"))
        if r.error and not r.ok:
            err_console.print(Text.assemble((f"{r.outcome} ", "red"), f"{r.stack}: {r.error}"))
    failed = result.failed
    verdict = ("ok", "green") if not failed else ("failed", "red")
    console.print(Text.assemble(
        verdict, f" in {result.seconds:.1f} s: {len(result.runs)} stack(s), "
                 f"{result.changes} change(s)",
        f"; not ok: {', '.join(r.scope for r in failed)}" if failed else ""))


def _options(stack: str, parallel: int, backend: str | None, shared: bool,
             lock_wait: float = 0.0, refresh: bool = False) -> FleetOptions:
    if "." in stack:
        raise fail(f"--stack {stack!r}: an environment name has no '.' (its stacks are "
                   f"{stack}.shared, {stack}.<tenant>)")
    return FleetOptions(environment=stack, parallel=parallel, backend=backend, shared=shared,
                        lock_wait=lock_wait, refresh=refresh)


@platform_app.command("plan")
def plan_cmd(stack: StackOpt = engine.LAB_STACK, tenant: TenantOpt = None,
             parallel: ParallelOpt = fleet.DEFAULT_PARALLEL, backend: BackendOpt = None,
             lock_wait: LockWaitOpt = 0.0, refresh: RefreshOpt = False, root: RootOpt = None,
             output: OutputOpt = Output.table) -> None:
    """Preview the platform stacks with the policy pack: what would change, per tenant.

    Changes nothing. `--tenant odder` previews only Odder's stack (it locks and reads no
    other tenant's state). `--refresh` reads every object first, as `apply` does. Exit
    code 0 when every plan is allowed (changes or not), 1 when a mandatory policy
    violation or an error would stop `apply` for some tenant.
    """
    settings, tenants, shared, known = _prepare(root, tenant)
    opts = _options(stack, parallel, backend, shared, lock_wait, refresh)
    result = _run("preview", settings, tenants, opts, known, quiet=output is Output.json)
    if output is Output.json:
        print_json(result.to_dict())
    else:
        print_fleet(result, "Plan")
    if not result.ok:
        raise typer.Exit(1)


@platform_app.command("apply")
def apply_cmd(stack: StackOpt = engine.LAB_STACK, tenant: TenantOpt = None,
              parallel: ParallelOpt = fleet.DEFAULT_PARALLEL, backend: BackendOpt = None,
              lock_wait: LockWaitOpt = 0.0, refresh: RefreshOpt = True, root: RootOpt = None,
              yes: YesOpt = False, output: OutputOpt = Output.table) -> None:
    """Show the plan, then apply it (after a yes, or --yes): the shared stack first, then
    the tenants' stacks, --parallel at a time.

    Plan and apply refresh first (every object is read: one stopped or removed by hand
    is put back); --no-refresh trusts the state and is quicker.

    A tenant whose plan is blocked (policy violation, error) is not applied; the others
    are. Outputs go to <state>/pulumi/outputs-<stack>.json (metering) and the results
    store; applied changes to the audit log. Exit code 0 when everything was applied,
    1 when some stack was not.
    """
    settings, tenants, _, known = _prepare(root, tenant)
    quiet = output is Output.json
    opts = _options(stack, parallel, backend, True, lock_wait, refresh)
    _refuse_unmigrated(settings, stack, backend)
    plan = _run("preview", settings, tenants, opts, known, quiet=quiet)
    if not quiet:
        print_fleet(plan, "Plan")
    report: dict[str, Any] = {"plan": plan.to_dict()}
    shared_plan = plan.run(SHARED_TENANT)
    if shared_plan is not None and not shared_plan.ok:
        if quiet:
            print_json({**report, "apply": None})
        raise typer.Exit(1)
    ready = [slug for slug in tenants if (r := plan.run(slug)) is not None and r.ok]
    if not yes:
        if not sys.stdin.isatty():
            raise fail("apply needs --yes when not run from a terminal")
        if not typer.confirm(f"Apply {plan.changes} change(s) to {len(ready) + 1} stack(s) "
                             f"of environment {stack}?"):
            err_console.print("not applied")
            raise typer.Exit(1)
    result = _run("up", settings, ready, opts, known, quiet=quiet)
    for slug in tenants:
        if slug not in ready:
            blocked = plan.run(slug)
            result.runs.append(fleet.StackRun(slug, fleet.stack_name(stack, slug), "skipped",
                                              error="not applied: its plan "
                                                    f"failed ({blocked.error if blocked else '?'})"))
    if quiet:
        print_json({**report, "apply": result.to_dict()})
    else:
        print_fleet(result, "Applied")
        files = {r.result.outputs_file for r in result.runs if r.result and r.result.outputs_file}
        for path in sorted(files):
            console.print(Text(f"outputs: {path}"))
    if not result.ok or not plan.ok:
        raise typer.Exit(1)


@platform_app.command("destroy")
def destroy_cmd(stack: StackOpt = engine.LAB_STACK, tenant: TenantOpt = None,
                parallel: ParallelOpt = fleet.DEFAULT_PARALLEL, backend: BackendOpt = None,
                lock_wait: LockWaitOpt = 0.0, root: RootOpt = None, yes: YesOpt = False,
                output: OutputOpt = Output.table) -> None:
    """Delete the stacks' resources (lab objects included), kept resources too.

    Tenants first, the shared stack last (only when every tenant stack is gone, or when
    named with --tenant shared). Resources kept by an exception are protected; destroy
    lifts that protection first, because it is asked for explicitly. Needs --yes.
    """
    settings, tenants, shared, known = _prepare(root, tenant)
    if not yes:
        raise fail("destroy deletes every platform resource of the stacks (and their lab "
                   "objects); add --yes to do it")
    opts = _options(stack, parallel, backend, shared, lock_wait)
    result = _run("destroy", settings, tenants, opts, known, quiet=output is Output.json)
    if output is Output.json:
        print_json(result.to_dict())
    else:
        print_fleet(result, "Destroyed")
    if not result.ok:
        raise typer.Exit(1)


def _refuse_unmigrated(settings: Settings, stack: str, backend: str | None) -> None:
    from faellesdrift.platform import migrate

    try:
        waiting = migrate.pending(settings, stack, backend)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None
    if waiting:
        raise fail(f"stack {stack} of the single-stack layout still holds the platform; move it "
                   f"into the per-tenant stacks first: faellesdrift pulumi migrate --stack {stack}")


@platform_app.command("migrate")
def migrate_cmd(stack: StackOpt = engine.LAB_STACK, tenant: TenantOpt = None,
                backend: BackendOpt = None, root: RootOpt = None,
                dry_run: Annotated[bool, typer.Option(
                    "--dry-run", help="Only list what would move.")] = False,
                output: OutputOpt = Output.table) -> None:
    """Move the single-stack layout (stack <stack>) into the per-tenant stacks.

    Each tenant's TenantEnvironment and its children move into <stack>.<tenant>, the shared
    services into <stack>.shared (`pulumi state move`: state and ids as they are, nothing
    is replaced or touched outside the state). Safe to run again: what has moved stays
    moved and a stopped run is finished; once everything moved, the empty old stack is
    removed. Then `faellesdrift apply` shows no changes and writes the new outputs.
    """
    from faellesdrift.platform import migrate

    settings, tenants, shared, _ = _prepare(root, tenant)
    only = tuple(tenants) + ((SHARED_TENANT,) if shared else ()) if tenant else ()
    try:
        with err_console.status("migrating", spinner="dots") as status:
            report = migrate.migrate(
                settings, migrate.MigrateOptions(environment=stack, backend=backend,
                                                 dry_run=dry_run, tenants=only),
                progress=lambda message: status.update(Text(message)))
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None
    if output is Output.json:
        print_json(report.to_dict())
        return
    if report.nothing_to_do:
        console.print(Text(f"nothing to migrate: no stack {stack} of the single-stack layout "
                           f"on {report.backend}"))
        return
    console.print(table(f"Migrate — stack {stack} into per-tenant stacks ({report.backend})",
                        ["tenant", "stack", "resources", "status"],
                        [[p.scope, p.stack, p.resources, p.status] for p in report.parts],
                        no_wrap=("stack",)))
    if report.source_removed:
        console.print(Text(f"stack {stack} is empty and removed; run `faellesdrift apply "
                           f"--stack {stack}` (no changes) to write the outputs"))


@platform_app.command("drift")
def drift_cmd(stack: StackOpt = engine.LAB_STACK, tenant: TenantOpt = None,
              parallel: ParallelOpt = fleet.DEFAULT_PARALLEL, backend: BackendOpt = None,
              lock_wait: LockWaitOpt = 0.0, root: RootOpt = None,
              output: OutputOpt = Output.table) -> None:
    """Find objects changed outside Pulumi: `refresh --preview-only` of every stack.

    Each provider reads its objects as they are now (a lab server stopped by hand, a
    device gone) and compares them with the state; nothing is written to the state. The
    result goes to the results store (pulumi.drift) for the report. Exit code 0 when
    nothing drifted, 1 when something did or a stack could not be read.
    """
    settings, tenants, shared, known = _prepare(root, tenant)
    opts = _options(stack, parallel, backend, shared, lock_wait)
    result = _run("drift", settings, tenants, opts, known, quiet=output is Output.json)
    if output is Output.json:
        print_json(result.to_dict())
    else:
        rows = [[r.scope, r.stack, styled(len(r.drift), "red") if r.drift else 0,
                 f"{r.seconds:.1f} s",
                 styled(r.outcome, "green" if r.ok else "red")] for r in result.runs]
        console.print(table(f"Drift — environment {result.environment} ({result.backend})",
                            ["tenant", "stack", "drifted", "duration", "outcome"], rows,
                            no_wrap=("stack",)))
        if result.drift:
            console.print(table("Changed outside Pulumi",
                                ["tenant", "resource", "kind", "status", "what changed"],
                                [[d["tenant"], d["resource"], d["type"], d["status"],
                                  ", ".join(d["keys"]) or "-"] for d in result.drift]))
        for r in result.failed:
            err_console.print(Text.assemble(("failed ", "red"), f"{r.stack}: {r.error}"))
        console.print(Text(f"{len(result.drift)} object(s) drifted in {result.seconds:.1f} s"))
    if result.drift or not result.ok:
        raise typer.Exit(1)
