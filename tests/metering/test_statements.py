"""Closed months, quarters as sums of closed months, and corrections (hand-computed øre)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from faellesdrift.estate import Estate
from faellesdrift.metering.errors import SettlementError, StoreError
from faellesdrift.metering.periods import Period
from faellesdrift.metering.statements import bill_for, close
from faellesdrift.metering.store import Store
from tests.metering.conftest import going_live, with_settlement

OPS = {"server.count": {"pool": "operations", "dkk": 100}}
NOV, DEC = Period.parse("2026-11"), Period.parse("2026-12")


def two_tenants(estate: Estate, today: date) -> Estate:
    """horsens (98,000) and odder (24,000), live all year; 1,200,000 DKK a year → 10,000,000
    øre a month, per capita."""
    e = with_settlement(going_live(estate, ["horsens", "odder"]), {"operations": 1_200_000}, OPS)
    return dataclasses.replace(e, today=today)


def on(estate: Estate, today: date) -> Estate:
    return dataclasses.replace(estate, today=today)


def test_quarter_is_refused_until_every_month_is_closed(estate: Estate, store: Store,
                                                          tmp_path: Path) -> None:
    e = two_tenants(estate, date(2026, 11, 27))
    with pytest.raises(SettlementError, match=r"2026-Q4 is the sum of its closed months, and "
                                              r"2026-10, 2026-11 not closed; 2026-12 in the "
                                              r"future \(today is 2026-11-27\)"):
        bill_for(e, store, Period.parse("2026-Q4"), "per_capita")
    with pytest.raises(SettlementError, match="still open"):
        close(e, store, NOV, "per_capita", tmp_path / "audit.jsonl")

    later = on(e, date(2027, 1, 4))
    close(later, store, Period.parse("2026-10"), "per_capita", tmp_path / "audit.jsonl")
    close(later, store, NOV, "per_capita", tmp_path / "audit.jsonl")
    with pytest.raises(SettlementError, match="2026-12 not closed"):
        bill_for(later, store, Period.parse("2026-Q4"), "per_capita")
    close(later, store, DEC, "per_capita", tmp_path / "audit.jsonl")

    q4 = bill_for(later, store, Period.parse("2026-Q4"), "per_capita")
    months = [bill_for(later, store, Period.parse(m), "per_capita")
              for m in ("2026-10", "2026-11", "2026-12")]
    # each month: horsens 10,000,000 × 98/122 = 8,032,786.88…, odder 1,967,213.11… → the øre
    # left goes to horsens: 8,032,787 / 1,967,213
    for m in months:
        assert [t.amount_ore for t in m.tenants] == [8_032_787, 1_967_213]
    assert [t.amount_ore for t in q4.tenants] == [3 * 8_032_787, 3 * 1_967_213]
    assert q4.total_ore == 30_000_000 == sum(m.total_ore for m in months)
    assert q4.pools_ore == {"operations": 30_000_000}


def test_a_closed_month_never_changes_and_the_next_open_month_corrects(
        estate: Estate, store: Store, tmp_path: Path) -> None:
    audit_log = tmp_path / "audit.jsonl"
    e = two_tenants(estate, date(2026, 12, 3))
    closed = close(e, store, NOV, "per_capita", audit_log)
    assert [t.amount_ore for t in closed.tenants] == [8_032_787, 1_967_213]
    events = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert [(ev["tenant"], ev["result"], ev["change"]["amount_ore"]) for ev in events] == \
        [("horsens", "closed", 8_032_787), ("odder", "closed", 1_967_213)]
    with pytest.raises(SettlementError, match="already closed"):
        close(e, store, NOV, "per_capita", audit_log)
    for row in store.statements("2026-11"):  # the hash is of the stored canonical JSON
        body = json.loads(row["body"])
        assert hashlib.sha256(row["body"].encode()).hexdigest() == row["sha256"]
        assert body["amount_ore"] == row["amount_ore"] and body["model"] == "per_capita"
        assert body["inputs"]["population"] in (98_000, 24_000)

    # a municipality is added later with a go-live in November (viborg, 98,000 citizens)
    added = with_settlement(going_live(estate, ["horsens", "odder", "viborg"]),
                            {"operations": 1_200_000}, OPS)
    added = on(added, date(2027, 1, 4))
    again = bill_for(added, store, NOV, "per_capita")
    assert [(t.slug, t.amount_ore) for t in again.tenants] == \
        [("horsens", 8_032_787), ("odder", 1_967_213)]  # as closed, untouched

    dec = bill_for(added, store, DEC, "per_capita")
    # recomputed November: 98,000 : 24,000 : 98,000 of 10,000,000 → 4,454,545.45 /
    # 1,090,909.09 / 4,454,545.45; the øre left goes to the first of the tie (horsens)
    # → 4,454,546 / 1,090,909 / 4,454,545; corrections: −3,578,241 / −876,304 / +4,454,545
    # December itself is the same split: 4,454,546 / 1,090,909 / 4,454,545
    corr = {t.slug: [(c.for_period, c.amount_ore) for c in t.corrections] for t in dec.tenants}
    assert corr == {"horsens": [("2026-11", -3_578_241)], "odder": [("2026-11", -876_304)],
                    "viborg": [("2026-11", 4_454_545)]}
    assert [t.amount_ore for t in dec.tenants] == [4_454_546 - 3_578_241,
                                                   1_090_909 - 876_304,
                                                   4_454_545 + 4_454_545]
    assert dec.total_ore == 10_000_000 and dec.corrections_ore == 0
    assert "tenants billed: +viborg" in dec.tenant("horsens").corrections[0].what
    assert "not in the closed statement" in dec.tenant("viborg").corrections[0].what
    for t in dec.tenants:
        assert sum(t.by_component.values()) == t.amount_ore

    # December closes with its corrections; January does not book them again
    close(added, store, DEC, "per_capita", audit_log)
    jan = bill_for(on(added, date(2027, 2, 2)), store, Period.parse("2027-01"), "per_capita")
    assert all(not t.corrections for t in jan.tenants)
    assert bill_for(added, store, NOV, "per_capita").tenant("odder").amount_ore == 1_967_213


def test_months_close_in_order(estate: Estate, store: Store, tmp_path: Path) -> None:
    e = two_tenants(estate, date(2027, 1, 4))
    close(e, store, NOV, "per_capita", tmp_path / "audit.jsonl")
    with pytest.raises(SettlementError, match="months close in order.*close 2026-12 next"):
        close(e, store, Period.parse("2026-10"), "per_capita", tmp_path / "audit.jsonl")


def test_statements_are_immutable_in_the_database(estate: Estate, store: Store,
                                                  tmp_path: Path) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    e = two_tenants(estate, date(2026, 12, 3))
    close(e, store, NOV, "per_capita", tmp_path / "audit.jsonl")
    for sql in ("UPDATE settlement_statement SET amount_ore = 0",
                "DELETE FROM settlement_statement", "DELETE FROM settlement_close"):
        with pytest.raises(DBAPIError, match="immutable"), store.engine.begin() as conn:
            conn.execute(text(sql))
    assert bill_for(e, store, NOV, "per_capita").tenant("horsens").amount_ore == 8_032_787
    with pytest.raises(StoreError, match="already closed"):
        store.close_month({"period": "2026-11", "model": "x", "mode": "showback",
                           "closed_at": "now", "who": "t", "total_ore": 0, "body": "{}",
                           "sha256": "0"}, [])
