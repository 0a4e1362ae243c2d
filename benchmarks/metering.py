"""Metering at scale: 10 million usage rows (25 tenants, a year of daily samples).

Prints ingest rows/s (rows prepared in memory, as a collector hands them over;
the time covers checks + write + rollup + commit), the re-ingest of one month
(every row already stored), and one month's settlement time (read the rollup,
settle one model; and all four models side by side). Targets from issue 7:
≥ 500,000 rows/s ingest, settlement under 1 s.

Run:  .venv/bin/python benchmarks/metering.py [--db URL] [--batch month|day] [--days 365]
Default store: a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

from faellesdrift.estate import Estate
from faellesdrift.metering.periods import Period
from faellesdrift.metering.settle import compare, settle
from faellesdrift.metering.store import open_store, safe_url
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
                "networks": [], "scope": {**template["scope"], "backup": "shared"}}
        tenants.append(Tenant.model_validate(data))
    estate = Estate(REPO, std, tuple(sorted(tenants, key=lambda t: t.slug)), date(2026, 12, 31))
    return estate


def day_rows(day: date, slugs: list[str]) -> list[UsageRow]:
    d = day.isoformat()
    p = d[:7]
    return [UsageRow(f"bench:{d}:{t}:{m}:s{s:03d}", p, d, t, m, f"{t}-s{s:03d}", q * 1_000_000,
                     unit, "bench")
            for t in slugs for m, unit, q in METERS for s in range(SERVERS)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--batch", choices=("month", "day"), default="month",
                    help="one ingest transaction per month (default) or per day")
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args()

    estate = bench_estate()
    slugs = [t.slug for t in estate.tenants]
    tmp = tempfile.TemporaryDirectory(prefix="fd-bench-")
    url = args.db or f"sqlite:///{Path(tmp.name) / 'metering.db'}"
    store = open_store(url)
    print(f"store: {safe_url(url)} ({store.dialect}); batch: one per {args.batch}; "
          f"{TENANTS} tenants × {SERVERS} servers × {len(METERS)} meters × {args.days} days")

    days = [START + timedelta(d) for d in range(args.days)]
    groups: dict[str, list[date]] = {}
    for d in days:
        groups.setdefault(d.isoformat()[:7] if args.batch == "month" else d.isoformat(),
                          []).append(d)
    total_rows = gen_s = ingest_s = 0.0
    today = date(2026, 12, 31)
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
    print(f"ingest: {int(total_rows):,} rows in {ingest_s:.1f} s = "
          f"{total_rows / ingest_s:,.0f} rows/s  (building the rows in Python: {gen_s:.1f} s, "
          "not counted)")

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
        best = []
        for _ in range(3):
            t0 = time.perf_counter()
            rollup = store.rollup(month.months)
            t1 = time.perf_counter()
            fn(rollup)
            t2 = time.perf_counter()
            best.append((t2 - t0, t1 - t0, len(rollup)))
        total, read, n = min(best)
        print(f"settle {month.id}, {label}: {total * 1000:.0f} ms (read {n:,} rollup rows "
              f"{read * 1000:.0f} ms), best of 3")
    counts = store.counts()
    print(f"store: {counts['rows']:,} rows, {counts['batches']} batches")
    if store.dialect == "sqlite":
        db = Path(url.removeprefix("sqlite:///"))
        size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
        print(f"sqlite file: {size / 2**20:,.0f} MiB")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    store.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
