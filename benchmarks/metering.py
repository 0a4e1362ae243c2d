"""Metering at scale: 10 million usage rows (25 tenants, a year of daily samples).

Prints ingest rows/s (rows prepared in memory, as a collector hands them over;
the time covers checks + write + rollup + commit), the re-ingest of one month
(every row already stored), and one month's settlement time (read the rollup,
settle one model; and all four models side by side). Targets: ≥ 500,000 rows/s
ingest, settlement of a month under 1 s. Ingest is repeated ``--runs`` times into an
empty store and the median is printed; run it on a quiet machine (the load average
is printed at the end).

Run:  .venv/bin/python benchmarks/metering.py [--db URL] [--batch month|day] [--days 365]
Default store: a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import yaml
from sqlalchemy import text

from faellesdrift.estate import Estate
from faellesdrift.metering.periods import Period
from faellesdrift.metering.settle import compare, settle
from faellesdrift.metering.store import Store, open_store, safe_url
from faellesdrift.metering.usage import UsageRow
from faellesdrift.model import Standards, Tenant
from faellesdrift.municipalities import municipalities

REPO = Path(__file__).resolve().parents[1]
TENANTS = 25
SERVERS = 274  # × 4 meters × 25 tenants × 365 days = 10,001,000 rows
# one meter for each pool of the sample settlement (operations, servers, network, backup)
METERS = (("server.count", "server", 1), ("server.vcpu", "vCPU", 4),
          ("network.port", "port", 48), ("backup.gb", "GB", 400))
START = date(2026, 1, 1)


def bench_estate() -> Estate:
    """25 tenants (real municipality codes) with the sample's standards and settlement."""
    std = Standards.model_validate(yaml.safe_load((REPO / "community.yaml").read_text()))
    template = yaml.safe_load((REPO / "tenants" / "odder.yaml").read_text())
    tenants = []
    for i, code in enumerate(sorted(municipalities())[:TENANTS]):
        data = {**template, "code": code, "slug": f"t{code}",
                "name": municipalities()[code].name,
                "population": max(2_000, int(400_000 / (i + 1) ** 0.9)),
                "exceptions": [], "contracts": [], "servers": [], "network_devices": [],
                "networks": [], "scope": {**template["scope"], "backup": "shared"},
                "onboarding": {"wave": 1, "target": START}}  # live for the whole year
        tenants.append(Tenant.model_validate(data))
    estate = Estate(REPO, std, tuple(sorted(tenants, key=lambda t: t.slug)), date(2026, 12, 31))
    return estate


def day_rows(day: date, slugs: list[str]) -> list[UsageRow]:
    d = day.isoformat()
    p = d[:7]
    return [UsageRow(f"bench:{d}:{t}:{m}:s{s:03d}", p, d, t, m, f"{t}-s{s:03d}", q * 1_000_000,
                     unit, "bench")
            for t in slugs for m, unit, q in METERS for s in range(SERVERS)]


def _empty(store: Store) -> None:
    """Start from an empty store (a PostgreSQL URL is reused between runs)."""
    if store.dialect == "postgresql":
        with store.engine.begin() as conn:
            conn.execute(text("TRUNCATE usage, usage_rollup, usage_batch"))


_FLOOR_WHAT = {"sqlite": "raw sqlite3 500-row INSERTs into an empty WITHOUT ROWID table "
                         "with the same key, one transaction",
               "postgresql": "raw psycopg COPY into a temporary table without an index"}


