"""What every command shares: the --root and --today options, loading the estate, exit codes.

Exit codes, the same for every command: 0 everything asked for succeeded;
1 something failed, drifted or is invalid (tenant files included); 2 bad usage
(an option, a date, no community repository here).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from faellesdrift import clock
from faellesdrift.errors import FaellesdriftError, UsageError, ValidationFailed
from faellesdrift.estate import Estate, expired_note, load_estate
from faellesdrift.settings import Settings
from faellesdrift.ui import err_console, fail

INVALID, USAGE = 1, 2

RootOpt = Annotated[Path | None, typer.Option(
    "--root", envvar="FAELLESDRIFT_ROOT",
    help="Community repository (holds community.yaml and tenants/). "
         "Default: the nearest parent of the current directory with community.yaml.")]
TodayOpt = Annotated[str | None, typer.Option(
    "--today", help="Run as of this date (YYYY-MM-DD): expiries, periods and every timestamp "
                    "written. Default: $FAELLESDRIFT_TODAY, else today.")]


def failed(exc: FaellesdriftError) -> typer.Exit:
    """The one line for an error and its exit code: 2 for bad usage, else 1."""
    return fail(str(exc), USAGE if isinstance(exc, UsageError) else INVALID)


def set_today(raw: str | None) -> date:
    """The run's day. ``--today`` moves the one clock for this process and what it starts."""
    try:
        if raw is None:
            return clock.today()
        day = clock.parse_day(raw, "--today")
    except FaellesdriftError as exc:
        raise fail(str(exc), USAGE) from None
    os.environ[clock.ENV] = day.isoformat()
    return day


def settings_for(root: Path | None) -> Settings:
    try:
        settings = Settings.from_env(root)
    except FaellesdriftError as exc:
        raise fail(str(exc), USAGE) from None
    try:
        settings.secure_state_dir()
    except OSError as exc:
        raise fail(f"state directory {settings.state_dir}: {exc.strerror}; set "
                   "FAELLESDRIFT_STATE to a directory you can write", USAGE) from None
    return settings


def open_estate(root: Path | None, today: str | None = None, *, note: bool = True
                ) -> tuple[Settings, Estate]:
    """Settings and the estate for a command, or a one-line error and the shared exit code.

    Expired exceptions never stop a command: they stop applying, and one line on
    stderr names them (``note=False`` leaves that line to the caller).
    """
    day = set_today(today)
    settings = settings_for(root)
    try:
        estate = load_estate(settings.root, day)
    except ValidationFailed as exc:
        raise fail(f"{exc} — run `faellesdrift validate` for every finding", INVALID) from None
    except FaellesdriftError as exc:
        raise fail(str(exc), INVALID) from None
    if note:
        say_expired(estate)
    return settings, estate


def say_expired(estate: Estate) -> None:
    line = expired_note(estate)
    if line:
        warn(line)


def warn(line: str) -> None:
    err_console.print(f"warning: {line}", markup=False, highlight=False, soft_wrap=True)
