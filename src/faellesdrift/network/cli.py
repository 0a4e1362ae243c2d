"""`faellesdrift network …` and `faellesdrift inventory build`: thin wiring to the library.

Mount with ``app.add_typer(network_app, name="network")`` and
``app.add_typer(inventory_app, name="inventory")``.
Exit codes: 0 when everything asked for succeeded; 1 when any device failed
or was unreachable (and, for compliance, when any device is not compliant);
2 for bad options or input.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from faellesdrift import executors, junit, results
from faellesdrift.commandline import RootOpt, TodayOpt, open_estate
from faellesdrift.errors import FaellesdriftError
from faellesdrift.estate import Estate
from faellesdrift.junit import JunitOpt
from faellesdrift.network.backup import backup, squash
from faellesdrift.network.compliance import compliance
from faellesdrift.network.filters import Filters
from faellesdrift.network.intended import intended
from faellesdrift.network.inventory import build
from faellesdrift.network.redact import redact
from faellesdrift.network.remediate import remediate
from faellesdrift.network.results import DeviceResult, FleetResult
from faellesdrift.network.settings import NetworkSettings
from faellesdrift.settings import Settings
from faellesdrift.ui import Output, OutputOpt, console, err_console, fail, print_json, styled, table

network_app = typer.Typer(
    help="Network devices with Nornir + netmiko: backup, intended config, compliance, "
         "remediation that keeps approved local exceptions.",
    no_args_is_help=True)
inventory_app = typer.Typer(help="Nornir and Ansible inventories generated from the estate.",
                            no_args_is_help=True)

TenantOpt = Annotated[list[str] | None, typer.Option(
    "--tenant", "-t", help="Only this tenant's devices (slug); repeat for more.")]
SiteOpt = Annotated[list[str] | None, typer.Option(
    "--site", help="Only devices at this site (as in the tenant file, or its group name such as "
         "raadhuset); repeat for more.")]
RoleOpt = Annotated[list[str] | None, typer.Option(
    "--role", help="Only devices with this role (core, access, firewall, …); repeat for more.")]
PlatformOpt = Annotated[list[str] | None, typer.Option(
    "--platform", help="Only this platform (cisco_ios, cisco_nxos, arista_eos, juniper_junos, "
                       "aruba_aoscx, fortinet); repeat.")]
HostOpt = Annotated[list[str] | None, typer.Option(
    "--host", help="Only this device; repeat for more.")]
TargetOpt = Annotated[str | None, typer.Option(
    "--target", envvar="FAELLESDRIFT_NETWORK_TARGET",
    help="lab: the emulated devices; estate: the management addresses; auto (default): "
         "the lab when it is up, else the estate.")]
WorkersOpt = Annotated[int, typer.Option(
    "--workers", min=1, max=50, help="Devices worked on at once (max 50).")]
ExecutorOpt = Annotated[str, typer.Option(
    "--executor", envvar="FAELLESDRIFT_EXECUTOR",
    help="local (default): in this process. celery: shards by tenant on `faellesdrift worker` "
         "processes ($FAELLESDRIFT_BROKER_URL); the same results, summary and exit code.")]
CanaryOpt = Annotated[int, typer.Option(
    "--canary", min=0, help="Run this many devices first; when any of them fails, stop "
         "without touching the others.")]

# paramiko reports a device that drops the session ("Socket exception: Connection reset")
# on stderr through logging's last-resort handler; the per-host result already says it.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

STATUS_STYLE = {"ok": "green", "changed": "yellow", "failed": "red", "unreachable": "red"}


def _style(status: str) -> Text:
    return styled(status, STATUS_STYLE.get(status, "white"))


def _prepare(root: Path | None, today: str | None, target: str | None, workers: int,
             tenant, site, role, platform, host
             ) -> tuple[Estate, NetworkSettings, Filters, Settings]:
    settings, estate = open_estate(root, today)
    try:
        net = NetworkSettings.from_settings(settings, target=target, workers=workers)
        filters = Filters.of(tenant, site, role, platform, host)
        selected = filters.select(estate)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None
    if not selected:
        raise fail(f"no network device matches {filters.describe()}")
    return estate, net, filters, settings


def _run(what, *args, **kwargs) -> FleetResult:
    try:
        return what(*args, **kwargs)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None


def _execute(what, operation: str, executor: str, canary: int, estate: Estate,
             net: NetworkSettings, filters: Filters, **kwargs) -> FleetResult:
    """The run in this process or on workers (faellesdrift.executors), canary wave first."""
    try:
        executors.check_name(executor)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None

    def wave(hosts: tuple[str, ...] | None) -> FleetResult:
        chosen = filters if hosts is None else replace(filters, hosts=hosts)
        if executor == executors.LOCAL:
            return _run(what, estate, net, chosen, **kwargs)
        network = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(net).items()}
        request = executors.Request(operation, net.root, net.state_dir, estate.today,
                                    asdict(chosen), {"network": network, **kwargs})
        try:
            return executors.load(executor).run(request)
        except FaellesdriftError as exc:
            raise fail(str(exc)) from None

    def merge(first: FleetResult, rest: FleetResult) -> FleetResult:
        both = first.merge(rest)
        both = replace(both, details={**both.details, "filters": filters.describe()})
        if operation == "network.backup":  # one commit per run, canary wave included
            try:
                return squash(net, both, first.details["commit"], rest.details["commit"])
            except FaellesdriftError as exc:
                raise fail(str(exc)) from None
        return both

    names = [h.name for h in filters.select(estate)]
    fleet, untouched = executors.in_waves(names, canary, wave, lambda f: not f.ok, merge)
    if untouched:
        err_console.print(f"[red]canary failed[/] on {len(fleet.failed)} of {len(fleet.hosts)} "
                          f"device(s): stopped; the other {len(untouched)} were not touched",
                          highlight=False)
    return fleet


def _save(settings: Settings, fleet: FleetResult) -> None:
    """Hand the run's per-control verdicts to the reports (``network.compliance``).

    Only the tenants with a device in this run are replaced; a results file that
    cannot be written is a warning, not a failed run (the devices were checked).
    """
    try:
        results.save(settings, "network.compliance", fleet.results_payload())
    except (OSError, FaellesdriftError) as exc:
        err_console.print(f"[yellow]warning:[/] the results for the reports were not saved: "
                          f"{exc}", highlight=False)


def _save_backup(settings: Settings, fleet: FleetResult) -> None:
    """Record each device's backup and its last successful one (``network.backup``)."""
    try:
        results.save(settings, "network.backup",
                     fleet.backup_payload(results.load(settings, "network.backup")))
    except (OSError, FaellesdriftError) as exc:
        err_console.print(f"[yellow]warning:[/] the backup results were not saved: {exc}",
                          highlight=False)