def _floor(store: Store, groups: dict[str, list[date]], slugs: list[str]) -> float:
    """Rows/s of the bare write path on this machine, for the first batch's rows."""
    from itertools import chain

    rows = [r for d in next(iter(groups.values())) for r in day_rows(d, slugs)]
    cols = "key, period, day, tenant, meter, subject, quantity_micro, unit, source"
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        if store.dialect == "sqlite":
            cur.execute("DROP TABLE IF EXISTS floor_usage")
            cur.execute(f"CREATE TABLE floor_usage ({cols.replace('key', 'key PRIMARY KEY')})"
                        " WITHOUT ROWID")
            n = 500
            stmt = (f"INSERT INTO floor_usage ({cols}) VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * n))
            full = len(rows) // n * n
            t0 = time.perf_counter()
            cur.execute("BEGIN")
            cur.executemany(stmt, (tuple(chain.from_iterable(rows[i:i + n]))
                                   for i in range(0, full, n)))
            cur.execute("COMMIT")
            dt = time.perf_counter() - t0
            cur.execute("DROP TABLE floor_usage")
            return full / dt
        t0 = time.perf_counter()
        cur.execute("CREATE TEMPORARY TABLE floor_usage (key text, period text, day date, "
                    "tenant text, meter text, subject text, quantity_micro bigint, unit text, "
                    "source text)")
        with cur.copy(f"COPY floor_usage ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        raw.commit()
        dt = time.perf_counter() - t0
        cur.execute("DROP TABLE floor_usage")
        raw.commit()
        return len(rows) / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--batch", choices=("month", "day"), default="month",
                    help="one ingest transaction per month (default) or per day")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--runs", type=int, default=3, help="ingest runs (median reported)")
    args = ap.parse_args()

    estate = bench_estate()
    slugs = [t.slug for t in estate.tenants]
    tmp = tempfile.TemporaryDirectory(prefix="fd-bench-")
    days = [START + timedelta(d) for d in range(args.days)]
    groups: dict[str, list[date]] = {}
    for d in days:
        groups.setdefault(d.isoformat()[:7] if args.batch == "month" else d.isoformat(),
                          []).append(d)
    today = date(2026, 12, 31)
    print(f"{TENANTS} tenants × {SERVERS} servers × {len(METERS)} meters × {args.days} days; "
          f"batch: one per {args.batch}; {args.runs} run(s) into an empty store each")
    rates = []
    for run in range(args.runs):
        url = args.db or f"sqlite:///{Path(tmp.name) / f'metering-{run}.db'}"
        store = open_store(url)
        if run == 0:
            print(f"store: {safe_url(url)} ({store.dialect})")
        _empty(store)
        total_rows = gen_s = ingest_s = 0.0
        for ds in groups.values():
            t0 = time.perf_counter()
            rows = [r for d in ds for r in day_rows(d, slugs)]
            t1 = time.perf_counter()
            result = store.ingest(rows, source="bench", today=today)
            t2 = time.perf_counter()
            assert result.inserted == len(rows)
            total_rows += len(rows)
            gen_s += t1 - t0
            ingest_s += t2 - t1
        rates.append(total_rows / ingest_s)
        print(f"  run {run + 1}: {int(total_rows):,} rows in {ingest_s:.1f} s = "
              f"{rates[-1]:,.0f} rows/s  (building the rows in Python: {gen_s:.1f} s, "
              "not counted)", flush=True)
        if run < args.runs - 1:
            store.close()
    print(f"ingest: median {statistics.median(rates):,.0f} rows/s over {args.runs} run(s); "
          f"target 500,000 → {statistics.median(rates) / 500_000:.2f}× the target")

    floor = [_floor(store, groups, slugs) for _ in range(3)]
    print(f"floor (what bounds ingest here): the same rows written with no checks, no rollup, "
          f"no batch record — {_FLOOR_WHAT[store.dialect]}: median "
          f"{statistics.median(floor):,.0f} rows/s")

    month = Period.parse("2026-06" if args.days >= 181 else "2026-01")
    rows = [r for d in days if d.isoformat()[:7] == month.id for r in day_rows(d, slugs)]
    t0 = time.perf_counter()
    again = store.ingest(rows, source="bench", today=today)
    t1 = time.perf_counter()
    assert again.inserted == 0
    print(f"re-ingest of {month.id} ({len(rows):,} rows, all already stored): {t1 - t0:.2f} s, "
          f"0 new")

    for label, fn in (("hybrid", lambda r: settle(estate, month, r, "hybrid")),
                      ("compare (4 models)", lambda r: compare(estate, month, r))):
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            rollup = store.rollup(month.months)
            t1 = time.perf_counter()
            fn(rollup)
            t2 = time.perf_counter()
            runs.append((t2 - t0, t1 - t0, len(rollup)))
        total = statistics.median(r[0] for r in runs)
        read = statistics.median(r[1] for r in runs)
        print(f"settle {month.id}, {label}: {total * 1000:.0f} ms (read {runs[0][2]:,} rollup "
              f"rows {read * 1000:.0f} ms), median of 5; target < 1,000 ms")
    counts = store.counts()
    print(f"store: {counts['rows']:,} rows, {counts['batches']} batches")
    if store.dialect == "sqlite":
        db = Path(str(store.engine.url.database))
        size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
        print(f"sqlite file: {size / 2**20:,.0f} MiB")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    store.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
