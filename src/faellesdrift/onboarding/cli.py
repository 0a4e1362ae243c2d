"""The ``onboard`` command (mounted lazily by the main CLI, see ``faellesdrift.commands``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from faellesdrift.commandline import RootOpt, settings_for
from faellesdrift.errors import FaellesdriftError
from faellesdrift.onboarding.flow import onboard
from faellesdrift.onboarding.takeover import SECTIONS, TakeoverReport, build
from faellesdrift.ui import Output, OutputOpt, console, fail, print_json, table


def _command_probe(ctx: typer.Context):
    """Whether the running `faellesdrift` has a sub-command, asked of its own command tree:
    no adapter is imported here and no subprocess is needed."""
    root = ctx.find_root()

    def has(words: tuple[str, ...]) -> bool:
        command = root.command
        for word in words:
            get = getattr(command, "get_command", None)  # only groups have sub-commands
            command = get(root, word) if get else None
            if command is None:
                return False
        return True

    return has


def print_report(report: TakeoverReport) -> None:
    out = console if console.is_terminal else Console(width=max(console.width, 140))
    target = f" (takeover target {report.target})" if report.target else ""
    out.print(f"Onboarding report for {report.tenant}{target}", highlight=False,
              markup=False)
    for section, title in SECTIONS.items():
        items = report.section(section)
        if not items:
            continue
        columns = ["topic", "what"] + ([] if section == "ready" else ["what to do"])
        rows = [[i.topic, i.what] + ([] if section == "ready" else [i.fix]) for i in items]
        out.print(table(f"{title} ({len(items)})", columns, rows))
    verdict = "ready for takeover" if report.ready else (
        f"not ready: {len(report.section('missing'))} missing, "
        f"{len(report.section('decide'))} to decide")
    out.print(f"{report.tenant}: {verdict}", highlight=False, markup=False)


def onboard_cmd(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The municipality to onboard (slug, e.g. odder).")],
    apply: Annotated[bool, typer.Option(
        "--apply", help="Do it: apply, verify, meter and report. Default: plan only.")] = False,
    restart: Annotated[bool, typer.Option(
        "--restart", help="Forget the recorded steps and run every step again.")] = False,
    report: Annotated[bool, typer.Option(
        "--report", help="Only the onboarding report (what is ready, missing, to decide); "
                         "runs no step.")] = False,
    root: RootOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Onboard one municipality: validate → plan → show what will happen → (--apply) apply →
    verify → meter → report; then the onboarding report: what is ready, what is missing and
    what needs an exception or a contract entry before takeover.

    Resumable: steps already done are recorded in <state>/onboarding/<tenant>.json and
    skipped on the next --apply; a failed step runs again. Exit code 0 only when every
    step asked for succeeded. With --report no step runs: exit 0 when the municipality is
    ready for takeover, 1 when something is missing or left to decide.
    """
    settings = settings_for(root)
    if report:
        try:
            takeover = build(settings, tenant)
        except FaellesdriftError as exc:
            raise fail(str(exc), 1) from None
        if output is Output.json:
            print_json(takeover.to_dict())
        else:
            print_report(takeover)
        raise typer.Exit(0 if takeover.ready else 1)
    try:
        outcome = onboard(settings, tenant, apply=apply, restart=restart,
                          probe=_command_probe(ctx),
                          say=lambda line: console.print(line, markup=False, highlight=False,
                                                         soft_wrap=True))
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    console.print(f"onboarding record: {outcome.record}", highlight=False, soft_wrap=True)
    if outcome.report is not None:
        console.print(f"open {outcome.report}", highlight=False, soft_wrap=True)
    try:
        takeover = build(settings, tenant)
    except FaellesdriftError as exc:
        console.print(f"onboarding report: {exc}", highlight=False, markup=False)
    else:
        console.print("")
        print_report(takeover)
    if not outcome.ok:
        raise typer.Exit(1)
