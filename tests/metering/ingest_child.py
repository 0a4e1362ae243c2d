"""Child process for the kill test: ingest N rows in one batch, saying when it starts."""

from __future__ import annotations

import sys
from datetime import date

from faellesdrift.metering.store import open_store
from faellesdrift.metering.usage import UsageRow


def main(url: str, n: int) -> None:
    store = open_store(url)
    rows = [UsageRow(f"kill:2026-11-{1 + i % 27:02d}:{i:09d}", "2026-11",
                     f"2026-11-{1 + i % 27:02d}", "aarhus", "server.vcpu", f"h{i % 5000}",
                     4_000_000, "vCPU", "kill") for i in range(n)]
    print("INGEST", flush=True)
    result = store.ingest(rows, source="kill", today=date(2026, 11, 27))
    print("DONE", result.inserted, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
