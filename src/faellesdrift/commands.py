"""Adapters' commands, mounted lazily: an adapter is imported only when its command runs.

``faellesdrift --help`` and ``faellesdrift validate`` never import Nornir, Pulumi,
Ansible or SQLAlchemy. The built-in adapters are listed in ``ADAPTERS`` (target and
the one-line help the command list shows); other packages add commands through the
``faellesdrift.commands`` entry point group, as Nornir finds its plugins.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

import click
import typer
from typer.core import TyperGroup

ENTRY_POINTS = "faellesdrift.commands"


@dataclass(frozen=True)
class Lazy:
    target: str  # "module:attribute": a Typer app (a group) or a command function
    help: str


ADAPTERS: dict[str, Lazy] = {  # in the order of the data flow
    "discover": Lazy("faellesdrift.importing.discover_cli:discover_cmd",
                     "Log in to live gear and bring what it reports into a tenant file."),
    "lab": Lazy("faellesdrift.lab.cli:lab_app",
                "The local lab: emulated network gear and isolated servers."),
    "plan": Lazy("faellesdrift.platform.cli:plan_cmd",
                 "Preview the platform stacks (Pulumi) with their policies, per tenant."),
    "apply": Lazy("faellesdrift.platform.cli:apply_cmd",
                  "Apply the platform stacks (Pulumi), tenants in parallel: shows the plan first."),
    "pulumi": Lazy("faellesdrift.platform.cli:platform_app",
                   "The platform stacks (Pulumi): plan, apply, destroy, drift, migrate."),
    "inventory": Lazy("faellesdrift.network.cli:inventory_app",
                      "Nornir and Ansible inventories generated from the estate."),
    "network": Lazy("faellesdrift.network.cli:network_app",
                    "Network devices: backup, intended config, compliance, remediation."),
    "servers": Lazy("faellesdrift.servers.cli:servers_app",
                    "Servers: the baseline with Ansible (plan, apply), patch state (facts)."),
    "verify": Lazy("faellesdrift.servers.cli:verify_cmd",
                   "Verify the servers with testinfra against their effective values."),
    "meter": Lazy("faellesdrift.metering.cli:meter_app",
                  "Collect per-tenant usage into the metering database and show it."),
    "bill": Lazy("faellesdrift.metering.cli:bill_app",
                 "Settlement: spread the community's costs under an allocation model."),
    "report": Lazy("faellesdrift.reports.cli:report_cmd",
                   "Write the transparency report (static HTML)."),
    "onboard": Lazy("faellesdrift.onboarding.cli:onboard_cmd",
                    "Onboard one municipality: validate, plan, apply, verify, meter, report."),
    "review": Lazy("faellesdrift.delivery.cli:review_cmd",
                   "What a change does (pull request): changes, plans, cost, approvals."),
    "codeowners": Lazy("faellesdrift.delivery.cli:codeowners_cmd",
                       "CODEOWNERS (GitHub/GitLab) from the tenant files' approvers."),
    "deliver": Lazy("faellesdrift.delivery.cli:deliver_cmd",
                    "Deliver a merged change to the affected tenants, verify, audit."),
    "worker": Lazy("faellesdrift.distributed.cli:worker_cmd",
                   "A Celery worker for network and server runs (--executor celery)."),
}


@cache
def _plugins() -> dict[str, Lazy]:
    """Commands other installed packages register (their own help shows once loaded)."""
    return {ep.name: Lazy(ep.value, "(plugin)") for ep in entry_points(group=ENTRY_POINTS)
            if ep.name not in ADAPTERS}


def _known() -> dict[str, Lazy]:
    return {**ADAPTERS, **_plugins()}


def _reflowed(text: str | None) -> str | None:
    """A docstring's paragraphs as single lines, so the terminal wraps them (Typer keeps
    the source's line breaks after the first paragraph). Lists and ``\\b`` blocks stay."""
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        p if p.startswith("\b") or any(line.lstrip().startswith(("-", "*", "|")) or
                                       line.startswith(" ") for line in p.splitlines())
        else " ".join(line.strip() for line in p.splitlines())
        for p in paragraphs)


def reflow_help(command: click.Command) -> click.Command:
    """Reflow the help of a command and of every subcommand below it."""
    command.help = _reflowed(command.help)
    for sub in getattr(command, "commands", {}).values():
        reflow_help(sub)
    return command


def _load(name: str, lazy: Lazy) -> click.Command:
    module, _, attribute = lazy.target.partition(":")
    obj = getattr(importlib.import_module(module), attribute)
    if isinstance(obj, typer.Typer):
        command: click.Command = typer.main.get_group(obj)
    else:
        single = typer.Typer(rich_markup_mode="rich")
        single.command(name)(obj)
        command = typer.main.get_command(single)
    command.name = name
    return reflow_help(command)


class LazyGroup(TyperGroup):
    """A Typer group whose adapter commands are imported on first use.

    While the command list is printed (``--help``), lazy commands are shown from
    their one-line help without importing anything.
    """

    _listing = False
    _loaded: dict[str, click.Command]

    def list_commands(self, ctx: click.Context) -> list[str]:
        own = super().list_commands(ctx)
        return own + [name for name in _known() if name not in own]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return reflow_help(command)
        lazy = _known().get(cmd_name)
        if lazy is None:
            return None
        if self._listing:
            return click.Command(cmd_name, help=lazy.help, short_help=lazy.help)
        loaded = self.__dict__.setdefault("_loaded", {})
        if cmd_name not in loaded:
            loaded[cmd_name] = _load(cmd_name, lazy)
        return loaded[cmd_name]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
