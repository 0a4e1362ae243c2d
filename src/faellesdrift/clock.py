"""The one clock: every "today" and every timestamp the project writes comes from here.

``FAELLESDRIFT_TODAY`` (YYYY-MM-DD) moves the date for tests and what-if runs;
the time of day stays real, so durations and ordering inside a run still hold
and every row a run writes is dated on the day the run evaluates — never a day
the same run would call "in the future".
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from faellesdrift.errors import ConfigError

ENV = "FAELLESDRIFT_TODAY"


def parse_day(raw: str, what: str = ENV) -> date:
    """A YYYY-MM-DD date, or ConfigError naming where it came from."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ConfigError(f"{what} {raw!r}: use the form YYYY-MM-DD") from None


def _override() -> date | None:
    raw = os.environ.get(ENV)
    return parse_day(raw, f"{ENV}=") if raw else None


def now() -> datetime:
    """The current moment (timezone-aware, UTC), on the overridden day when one is set."""
    real = datetime.now(UTC)
    day = _override()
    if day is None:
        return real
    local = real.astimezone()
    return local.replace(year=day.year, month=day.month, day=day.day).astimezone(UTC)


def today() -> date:
    """Today in local time, or ``FAELLESDRIFT_TODAY``."""
    return _override() or datetime.now().date()


def stamp() -> str:
    """An ISO 8601 timestamp (seconds, UTC) for audit events and results."""
    return now().isoformat(timespec="seconds")
