"""The ``onboard`` command (mounted lazily by the main CLI, see ``faellesdrift.commands``)."""

from __future__ import annotations

from typing import Annotated

import typer

from faellesdrift.commandline import RootOpt, settings_for
from faellesdrift.errors import FaellesdriftError
from faellesdrift.onboarding.flow import onboard
from faellesdrift.ui import console, fail


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