def _announce(command: str, estate: Estate, filters: Filters) -> None:
    n = len(filters.select(estate))
    err_console.print(f"{command}: {n} device(s), {filters.describe()}", highlight=False)


def _fleet_table(fleet: FleetResult, extra: list[str], row) -> None:
    console.print(table(
        f"{fleet.command} (target: {fleet.target})",
        ["device", "tenant", "platform", "status", *extra],
        [[h.host, h.tenant, h.platform, _style(h.status.value), *row(h)] for h in fleet.hosts]))


def _finish(fleet: FleetResult, output: Output, *, failed: bool) -> None:
    if output is Output.json:
        print_json(fleet.to_dict())
    else:
        colour = "red" if failed else "green"
        console.print(f"[{colour}]{fleet.summary()}[/]", highlight=False)
        for h in fleet.failed:
            console.print(f"  [red]{h.host}[/]: {h.status.value}: {escape(h.reason)}", highlight=False)
    if failed:
        raise typer.Exit(1)


def _control_lines(h: DeviceResult) -> list[str]:
    out = []
    for c in h.controls:
        if c.compliant:
            continue
        kept = f" (kept by {c.source})" if c.source != "standard" else ""
        out.append(f"  [bold]{c.control}[/]{kept}")
        out += [f"    [green]+ {escape(redact(line))}[/]".replace("\n", " / ") for line in c.missing]
        out += [f"    [red]- {escape(redact(line))}[/]".replace("\n", " / ") for line in c.extra]
        if c.note:
            out.append(f"    [yellow]{escape(c.note)}[/]")
    return out


