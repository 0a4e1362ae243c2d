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
from faellesdrift.metering.store import Store, check_and_sum, open_store, safe_url
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
    """One day's rows as plain tuples in UsageRow's field order (no per-row object: a
    collector building millions of rows saves the NamedTuple constructor call)."""
    d = day.isoformat()
    p = d[:7]
    return [(f"bench:{d}:{t}:{m}:s{s:03d}", p, d, t, m, f"{t}-s{s:03d}", q * 1_000_000,
             unit, "bench")
            for t in slugs for m, unit, q in METERS for s in range(SERVERS)]


def _empty(store: Store) -> None:
    """Start from an empty store (a PostgreSQL URL is reused between runs)."""
    if store.dialect == "postgresql":
        with store.engine.begin() as conn:
            conn.execute(text("TRUNCATE usage, usage_rollup, usage_batch"))


_FLOOR_WHAT = {"sqlite": "raw sqlite3 500-row INSERTs into an empty WITHOUT ROWID table "
                         "with the same key, in a fresh file with the store's settings",
               "postgresql": "raw psycopg binary COPY into an empty logged table with the same "
                             "primary key (COLLATE \"C\")"}


class Floor:
    """The bare write path, batch by batch: the same rows into an empty table with the same
    key (SQLite: a fresh file with the store's settings), one transaction per batch, no
    checks, no rollup, no batch record. Interleaved with ingest, so both see the same load."""

    COLS = "key, period, day, tenant, meter, subject, quantity_micro, unit, source"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.engine.connect()
        self.raw = self.conn.connection.driver_connection
        cur = self.raw.cursor()
        cur.execute("DROP TABLE IF EXISTS floor_usage")
        if store.dialect == "sqlite":
            cur.execute(f"CREATE TABLE floor_usage ({self.COLS.replace('key', 'key PRIMARY KEY')})"
                        " WITHOUT ROWID")
        else:
            cur.execute('CREATE TABLE floor_usage (key varchar(200) COLLATE "C" PRIMARY KEY, '
                        "period text, day date, tenant text, meter text, subject text, "
                        "quantity_micro bigint, unit text, source text)")
            self.raw.commit()

    def write(self, rows: list[UsageRow]) -> None:
        from itertools import chain

        cur = self.raw.cursor()
        if self.store.dialect == "sqlite":
            n = 500
            stmt = (f"INSERT INTO floor_usage ({self.COLS}) VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * n))
            full = len(rows) // n * n
            cur.execute("BEGIN")
            cur.executemany(stmt, (tuple(chain.from_iterable(rows[i:i + n]))
                                   for i in range(0, full, n)))
            if full < len(rows):
                rest = rows[full:]
                cur.execute(stmt.split(" VALUES ")[0] + " VALUES " + ", ".join(
                    ["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rest)),
                    tuple(chain.from_iterable(rest)))
            cur.execute("COMMIT")
            return
        days = {d: date.fromisoformat(d) for d in {r[2] for r in rows}}
        with cur.copy(f"COPY floor_usage ({self.COLS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["text", "text", "date", "text", "text", "text", "int8", "text",
                            "text"])
            for k, p, d, t, m, s, q, u, src in rows:
                copy.write_row((k, p, days[d], t, m, s, q, u, src))
        self.raw.commit()

    def close(self) -> None:
        cur = self.raw.cursor()
        cur.execute("DROP TABLE floor_usage")
        if self.store.dialect == "postgresql":
            self.raw.commit()
        self.conn.close()


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
    rates, floors, pythons, serials = [], [], [], []
    for run in range(args.runs):
        url = args.db or f"sqlite:///{Path(tmp.name) / f'metering-{run}.db'}"
        store = open_store(url)
        if run == 0:
            print(f"store: {safe_url(url)} ({store.dialect})")
        _empty(store)
        floor_store = store if store.dialect == "postgresql" else open_store(
            f"sqlite:///{Path(tmp.name) / f'floor-{run}.db'}")
        floor = Floor(floor_store)
        total_rows = gen_s = ingest_s = floor_s = python_s = 0.0
        for ds in groups.values():
            t0 = time.perf_counter()
            rows = [r for d in ds for r in day_rows(d, slugs)]
            t1 = time.perf_counter()
            result = store.ingest(rows, source="bench", today=today)
            t2 = time.perf_counter()
            floor.write(rows)
            t3 = time.perf_counter()
            check_and_sum(rows, today, None, "bench")
            t4 = time.perf_counter()
            assert result.inserted == len(rows)
            total_rows += len(rows)
            gen_s += t1 - t0
            ingest_s += t2 - t1
            floor_s += t3 - t2
            python_s += t4 - t3
        floor.close()
        if floor_store is not store:
            floor_store.close()
        rates.append(total_rows / ingest_s)
        floors.append(total_rows / floor_s)
        pythons.append(total_rows / python_s)
        serials.append(total_rows / (floor_s + python_s))
        print(f"  run {run + 1}: {int(total_rows):,} rows in {ingest_s:.1f} s = "
              f"{rates[-1]:,.0f} rows/s; floor {floors[-1]:,.0f} rows/s; checks + sums alone "
              f"{pythons[-1]:,.0f} rows/s (building the rows in Python: {gen_s:.1f} s, "
              "not counted)", flush=True)
        if run < args.runs - 1:
            store.close()
    ingest = statistics.median(rates)
    print(f"ingest: median {ingest:,.0f} rows/s over {args.runs} run(s); "
          f"target 500,000 → {ingest / 500_000:.2f}× the target")
    print(f"floor (what bounds ingest here): the same rows written with no checks, no rollup, "
          f"no batch record — {_FLOOR_WHAT[store.dialect]}, one transaction per batch, "
          f"batch by batch between the ingests: median {statistics.median(floors):,.0f} rows/s")
    ratio = statistics.median(r / f for r, f in zip(rates, floors, strict=True))
    vs_serial = statistics.median(r / x for r, x in zip(rates, serials, strict=True))
    print(f"ingest reaches {ratio:.2f}× the floor; checking and summing beside the write "
          f"(a second thread) instead of before it: {vs_serial:.2f}× the serial estimate "
          "(floor time + checks time) — ratios within one run, fair on a busy machine")

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
