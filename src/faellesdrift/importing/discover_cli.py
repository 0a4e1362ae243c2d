"""`faellesdrift discover`: log in to live gear and bring what it says into the tenant file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from faellesdrift import results
from faellesdrift.commandline import RootOpt, TodayOpt, failed, set_today, settings_for
from faellesdrift.errors import FaellesdriftError
from faellesdrift.importing.cli import print_import
from faellesdrift.importing.discover import DEFAULT_WORKERS, DiscoverResult, run_discover
from faellesdrift.ui import Output, OutputOpt, console, fail, print_json, styled, table

out = console if console.is_terminal else Console(width=max(console.width, 160))

RESULTS_KIND = "tenant.discover"
STYLE = {"found": "green", "skipped": "yellow", "unreachable": "red", "failed": "red"}


def discover_cmd(
    code: Annotated[str, typer.Argument(help="Municipality code (766, 0766) or an existing "
                                        "tenant's slug (odder).")],
    address: Annotated[list[str] | None, typer.Option(
        "--address", "-a", help="An address to log in to, optionally with what it is: "
        "'10.41.0.1', '10.41.0.1 cisco_ios', '10.41.10.11 server'. Repeat for more.")] = None,
    targets: Annotated[Path | None, typer.Option(
        "--targets", help="A text file with one such address per line (# comments).")] = None,
    source: Annotated[Path | None, typer.Option(
        "--from", help="Discover the hosts of an asset list (.csv, .xlsx, NetBox .json).")
    ] = None,
    mapping: Annotated[Path | None, typer.Option("--map", help="mapping.yaml for --from.")
                       ] = None,
    target: Annotated[str, typer.Option(
        "--target", help="lab: the lab's emulated gear and servers; estate: the addresses "
        "themselves (port 22); auto: the lab when one is up in the state dir.",
        envvar="FAELLESDRIFT_NETWORK_TARGET")] = "auto",
    workers: Annotated[int, typer.Option("--workers", min=1, max=50, help="Devices read at "
                                         "once.")] = DEFAULT_WORKERS,
    population: Annotated[int | None, typer.Option(help="Citizens; needed when the tenant "
                                                   "has no file yet.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report only; write nothing to "
                                          "the tenant file.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 also when a new host "
                                         "could not be written (gap list).")] = False,
    root: RootOpt = None, today: TodayOpt = None, output: OutputOpt = Output.table,
) -> None:
    """Log in to live gear (netmiko through Nornir for network devices, Ansible facts for
    servers), read platform, model, serial, OS version, interfaces and hostname, and bring
    them into tenants/<slug>.yaml.

    Without addresses it checks every host the tenant file already has. New hosts are merged
    into the file as `tenant import` merges them (comments kept, gap list); for hosts already
    in the file, differences are reported and never written. Device credentials come from
    $FAELLESDRIFT_DEVICE_USER/_PASSWORD or $FAELLESDRIFT_DEVICE_CREDENTIALS (the lab's by
    default), servers are reached with the lab's ssh_config (or as $FAELLESDRIFT_SERVER_USER).
    Windows servers are inventory only: listed as skipped, not logged into.

    Exit code 0 when every host answered and nothing differs from the file; 1 when a host
    was unreachable or failed, a host differs from its entry, or the file would not
    validate (with --strict also when a new host was left out); 2 on bad usage.
    """
    if target not in ("auto", "lab", "estate"):
        raise fail(f"--target {target}: use auto, lab or estate", 2)
    day = set_today(today)
    settings = settings_for(root)
    try:
        result = run_discover(settings, code, addresses=address or [], targets_file=targets,
                              source=source, mapping_file=mapping, mode=target,  # type: ignore[arg-type]
                              workers=workers, population=population, today=day,
                              dry_run=dry_run)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    except FaellesdriftError as exc:
        raise failed(exc) from None
    results.save(settings, RESULTS_KIND, {"tenants": {result.tenant: _saved(result)}})
    imported = result.imported
    errors = [f for f in imported.findings if f.severity == "error"] if imported else []
    if output is Output.json:
        print_json({**result.to_dict(), "dry_run": dry_run})
    else:
        _print(result)
        if imported is not None:
            print_import(imported, dry_run)
    bad = result.unreached or result.differences or errors or (
        strict and imported is not None and imported.skipped)
    if bad:
        raise typer.Exit(1)


def _saved(result: DiscoverResult) -> dict:
    """The results entry the onboarding report reads: per host, what answered and how."""
    hosts = []
    for f in result.found:
        row = {"host": f.target.name or f.hostname or f.target.address,
               "address": f.target.address, "status": f.status, "reason": f.reason,
               "kind": f.kind, "in_file": bool(f.target.name)}
        hosts.append(row)
    return {"ok": not result.unreached and not result.differences, "target": result.mode,
            "hosts": hosts, "differences": [d.to_dict() for d in result.differences],
            "new": result.counts()["new"],
            "written": bool(result.imported and result.imported.written)}


def _print(result: DiscoverResult) -> None:
    rows = []
    for f in result.found:
        what = (f.platform or f.os) if f.status == "found" else ""
        rows.append([f.target.name or "(new)", f.target.address, styled(f.status,
                     STYLE.get(f.status, "white")), f.hostname, what, f.os_version, f.model,
                     f.serial, "" if f.interfaces is None else f.interfaces,
                     f.reason or ", ".join(sorted(set(f.parser.values())))])
    out.print(table("Discovered", ["entry", "address", "status", "hostname", "platform/os",
                                       "version", "model", "serial", "interfaces",
                                       "note / parsed with"], rows))
    if result.differences:
        out.print(table("Differs from the tenant file (not written: decide and edit the "
                            "file)", ["host", "field", "in the file", "live"],
                            [[d.host, d.field, d.in_file, d.found] for d in result.differences]))
    c = result.counts()
    console.print(escape(f"{len(result.found)} host(s) via {result.mode} in "
                         f"{result.seconds:.1f} s: {c['found']} found ({c['new']} new), "
                         f"{c['skipped']} skipped, {c['unreachable']} unreachable, "
                         f"{c['failed']} failed; {c['differences']} difference(s)"),
                  highlight=False)
