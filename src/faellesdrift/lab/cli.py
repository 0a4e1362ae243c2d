"""`faellesdrift lab up | status | down` — thin: parse, call the lab, print.

The main CLI mounts it with `app.add_typer(lab_app, name="lab")`.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from faellesdrift.commandline import open_estate
from faellesdrift.errors import FaellesdriftError
from faellesdrift.lab.core import Lab
from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.plan import plan_from_estate
from faellesdrift.lab.records import LabStatus
from faellesdrift.lab.spec import LabPlan
from faellesdrift.settings import Settings
from faellesdrift.ui import Output, OutputOpt, console, err_console, fail, print_json, styled, table

lab_app = typer.Typer(
    help="The local lab: emulated network devices and isolated Linux servers for the tenants.",
    no_args_is_help=True,
)


def _lab() -> Lab:
    settings = Settings.from_env()
    return Lab(LabPaths.under(settings.state_dir, settings.cache_dir))


@lab_app.command("up")
def up_cmd(
    tenant: Annotated[list[str] | None, typer.Option(
        "--tenant", "-t", help="Only this tenant (slug); repeat for more.")] = None,
    servers_per_tenant: Annotated[int | None, typer.Option(
        help="At most N servers per tenant (default: every server).")] = None,
    reset: Annotated[bool, typer.Option(
        help="Start clean: forget device configs and server disks first.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Only show what the lab would contain.")] = False,
    output: OutputOpt = Output.table,
) -> None:
    """Bring up the lab for the tenants in this repository (again: creates only what is missing)."""
    started = time.monotonic()
    settings, estate = open_estate(None)
    try:
        plan = plan_from_estate(estate, servers_per_tenant, tenant)
        if dry_run:
            _print_plan(plan, output)
            return
        lab = Lab(LabPaths.under(settings.state_dir, settings.cache_dir))
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=err_console, transient=True) as bar:
            task = bar.add_task("lab up", total=None)

            def report(message: str) -> None:
                bar.update(task, description=message)
                err_console.print(f"[dim]{time.monotonic() - started:5.1f}s[/] {message}",
                                  highlight=False)

            lab.progress = report
            status = lab.up(plan, reset=reset)
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    except KeyboardInterrupt:
        raise fail("interrupted: `faellesdrift lab up` continues where this stopped, "
                   "`faellesdrift lab down` removes what was made", 130) from None
    elapsed = time.monotonic() - started
    if output is Output.json:
        print_json({**status.as_dict(), "seconds": round(elapsed, 1)})
        return
    _print_status(status)
    console.print(f"[green]lab up[/] in {elapsed:.1f} s: {len(status.servers)} servers, "
                  f"{len(status.devices)} devices. Try: ssh -F {status.files['ssh_config']} "
                  f"{status.servers[0].name if status.servers else '<server>'}")


@lab_app.command("status")
def status_cmd(
    output: OutputOpt = Output.table,
    ssh_config: Annotated[bool, typer.Option(
        "--ssh-config", help="Print the lab's ssh_config (use with ssh -F).")] = False,
) -> None:
    """What the lab runs and how to reach it. Exit code 1 when something recorded is down."""
    try:
        lab = _lab()
        status = lab.status()
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    if ssh_config:
        if not lab.paths.ssh_config.exists():
            raise fail(f"no {lab.paths.ssh_config}: run `faellesdrift lab up` first", 1)
        typer.echo(lab.paths.ssh_config.read_text(), nl=False)
        return
    if output is Output.json:
        print_json(status.as_dict())
    else:
        _print_status(status)
    down = [s.name for s in status.servers if not s.running] + \
        [d.name for d in status.devices if not d.running]
    if down:
        if output is Output.table:
            err_console.print(f"[red]not running:[/] {', '.join(down)} — run "
                              "`faellesdrift lab up` to repair")
        raise typer.Exit(1)


@lab_app.command("down")
def down_cmd(
    reset: Annotated[bool, typer.Option(
        help="Also forget device configs and server disks.")] = False,
) -> None:
    """Stop and remove every process, namespace, mount and cgroup of the lab."""
    started = time.monotonic()
    try:
        _lab().down(reset=reset)
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    kept = "" if reset else " (device configs and server disks kept; --reset forgets them)"
    console.print(f"[green]lab down[/] in {time.monotonic() - started:.1f} s: nothing left"
                  f"{kept}")


def _print_plan(plan: LabPlan, output: Output) -> None:
    rows = [{"tenant": t.slug, "segment": ", ".join(map(str, t.prefixes)),
             "servers": [s.name for s in t.servers],
             "devices": [f"{d.name} ({d.platform})" for d in t.devices]} for t in plan.tenants]
    if output is Output.json:
        print_json({"tenants": rows, "shared_services": str(plan.services.prefix)})
        return
    console.print(table("Lab plan (nothing changed: --dry-run)",
                        ["tenant", "segment", "servers", "devices"],
                        [[r["tenant"], r["segment"], len(r["servers"]), len(r["devices"])]
                         for r in rows]))
    console.print(f"{len(plan.servers)} servers, {len(plan.devices)} devices, shared services "
                  f"in {plan.services.prefix}")


def _yes(flag: bool) -> Text:
    return styled("up", "green") if flag else styled("down", "red")


def _print_status(status: LabStatus) -> None:
    if not (status.servers or status.devices):
        console.print(f"no lab in {status.state_dir}: run `faellesdrift lab up`")
        return
    if status.servers:
        console.print(table("Servers (ssh -F <ssh_config> <name>)",
                            ["name", "tenant", "address", "ssh", "state", "planted drift"],
                            [[s.name, s.tenant, s.address, f"{s.ssh_host}:{s.ssh_port}",
                              _yes(s.running), ", ".join(s.deviations)]
                             for s in status.servers], no_wrap=("name",)))
    if status.devices:
        console.print(table("Network devices (netmiko: host, port, credentials.json)",
                            ["name", "tenant", "platform", "endpoint", "state",
                             "deviates in"],
                            [[d.name, d.tenant, d.platform, f"{d.host}:{d.port}",
                              _yes(d.running), ", ".join(x.split(":")[0] for x in d.deviations)]
                             for d in status.devices], no_wrap=("name",)))
    daemons = ", ".join(f"{k} {'up' if v else 'down'}" for k, v in status.processes.items())
    console.print(f"daemons: {daemons}; files: {status.files['ssh_config']}, "
                  f"{status.files['credentials']}", highlight=False)
