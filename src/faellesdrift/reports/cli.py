"""The ``report`` command (mounted lazily by the main CLI, see ``faellesdrift.commands``).

Thin: parse options, call one library function, print where the report is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from faellesdrift.commandline import RootOpt, TodayOpt, set_today, settings_for, warn
from faellesdrift.errors import FaellesdriftError
from faellesdrift.reports.costs import check_model
from faellesdrift.reports.i18n import DEFAULT, check_language
from faellesdrift.reports.site import build_site
from faellesdrift.ui import Output, OutputOpt, console, fail, print_json


def report_cmd(
    tenant: Annotated[list[str] | None, typer.Option(
        "--tenant", help="Only this municipality (slug); repeat for more. Default: all.")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="Allocation model to show as chosen: per_capita, consumption, hybrid, "
                        "equal_plus_population. Default: the community's default_model.")] = None,
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", help="Where to write the site. Default: <state>/reports/.")] = None,
    lang: Annotated[str, typer.Option(
        "--lang", help="Language of the report: da (Danish) or en (English).")] = DEFAULT,
    root: RootOpt = None, today: TodayOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Write the transparency report (static HTML) and print where its index is.

    Readiness and waves, compliance, exceptions, contracts, costs, coverage gaps
    and the decision log. Sections whose data does not exist yet say which
    command produces it.
    """
    try:  # bad usage (exit 2) before anything is read
        check_language(lang)
        check_model(model)
    except FaellesdriftError as exc:
        raise fail(str(exc), 2) from None
    day = set_today(today)
    settings = settings_for(root)
    try:
        site = build_site(settings, tenants=tenant or None, model=model, output_dir=output_dir,
                          today=day, lang=lang)
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    if output is Output.json:
        print_json({"index": str(site.index), "directory": str(site.directory),
                    "pages": [str(p) for p in site.pages]})
        return
    if site.expired:  # the report flags them on each municipality's page
        warn(site.expired)
    console.print(f"report written: {len(site.pages)} files in {site.directory}", highlight=False)
    console.print(f"open {site.index}", highlight=False, soft_wrap=True)
