"""Commands of the reports package: ``report`` and ``onboard`` (wired into the main CLI).

Thin: parse options, call one library function, print one line per outcome,
turn the result into an exit code. Wire with::

    from faellesdrift.reports.cli import onboard_cmd, report_cmd
    app.command("report")(report_cmd)
    app.command("onboard")(onboard_cmd)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from faellesdrift.commandline import RootOpt, TodayOpt, say_expired, set_today, settings_for
from faellesdrift.errors import FaellesdriftError
from faellesdrift.estate import validate
from faellesdrift.reports.onboard import onboard
from faellesdrift.reports.site import build_site
from faellesdrift.ui import Output, OutputOpt, console, fail, print_json


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


def report_cmd(
    tenant: Annotated[list[str] | None, typer.Option(
        "--tenant", help="Only this municipality (slug); repeat for more. Default: all.")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="Allocation model to show as chosen: per_capita, consumption, hybrid, "
                        "equal_plus_population. Default: the community's default_model.")] = None,
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", help="Where to write the site. Default: <state>/reports/.")] = None,
    root: RootOpt = None, today: TodayOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Write the transparency report (static HTML) and print where its index is.

    Readiness and waves, compliance, exceptions, contracts, costs, coverage gaps
    and the decision log. Sections whose data does not exist yet say which
    command produces it.
    """
    day = set_today(today)
    settings = settings_for(root)
    try:
        site = build_site(settings, tenants=tenant or None, model=model, output_dir=output_dir,
                          today=day)
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    if output is Output.json:
        print_json({"index": str(site.index), "directory": str(site.directory),
                    "pages": [str(p) for p in site.pages]})
        return
    result = validate(settings.root, day)
    if result.estate is not None:
        say_expired(result.estate)  # the report flags them on each municipality's page
    console.print(f"report written: {len(site.pages)} files in {site.directory}", highlight=False)
    console.print(f"open {site.index}", highlight=False, soft_wrap=True)


def onboard_cmd(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The municipality to onboard (slug, e.g. odder).")],
    apply: Annotated[bool, typer.Option(
        "--apply", help="Do it: apply, verify, meter and report. Default: plan only.")] = False,
    restart: Annotated[bool, typer.Option(
        "--restart", help="Forget the recorded steps and run every step again.")] = False,
    root: RootOpt = None,
) -> None:
    """Onboard one municipality: validate → plan → show what will happen → (--apply) apply →
    verify → meter → report.

    Resumable: steps already done are recorded in <state>/onboarding/<tenant>.json and
    skipped on the next --apply; a failed step runs again. Exit code 0 only when every
    step asked for succeeded.
    """
    settings = settings_for(root)
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
    if not outcome.ok:
        raise typer.Exit(1)
