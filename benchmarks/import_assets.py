"""Import of a 5,000-row XLSX asset list into a new tenant file with its gap list.

Builds the workbook with the test generator (servers, switches, endpoints, blanks,
duplicates, bad addresses), imports it into a copy of the sample community with
`faellesdrift tenant import` (in process, as the CLI runs it) and prints the wall time
of the whole command and of reading the workbook alone. The limit: under 5 s.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RUNS = 3
LIMIT_S = 5.0


def main() -> None:
    from typer.testing import CliRunner

    from faellesdrift.cli import app
    from faellesdrift.importing.mapping import Mapping
    from faellesdrift.importing.sources import read_xlsx
    from tests.importing.make_data import hedensted_rows, write_xlsx

    with tempfile.TemporaryDirectory(prefix="faellesdrift-bench-") as tmp:
        work = Path(tmp)
        # 5,000 rows: 1,000 servers, 1,501 network devices, 2,491 endpoints, 8 blank or bad
        rows = hedensted_rows(servers=1_000, switches=1_500, endpoints=2_491, seed=5000)
        sheet = work / "assets.xlsx"
        write_xlsx(sheet, rows)
        reads, totals, report = [], [], {}
        for _ in range(RUNS):
            t = time.perf_counter()
            records, _ = read_xlsx(sheet, Mapping())
            reads.append(time.perf_counter() - t)
            root = work / "community"
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            standards = (REPO / "community.yaml").read_text()  # a quota for a large estate
            (root / "community.yaml").write_text(standards.replace(
                "  per_tenant:\n", "  per_tenant:\n    hedensted: {vcpu: 4000, memory_gb: 16000, "
                "disk_gb: 200000}\n", 1))
            shutil.copytree(REPO / "tenants", root / "tenants")
            t = time.perf_counter()
            result = CliRunner().invoke(app, ["tenant", "import", "766", "--from", str(sheet),
                                              "--population", "47000", "--root", str(root),
                                              "-o", "json"])
            totals.append(time.perf_counter() - t)
            report = json.loads(result.stdout)
    total = statistics.median(totals)
    print(f"rows in the workbook: {len(rows)} ({len(records)} non-blank records)")
    print(f"read XLSX (openpyxl, read-only), median of {RUNS}: {statistics.median(reads):.2f} s")
    print(f"tenant import end to end (read, build, merge, validate, write), median of {RUNS}: "
          f"{total:.2f} s (limit {LIMIT_S:.0f} s: {'ok' if total < LIMIT_S else 'OVER'})")
    print(f"result: written={report.get('written')}, counts={report.get('counts')}, "
          f"gap list entries={len(report.get('gaps', []))}, "
          f"blocking findings={sum(f['severity'] == 'error' for f in report.get('findings', []))}")


if __name__ == "__main__":
    main()
