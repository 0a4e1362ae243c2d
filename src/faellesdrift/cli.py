"""The `faellesdrift` command: thin wiring from options to library calls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from faellesdrift import __version__, junit
from faellesdrift.commandline import (
    RootOpt,
    TodayOpt,
    failed,
    open_estate,
    set_today,
    settings_for,
)
from faellesdrift.commands import LazyGroup
from faellesdrift.community import STANDARDS_FILE, tenant_files
from faellesdrift.errors import FaellesdriftError
from faellesdrift.estate import Estate, validate
from faellesdrift.findings import has_errors
from faellesdrift.junit import JunitOpt
from faellesdrift.loader import load_model
from faellesdrift.model import Standards
from faellesdrift.scaffold import write_tenant
from faellesdrift.schema import write_schemas
from faellesdrift.ui import Output, OutputOpt, console, fail, narrow, print_json, styled, table

app = typer.Typer(
    cls=LazyGroup,  # adapters' commands are imported when they run (faellesdrift.commands)
    help="Run a shared municipal operations community: tenants, guardrails, local exceptions.",
    no_args_is_help=True, rich_markup_mode="rich", pretty_exceptions_enable=False,
)
tenant_app = typer.Typer(help="Create and inspect tenant definition files.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")

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
                 output: OutputOpt = Output.table, junit_file: JunitOpt = None) -> None:
    """Check the standards and every tenant file against the schema and the guardrails.

    Exit code 0 when there are no errors (warnings allowed), 1 otherwise. Expired
    exceptions are errors here, so CI flags them, but they stop no other command:
    those commands apply the standard value instead ("usable" in the JSON).
    """
    day = set_today(today)
    settings = settings_for(root)
    result = validate(settings.root, day)
    findings = sorted(result.findings, key=lambda f: (f.severity != "error", f.file, f.line or 0))
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if output is Output.json:
        print_json({"ok": result.ok, "usable": result.estate is not None,
                    "errors": errors, "warnings": warnings,
                    "tenants": len(result.estate.tenants) if result.estate else None,
                    "findings": [f.to_dict() for f in findings]})
    else:
        colour = {"error": "red", "warning": "yellow"}
        if findings and narrow():
            for f in findings:  # one per line, as linters print them
                field = f" [{f.field}]" if f.field else ""
                fix = f" — fix: {f.fix}" if f.fix else ""
                console.print(Text.assemble(f"{f.where()}: ",
                                            styled(f.severity, colour[f.severity]),
                                            f" {f.rule} {f.message}{field}{fix}"), soft_wrap=True)
        elif findings:
            console.print(table(
                "Findings", ["severity", "where", "field", "rule", "message", "how to fix"],
                [[styled(f.severity, colour[f.severity]), f.where(), f.field, f.rule,
                  f.message, f.fix] for f in findings],
                no_wrap=("rule",)))
        tenants = f"{len(result.estate.tenants)} tenants, " if result.estate else ""
        verdict = "[green]valid[/]" if result.ok else "[red]invalid[/]"
        console.print(f"{verdict}: {tenants}{errors} error(s), {warnings} warning(s)")
        if not result.ok and result.estate is not None:
            console.print("only expired exceptions are in error: the other commands run and "
                          "apply the standard value on their hosts")
    if junit_file is not None:
        checked = [STANDARDS_FILE] + [str(p.relative_to(settings.root))
                                      for p in tenant_files(settings.root)]
        junit.save(junit_file, [junit.findings_suite(findings, checked)])
    if has_errors(list(findings)):
        raise typer.Exit(1)


@app.command("schema")
def schema_cmd(root: RootOpt = None) -> None:
    """Write JSON Schemas to schemas/ so editors validate tenant files while you type."""
    settings = settings_for(root)
    for path in write_schemas(settings.root / "schemas"):
        console.print(f"wrote {path.relative_to(settings.root)}")


@app.command("exceptions")
def exceptions_cmd(root: RootOpt = None, today: TodayOpt = None,
                   tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug).")] = None,
                   output: OutputOpt = Output.table) -> None:
    """The exception register: every local exception, who approved it and its status."""
    _, estate = open_estate(root, today, note=False)
    try:
        kept = estate.exceptions(estate.tenant(tenant).slug if tenant else None)
    except FaellesdriftError as exc:
        raise fail(str(exc)) from None
    rows = [{
        "tenant": k.tenant, "id": k.record.id, "control": k.record.control,
        "hosts": k.record.hosts, "category": k.record.category,
        "value": _shown(estate, k.record.control, k.record.value),
        "approved_by": k.record.approved_by, "approved_on": k.record.approved_on,
        "expires": k.record.expires, "status": k.status.value,
        "justification": k.record.justification,
    } for k in kept]
    if output is Output.json:
        print_json(rows)
        return
    colour = {"active": "green", "expiring": "yellow", "expired": "red"}
    if narrow():
        for r in rows:
            console.print(Text.assemble(
                f"{r['tenant']} {r['id']} ", styled(r["status"], colour[r["status"]]),
                f" {r['control']} on {', '.join(r['hosts'])}, approved by {r['approved_by']} "
                f"on {r['approved_on']}, expires {r['expires']}"), soft_wrap=True)
    else:
        console.print(table(
            f"Exception register (as of {estate.today})",
            ["tenant", "id", "control", "hosts", "approved by", "approved", "expires", "status"],
            [[r["tenant"], r["id"], r["control"], ", ".join(r["hosts"]), r["approved_by"],
              r["approved_on"], r["expires"], styled(r["status"], colour[r["status"]])]
             for r in rows], no_wrap=("id", "status")))
    counts = {s: sum(r["status"] == s for r in rows) for s in colour}
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()))


def _shown(estate: Estate, control_id: str, value: object) -> object:
    control = estate.standards.control(control_id)
    return control.shown(value) if control else value


@tenant_app.command("new")
def tenant_new(
    code: Annotated[str, typer.Argument(help="Municipality code, e.g. 751 or 0751.")],
    population: Annotated[int, typer.Option(help="Number of citizens (used for settlement).")],
    root: RootOpt = None, today: TodayOpt = None,
) -> None:
    """Scaffold tenants/<slug>.yaml for a municipality, valid from the start."""
    day = set_today(today)
    settings = settings_for(root)
    standards, findings = load_model(settings.root / STANDARDS_FILE, Standards, STANDARDS_FILE)
    if standards is None:
        raise fail(f"{findings[0].one_line()}", 1)
    try:
        path = write_tenant(settings.root, code, population, standards, day)
    except FaellesdriftError as exc:
        raise failed(exc) from None
    console.print(f"wrote {path.relative_to(settings.root)} — add your servers and devices, "
                  "then run `faellesdrift validate`")


@tenant_app.command("import")
def tenant_import(
    code: Annotated[str, typer.Argument(help="Municipality code, e.g. 766 or 0766.")],
    source: Annotated[Path, typer.Option("--from", help="Asset list (.csv, .xlsx) or a "
                                         "NetBox/Nautobot REST export (.json).")],
    mapping: Annotated[Path | None, typer.Option("--map", help="mapping.yaml: which column "
                                                 "is which field, value mappings.")] = None,
    population: Annotated[int | None, typer.Option(help="Citizens; needed when the tenant "
                                                   "has no file yet.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the result, write "
                                          "nothing.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any row was "
                                         "skipped (for scripts that need every row).")] = False,
    root: RootOpt = None, today: TodayOpt = None, output: OutputOpt = Output.table,
) -> None:
    """Import an asset list into tenants/<slug>.yaml (new, or merged keeping comments) and
    print the gap list: every row skipped, fixed, defaulted or kept out, with what to do.

    Exit 0 when the file was written (--dry-run: would be) and validates, even if rows were
    skipped — they are in the gap list; 1 when the result would not validate (nothing is
    written) or, with --strict, when a row was skipped; 2 on bad usage."""
    from faellesdrift.importing.cli import run_import_command

    day = set_today(today)
    run_import_command(settings_for(root), code, source, mapping, population, dry_run,
                       day, output, strict)


def run() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":
    app()
