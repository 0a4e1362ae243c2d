"""`faellesdrift tenant import`: options in, the gap list and an exit code out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape

from faellesdrift import results
from faellesdrift.commandline import failed
from faellesdrift.errors import FaellesdriftError
from faellesdrift.importing.run import ImportResult, run_import
from faellesdrift.settings import Settings
from faellesdrift.ui import Output, console, fail, print_json, table

RESULTS_KIND = "tenant.import"


def run_import_command(settings: Settings, code: str, source: Path, mapping: Path | None,
                       population: int | None, dry_run: bool, day: date, output: Output,
                       strict: bool = False) -> None:
    """Exit 0 when the file was written (or would be, --dry-run) and validates, the gap list
    naming what was left out; 1 when it would not validate, or with ``strict`` when a row
    was skipped."""
    try:
        result = run_import(settings.root, code, source, mapping_file=mapping,
                            population=population, today=day, dry_run=dry_run)
    except ValueError as exc:  # bad usage: file type, a missing option
        raise fail(str(exc), 2) from None
    except FaellesdriftError as exc:
        raise failed(exc) from None
    errors = [f for f in result.findings if f.severity == "error"]
    if result.written:
        results.save(settings, RESULTS_KIND, {"tenants": {result.slug: saved(result, source)}})
    if output is Output.json:
        print_json({**result.to_dict(), "dry_run": dry_run})
    else:
        print_import(result, dry_run)
    if errors or (strict and result.skipped):
        raise typer.Exit(1)


def saved(result: ImportResult, source: Path) -> dict:
    """The results entry the onboarding report reads: the counts and the gap list."""
    return {"ok": not result.skipped, "source": source.name, "counts": result.counts,
            "gaps": [g.to_dict() for g in result.gaps]}


def print_import(result: ImportResult, dry_run: bool) -> None:
    errors = [f for f in result.findings if f.severity == "error"]
    if result.gaps:
        console.print(table("Gap list", ["where", "action", "what"],
                            [[g.ref, g.action, g.message] for g in result.gaps]))
    for f in result.findings:
        console.print(escape(f.one_line()), soft_wrap=True)
    if dry_run:
        console.print(escape(result.diff), highlight=False, soft_wrap=True)
    c = result.counts
    what = (f"{c['servers']} servers, {c['network_devices']} network devices, "
            f"{c['other_assets']} other assets, {c['networks']} networks, {c['endpoints']} "
            f"endpoints from {c['records']} records; {result.skipped} skipped")
    pool = f"; pool {result.pool_allocated} recorded in community.yaml" \
        if result.pool_allocated else ""
    if errors:
        console.print(f"[red]not written[/]: the result would not validate "
                      f"({len(errors)} error(s)); {escape(what)}")
    elif dry_run:
        console.print(f"dry run: would write {result.file}{pool}; {escape(what)}")
    else:
        console.print(f"wrote {result.file}{pool}; {escape(what)}")
    if result.skipped and not errors:
        console.print(f"{result.skipped} row(s) skipped: see the gap list (--strict makes "
                      "that exit 1)", highlight=False)
