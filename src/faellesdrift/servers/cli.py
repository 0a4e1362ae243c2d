"""`faellesdrift servers plan|apply` and `faellesdrift verify`: thin wiring to the library.

Mount with ``app.add_typer(servers_app, name="servers")`` and
``app.command("verify")(verify_cmd)``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Self, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from faellesdrift import clock, executors, junit, results
from faellesdrift.commandline import RootOpt, TodayOpt, open_estate
from faellesdrift.errors import FaellesdriftError
from faellesdrift.estate import Estate
from faellesdrift.junit import JunitOpt
from faellesdrift.servers.access import Access
from faellesdrift.servers.hostvars import Selection, select
from faellesdrift.servers.results import Mode, RunResult, ServerResult
from faellesdrift.servers.results import results_payload as run_payload
from faellesdrift.servers.runner import reusable_plan, run
from faellesdrift.servers.verify import HostVerify, VerifyResult, verify
from faellesdrift.servers.verify import results_payload as verify_payload
from faellesdrift.settings import Settings
from faellesdrift.ui import Output, OutputOpt, console, err_console, fail, print_json, styled, table

servers_app = typer.Typer(
    help="Server baseline (time, logging, SSH, admin accounts, monitoring, banner) "
         "with Ansible: plan shows the drift, apply fixes it; facts reads each server's "
         "patch state and end of life.",
    no_args_is_help=True)

TenantOpt = Annotated[list[str] | None, typer.Option(
    "--tenant", "-t", help="Only this tenant's servers (slug); repeat for more.")]
HostOpt = Annotated[list[str] | None, typer.Option(
    "--host", help="Only this server; repeat for more.")]
ForksOpt = Annotated[int | None, typer.Option(
    "--forks", min=1, max=100,
    help="Hosts Ansible works on at once (default: all, within the machine's cores and "
         "memory).")]
ExecutorOpt = Annotated[str, typer.Option(
    "--executor", envvar="FAELLESDRIFT_EXECUTOR",
    help="local (default): from this machine. celery: one run per tenant (Ansible, or "
         "testinfra for verify) on `faellesdrift worker` processes ($FAELLESDRIFT_BROKER_URL), "
         "merged into one result.")]
CanaryOpt = Annotated[int, typer.Option(
    "--canary", min=0, help="Run on this many hosts first; when any of them fails, stop "
         "without touching the others.")]

STATUS_STYLE = {"ok": "green", "changed": "yellow", "failed": "red", "unreachable": "red",
                "not run": "red", "passed": "green", "in sync": "green", "drift": "yellow",
                "patched": "green", "behind": "yellow"}


def _table(title: str, columns: list[str], rows: list[list]) -> Table:
    t = table(title, columns, rows)
    t.columns[0].no_wrap = True  # host names stay whole
    return t


def _out() -> Console:
    """Tables in logs and pipes get room (rich assumes 80 columns off a terminal)."""
    return console if console.is_terminal else Console(width=max(console.width, 160))


def _style(status: str) -> Text:
    return styled(status, STATUS_STYLE.get(status, "white"))


def _prepare(root: Path | None, today: str | None, tenants: list[str] | None,
             hosts: list[str] | None) -> tuple[Settings, Estate, Access, Selection]:
    settings, estate = open_estate(root, today)
    try:
        for slug in tenants or ():  # a misspelt filter is named before the lab is looked for
            estate.tenant(slug)
        for name in hosts or ():
            estate.host(name)
        access = Access.from_lab(settings)
        selection = select(estate, tenants=tenants or (), hosts=hosts or (),
                           reachable=access.servers, connect_user=access.user)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None
    if not selection.targets and not selection.refused:
        raise fail("no servers to run on: "
                   + (f"{len(selection.left_out)} left out ({_left_out_text(selection)})"
                      if selection.left_out else "the filters match none"))
    return settings, estate, access, selection


def _left_out_text(selection: Selection | RunResult | VerifyResult) -> str:
    counts: dict[str, int] = {}
    for reason in selection.left_out.values():
        counts[reason] = counts.get(reason, 0) + 1
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))


# ------------------------------------------------------------------ progress


class _Progress:
    """A live progress bar on stderr while Ansible runs: hosts done / changed / failed."""

    def __init__(self, selection: Selection, mode: Mode) -> None:
        self.mode = mode
        self.hosts = {b.host for b in selection.targets}
        self.done: set[str] = set()
        self.changed: set[str] = set()
        self.failed: set[str] = set()
        self.last = "waiting for the first host"
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
                            TextColumn("{task.fields[last]}"), console=err_console,
                            transient=False)
        self.task = self.bar.add_task(f"servers {mode}: hosts done", total=len(self.hosts),
                                      counts=self._counts(), last=self.last)

    def _counts(self) -> str:
        verb = "would change" if self.mode == "plan" else "changed"
        return f"{verb} {len(self.changed)} · failed {len(self.failed)}"

    def __call__(self, host: str, task: str, state: str) -> None:
        if host not in self.hosts:
            return
        if state == "changed":
            self.changed.add(host)
        elif state in ("failed", "unreachable"):
            self.failed.add(host)
            self.done.add(host)
        elif state in ("finished", "done"):
            self.done.add(host)
        if task:
            self.last = f"{host}: {task[:40]}"
        self.bar.update(self.task, completed=len(self.done), counts=self._counts(),
                        last=self.last)

    def __enter__(self) -> Self:
        if err_console.is_terminal:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def _run(mode: Mode, settings: Settings, access: Access, selection: Selection,
         forks: int | None, quiet: bool) -> RunResult:
    if quiet or not err_console.is_terminal:
        err_console.print(f"servers {mode}: {len(selection.targets)} host(s) "
                          f"({', '.join(selection.tenants)}) via {access.origin}",
                          highlight=False)
        lines = (lambda h, t, s: err_console.print(f"  {h}: {t} ({s})", highlight=False)
                 if s in ("failed", "unreachable") else None)
        try:
            return run(selection, access, settings, mode=mode, forks=forks, on_progress=lines)
        except FaellesdriftError as exc:
            raise fail(str(exc)) from None
    with _Progress(selection, mode) as progress:
        try:
            return run(selection, access, settings, mode=mode, forks=forks,
                       on_progress=progress)
        except FaellesdriftError as exc:
            raise fail(str(exc)) from None


def _execute(mode: Mode, executor: str, settings: Settings, access: Access,
             selection: Selection, forks: int | None, quiet: bool) -> RunResult:
    """The run from this machine, or sharded by tenant on workers (faellesdrift.executors)."""
    try:
        if executors.check_name(executor) == executors.LOCAL:
            return _run(mode, settings, access, selection, forks, quiet)
        hosts = (*selection.names, *(r.host for r in selection.refused))
        request = executors.Request(f"servers.{mode}", settings.root, settings.state_dir,
                                    clock.today(), {"tenants": selection.tenants,
                                                    "hosts": hosts}, {"forks": forks})
        return executors.load(executor).run(request)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None


R = TypeVar("R", RunResult, VerifyResult)


def _part(selection: Selection, hosts: Iterable[str]) -> Selection:
    """The selection narrowed to these hosts (a canary wave)."""
    keep = set(hosts)
    return replace(selection, targets=tuple(b for b in selection.targets if b.host in keep),
                   refused=tuple(r for r in selection.refused if r.host in keep))


def _in_waves(selection: Selection, canary: int, run_part: Callable[[Selection], R],
              resave: Callable[[R, Selection], None]) -> R:
    """``run_part`` on the first ``canary`` hosts, then on the rest unless one of them failed.

    Each wave saves its tenants' results; after two waves the merged run is saved
    again, so a tenant with hosts in both waves has all of them in the results.
    """
    waves: list[R] = []

    def wave(hosts: tuple[str, ...] | None) -> R:
        waves.append(run_part(selection if hosts is None else _part(selection, hosts)))
        return waves[-1]

    names = [*selection.names, *(r.host for r in selection.refused)]
    try:
        result, untouched = executors.in_waves(names, canary, wave, lambda r: not r.ok,
                                               lambda a, b: a.merge(b))
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None
    if untouched:
        bad = sum(not _succeeded(h) for h in result.hosts.values())
        err_console.print(f"[red]canary failed[/] on {bad} of {len(result.hosts)} host(s): "
                          f"stopped; the other {len(untouched)} were not touched",
                          highlight=False)
    elif len(waves) > 1:
        resave(result, _part(selection, result.hosts))
    return result


def _succeeded(h: ServerResult | HostVerify) -> bool:
    return h.succeeded if isinstance(h, ServerResult) else h.status == "passed"


# ------------------------------------------------------------------ output


def _exceptions_text(h: ServerResult) -> str:
    return ", ".join(f"{c} ({x})" for c, x in h.exceptions.items())


def _print_plan(result: RunResult, show_diff: bool) -> None:
    rows = []
    for h in result.hosts.values():
        status = h.status if not h.succeeded else ("drift" if h.changed else "in sync")
        what = h.reason or ", ".join(dict.fromkeys(c.role for c in h.changes))
        rows.append([h.host, h.tenant, _style(status), h.changed, what, _exceptions_text(h)])
    title = "Plan: server baseline (check + diff, nothing changed)"
    if result.reused_from:
        title += f" — made at {result.reused_from}, reused"
    _out().print(_table(title,
                        ["host", "tenant", "status", "would change", "what / why",
                         "exceptions kept"], rows))
    for h in result.hosts.values():
        if not h.changes:
            continue
        console.print(f"[bold]{h.host}[/] would change:", highlight=False)
        for c in h.changes:
            path = f" → {c.path}" if c.path else ""
            console.print(f"  • {c.role}: {c.task}{path}", highlight=False, soft_wrap=True)
            if show_diff and c.diff:
                console.print("    " + c.diff.replace("\n", "\n    "), highlight=False,
                              markup=False)
    _footer(result)


def _print_apply(result: RunResult, show_diff: bool = False) -> None:
    rows = [[h.host, h.tenant, h.ok, h.changed, h.failed, h.unreachable, _style(h.status),
             h.reason or _exceptions_text(h)] for h in result.hosts.values()]
    _out().print(_table("Apply: server baseline",
                        ["host", "tenant", "ok", "changed", "failed", "unreachable", "status",
                         "note (reason or exceptions kept)"], rows))
    for h in result.hosts.values() if show_diff else ():
        if not h.changes:
            continue
        console.print(f"[bold]{h.host}[/] changed:", highlight=False)
        for c in h.changes:
            path = f" → {c.path}" if c.path else ""
            console.print(f"  • {c.role}: {c.task}{path}", highlight=False, soft_wrap=True)
            if c.diff:
                console.print("    " + c.diff.replace("\n", "\n    "), highlight=False,
                              markup=False)
    _footer(result)


def _footer(result: RunResult) -> None:
    s = result.summary()
    names = {"ok": "in sync", "changed": "drift"} if result.mode == "plan" else {}
    parts = [f"{n} {names.get(k, k)}" for k, n in s.items()
             if n or k in ("ok", "changed", "failed")]
    verb = "would change" if result.mode == "plan" else "changed"
    console.print(f"{len(result.hosts)} host(s): {', '.join(parts)}; "
                  f"{result.changed_tasks} task(s) {verb} in {result.elapsed:.1f} s "
                  f"(run {result.run_id})", highlight=False, soft_wrap=True)
    slow = result.slowest()
    if slow["hosts"]:
        console.print("slowest hosts: " + ", ".join(
            f"{h['host']} {h['seconds']:.1f} s" for h in slow["hosts"]) + "; costliest tasks "
            "(all hosts): " + ", ".join(f"{t['task']} {t['seconds']:.1f} s"
                                        for t in slow["tasks"]),
            highlight=False, soft_wrap=True)
    if result.left_out:
        console.print(f"left out: {_left_out_text(result)}", highlight=False)
    if result.error:
        err_console.print(f"[bold red]error:[/] {result.error}", highlight=False)


# ------------------------------------------------------------------ commands


@servers_app.command("plan")
def plan_cmd(root: RootOpt = None, today: TodayOpt = None, tenant: TenantOpt = None,
             host: HostOpt = None, forks: ForksOpt = None,
             executor: ExecutorOpt = executors.LOCAL,
             diff: Annotated[bool, typer.Option("--diff/--no-diff",
                                                help="Show each file's diff.")] = False,
             output: OutputOpt = Output.table) -> None:
    """Show the drift from the baseline (Ansible check + diff mode); changes nothing.

    Exit code 0 when every host was checked (drift or not), 1 when a host
    failed or was unreachable.
    """
    settings, _, access, selection = _prepare(root, today, tenant, host)
    result = _execute("plan", executor, settings, access, selection, forks,
                      output is Output.json)
    if output is Output.json:
        print_json(result.to_dict())
    else:
        _print_plan(result, diff)
    if not result.ok:
        raise typer.Exit(1)


@servers_app.command("apply")
def apply_cmd(root: RootOpt = None, today: TodayOpt = None, tenant: TenantOpt = None,
              host: HostOpt = None, forks: ForksOpt = None,
              executor: ExecutorOpt = executors.LOCAL,
              skip_plan: Annotated[bool, typer.Option(
                  "--skip-plan", help="Apply without showing the plan first.")] = False,
              replan: Annotated[bool, typer.Option(
                  "--replan", help="Check again even when a plan of exactly this run was "
                                   "made moments ago.")] = False,
              diff: Annotated[bool, typer.Option("--diff/--no-diff",
                                                 help="Show each changed file's diff.")] = False,
              yes: Annotated[bool, typer.Option(
                  "--yes", "-y", help="Do not ask before applying (asked only on a terminal)."
              )] = False,
              canary: CanaryOpt = 0,
              output: OutputOpt = Output.table) -> None:
    """Apply the baseline; every changed task goes to the audit log.

    Shows the plan first (unless --skip-plan or --output json) and, on a
    terminal, asks before changing anything (unless --yes). A plan of exactly
    this run (same estate, hosts and playbooks) made in the last minutes by
    `servers plan` is shown instead of checking again (unless --replan). Exit
    code 0 only when every host finished without a failed task.
    """
    settings, _, access, selection = _prepare(root, today, tenant, host)
    quiet = output is Output.json
    if not skip_plan and not quiet:  # JSON is for machines: no preview nobody reads
        planned = None if replan else reusable_plan(selection, access, settings)
        if planned is None:
            planned = _execute("plan", executor, settings, access, selection, forks, quiet)
        _print_plan(planned, show_diff=False)
        if not planned.changed_tasks and planned.ok:
            console.print("nothing to change; applying anyway to confirm", highlight=False)
        if (not yes and sys.stdin.isatty()
                and not typer.confirm(f"Apply to {len(selection.targets)} host(s)?")):
            raise typer.Exit(1)
    result = _in_waves(
        selection, canary,
        lambda part: _execute("apply", executor, settings, access, part, forks, quiet),
        lambda merged, part: results.save(settings, "servers.apply", run_payload(merged, part)))
    if output is Output.json:
        print_json(result.to_dict())
    else:
        _print_apply(result, show_diff=diff)
        console.print(f"audit log: {settings.audit_log}", highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@servers_app.command("facts")
def facts_cmd(root: RootOpt = None, today: TodayOpt = None, tenant: TenantOpt = None,
              host: HostOpt = None, forks: ForksOpt = None,
              output: OutputOpt = Output.table) -> None:
    """Gather each server's patch state and end of life; changes nothing.

    Per server: OS and version, pending updates and how many come from a security
    archive (apt's own simulated upgrade, -s), whether a restart is due
    (/run/reboot-required), the running kernel and its age, and when the OS stops
    getting security updates. Saved for the report (results kind servers.facts, with
    history). Exit code 0 when every server answered, pending updates or not; 1 when
    one was unreachable or its facts could not be read.
    """
    from faellesdrift.servers import facts  # the command's own module, loaded when run

    settings, estate, access, selection = _prepare(root, today, tenant, host)
    if output is not Output.json:
        err_console.print(f"servers facts: {len(selection.targets) + len(selection.refused)} "
                          f"host(s) ({', '.join(selection.tenants)}) via {access.origin}",
                          highlight=False)
    try:
        result = facts.gather(selection, estate, access, settings, forks=forks)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None
    if output is Output.json:
        print_json(result.to_dict())
    else:
        _out().print(_table("Servers: patch state and end of life", list(facts.COLUMNS),
                            [facts.table_row(h, _style) for h in result.hosts.values()]))
        s = result.summary()
        console.print(f"{s['hosts']} host(s): {s['gathered']} gathered, {s['unreachable']} "
                      f"unreachable, {s['failed']} failed; {s['security_pending']} with security "
                      f"updates pending, {s['reboot_required']} waiting for a restart, "
                      f"{s['end_of_life']} at end of life, in {result.elapsed:.1f} s "
                      f"(run {result.run_id})", highlight=False, soft_wrap=True)
        if result.left_out:
            console.print(f"left out: {_left_out_text(result)}", highlight=False)
        if result.error:
            err_console.print(f"[bold red]error:[/] {result.error}", highlight=False)
    if not result.ok:
        raise typer.Exit(1)

def verify_cmd(root: RootOpt = None, today: TodayOpt = None, tenant: TenantOpt = None,
               host: HostOpt = None,
               workers: Annotated[int, typer.Option(
                   "--workers", min=1, max=16, help="pytest processes side by side.")] = 4,
               executor: ExecutorOpt = executors.LOCAL, canary: CanaryOpt = 0,
               output: OutputOpt = Output.table, junit_file: JunitOpt = None) -> None:
    """Check the servers against the baseline with testinfra (tests/infra), per host.

    A host that keeps a local value by exception is checked against that value,
    and the table says so. Exit code 0 only when every check passed.
    """
    settings, _, access, selection = _prepare(root, today, tenant, host)
    if output is not Output.json:
        err_console.print(f"verify: {len(selection.targets)} host(s) "
                          f"({', '.join(selection.tenants)}) with testinfra via "
                          f"{access.origin}", highlight=False)
    result = _in_waves(
        selection, canary, lambda part: _verify(executor, settings, access, part, workers),
        lambda merged, part: results.save(settings, "servers.verify",
                                          verify_payload(merged, part)))
    if output is Output.json:
        print_json(result.to_dict())
    else:
        _print_verify(result)
    junit.save(junit_file, [_verify_suite(result)])
    if not result.ok:
        raise typer.Exit(1)


def _verify(executor: str, settings: Settings, access: Access, selection: Selection,
            workers: int) -> VerifyResult:
    """testinfra from this machine, or one pytest run per tenant on workers."""
    try:
        if executors.check_name(executor) == executors.LOCAL:
            return verify(selection, access, settings, workers=workers)
        hosts = (*selection.names, *(r.host for r in selection.refused))
        request = executors.Request("servers.verify", settings.root, settings.state_dir,
                                    clock.today(), {"tenants": selection.tenants,
                                                    "hosts": hosts}, {"workers": workers})
        return executors.load(executor).run(request)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None


def _verify_suite(result: VerifyResult) -> junit.Suite:
    """One case per host and check; a host that ran no check is an error, one left out
    of the run is skipped with the reason."""
    cases = []
    for h in result.hosts.values():
        where = f"{h.tenant}.{h.host}"
        cases += [junit.Case(where, c.check, c.outcome if c.outcome in ("passed", "skipped")
                             else "failed",
                             c.message.splitlines()[0] if c.message else "",
                             f"{c.control} ({c.source}): {c.message}",
                             output=f"{c.control} checked against {c.source}")
                  for c in h.checks]
        if not h.checks:
            cases.append(junit.Case(where, "verify", "error", h.reason))
    cases += [junit.Case(host, "verify", "skipped", why)
              for host, why in sorted(result.left_out.items())]
    return junit.Suite("verify", tuple(cases))


def _print_verify(result: VerifyResult) -> None:
    rows = []
    for h in result.hosts.values():
        kept = "; ".join(
            f"{k.control} = {json.dumps(k.value)} by {k.exception}"
            f"{' until ' + k.expires if k.expires else ''}"
            f"{'' if k.verified else ' [NOT on the host]'}" for k in h.kept)
        rows.append([h.host, h.tenant, _style(h.status), h.passed, h.failed,
                     kept or "-", h.reason])
    _out().print(_table("Verify: server baseline (testinfra)",
                         ["host", "tenant", "status", "passed", "failed",
                          "kept by exception (checked against it)", "first failure"], rows))
    s = result.summary()
    console.print(f"{len(result.hosts)} host(s): "
                  + ", ".join(f"{n} {k}" for k, n in s.items() if n or k == "passed")
                  + f" in {result.elapsed:.1f} s (report {result.directory})", highlight=False,
                  soft_wrap=True)
    if result.left_out:
        console.print(f"left out: {_left_out_text(result)}", highlight=False)
    for e in result.errors:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False)
