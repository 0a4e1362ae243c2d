"""Shared CLI plumbing: output format option, tables, JSON, one-line errors."""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

console = Console()
err_console = Console(stderr=True)


class Output(str, Enum):
    table = "table"
    json = "json"


OutputOpt = Annotated[
    Output, typer.Option("--output", "-o", help="table for people, json for scripts and CI.")
]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def styled(value: object, style: str) -> Text:
    """A table cell or line part with a style; the text itself is never read as markup."""
    return Text(str(value), style=style)


def table(title: str, columns: list[str], rows: list[list[Any]],
          no_wrap: tuple[str, ...] = ()) -> Table:
    """A Rich table of data: cells are shown as they are (``[...]`` is never markup; use
    ``styled`` for colour); columns named in ``no_wrap`` (ids, rule names) are never folded."""
    t = Table(title=title, title_justify="left", show_lines=False)
    for c in columns:
        t.add_column(c, overflow="fold", no_wrap=c in no_wrap)
    for r in rows:
        t.add_row(*(v if isinstance(v, Text) else Text("" if v is None else str(v)) for v in r))
    return t


#: below this width a table of long texts is unreadable: print one line per row instead
COMFORTABLE_WIDTH = 120


def narrow(out: Console | None = None) -> bool:
    return (out or console).width < COMFORTABLE_WIDTH


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear line (the message is data, never markup) and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