def _compliance_suite(fleet: FleetResult) -> junit.Suite:
    """One case per device and control; a device that could not be read is one error."""
    cases = []
    for h in fleet.hosts:
        where = f"{h.tenant}.{h.host}"
        if not h.checked:
            cases.append(junit.Case(where, "compliance", "error", f"{h.status.value}: {h.reason}",
                                    seconds=h.seconds))
            continue
        for c in h.controls:
            kept = f"kept by {c.source}" if c.source != "standard" else "standard"
            body = "\n".join([*(f"+ {redact(line)}" for line in c.missing),
                              *(f"- {redact(line)}" for line in c.extra),
                              *([c.note] if c.note else [])])
            cases.append(junit.Case(where, c.control, "passed" if c.compliant else "failed",
                                    f"{len(c.missing)} missing, {len(c.extra)} extra line(s) "
                                    f"({kept})", body, output=kept))
    return junit.Suite("network compliance", tuple(cases))


# ------------------------------------------------------------------ network


@network_app.command("backup")
def backup_cmd(tenant: TenantOpt = None, site: SiteOpt = None, role: RoleOpt = None,
               platform: PlatformOpt = None, host: HostOpt = None, target: TargetOpt = None,
               workers: WorkersOpt = 20, root: RootOpt = None, today: TodayOpt = None,
               executor: ExecutorOpt = executors.LOCAL, canary: CanaryOpt = 0,
               output: OutputOpt = Output.table) -> None:
    """Read each device's running config into the backup git repo (redacted), one commit."""
    estate, net, filters, settings = _prepare(root, today, target, workers, tenant, site, role,
                                              platform, host)
    _announce("network backup", estate, filters)
    fleet = _execute(backup, "network.backup", executor, canary, estate, net, filters)
    _save_backup(settings, fleet)
    if output is Output.table:
        _fleet_table(fleet, ["result"], lambda h: [h.reason])
        console.print(f"commit {fleet.details.get('commit', '')[:12]} in "
                      f"{fleet.details.get('repository')}", highlight=False)
    _finish(fleet, output, failed=not fleet.ok)


@network_app.command("intended")
def intended_cmd(tenant: TenantOpt = None, site: SiteOpt = None, role: RoleOpt = None,
                 platform: PlatformOpt = None, host: HostOpt = None,
                 show: Annotated[bool, typer.Option(
                     "--show", help="Print each selected device's intended config.")] = False,
                 write: Annotated[bool, typer.Option(
                     "--write/--no-write", help="Write them under <state>/intended.")] = True,
                 root: RootOpt = None, today: TodayOpt = None,
                 output: OutputOpt = Output.table) -> None:
    """Render each device's intended config from the standards and effective control values."""
    estate, net, filters, _ = _prepare(root, today, "estate", 1, tenant, site, role,
                                       platform, host)
    fleet = _run(intended, estate, net, filters, write=write)
    if output is Output.table:
        if show:
            for h in fleet.hosts:
                console.rule(f"{h.host} ({h.platform})")
                console.print(h.details.get("text", h.reason), markup=False, highlight=False)
        else:
            _fleet_table(fleet, ["lines", "exceptions kept", "file"], lambda h: [
                h.details.get("lines", ""), ", ".join(h.exceptions),
                h.details.get("file", h.reason)])
        if write:
            console.print(f"written under {fleet.details.get('directory')}", highlight=False)
    _finish(fleet, output, failed=not fleet.ok)


