"""The `faellesdrift` command: thin wiring from options to library calls."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from faellesdrift import __version__
from faellesdrift.community import STANDARDS_FILE
from faellesdrift.errors import FaellesdriftError
from faellesdrift.estate import load_estate, today_from_env, validate
from faellesdrift.findings import has_errors
from faellesdrift.lab.cli import lab_app
from faellesdrift.loader import load_model
from faellesdrift.metering.cli import bill_cmd, meter_app
from faellesdrift.model import Standards
from faellesdrift.network.cli import inventory_app, network_app
from faellesdrift.platform.cli import apply_cmd, plan_cmd, platform_app
from faellesdrift.reports.cli import onboard_cmd, report_cmd
from faellesdrift.scaffold import write_tenant
from faellesdrift.schema import write_schemas
from faellesdrift.servers.cli import servers_app, verify_cmd
from faellesdrift.settings import Settings
from faellesdrift.ui import Output, OutputOpt, console, fail, print_json, table

app = typer.Typer(
    help="Run a shared municipal operations community: tenants, guardrails, local exceptions.",
    no_args_is_help=True, rich_markup_mode="rich", pretty_exceptions_enable=False,
)
tenant_app = typer.Typer(help="Create and inspect tenant definition files.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")

RootOpt = Annotated[
    Path | None,
    typer.Option("--root", envvar="FAELLESDRIFT_ROOT",
                 help="Community repository (holds community.yaml and tenants/). "
                      "Default: the nearest parent of the current directory."),
]
TodayOpt = Annotated[
    str | None,
    typer.Option("--today", help="Evaluate expiries as of this date (YYYY-MM-DD). "
                                 "Default: today, or $FAELLESDRIFT_TODAY."),
]


def _today(raw: str | None) -> date:
    if raw is None:
        return today_from_env()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise fail(f"--today {raw!r}: use the form YYYY-MM-DD") from None


def _settings(root: Path | None) -> Settings:
    try:
        return Settings.from_env(root)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None


def _version(value: bool) -> None:
    if value:
        console.print(f"faellesdrift {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Tenants, guardrails and local exceptions for shared municipal IT operations."""


@app.command("validate")
def validate_cmd(root: RootOpt = None, today: TodayOpt = None,
                 output: OutputOpt = Output.table) -> None:
    """Check the standards and every tenant file against the schema and the guardrails.

    Exit code 0 when there are no errors (warnings allowed), 1 otherwise.
    """
    settings = _settings(root)
    result = validate(settings.root, _today(today))
    findings = sorted(result.findings, key=lambda f: (f.severity != "error", f.file, f.line or 0))
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if output is Output.json:
        print_json({"ok": result.ok, "errors": errors, "warnings": warnings,
                    "tenants": len(result.estate.tenants) if result.estate else None,
                    "findings": [f.to_dict() for f in findings]})
    else:
        if findings:
            console.print(table(
                "Findings", ["severity", "where", "field", "rule", "message", "how to fix"],
                [[f"[red]{f.severity}[/]" if f.severity == "error" else f"[yellow]{f.severity}[/]",
                  f.where(), f.field, f.rule, f.message, f.fix] for f in findings],
                no_wrap=("rule",)))
        tenants = f"{len(result.estate.tenants)} tenants, " if result.estate else ""
        verdict = "[green]valid[/]" if result.ok else "[red]invalid[/]"
        console.print(f"{verdict}: {tenants}{errors} error(s), {warnings} warning(s)")
    if has_errors(list(findings)):
        raise typer.Exit(1)


@app.command("schema")
def schema_cmd(root: RootOpt = None) -> None:
    """Write JSON Schemas to schemas/ so editors validate tenant files while you type."""
    settings = _settings(root)
    for path in write_schemas(settings.root / "schemas"):
        console.print(f"wrote {path.relative_to(settings.root)}")


@app.command("exceptions")
def exceptions_cmd(root: RootOpt = None, today: TodayOpt = None,
                   tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug).")] = None,
                   output: OutputOpt = Output.table) -> None:
    """The exception register: every local exception, who approved it and its status."""
    settings = _settings(root)
    try:
        estate = load_estate(settings.root, _today(today))
        kept = estate.exceptions(estate.tenant(tenant).slug if tenant else None)
    except FaellesdriftError as exc:
        raise fail(f"{exc} — run `faellesdrift validate` for every finding", 1) from None
    rows = [{
        "tenant": k.tenant, "id": k.record.id, "control": k.record.control,
        "hosts": k.record.hosts, "value": k.record.value, "category": k.record.category,
        "approved_by": k.record.approved_by, "approved_on": k.record.approved_on,
        "expires": k.record.expires, "status": k.status.value,
        "justification": k.record.justification,
    } for k in kept]
    if output is Output.json:
        print_json(rows)
        return
    colour = {"active": "green", "expiring": "yellow", "expired": "red"}
    console.print(table(
        f"Exception register (as of {estate.today})",
        ["tenant", "id", "control", "hosts", "approved by", "approved", "expires", "status"],
        [[r["tenant"], r["id"], r["control"], ", ".join(r["hosts"]), r["approved_by"],
          r["approved_on"], r["expires"], f"[{colour[r['status']]}]{r['status']}[/]"]
         for r in rows], no_wrap=("id", "status")))
    counts = {s: sum(r["status"] == s for r in rows) for s in colour}
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()))


@tenant_app.command("new")
def tenant_new(
    code: Annotated[str, typer.Argument(help="Municipality code, e.g. 751 or 0751.")],
    population: Annotated[int, typer.Option(help="Number of citizens (used for settlement).")],
    root: RootOpt = None, today: TodayOpt = None,
) -> None:
    """Scaffold tenants/<slug>.yaml for a municipality, valid from the start."""
    settings = _settings(root)
    standards, findings = load_model(settings.root / STANDARDS_FILE, Standards, STANDARDS_FILE)
    if standards is None:
        raise fail(f"{findings[0].one_line()}", 1)
    try:
        path = write_tenant(settings.root, code, population, standards, _today(today))
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    console.print(f"wrote {path.relative_to(settings.root)} — add your servers and devices, "
                  "then run `faellesdrift validate`")


# -- adapters, in the order of the data flow --------------------------------------
app.add_typer(lab_app, name="lab", help="The local lab: emulated network gear and isolated servers.")
app.command("plan")(plan_cmd)
app.command("apply")(apply_cmd)
app.add_typer(platform_app, name="pulumi")
app.add_typer(inventory_app, name="inventory")
app.add_typer(network_app, name="network")
app.add_typer(servers_app, name="servers")
app.command("verify")(verify_cmd)
app.add_typer(meter_app, name="meter")
app.command("bill")(bill_cmd)
app.command("report")(report_cmd)
app.command("onboard")(onboard_cmd)


def run() -> None:  # pragma: no cover - console entry point
    app()
