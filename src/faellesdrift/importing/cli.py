"""`faellesdrift tenant import`: options in, the gap list and an exit code out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape

from faellesdrift.errors import FaellesdriftError
from faellesdrift.importing.run import run_import
from faellesdrift.ui import Output, console, fail, print_json, table


def run_import_command(root: Path, code: str, source: Path, mapping: Path | None,
                       population: int | None, dry_run: bool, day: date, output: Output) -> None:
    try:
        result = run_import(root, code, source, mapping_file=mapping, population=population,
                            today=day, dry_run=dry_run)
    except ValueError as exc:  # bad usage: file type, a missing option
        raise fail(str(exc), 2) from None
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    errors = [f for f in result.findings if f.severity == "error"]
    if output is Output.json:
        print_json({**result.to_dict(), "dry_run": dry_run})
    else:
        if result.gaps:
            console.print(table("Gap list", ["where", "action", "what"],
                                [[g.ref, g.action, g.message] for g in result.gaps]))
        for f in result.findings:
            console.print(escape(f.one_line()), soft_wrap=True)
        if dry_run:
            console.print(escape(result.diff), highlight=False, soft_wrap=True)
        c = result.counts
        what = (f"{c['servers']} servers, {c['network_devices']} network devices, "
                f"{c['networks']} networks, {c['endpoints']} endpoints from {c['records']} "
                f"records; {result.skipped} skipped")
        pool = f"; pool {result.pool_allocated} recorded in community.yaml" \
            if result.pool_allocated else ""
        if errors:
            console.print(f"[red]not written[/]: the result would not validate "
                          f"({len(errors)} error(s)); {escape(what)}")
        elif dry_run:
            console.print(f"dry run: would write {result.file}{pool}; {escape(what)}")
        else:
            console.print(f"wrote {result.file}{pool}; {escape(what)}")
    if errors or result.skipped:
        raise typer.Exit(1)
