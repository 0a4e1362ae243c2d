"""The store on SQLite and on a real PostgreSQL server: idempotent, transactional ingest."""

from __future__ import annotations

from datetime import date

import pytest

from faellesdrift.metering.errors import StoreError, UsageRejected
from faellesdrift.metering.store import Store, open_store
from faellesdrift.metering.usage import UsageRow, usage_row

TODAY = date(2026, 11, 27)
TENANTS = {"aarhus", "odder"}


def rows(n: int, day: str = "2026-11-01", tenant: str = "aarhus", q: float = 4) -> list[UsageRow]:
    return [usage_row("test", day, tenant, "server.vcpu", f"h{i:04d}", q) for i in range(n)]


def state(store: Store) -> tuple:
    return store.counts(), sorted(store.rollup(["2026-11"]), key=lambda r: (r.tenant, r.subject))


def test_reingest_never_doubles(store: Store) -> None:
    first = store.ingest(rows(50), source="test", today=TODAY, tenants=TENANTS)
    assert (first.offered, first.inserted) == (50, 50)
    before = state(store)
    again = store.ingest(rows(50), source="test", today=TODAY, tenants=TENANTS)
    assert (again.inserted, again.duplicates) == (0, 50)
    counts, rollup = state(store)
    assert counts["rows"] == 50 == counts["rollup_samples"]
    assert rollup == before[1]


def test_partial_overlap_and_repeats_inside_a_batch(store: Store) -> None:
    store.ingest(rows(10), source="test", today=TODAY)
    batch = rows(15) + rows(15)[10:] + rows(3, day="2026-11-02", q=2)  # 5 new, 5 repeated, 3 new
    result = store.ingest(batch, source="test", today=TODAY)
    assert result.inserted == 8
    counts, rollup = state(store)
    assert counts["rows"] == 18 == counts["rollup_samples"]
    h0 = next(r for r in rollup if r.subject == "h0000")
    assert (h0.total_micro, h0.samples) == (6_000_000, 2)  # 4 on the 1st, 2 on the 2nd


def test_quantities_are_exact(store: Store) -> None:
    store.ingest([usage_row("t", "2026-11-01", "odder", "backup.gb", "v", 0.1),
                  usage_row("t", "2026-11-02", "odder", "backup.gb", "v", 0.2)],
                 source="t", today=TODAY)
    (r,) = store.rollup(["2026-11"])
    assert (r.total_micro, r.samples) == (300_000, 2)


@pytest.mark.parametrize(("bad", "message"), [
    (lambda r: r._replace(meter="server.cpu"), "unknown meter 'server.cpu'"),
    (lambda r: r._replace(quantity_micro=-1), "negative quantity"),
    (lambda r: r._replace(day="2026-12-01", period="2026-12"), "is in the future"),
    (lambda r: r._replace(tenant="ikast"), "unknown tenant 'ikast'"),
    (lambda r: r._replace(unit="GB"), "the catalog's unit is 'vCPU'"),
    (lambda r: r._replace(period="2026-10"), "the day must be YYYY-MM-DD and the period its"),
], ids=["meter", "negative", "future", "tenant", "unit", "period"])
def test_bad_input_writes_nothing(store: Store, bad, message: str) -> None:
    batch = rows(20)
    batch[7] = bad(batch[7])
    with pytest.raises(UsageRejected, match=message) as info:
        store.ingest(batch, source="test", today=TODAY, tenants=TENANTS)
    assert "row 8" in str(info.value)
    assert store.counts() == {"rows": 0, "batches": 0, "rollup_samples": 0}


def test_negative_quantity_at_construction() -> None:
    with pytest.raises(UsageRejected, match="negative quantity -3"):
        usage_row("t", "2026-11-01", "odder", "server.vcpu", "h", -3)


def test_migrations_run_once_and_reopen(store_url: str) -> None:
    open_store(store_url).close()
    s = open_store(store_url)
    s.ingest(rows(3), source="t", today=TODAY)
    s.close()
    s = open_store(store_url)
    assert s.counts()["rows"] == 3
    s.close()


def test_bad_urls_are_one_line() -> None:
    with pytest.raises(StoreError, match="not supported"):
        open_store("mysql://x@localhost/db")
    with pytest.raises(StoreError, match="cannot open the metering database"):
        open_store("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
