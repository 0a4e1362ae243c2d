"""`faellesdrift plan | apply | destroy` for the platform stack — thin: parse, run, print.

Mounted lazily by the main CLI (``faellesdrift.commands``): ``platform_app`` as
``pulumi`` (plan, apply, destroy) and ``plan_cmd`` / ``apply_cmd`` as the top-level
``plan`` / ``apply``.

Exit codes: 0 the run did what was asked; 1 it ran and failed (a mandatory policy
violation, a resource error, a declined apply); 2 it could not start (bad option,
no Pulumi CLI); invalid tenant files exit 1 as in every command.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from faellesdrift.commandline import RootOpt, open_estate
from faellesdrift.errors import FaellesdriftError
from faellesdrift.platform import engine
from faellesdrift.platform.engine import RunOptions, RunResult
from faellesdrift.settings import Settings
from faellesdrift.ui import Output, OutputOpt, console, err_console, fail, print_json, styled, table

platform_app = typer.Typer(
    help="The platform stack (Pulumi): one TenantEnvironment per tenant, guarded by the "
         "CrossGuard policy pack.", no_args_is_help=True)

StackOpt = Annotated[str, typer.Option(
    "--stack", "-s", envvar="FAELLESDRIFT_STACK",
    help="Pulumi stack (Pulumi.<stack>.yaml). Default: lab.")]
TenantOpt = Annotated[list[str] | None, typer.Option(
    "--tenant", "-t", help="Only this tenant (slug); repeat for more. Default: every tenant.")]
BackendOpt = Annotated[str | None, typer.Option(
    "--backend", help="State backend URL (file://, s3://, postgres://). Default: "
                      "$PULUMI_BACKEND_URL, else file://<state>/pulumi.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]


def _prepare(root: Path | None, stack: str, tenant: list[str] | None, backend: str | None
             ) -> tuple[Settings, RunOptions, list[str], set[str]]:
    settings, estate = open_estate(root)
    unknown = sorted(set(tenant or ()) - set(estate.slugs))
    if unknown:
        raise fail(f"--tenant {', '.join(unknown)}: no such tenant; known: "
                   f"{', '.join(estate.slugs)}")
    chosen = sorted(set(tenant)) if tenant else list(estate.slugs)
    return settings, RunOptions(stack=stack, tenants=tuple(sorted(set(tenant or ()))),
                                backend=backend), chosen, set(estate.slugs)


def _run(op: engine.Op, settings: Settings, opts: RunOptions, tenants: list[str],
         known: set[str], quiet: bool) -> RunResult:
    started = time.monotonic()
    label = {"preview": "plan", "up": "apply", "destroy": "destroy"}[op]
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=err_console, transient=True, disable=quiet) as bar:
            task = bar.add_task(f"{label} {opts.stack}: starting the engine", total=None)

            def progress(message: str, steps: int) -> None:
                bar.update(task, description=f"{label} {opts.stack}: {steps} · {message}")

            result = engine.run(op, settings, opts, known_tenants=known,
                                progress=progress)
        engine.save(settings, result, tenants)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail(f"interrupted after {time.monotonic() - started:.0f} s: the stack may be "
                   f"locked mid-{op}; run `pulumi cancel -s {opts.stack}` if the next run "
                   "says so", 130) from None
    return result


def _print(result: RunResult, tenants: list[str], title: str) -> None:
    rows = []
    for slug in [*tenants, engine.COMMUNITY]:
        t = result.tenants.get(slug)
        if t is None:
            continue
        rows.append([slug, t.create, t.update, t.replace, t.delete, t.same, len(t.exempted),
                     styled(len(t.violations), "red") if t.violations else 0,
                     styled(len(t.failed), "red") if t.failed else 0])
    console.print(table(f"{title} — stack {result.stack} ({result.backend})",
                        ["tenant", "create", "update", "replace", "delete", "same", "exempted",
                         "violations", "failed"], rows))
    if result.exempted:
        console.print(table("Exempted by active exceptions (reported, not blocking)",
                            ["tenant", "resource", "why"],
                            [[e["tenant"], e["resource"] or "-", e["message"]]
                             for e in sorted(result.exempted,
                                             key=lambda e: (e["tenant"], e["resource"] or ""))]))
    if result.violations:
        console.print(table("[red]Mandatory policy violations[/]",
                            ["tenant", "policy", "resource", "message"],
                            [[v["tenant"], v["policy"], v["resource"] or "-", v["message"]]
                             for v in result.violations], no_wrap=("policy",)))
    for slug, t in sorted(result.tenants.items()):
        for line in t.failed:
            err_console.print(f"[red]failed[/] {slug}: {line}", highlight=False)
    tot = result.totals
    verdict = "[green]ok[/]" if result.ok else "[red]failed[/]"
    console.print(f"{verdict} in {result.seconds:.1f} s: {tot['create']} to create, "
                  f"{tot['update']} to update, {tot['replace']} to replace, {tot['delete']} to "
                  f"delete, {tot['same']} unchanged"
                  + (f" — {result.error}" if result.error else ""))


def _changes(result: RunResult) -> int:
    return sum(t.changes for t in result.tenants.values())


@platform_app.command("plan")
def plan_cmd(stack: StackOpt = engine.LAB_STACK, tenant: TenantOpt = None,
             backend: BackendOpt = None, root: RootOpt = None,
             output: OutputOpt = Output.table) -> None:
    """Preview the platform stack with the policy pack: what would change, per tenant.

    Changes nothing. Exit code 0 when the plan is allowed (changes or not), 1 when a
    mandatory policy violation or an error would stop `apply`.
    """
    settings, opts, tenants, known = _prepare(root, stack, tenant, backend)
    result = _run("preview", settings, opts, tenants, known, quiet=output is Output.json)
    if output is Output.json:
        print_json(result.to_dict())
    else:
        _print(result, tenants, "Plan")
    if not result.ok:
        raise typer.Exit(1)


@platform_app.command("apply")
def apply_cmd(stack: StackOpt = engine.LAB_STACK, tenant: TenantOpt = None,
              backend: BackendOpt = None, root: RootOpt = None, yes: YesOpt = False,
              output: OutputOpt = Output.table) -> None:
    """Show the plan, then apply it (after a yes, or --yes) and save the stack outputs.

    Outputs go to <state>/pulumi/outputs-<stack>.json (inventories, metering) and the
    results store; applied changes to the audit log. Exit code 0 when everything was
    applied, 1 otherwise.
    """
    settings, opts, tenants, known = _prepare(root, stack, tenant, backend)
    quiet = output is Output.json
    plan = _run("preview", settings, opts, tenants, known, quiet=quiet)
    if not quiet:
        _print(plan, tenants, "Plan")
    report: dict[str, Any] = {"plan": plan.to_dict()}
    if not plan.ok:
        if quiet:
            print_json({**report, "apply": None})
        raise typer.Exit(1)
    if not yes:
        if not sys.stdin.isatty():
            raise fail("apply needs --yes when not run from a terminal")
        if not typer.confirm(f"Apply {_changes(plan)} change(s) to stack {stack}?"):
            err_console.print("not applied")
            raise typer.Exit(1)
    result = _run("up", settings, opts, tenants, known, quiet=quiet)
    if quiet:
        print_json({**report, "apply": result.to_dict()})
    else:
        _print(result, tenants, "Applied")
        if result.outputs_file:
            console.print(f"outputs: {result.outputs_file}")
    if not result.ok:
        raise typer.Exit(1)


@platform_app.command("destroy")
def destroy_cmd(stack: StackOpt = engine.LAB_STACK, tenant: TenantOpt = None,
                backend: BackendOpt = None, root: RootOpt = None, yes: YesOpt = False,
                output: OutputOpt = Output.table) -> None:
    """Delete the stack's resources (lab objects included), kept resources too.

    Resources kept by an exception are protected; destroy lifts that protection first,
    because it is asked for explicitly. Needs --yes.
    """
    settings, opts, tenants, known = _prepare(root, stack, tenant, backend)
    if not yes:
        raise fail("destroy deletes every platform resource of the stack (and its lab "
                   "objects); add --yes to do it")
    result = _run("destroy", settings, opts, tenants, known, quiet=output is Output.json)
    if output is Output.json:
        print_json(result.to_dict())
    else:
        _print(result, tenants, "Destroyed")
    if not result.ok:
        raise typer.Exit(1)

