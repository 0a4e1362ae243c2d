"""Usage rows and the checks every batch passes before anything is written.

A row is a plain tuple (fast to build, fast to bind; a plain ``tuple`` in UsageRow's
field order is accepted too, which spares bulk collectors a constructor call per row):
quantities are stored as
integer millionths of a unit (``quantity_micro``) so that sums are exact on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple

from faellesdrift.metering.errors import UsageRejected
from faellesdrift.metering.meters import CATALOG, meter

MICRO = 1_000_000
MAX_KEY = 200
MAX_QUANTITY = 1_000_000_000  # units per sample (1 EB of disk); keeps sums within BIGINT
MAX_MICRO = MAX_QUANTITY * MICRO


class UsageRow(NamedTuple):
    key: str  # idempotency key: the same sample always has the same key
    period: str  # YYYY-MM, the month of ``day``
    day: str  # YYYY-MM-DD, when the sample was taken or the event happened
    tenant: str
    meter: str
    subject: str  # the host, device or resource measured
    quantity_micro: int
    unit: str
    source: str  # collector: estate, pulumi:<stack>, audit, bench, ...

    @property
    def quantity(self) -> Decimal:
        return Decimal(self.quantity_micro) / MICRO


def to_micro(quantity: float | Decimal, where: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, (int, float, Decimal)):
        raise UsageRejected(f"{where}: {quantity!r} is not a number; give a number ≥ 0")
    finite = quantity.is_finite() if isinstance(quantity, Decimal) else (
        not isinstance(quantity, float) or math.isfinite(quantity))
    if not finite:
        raise UsageRejected(f"{where}: {quantity!r} is not a finite number; give a number ≥ 0")
    if quantity < 0:
        raise UsageRejected(f"{where}: negative quantity {quantity}; usage is never negative "
                            "(fix the collector's input)")
    if quantity > MAX_QUANTITY:
        raise UsageRejected(f"{where}: quantity {quantity} is more than {MAX_QUANTITY:,} per "
                            "sample; check the unit (fix the collector's input)")
    if isinstance(quantity, int):
        return quantity * MICRO
    return int((Decimal(str(quantity)) * MICRO).to_integral_value())


def usage_row(source: str, day: date | str, tenant: str, meter_name: str, subject: str,
              quantity: float | Decimal, key: str | None = None) -> UsageRow:
    """Build one row; the key defaults to source:day:tenant:meter:subject."""
    m = meter(meter_name)
    d = day if isinstance(day, str) else day.isoformat()
    return UsageRow(key or f"{source}:{d}:{tenant}:{meter_name}:{subject}", d[:7], d, tenant,
                    meter_name, subject, to_micro(quantity, f"{meter_name} of {subject}"),
                    m.unit, source)


def _first(rows: Sequence[UsageRow], bad: Callable[[UsageRow], bool]) -> tuple[int, UsageRow]:
    for i, r in enumerate(rows):
        if bad(r := UsageRow._make(r)):
            return i, r
    raise AssertionError("no offending row")  # pragma: no cover


def check_rows(rows: Sequence[UsageRow], *, today: date,
               tenants: Collection[str] | None = None, where: str = "usage",
               first_row: int = 1) -> None:
    """Reject the whole batch on the first problem, naming the row and the fix.

    Set-based checks keep this cheap for millions of rows.
    """
    if not rows:
        return

    def fail(bad: Callable[[UsageRow], bool],
             message: Callable[[UsageRow], str]) -> UsageRejected:
        i, r = _first(rows, bad)
        return UsageRejected(f"{where} row {i + first_row} (key {r.key!r}): {message(r)}")

    combos = set(map(itemgetter(3, 4, 7, 8), rows))  # tenant, meter, unit, source
    for tenant, name, unit, _source in combos:
        m = CATALOG.get(name)
        if m is None:
            raise fail(lambda r, n=name: r.meter == n,
                       lambda r: f"unknown meter {r.meter!r}; use one of: "
                                 f"{', '.join(sorted(CATALOG))}")
        if unit != m.unit:
            raise fail(lambda r, n=name, u=unit: r.meter == n and r.unit == u,
                       lambda r: f"unit {r.unit!r} for meter {r.meter!r}; the catalog's unit "
                                 f"is {CATALOG[r.meter].unit!r}")
        if tenants is not None and tenant not in tenants:
            raise fail(lambda r, t=tenant: r.tenant == t,
                       lambda r: f"unknown tenant {r.tenant!r}; known: "
                                 f"{', '.join(sorted(tenants))}")
    if not set(map(type, map(itemgetter(6), rows))) <= {int}:
        raise fail(lambda r: type(r.quantity_micro) is not int,
                   lambda r: f"quantity_micro {r.quantity_micro!r} is not an integer")
    if min(map(itemgetter(6), rows)) < 0:
        raise fail(lambda r: r.quantity_micro < 0,
                   lambda r: f"negative quantity {r.quantity}; usage is never negative")
    if max(map(itemgetter(6), rows)) > MAX_MICRO:
        raise fail(lambda r: r.quantity_micro > MAX_MICRO,
                   lambda r: f"quantity {r.quantity} is more than {MAX_QUANTITY:,} per "
                             "sample; check the unit")
    keys = map(itemgetter(0), rows)
    if max(map(len, keys)) > MAX_KEY or min(map(len, map(itemgetter(0), rows))) == 0:
        raise fail(lambda r: not 0 < len(r.key) <= MAX_KEY,
                   lambda r: f"the idempotency key must be 1..{MAX_KEY} characters")
    for period, day in set(map(itemgetter(1, 2), rows)):
        try:
            ok = date.fromisoformat(day).isoformat() == day and day[:7] == period
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise fail(lambda r, p=period, d=day: (r.period, r.day) == (p, d),
                       lambda r: f"day {r.day!r} / period {r.period!r}: the day must be "
                                 "YYYY-MM-DD and the period its YYYY-MM")
    latest = today.isoformat()
    if max(map(itemgetter(2), rows)) > latest:
        raise fail(lambda r: r.day > latest,
                   lambda r: f"day {r.day} (period {r.period}) is in the future; the estate's "
                             f"today is {latest}")