@network_app.command("compliance")
def compliance_cmd(tenant: TenantOpt = None, site: SiteOpt = None, role: RoleOpt = None,
                   platform: PlatformOpt = None, host: HostOpt = None,
                   target: TargetOpt = None, workers: WorkersOpt = 20, root: RootOpt = None,
                   executor: ExecutorOpt = executors.LOCAL, canary: CanaryOpt = 0,
                   today: TodayOpt = None, output: OutputOpt = Output.table,
                   junit_file: JunitOpt = None) -> None:
    """Per device and control: compliant, or the missing (+) and extra (-) lines.

    Exit 1 when any device is not compliant or could not be read and checked.
    """
    estate, net, filters, settings = _prepare(root, today, target, workers, tenant, site,
                                              role, platform, host)
    _announce("network compliance", estate, filters)
    fleet = _execute(compliance, "network.compliance", executor, canary, estate, net,
                     filters)
    _save(settings, fleet)
    junit.save(junit_file, [_compliance_suite(fleet)])
    if output is Output.table:
        _fleet_table(fleet, ["compliant", "drift in", "exceptions kept"], lambda h: [
            {True: styled("yes", "green"), False: styled("no", "red"),
             None: styled("not checked", "red")}[h.compliant],
            ", ".join(c.control for c in h.controls if not c.compliant),
            ", ".join(h.exceptions)])
        for h in fleet.noncompliant:
            console.print(f"[bold]{h.host}[/] ({h.tenant}):", highlight=False)
            for line in _control_lines(h):
                console.print(line, highlight=False)
    _finish(fleet, output, failed=not fleet.ok or bool(fleet.noncompliant))


@network_app.command("remediate")
def remediate_cmd(tenant: TenantOpt = None, site: SiteOpt = None, role: RoleOpt = None,
                  platform: PlatformOpt = None, host: HostOpt = None,
                  apply: Annotated[bool, typer.Option(
                      "--apply", help="Push, read back and re-check (default: dry run).")
                  ] = False,
                  target: TargetOpt = None, workers: WorkersOpt = 20, root: RootOpt = None,
                  executor: ExecutorOpt = executors.LOCAL, canary: CanaryOpt = 0,
                  today: TodayOpt = None, output: OutputOpt = Output.table) -> None:
    """Dry run (default): the exact lines each device would get. --apply: push and verify.

    Lines kept by an active exception are never removed; an expired exception's
    lines are drift and are removed. Only a re-check that passes counts as remediated.
    """
    estate, net, filters, settings = _prepare(root, today, target, workers, tenant, site,
                                              role, platform, host)
    _announce("network remediate" + (" --apply" if apply else " (dry run)"), estate, filters)
    fleet = _execute(remediate, "network.remediate", executor, canary, estate, net,
                     filters, apply=apply)
    if apply:  # the re-check after the push is a compliance verdict too
        _save(settings, fleet)
    if output is Output.table:
        _fleet_table(fleet, ["result", "exceptions kept"], lambda h: [
            h.reason, ", ".join(h.exceptions)])
        for h in fleet.hosts:
            if h.pushed:
                verb = "pushed" if apply else "would push"
                console.print(f"[bold]{h.host}[/] {verb}:", highlight=False)
                for line in h.pushed:
                    console.print(f"  {line}", markup=False, highlight=False)
        if not apply and any(h.pushed for h in fleet.hosts):
            console.print("dry run: nothing was changed; run again with --apply to push "
                          "(secrets are shown as <redacted>)", highlight=False)
    _finish(fleet, output, failed=not fleet.ok)


# ------------------------------------------------------------------ inventory


@inventory_app.command("build")
def inventory_build_cmd(
    check: Annotated[bool, typer.Option(
        "--check", help="Write nothing; exit 1 when the files in inventory/ are out of date.")
    ] = False,
    root: RootOpt = None, today: TodayOpt = None, output: OutputOpt = Output.table,
) -> None:
    """Write inventory/ (Nornir SimpleInventory + Ansible inventory) from the estate."""
    settings, estate = open_estate(root, today)
    try:
        result = build(estate, settings.root, check=check)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None
    if output is Output.json:
        print_json({"written": result.written, "unchanged": result.unchanged,
                    "differ": result.differ, "ok": not result.differ})
    else:
        for rel in result.written:
            console.print(f"wrote {rel}", highlight=False)
        for rel in result.differ:
            console.print(f"[red]out of date[/]: {rel}", highlight=False)
        if check and not result.differ:
            console.print(f"[green]up to date[/]: {len(result.unchanged)} file(s)")
        elif result.differ:
            console.print("run `faellesdrift inventory build` and commit inventory/")
        elif not result.written:
            console.print(f"unchanged: {len(result.unchanged)} file(s)")
    if result.differ:
        raise typer.Exit(1)
