"""Start-up cost of the CLI: import time of `faellesdrift.cli` and wall time of
`faellesdrift --help` and `faellesdrift validate` on the sample community.

Prints medians of several runs. The limit: under 0.5 s of import time for `--help`
and `validate` (adapters are imported lazily, only when their command runs).
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = 7
HEAVY = ("nornir", "netmiko", "paramiko", "pulumi", "ansible_runner", "sqlalchemy", "alembic")


def import_seconds(module: str) -> float:
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         capture_output=True, text=True, check=True).stderr
    match = re.search(rf"\|\s*(\d+) \| {re.escape(module)}$", err, re.MULTILINE)
    assert match, err[-500:]
    return int(match.group(1)) / 1e6


def wall_seconds(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "faellesdrift.cli", *args], cwd=REPO,
                   capture_output=True, check=False)
    return time.perf_counter() - started


def heavy_modules_after(code: str) -> list[str]:
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def main() -> None:
    imports = [import_seconds("faellesdrift.cli") for _ in range(RUNS)]
    helps = [wall_seconds("--help") for _ in range(RUNS)]
    validates = [wall_seconds("validate") for _ in range(RUNS)]
    baseline = [wall_seconds_python() for _ in range(RUNS)]
    print(f"import faellesdrift.cli (median of {RUNS}): {statistics.median(imports):.3f} s "
          "(limit 0.5 s)")
    print(f"python -c pass:                  {statistics.median(baseline):.3f} s wall")
    print(f"faellesdrift --help:             {statistics.median(helps):.3f} s wall")
    print(f"faellesdrift validate (sample):  {statistics.median(validates):.3f} s wall")
    print("heavy modules imported by `import faellesdrift.cli`: "
          f"{heavy_modules_after('import faellesdrift.cli') or 'none'}")


def wall_seconds_python() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
