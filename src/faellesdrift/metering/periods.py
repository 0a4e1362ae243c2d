"""Settlement periods: a month (2027-01), a quarter (2027-Q1) or a year (2027).

Usage is collected and stored per month, and a month is the unit of settlement;
a quarter or a year is the sum of its closed months. Each month's share of a yearly pool is rounded cumulatively, so the
twelve months of a year add up to the yearly pool to the øre.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from faellesdrift.metering.errors import UsageRejected

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    first_month: int  # 1..12
    months_count: int  # 1, 3 or 12

    @classmethod
    def parse(cls, text: str, what: str = "--period") -> Period:
        raw = text.strip()
        if m := _MONTH.match(raw):
            return cls(int(m[1]), int(m[2]), 1)
        if m := _QUARTER.match(raw):
            return cls(int(m[1]), 3 * int(m[2]) - 2, 3)
        if m := _YEAR.match(raw):
            return cls(int(m[1]), 1, 12)
        raise UsageRejected(
            f"{what} {text!r} is not a period: use a month (2027-01), a quarter (2027-Q1) "
            "or a year (2027)")

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls(day.year, day.month, 1)

    @property
    def id(self) -> str:
        if self.months_count == 1:
            return f"{self.year}-{self.first_month:02d}"
        if self.months_count == 3:
            return f"{self.year}-Q{(self.first_month + 2) // 3}"
        return f"{self.year}"

    def __str__(self) -> str:
        return self.id

    @property
    def is_month(self) -> bool:
        return self.months_count == 1

    @property
    def months(self) -> tuple[str, ...]:
        return tuple(f"{self.year}-{m:02d}"
                     for m in range(self.first_month, self.first_month + self.months_count))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def month_periods(self) -> tuple[Period, ...]:
        return tuple(Period(self.year, m, 1)
                     for m in range(self.first_month, self.first_month + self.months_count))

    def next_month(self) -> Period:
        last = self.first_month + self.months_count - 1
        return Period(self.year + 1, 1, 1) if last == 12 else Period(self.year, last + 1, 1)

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        last = self.first_month + self.months_count - 1
        return date(self.year, last, calendar.monthrange(self.year, last)[1])

    def check_not_future(self, today: date, what: str = "--period") -> None:
        if self.start > today:
            raise UsageRejected(
                f"{what} {self.id} is in the future (the estate's today is {today}); "
                f"use {Period.month_of(today).id} or earlier, or set FAELLESDRIFT_TODAY")

    def share_ore(self, yearly_ore: int) -> int:
        """This period's part of a yearly amount, cumulatively rounded per month (half up)."""

        def cumulative(months: int) -> int:
            return (2 * yearly_ore * months + 12) // 24

        end = self.first_month + self.months_count - 1
        return cumulative(end) - cumulative(self.first_month - 1)
